#!/usr/bin/env python
"""Build the student edition of the book: the same chapters without the solutions (make student).

    python scripts/student.py notebooks        # _build/student/notebooks/*.ipynb (Colab notebooks, no solutions)
    python scripts/student.py html             # _build/student/html (the book, executed, without solutions)
    python scripts/student.py all              # both (what make student runs)
    python scripts/student.py check            # only check every page's exercises and solutions (make book)
    python scripts/student.py html --chapters q_learning,dqn   # only these chapters in the HTML (a quick look)

A solution is what sphinx-exercise calls one: a ``{solution}`` directive, or everything from a
``{solution-start}`` directive to its ``{solution-end}`` (prose, the solution's code cells, and the hidden cells
that check it). ``strip_solutions`` cuts those out of a chapter's MyST source; what remains (the exercise
text, the stub to fill in, the self-grading check cell) is converted exactly as the lecturer's edition is:
``scripts/colab.py`` for the notebooks (numbered as in the book), ``jupyter-book`` for the HTML, built from a
copy of the sources in ``_build/student/src`` with its own execution cache (``_build/student/book/_build/.jupyter_cache``),
so a second build executes only the chapters whose code changed.

The structure is checked first (``parse_exercises``): a solution naming an exercise that does not exist, a
``{solution-start}`` without its ``{solution-end}`` or an exercise without a solution stops the build with
the file and line. ``tests/test_student.py`` checks that no solution line reaches the student notebooks (and
the student HTML when it has been built); ``tests/test_exercises.py`` runs every coding exercise's check
against the chapter's stub and solution.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "student"
sys.path.insert(0, str(Path(__file__).resolve().parent))

_DIRECTIVE = re.compile(r"^(?P<fence>:{3,}|`{3,})\s*\{(?P<name>exercise|exercise-start|exercise-end|solution|"
                        r"solution-start|solution-end)\}\s*(?P<arg>.*?)\s*$")
_CODE_CELL = re.compile(r"^(?P<fence>`{3,})\s*\{code-cell\}")


class ExerciseStructureError(ValueError):
    """The exercises and solutions of a chapter do not fit together (the message has the file and line)."""


@dataclass
class Solution:
    """A solution block: the exercise it answers and its lines (1-based, inclusive) in the chapter's source."""
    label: str
    start: int
    end: int
    gated: bool


@dataclass
class Structure:
    """The exercises (label -> line) and the solutions of one chapter."""
    exercises: dict[str, int] = field(default_factory=dict)
    solutions: list[Solution] = field(default_factory=list)


def _close(lines: list[str], i: int, fence: str, where: str) -> int:
    """Index of the line closing the colon/backtick directive opened at ``lines[i]`` (code blocks skipped)."""
    code = None
    for j in range(i + 1, len(lines)):
        s = lines[j].strip()
        if code is not None:
            if s == code:
                code = None
            continue
        m = re.match(r"^(`{3,}|~{3,})", s)
        if m and not s.startswith(fence):
            code = m.group(1)
            continue
        if s == fence:
            return j
    raise ExerciseStructureError(f"{where}:{i + 1}: the directive {lines[i].strip()!r} is never closed. "
                                 f"Fix: end it with a line {fence}")


