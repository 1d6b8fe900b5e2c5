"""Every coding exercise's check, tested both ways from the chapter's own source (so they cannot drift):
the stub the student starts from must not pass (and says so helpfully), a wrong answer of the right shape must
fail naming the input, the expected and the obtained value, and the published solution must pass.

A coding exercise is a code cell of a chapter that calls one of ``genrl_lib.exercises.CHECKERS`` on a function
it defines with ``raise NotImplementedError``; its solution is the code cell inside the exercise's
``{solution-start}``/``{solution-end}`` block that defines a function of the same name.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import jupytext
import numpy as np
import pytest

from genrl_lib import exercises

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import student  # noqa: E402
import twins  # noqa: E402

CHAPTERS = twins.chapters()


def _calls_checker(source: str) -> list[tuple[str, str]]:
    """``[(checker name, function name)]`` for every ``check_x(fn, ...)`` call of a cell."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in exercises.CHECKERS
                and node.args and isinstance(node.args[0], ast.Name)):
            out.append((node.func.id, node.args[0].id))
    return out


def _define(source: str, name: str):
    """The function ``name`` defined by a cell (only its imports and function definitions are run)."""
    tree = ast.parse(source)
    keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
    ns = {"np": np}
    exec(compile(ast.Module(body=keep, type_ignores=[]), f"<{name}>", "exec"), ns)
    return ns[name]


def coding_exercises(md: Path) -> list[dict]:
    """The coding exercises of a chapter: label, checker, stub source and solution source."""
    text = md.read_text(encoding="utf-8")
    st = student.parse_exercises(text, f"book/{md.name}")
    lines = text.split("\n")
    nb = jupytext.reads(text, fmt="md:myst")
    # locate each code cell in the source: the n-th {code-cell} fence is the n-th code cell
    fences = [i + 1 for i, ln in enumerate(lines) if ln.lstrip().startswith("```{code-cell}")]
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert len(fences) == len(code_cells), f"{md.name}: could not match the code cells with their lines"
    found = []
    for line, cell in zip(fences, code_cells):
        calls = _calls_checker(cell.source)
        inside = [s for s in st.solutions if s.start <= line <= s.end]
        if not calls or inside:
            continue
        label = max(((ln, lab) for lab, ln in st.exercises.items() if ln < line), default=(0, None))[1]
        assert label, f"book/{md.name}:{line}: a check cell before any exercise"
        (sol,) = [s for s in st.solutions if s.label == label]
        for checker, fname in calls:
            sol_cells = [c.source for ln, c in zip(fences, code_cells)
                         if sol.start <= ln <= sol.end and f"def {fname}(" in c.source]
            assert sol_cells, (f"book/{md.name}:{sol.start}: the solution of {label!r} defines no {fname}(); "
                               "its check has nothing to pass")
            found.append({"chapter": md.stem, "label": label, "checker": checker, "name": fname,
                          "stub": cell.source, "solution": sol_cells[-1], "line": line})
    return found


EXERCISES = [e for md in CHAPTERS for e in coding_exercises(md)]
IDS = [f"{e['chapter']}:{e['label']}" for e in EXERCISES]


