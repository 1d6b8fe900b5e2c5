"""The book's structure: twins in sync, Colab setup cells, table of contents, chapter tables."""

import importlib.util
import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("twins", ROOT / "scripts" / "twins.py")
twins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(twins)

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]
CHAPTERS = twins.chapters()


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def test_there_are_chapters():
    assert {p.stem for p in CHAPTERS} >= {"rl_basics"}


def test_twins_in_sync():
    problems = twins.stale()
    assert not problems, "\n".join(problems) + "\nFix: make twins"


def test_twin_generation_is_byte_stable():
    for md in CHAPTERS:
        assert twins.render(md) == twins.render(md)


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_colab_setup_cell(md):
    nb = jupytext.read(md)
    code = [c for c in nb.cells if c.cell_type == "code"]
    first = code[0]
    assert "remove-cell" in first.metadata.get("tags", []), f"{md.name}: the setup cell must be tagged remove-cell"
    assert 'if "google.colab" in sys.modules:' in first.source, f"{md.name}: setup cell must only act in Colab"
    urls = re.findall(r"git\+(https://\S+?)[\"']", first.source)
    assert urls == [REPO_URL], f"{md.name}: setup cell installs from {urls}, _config.yml says {REPO_URL}"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_is_in_toc_intro_and_readme(md):
    assert f"book/{md.stem}" in _toc_files(), f"add book/{md.stem} to _toc.yml"
    assert f"({md.stem}.md)" in (ROOT / "book" / "intro.md").read_text(), f"add {md.stem} to the chapter table in book/intro.md"
    assert f"notebooks/{md.stem}.ipynb" in (ROOT / "README.md").read_text(), f"add {md.stem} with its Colab link to README.md"


def test_toc_entries_exist():
    for f in _toc_files():
        assert (ROOT / f"{f}.md").exists(), f"_toc.yml names {f}, which does not exist"


def test_glue_and_check_answer(capsys):
    import numpy as np

    from genrl_lib.book import GLUED, check_answer, glue

    assert glue("x", np.float64(2.5)) == 2.5 and type(GLUED["x"]) is float
    assert check_answer(None, 1) is None and "not answered" in capsys.readouterr().out
    assert check_answer(1.0000001, 1) is True
    assert check_answer([1, 2], [1, 3]) is False
    assert check_answer("R", "R") is True
    with pytest.raises(ValueError, match="name"):
        glue("", 1)


def test_book_build_keeps_the_inline_matplotlib_backend():
    # With MPLBACKEND=Agg inherited by the kernels, every figure of the book silently disappears.
    makefile = (ROOT / "Makefile").read_text()
    assert "export MPLBACKEND" not in makefile
    book_recipe = makefile.split("\nbook:")[1].split("\n\n")[0]
    assert "env -u MPLBACKEND" in book_recipe and "figures in the book" in book_recipe


def test_nbval_waits_longer_for_cell_output():
    """The root conftest lengthens nbval's 5 s wait for a finished cell's output (flaky on a busy machine)."""
    import importlib.util
    import inspect

    from nbval.plugin import IPyNbCell

    assert "self.output_timeout = 5" in inspect.getsource(IPyNbCell.__init__)   # the attribute the hook sets
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    cell = type("IPyNbCell", (), {"output_timeout": 5})()
    other = type("Function", (), {})()
    conftest.pytest_collection_modifyitems([cell, other])
    assert cell.output_timeout == conftest.NBVAL_OUTPUT_TIMEOUT >= 60 and not hasattr(other, "output_timeout")


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_checks_go_through_claim(md):
    """Every hidden check is a genrl_lib.book.claim, which explains itself when it fails: no bare assert."""
    import ast

    nb = jupytext.read(md)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            assert not isinstance(node, ast.Assert), (
                f"{md.name}, cell {i}, line {node.lineno}: bare assert; use claim('what the prose says', value, op, "
                "bound) from genrl_lib.book so a failure tells the reader what was claimed and what was obtained")


def test_goal_runs_lists_every_machine_and_environment():
    from genrl_lib.book import goal_runs

    def run(cpu, vals):
        return {"values": vals, "n_meeting": sum(v >= 475 for v in vals), "n_seeds": len(vals),
                "numeric_env": {"cpu": cpu}}

    goal = {"threshold": 475.0,
            "envs": {"native": run("AMD EPYC", [500, 470]), "other-cpu": run("AMD EPYC", [500, 500])},
            "machines": {"Intel(R) Xeon(R) Processor, torch AVX512": {"native": run("Intel(R) Xeon(R) Processor", [480])}}}
    rows = goal_runs(goal)
    assert [(r["machine"], r["env"], r["n_meeting"], r["n_seeds"]) for r in rows] == [
        ("an AMD EPYC", "native", 1, 2), ("an AMD EPYC", "other-cpu", 2, 2), ("an Intel Xeon", "native", 1, 1)]
    assert rows[0]["values"] == [500.0, 470.0]
    assert goal_runs({"envs": {}, "machines": {"x": {"native": {**run("", [1.0]), "numeric_env": None}}}})[0][
        "machine"] == "a machine that was not recorded"
    with pytest.raises(TypeError, match="goal"):
        goal_runs([goal])
    with pytest.raises(KeyError, match="n_seeds"):
        goal_runs({"envs": {"native": {"values": [1.0], "n_meeting": 1}}})