def parse_exercises(text: str, where: str = "<chapter>") -> Structure:
    """The exercises and solutions of a chapter's MyST source, checked.

    Args:
        text: the chapter's source (``book/x.md``).
        where: its name, for the messages.

    Returns:
        A :class:`Structure`.

    Raises:
        ExerciseStructureError: an exercise without ``:label:`` or with a duplicate one, a solution naming an
            exercise that is not above it in the chapter, a ``{solution-start}`` without ``{solution-end}`` (or
            the reverse), or an exercise without a solution. The message starts with ``file:line``.
    """
    lines = text.split("\n")
    st = Structure()
    open_start: tuple[str, int] | None = None
    i, code = 0, None
    while i < len(lines):
        line = lines[i]
        if code is not None:
            if line.strip() == code:
                code = None
            i += 1
            continue
        mc = _CODE_CELL.match(line)
        if mc:
            code = mc["fence"]
            i += 1
            continue
        m = _DIRECTIVE.match(line)
        if not m:
            i += 1
            continue
        name, arg, fence = m["name"], m["arg"], m["fence"]
        j = _close(lines, i, fence, where)
        if name in ("exercise", "exercise-start"):
            label = next((o.split(":label:", 1)[1].strip() for o in lines[i + 1:j] if o.strip().startswith(":label:")),
                         None)
            if not label:
                raise ExerciseStructureError(f"{where}:{i + 1}: an exercise has no :label:. Fix: add a line "
                                             f"':label: {Path(where).stem}-ex-<name>' under {line.strip()!r}")
            if label in st.exercises:
                raise ExerciseStructureError(f"{where}:{i + 1}: the exercise label {label!r} is already used on "
                                             f"line {st.exercises[label]}. Fix: give each exercise its own label")
            st.exercises[label] = i + 1
        elif name in ("solution", "solution-start"):
            if arg not in st.exercises:
                raise ExerciseStructureError(
                    f"{where}:{i + 1}: {{{name}}} {arg!r} names no exercise above it (exercises: "
                    f"{', '.join(st.exercises) or 'none'}). Fix: write the label of its exercise after {{{name}}}")
            if open_start is not None:
                raise ExerciseStructureError(f"{where}:{i + 1}: a solution starts inside the gated solution of "
                                             f"{open_start[0]!r} (line {open_start[1]}). Fix: close that one first "
                                             "with :::{solution-end}")
            if name == "solution":
                st.solutions.append(Solution(arg, i + 1, j + 1, gated=False))
            else:
                open_start = (arg, i + 1)
        elif name == "solution-end":
            if open_start is None:
                raise ExerciseStructureError(f"{where}:{i + 1}: {{solution-end}} without a {{solution-start}} "
                                             "above it. Fix: remove it or add the start")
            st.solutions.append(Solution(open_start[0], open_start[1], j + 1, gated=True))
            open_start = None
        i = j + 1
    if open_start is not None:
        raise ExerciseStructureError(f"{where}:{open_start[1]}: {{solution-start}} {open_start[0]!r} has no "
                                     "{solution-end}. Fix: add ':::{solution-end}' and ':::' after its last cell")
    answered = {s.label for s in st.solutions}
    for label, line in st.exercises.items():
        if label not in answered:
            raise ExerciseStructureError(f"{where}:{line}: the exercise {label!r} has no solution. Fix: add a "
                                         f":::{{solution}} {label} (or solution-start/-end) after it")
    return st


def strip_solutions(text: str, where: str = "<chapter>") -> str:
    """``text`` (a chapter's MyST source) without its solutions: what the student edition is built from.

    A cell break (``+++``) left right before a removed gated solution goes with it, so no empty cell remains.
    """
    st = parse_exercises(text, where)
    lines = text.split("\n")
    drop = set()
    for s in st.solutions:
        a = s.start - 1
        k = a - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0 and lines[k].strip() == "+++":
            a = k
        b = s.end
        while b < len(lines) and not lines[b].strip():   # the blank lines after it (those before it stay)
            b += 1
        drop.update(range(a, b))
    return "\n".join(ln for n, ln in enumerate(lines) if n not in drop)


def solution_lines(text: str, where: str = "<chapter>", min_len: int = 12) -> list[str]:
    """The distinctive lines of a chapter's solutions: stripped, at least ``min_len`` characters, and found
    nowhere else in the chapter (what must not reach the student edition)."""
    st = parse_exercises(text, where)
    lines = text.split("\n")
    inside = set()
    for s in st.solutions:
        inside.update(range(s.start - 1, s.end))
    outside = {ln.strip() for n, ln in enumerate(lines) if n not in inside}
    out = []
    for n in sorted(inside):
        s = lines[n].strip()
        if len(s) >= min_len and s not in outside and not _DIRECTIVE.match(s) and not s.startswith((":", "```")):
            out.append(s)
    return out


# ---- builds -----------------------------------------------------------------------------------------------------

