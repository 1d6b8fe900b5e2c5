"""The student edition (scripts/student.py, make student) keeps the exercises and their checks and leaks no
solution: not into the student notebooks (built here, it takes seconds), nor into the student HTML when
``make student`` has built it."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import jupytext
import pytest

from genrl_lib import exercises

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import student  # noqa: E402
import twins  # noqa: E402

CHAPTERS = twins.chapters()
WITH_SOLUTIONS = [md for md in CHAPTERS if student.parse_exercises(md.read_text(encoding="utf-8"), md.name).solutions]


def test_some_chapters_have_solutions_to_hide():
    assert {"rl_basics", "q_learning", "dqn", "policy_gradients", "ppo"} <= {md.stem for md in WITH_SOLUTIONS}


def _notebook_text(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


def _lines(text: str) -> set[str]:
    return {ln.strip() for ln in text.split("\n")}


@pytest.mark.parametrize("md", WITH_SOLUTIONS, ids=[m.stem for m in WITH_SOLUTIONS])
def test_student_notebook_has_no_solution(md):
    text = md.read_text(encoding="utf-8")
    secret = student.solution_lines(text, md.name)
    assert secret, f"{md.name}: found no solution lines to look for (the test would pass vacuously)"
    lecturer = _lines(_notebook_text(twins.convert(md)))
    shown = [s for s in secret if s in lecturer]
    assert len(shown) >= len(secret) // 2, "the lecturer's notebook should show most solution lines"
    nb_text = _notebook_text(student.student_notebook(md))
    leaked = [s for s in secret if s in _lines(nb_text)]   # a line of a solution, whole
    assert not leaked, f"solution lines in the student notebook of {md.name}: {leaked[:5]}"
    assert "Solution to exercise" not in nb_text


@pytest.mark.parametrize("md", WITH_SOLUTIONS, ids=[m.stem for m in WITH_SOLUTIONS])
def test_student_notebook_keeps_exercises_stubs_and_checks(md):
    text = md.read_text(encoding="utf-8")
    st = student.parse_exercises(text, md.name)
    nb = student.student_notebook(md)
    nb_text = _notebook_text(nb)
    assert nb_text.count("**Exercise ") == len(st.exercises)
    stubs = [c.source for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError" in c.source]
    lecturer_stubs = [c.source for c in twins.convert(md).cells
                      if c.cell_type == "code" and "raise NotImplementedError" in c.source]
    assert stubs == lecturer_stubs, "every stub (with its check call) must reach the student notebook unchanged"
    assert all(any(f"{c}(" in s for c in exercises.CHECKERS) for s in stubs), "a stub without its check call"
    assert not any(c.source.strip() == "" for c in nb.cells), "an empty cell was left where a solution was"


def test_strip_solutions_removes_the_block_and_its_cell_break():
    text = ("intro\n\n:::{exercise} T\n:label: a-ex\nDo it.\n:::\n\n```{code-cell} ipython3\nstub()\n```\n\n+++\n\n"
            ":::{solution-start} a-ex\n:class: dropdown\n:::\n\nSECRET prose\n\n```{code-cell} ipython3\nsecret()\n```\n\n"
            ":::{solution-end}\n:::\n\nafter\n\n:::{exercise} U\n:label: b-ex\nMore.\n:::\n\n"
            ":::{solution} b-ex\n:class: dropdown\nSECRET two\n:::\n\nend\n")
    out = student.strip_solutions(text, "x.md")
    assert "SECRET" not in out and "secret()" not in out and "solution" not in out
    assert "stub()" in out and "Do it." in out and "More." in out and "after" in out and "end" in out
    assert "+++" not in out
    nb = jupytext.reads(out, fmt="md:myst")
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "markdown"]


def _html_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", raw)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


STUDENT_HTML = ROOT / "_build" / "student" / "html"


@pytest.mark.skipif(not STUDENT_HTML.is_dir(), reason="the student HTML is not built (make student)")
@pytest.mark.parametrize("md", WITH_SOLUTIONS, ids=[m.stem for m in WITH_SOLUTIONS])
def test_student_html_has_no_solution(md):
    page = STUDENT_HTML / "book" / f"{md.stem}.html"
    if not page.exists():
        pytest.skip(f"{md.stem} is not in the student HTML that was built (student.py html --chapters ...)")
    text = _html_text(page)
    leaked = [s for s in student.solution_lines(md.read_text(encoding="utf-8"), md.name)
              if len(s) >= 30 and s.replace("`", "") in text]
    assert not leaked, f"solution lines in {page}: {leaked[:5]}"
    assert "Solution to" not in text
    assert "Exercise" in text


def test_check_command_passes_on_the_book(capsys):
    assert student.main(["check"]) == 0
    assert "exercises and solutions fit together" in capsys.readouterr().out


def test_build_source_copies_the_book_without_solutions(tmp_path):
    import yaml

    src = student.build_source(tmp_path / "src", ["q_learning", "dqn"])
    toc = yaml.safe_load((src / "_toc.yml").read_text())
    assert toc["root"] == "book/q_learning" and {"file": "book/dqn"} in toc["chapters"]
    assert (src / "_ext").is_dir() and (src / "scripts" / "repo_config.py").exists()
    # every ```{literalinclude} ../genrl_lib/<module>.py of the chapters finds its file in the copy
    assert (src / "genrl_lib" / "dqn.py").exists() and (src / "genrl_lib" / "ppo.py").exists()
    assert (src / "book" / "_data" / "course_tables.md").exists()      # the guide's {include}
    text = (src / "book" / "q_learning.md").read_text()
    assert "{solution-start}" not in text and "{exercise}" in text
    assert "(Student edition)" in (src / "_config.yml").read_text()
    with pytest.raises(SystemExit, match="--chapters: no book/nope.md"):
        student.build_source(tmp_path / "src2", ["nope"])
