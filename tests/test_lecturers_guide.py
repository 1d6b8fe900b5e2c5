"""The lecturer's guide (book/lecturers_guide.md): in the toc, its links resolve, and its time table
(book/_data/course_tables.md, scripts/course_plan.py) still describes the chapters."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import course_plan  # noqa: E402
import student  # noqa: E402
import twins  # noqa: E402

GUIDE = ROOT / "book" / "lecturers_guide.md"


def test_guide_is_in_the_toc_before_the_glossary():
    files = twins.toc_files(ROOT)
    assert "book/lecturers_guide" in files
    assert files.index("book/lecturers_guide") < files.index("book/glossary")


def test_every_exercise_the_guide_links_exists():
    labels = set()
    for md in twins.chapters():
        labels |= set(student.parse_exercises(md.read_text(encoding="utf-8"), md.name).exercises)
    refs = re.findall(r"\{ref\}`([^`]+)`", GUIDE.read_text(encoding="utf-8"))
    assert refs, "the guide maps outcomes to exercises through {ref} links"
    missing = sorted(set(refs) - labels)
    assert not missing, f"book/lecturers_guide.md links exercises that do not exist: {missing}"
    mapped = {lab for lab in labels
              if lab.startswith(("rlb-", "ql-", "dqn-", "pg-", "ppo-", "gm-", "gail-", "hql-", "bld-",
                                 "diff-", "dd-", "thesis-"))}
    assert mapped <= set(refs), f"exercises missing from the guide: {sorted(mapped - set(refs))}"


def test_every_chapter_has_prerequisites_in_the_guide():
    text = GUIDE.read_text(encoding="utf-8")
    table = text.split("## Prerequisites per chapter", 1)[1].split("\n## ", 1)[0]
    for md in course_plan.toc_chapters():
        assert f"| {{doc}}`{md.stem}` |" in table, f"{md.stem} has no row in the guide's prerequisites table"


def test_time_table_is_up_to_date():
    problems = course_plan.problems()
    assert not problems, "\n".join(problems) + "\nFix: python scripts/course_plan.py (or make twins)"


def test_measured_times_say_when_and_where():
    data = json.loads(course_plan.TIMES.read_text())
    assert data["machine"]["cores"] >= 1 and data["machine"]["cpu"]
    assert data["chapters"], "no chapter measured: python scripts/time_notebooks.py"
    for name, t in data["chapters"].items():
        assert (ROOT / "notebooks" / f"{name}.ipynb").exists(), f"{name} is timed but is not a notebook"
        assert t["cpu_seconds"] > 0 and t["wall_seconds"] >= t["cpu_seconds"] * 0.5
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", t["measured"])
    table = course_plan.OUT.read_text(encoding="utf-8")
    for name, t in data["chapters"].items():
        assert f"| [{name}]({name}.md) |" in table and f"| {t['cpu_seconds']:.0f} |" in table


def test_measure_counts_prose_visible_code_and_exercises(tmp_path):
    md = tmp_path / "x.md"
    md.write_text("---\nkernelspec:\n  name: python3\n---\n# Title\n\nOne two three $x^2$ four.\n\n"
                  "```{code-cell} ipython3\na = 1\nb = 2\n```\n\n```{code-cell} ipython3\n:tags: [remove-cell]\n\n"
                  "hidden = 3\n```\n\n$$\ny = mx\n$$\n\n:::{exercise} E\n:label: x-ex\nDo.\n:::\n\n"
                  "```{code-cell} ipython3\ncheck_q_update(f);\n```\n")
    m = course_plan.measure(md)
    assert m["code_lines"] == 3              # a, b and the check call; the hidden cell is not read
    assert m["exercises"] == 1 and m["coding"] == 1 and m["directives"]
    assert m["words"] == len("Title One two three x four. E Do.".split())
    e = course_plan.estimate(m, 61.0)
    assert e["running"] == 2 and e["exercises"] == course_plan.MIN_PER_CODING


def test_time_notebook_measures_cpu_and_reports_a_failing_notebook(tmp_path):
    import nbformat
    import pytest
    import time_notebooks

    ok = tmp_path / "ok.ipynb"
    burn = "import time\nt0 = time.process_time()\nwhile time.process_time() - t0 < 2.5:\n    pass"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(burn)]), ok)
    t = time_notebooks.time_notebook(ok)
    assert t["cpu_seconds"] >= 2.5, "the kernel's CPU time must be counted (it is a grandchild)"
    assert t["wall_seconds"] >= 2.5 and t["measured"].endswith("UTC")
    bad = tmp_path / "bad.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), bad)
    with pytest.raises(RuntimeError, match="bad.ipynb failed"):
        time_notebooks.time_notebook(bad)