def test_the_chapters_have_their_coding_exercises():
    per = {}
    for e in EXERCISES:
        per.setdefault(e["chapter"], set()).add(e["label"])
    for chapter in ("q_learning", "dqn"):
        assert len(per.get(chapter, ())) >= 2, f"{chapter}: {len(per.get(chapter, ()))} coding exercises, want >= 2"
    for chapter, want in (("generative_models", 2), ("gail", 2), ("hql", 2), ("buildings", 1)):
        assert len(per.get(chapter, ())) >= want, f"{chapter}: {len(per.get(chapter, ()))} coding exercises, want >= {want}"


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_the_stub_does_not_pass(ex):
    assert "raise NotImplementedError" in ex["stub"], f"{ex['label']}: the stub must raise NotImplementedError"
    result = exercises.CHECKERS[ex["checker"]](_define(ex["stub"], ex["name"]), quiet=True)
    assert result.passed is None and not result
    assert "not answered yet" in result.message and "NotImplementedError" in result.message
    assert "must return" in result.message      # it tells the student what to return


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_a_wrong_answer_fails_naming_input_expected_and_got(ex):
    solution = _define(ex["solution"], ex["name"])

    def off_by_a_bit(*args):   # the right shape, the wrong values
        return np.asarray(solution(*args), dtype=float) + 0.25

    result = exercises.CHECKERS[ex["checker"]](off_by_a_bit, quiet=True)
    assert result.passed is False, result.message
    for part in ("case 1 of", "the input", "got:", "expected:"):
        assert part in result.message, f"{part!r} missing from:\n{result.message}"


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_the_solution_passes(ex):
    result = exercises.CHECKERS[ex["checker"]](_define(ex["solution"], ex["name"]), quiet=True)
    assert result.passed is True, f"book/{ex['chapter']}.md solution of {ex['label']}:\n{result.message}"


@pytest.mark.parametrize("md", CHAPTERS, ids=[m.stem for m in CHAPTERS])
def test_exercise_structure_is_sound(md):
    student.parse_exercises(md.read_text(encoding="utf-8"), f"book/{md.name}")   # raises with file:line


def test_labels_are_unique_across_the_book():
    seen = {}
    for md in CHAPTERS:
        for label in student.parse_exercises(md.read_text(encoding="utf-8"), md.name).exercises:
            assert label not in seen, f"exercise label {label!r} in {md.name} and {seen[label]}"
            seen[label] = md.name


EX = """:::{exercise} T
:label: a-ex
Text.
:::
"""


@pytest.mark.parametrize("text, fragment", [
    (EX + ":::{solution} nope\nS\n:::\n", "x.md:5: {solution} 'nope' names no exercise"),
    (EX + ":::{solution-start} a-ex\n:::\nS\n", "x.md:5: {solution-start} 'a-ex' has no {solution-end}"),
    (EX + ":::{solution-end}\n:::\n", "x.md:5: {solution-end} without a {solution-start}"),
    (EX, "x.md:1: the exercise 'a-ex' has no solution"),
    (":::{exercise} T\nText.\n:::\n", "x.md:1: an exercise has no :label:"),
    (EX + EX, "x.md:5: the exercise label 'a-ex' is already used on line 1"),
    (EX + ":::{solution} a-ex\nS\n", "x.md:5: the directive ':::{solution} a-ex' is never closed"),
])
def test_bad_structure_names_file_and_line(text, fragment):
    with pytest.raises(student.ExerciseStructureError) as e:
        student.parse_exercises(text, "x.md")
    assert fragment in str(e.value)
    assert "Fix:" in str(e.value)


def test_colab_refuses_a_solution_of_an_unknown_exercise():
    import colab

    ctx = colab.Context(where="x.md", exercises={"a-ex": 1})
    assert "Solution to exercise 1" in colab.convert_markdown(":::{solution} a-ex\nS\n:::", ctx)
    with pytest.raises(ValueError, match="x.md: a {solution} refers to the exercise 'b-ex'"):
        colab.convert_markdown(":::{solution} b-ex\nS\n:::", ctx)


def test_a_pair_of_tensors_that_require_grad_is_read_as_two_numbers():
    import torch

    def gan_losses(d_real, d_fake, loss):   # the right answer, as torch tensors still attached to a graph
        r = torch.tensor(d_real, requires_grad=True)
        f = torch.tensor(d_fake, requires_grad=True)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        d_loss = bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f))
        g_loss = -bce(f, torch.zeros_like(f)) if loss == "vanilla" else bce(f, torch.ones_like(f))
        return d_loss, g_loss

    assert exercises.check_gan_losses(gan_losses, quiet=True).passed is True
