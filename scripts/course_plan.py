#!/usr/bin/env python
"""The time table of the lecturer's guide, computed from the chapters: book/_data/course_tables.md.

    python scripts/course_plan.py            # write book/_data/course_tables.md (make twins runs it too)
    python scripts/course_plan.py --check    # exit 1 if the committed table is out of date (see below)

For each chapter of ``_toc.yml`` (in order) it counts

- the **words of prose** (markdown outside code cells, math, directives' options and HTML comments), read at
  ``WORDS_PER_MINUTE`` (technical text with formulas is read slower than the 200-250 words a minute of prose);
- the **lines of code** the student reads (visible code cells), at ``CODE_LINES_PER_MINUTE``;
- the **exercises**: sphinx-exercise ``{exercise}`` directives (coding ones are those whose check calls a
  ``genrl_lib.exercises`` checker), or the ``**Exercise n**`` paragraphs of chapters not yet converted;
- the **notebook run time** measured by ``scripts/time_notebooks.py`` (``book/_data/notebook_times.json``:
  CPU seconds on one thread, the time on an idle core; when and where it was measured is printed below).

A session's estimate adds reading, the run, ``MIN_PER_NUMERIC`` minutes per numeric exercise and
``MIN_PER_CODING`` per coding exercise. These rates are the guide's assumptions, stated on the page.

``--check`` (and ``tests/test_lecturers_guide.py``) compare the committed table with the chapters as they are
now: the measured times must match the JSON exactly, the exercise counts too, and the word counts within 20 %
(a prose edit elsewhere does not break the build; a rewrite does, until ``make twins`` regenerates it).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

from genrl_lib.exercises import CHECKERS as EXERCISE_CHECKERS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
OUT = ROOT / "book" / "_data" / "course_tables.md"
TIMES = ROOT / "book" / "_data" / "notebook_times.json"

WORDS_PER_MINUTE = 120
CODE_LINES_PER_MINUTE = 15
MIN_PER_NUMERIC = 10
MIN_PER_CODING = 20
CHECKERS = tuple(EXERCISE_CHECKERS)   # a coding exercise calls one of them (genrl_lib.exercises)


def toc_chapters(root: Path = ROOT) -> list[Path]:
    """The pages of ``_toc.yml`` that are notebooks (a jupytext header), in order."""
    import twins

    chapters = {p.stem for p in twins.chapters_in(root / "book")}
    return [root / f"{f}.md" for f in twins.toc_files(root) if Path(f).name in chapters]


def _strip_header(text: str) -> str:
    return text.split("\n---", 1)[1] if text.startswith("---") else text


def measure(md: Path) -> dict:
    """Words of prose, visible code lines and exercises of a chapter."""
    text = _strip_header(md.read_text(encoding="utf-8"))
    prose, in_code = [], None
    for line in text.split("\n"):          # prose: every line outside code fences (code cells included)
        s = line.strip()
        if in_code is not None:
            if s == in_code:
                in_code = None
            continue
        m = re.match(r"^(`{3,}|~{3,})", s)
        if m:
            in_code = m.group(1)
            continue
        prose.append(line)
    code_lines = 0                           # visible code: cells not tagged remove-cell / remove-input
    for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)\n```", text, re.S):
        if re.search(r":tags:.*remove-(cell|input)", cell):
            continue
        code_lines += sum(1 for ln in cell.split("\n") if ln.strip() and not ln.startswith(":tags:"))
    body = "\n".join(prose)
    body = re.sub(r"(?s)\$\$.*?\$\$", " ", body)            # display math
    body = re.sub(r"\$[^$\n]+\$", " x ", body)              # inline math reads as one word
    body = re.sub(r"(?m)^\s*:[\w-]+:.*$", " ", body)        # directive options
    body = re.sub(r"(?m)^\s*:{3,}\s*\{[\w:-]+\}", " ", body)   # directive names (their titles are read)
    body = re.sub(r"(?s)<!--.*?-->", " ", body)
    body = re.sub(r"\{[\w:-]+\}`[^`]*`", " x ", body)       # roles
    words = len(re.findall(r"[A-Za-zÀ-ÿ0-9][\w'’-]*", body))
    labels = re.findall(r"(?m)^:{3,}\{exercise\}.*\n(?:.*\n)*?:label:\s*(\S+)", text)
    if labels:
        n_ex = len(labels)
        n_coding = sum(1 for c in CHECKERS for _ in re.finditer(rf"(?m)^{c}\(", text))
    else:
        n_ex = len(re.findall(r"(?m)^\*\*Exercise \d", text))
        n_coding = 0
    return {"words": words, "code_lines": code_lines, "exercises": n_ex, "coding": n_coding,
            "directives": bool(labels)}


def estimate(m: dict, cpu_seconds: float | None) -> dict:
    """Reading, running and exercise minutes of a chapter (rounded up to whole minutes)."""
    reading = math.ceil(m["words"] / WORDS_PER_MINUTE + m["code_lines"] / CODE_LINES_PER_MINUTE)
    running = None if cpu_seconds is None else math.ceil(cpu_seconds / 60)
    exercises = MIN_PER_NUMERIC * (m["exercises"] - m["coding"]) + MIN_PER_CODING * m["coding"]
    total = reading + (running or 0) + exercises
    return {"reading": reading, "running": running, "exercises": exercises, "total": total}


def render(root: Path = ROOT) -> str:
    """The Markdown of ``book/_data/course_tables.md``."""
    times = json.loads((root / TIMES.relative_to(ROOT)).read_text()) if (root / TIMES.relative_to(ROOT)).exists() \
        else {"chapters": {}, "machine": {}}
    rows = ["| Chapter | Words of prose | Lines of code | Reading (min) | Notebook run, CPU s (measured) "
            "| Exercises (coding) | Exercises (min) | Session estimate (min) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for md in toc_chapters(root):
        m = measure(md)
        t = times["chapters"].get(md.stem)
        e = estimate(m, t["cpu_seconds"] if t else None)
        run = f"{t['cpu_seconds']:.0f}" if t else "not measured"
        rows.append(f"| [{md.stem}]({md.stem}.md) | {m['words']} | {m['code_lines']} | {e['reading']} | {run} "
                    f"| {m['exercises']} ({m['coding']}) | {e['exercises']} | {e['total']} |")
    mach = times.get("machine", {})
    when = sorted({t["measured"] for t in times["chapters"].values()})
    loads = [t["load_1min"] for t in times["chapters"].values()]
    note = (f"Run times measured with `scripts/time_notebooks.py` on {mach.get('cpu', '?')} "
            f"({mach.get('cores', '?')} cores, one thread per notebook, Python {mach.get('python', '?')}), "
            f"{when[0]} to {when[-1]}; CPU seconds are what the notebook takes on an idle core (the machine was "
            f"shared: load {min(loads):.1f}-{max(loads):.1f}, so wall times were longer and are in "
            "`book/_data/notebook_times.json`)." if when else
            "Run times: not measured yet (`python scripts/time_notebooks.py`).")
    rates = (f"Reading at {WORDS_PER_MINUTE} words and {CODE_LINES_PER_MINUTE} lines of code a minute; "
             f"{MIN_PER_NUMERIC} min per numeric and {MIN_PER_CODING} min per coding exercise "
             "(the guide's assumptions; the counts are computed by `scripts/course_plan.py`).")
    return ("<!-- generated by scripts/course_plan.py from the chapters and book/_data/notebook_times.json; "
            "do not edit -->\n\n" + "\n".join(rows) + "\n\n" + note + "\n" + rates + "\n")


def _rows(text: str) -> dict[str, list[str]]:
    out = {}
    for line in text.splitlines():
        m = re.match(r"^\| \[(\w+)\]", line)
        if m:
            out[m.group(1)] = [c.strip() for c in line.strip("|").split("|")]
    return out


def problems(root: Path = ROOT) -> list[str]:
    """Why the committed table no longer describes the chapters (empty when it does)."""
    path = root / OUT.relative_to(ROOT)
    if not path.exists():
        return [f"{OUT.relative_to(ROOT)} is missing"]
    old, new = _rows(path.read_text(encoding="utf-8")), _rows(render(root))
    out = []
    if set(old) != set(new):
        out.append(f"chapters differ: table has {sorted(old)}, the toc has {sorted(new)}")
    for ch in sorted(set(old) & set(new)):
        o, n = old[ch], new[ch]
        if o[4] != n[4] or o[5] != n[5]:
            out.append(f"{ch}: run time or exercises changed ({o[4]}, {o[5]} -> {n[4]}, {n[5]})")
        if abs(int(o[1]) - int(n[1])) > 0.2 * int(n[1]):
            out.append(f"{ch}: {o[1]} words in the table, {n[1]} now (more than 20 % apart)")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed table is out of date")
    a = ap.parse_args(argv)
    if a.check:
        p = problems()
        for line in p:
            print(line)
        if p:
            print("Fix: python scripts/course_plan.py   (or make twins)")
        return 1 if p else 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