def student_notebook(md: Path):
    """The Colab notebook of chapter ``md`` without its solutions (nbformat), numbered as the book is."""
    import tempfile

    import twins

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / md.name
        copy.write_text(strip_solutions(md.read_text(encoding="utf-8"), f"book/{md.name}"), encoding="utf-8")
        nb = twins.convert(copy, ROOT)
    nb.metadata.pop("jupytext", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
    return nb


def build_notebooks(out: Path = OUT / "notebooks") -> list[Path]:
    """Write the student notebooks of every chapter into ``out`` (emptied first); returns their paths."""
    import jupytext
    import twins

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written = []
    for md in twins.chapters():
        path = out / f"{md.stem}.ipynb"
        path.write_text(jupytext.writes(student_notebook(md), fmt="ipynb"), encoding="utf-8")
        written.append(path)
    return written


def build_source(src: Path, chapters: list[str] | None = None) -> Path:
    """A copy of the book's sources in ``src`` with the solutions cut out of every page; with ``chapters``
    (stems), a ``_toc.yml`` of those chapters (and the references page) only. Returns ``src``."""
    import yaml

    if src.exists():
        shutil.rmtree(src)
    (src / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, src / name)
    # the local extensions read scripts/repo_config.py; the chapters literalinclude the library's source
    for name in ("_ext", "scripts", "site", "genrl_lib"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    for page in sorted((ROOT / "book").iterdir()):
        if page.suffix == ".md":
            text = strip_solutions(page.read_text(encoding="utf-8"), f"book/{page.name}")
            (src / "book" / page.name).write_text(text, encoding="utf-8")
        elif page.is_file():
            shutil.copy2(page, src / "book" / page.name)
        elif page.is_dir() and page.name != "_build":   # book/_data: the tables the guide includes
            shutil.copytree(page, src / "book" / page.name, ignore=shutil.ignore_patterns("__pycache__"))
    config = (src / "_config.yml").read_text(encoding="utf-8")
    config = config.replace('title: "', 'title: "(Student edition) ', 1)
    (src / "_config.yml").write_text(config + "\n# student edition: solutions removed by scripts/student.py\n",
                                     encoding="utf-8")
    if chapters:
        missing = [c for c in chapters if not (ROOT / "book" / f"{c}.md").exists()]
        if missing:
            raise SystemExit(f"--chapters: no book/{missing[0]}.md. Fix: name chapters by their file stem, e.g. "
                             "--chapters q_learning,dqn")
        toc = {"format": "jb-book", "root": f"book/{chapters[0]}",
               "chapters": [{"file": f"book/{c}"} for c in chapters[1:]] + [{"file": "book/references"}]}
        (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return src


def build_html(chapters: list[str] | None = None, jobs: int = 2, timeout: int = 900) -> Path:
    """Build ``_build/student/html``: the sources without solutions, executed (own cache), rendered with -W."""
    src = build_source(OUT / "src", chapters)
    cache = OUT / "book" / "_build" / ".jupyter_cache"   # where the build below looks (--path-output)
    py = sys.executable
    subprocess.run([py, str(ROOT / "scripts" / "execute_book.py"), "--cache", str(cache), "--jobs", str(jobs),
                    "--timeout", str(timeout), "--toc", str(src / "_toc.yml")], check=True)
    jb = Path(py).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(src), "--path-output", str(OUT / "book"), "-W", "--keep-going", "--all"],
                   check=True)
    html = OUT / "html"
    if html.exists():
        shutil.rmtree(html)
    shutil.move(str(OUT / "book" / "_build" / "html"), str(html))
    return html


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["notebooks", "html", "all", "check"], help="what to build (or check)")
    ap.add_argument("--chapters", default="", help="comma-separated chapter stems for the HTML (default: all)")
    ap.add_argument("--jobs", type=int, default=2, help="chapters executed at once for the HTML (default 2)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    a = ap.parse_args(argv)
    chapters = [c.strip() for c in a.chapters.split(",") if c.strip()] or None
    try:
        if a.what == "check":   # sphinx-exercise reports an unknown label without file or line; this names both
            pages = sorted((ROOT / "book").glob("*.md"))
            n = sum(len(parse_exercises(p.read_text(encoding="utf-8"), f"book/{p.name}").exercises) for p in pages)
            print(f"exercises and solutions fit together: {n} exercises in {len(pages)} pages")
            return 0
        if a.what in ("notebooks", "all"):
            t0 = time.perf_counter()
            paths = build_notebooks()
            print(f"{len(paths)} student notebooks -> {paths[0].parent.relative_to(ROOT)} "
                  f"({time.perf_counter() - t0:.1f} s)")
        if a.what in ("html", "all"):
            t0 = time.perf_counter()
            html = build_html(chapters, a.jobs, a.timeout)
            print(f"student book -> {html.relative_to(ROOT)}/index.html ({time.perf_counter() - t0:.0f} s)")
    except ExerciseStructureError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as e:
        print(f"error: {e.cmd[1] if len(e.cmd) > 1 else e.cmd[0]} failed (exit {e.returncode}); see above",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
