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
    for chapter in ("rl_basics", "q_learning", "dqn", "policy_gradients", "ppo"):
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


# ---- the checkers of rl_basics, policy_gradients and ppo: their cases, against the library -----------------------

def test_the_new_checkers_pass_the_library_itself():
    import torch

    from genrl_lib import gae, pg

    def backup_by_evaluation(v, T, R, pi, gamma):   # the backup as the library's policy evaluation writes it
        return (pi * R).sum(axis=1) + gamma * np.einsum("sa,sat->st", pi, T) @ v

    def library_returns(rewards, gamma, normalize):
        g = torch.from_numpy(pg.discounted_returns(rewards, gamma))
        return pg.standardize(g) if normalize else g

    assert exercises.check_discounted_return(lambda r, g: pg.discounted_returns(r, g)[0], quiet=True)
    assert exercises.check_bellman_backup(backup_by_evaluation, quiet=True)
    assert exercises.check_returns_to_go(library_returns, quiet=True)
    assert exercises.check_reinforce_loss(
        lambda z, a, w: -(torch.as_tensor(w) * torch.distributions.Categorical(logits=torch.as_tensor(z))
                          .log_prob(torch.as_tensor(a))).mean(), quiet=True)
    assert exercises.check_clipped_surrogate(
        lambda lp, old, adv, eps: np.mean(np.minimum(np.exp(lp - old) * adv,
                                                     np.clip(np.exp(lp - old), 1 - eps, 1 + eps) * adv)), quiet=True)
    assert exercises.check_gae(lambda *a: gae.gae(*a[:5], gamma=a[5], lam=a[6])[0], quiet=True)


def test_the_bellman_cases_step_one_sweep_from_the_library_values():
    cases = exercises._bellman_cases()
    assert len(cases) == 5
    for case in cases[:-1]:   # every case but the fixed point moves the values
        assert not np.allclose(case.args[0], case.expected), case.shown()
    v, T, R, pi, gamma = cases[-1].args
    np.testing.assert_allclose((pi * (R + gamma * T @ v)).sum(axis=1), cases[-1].expected, atol=1e-12)
    assert any(c.args[4] == 0.0 for c in cases) and any(c.args[4] == 1.0 for c in cases)


def test_the_return_cases_agree_with_pg_discounted_returns():
    from genrl_lib.pg import discounted_returns

    for case in exercises._discounted_return_cases():
        assert case.expected == pytest.approx(float(discounted_returns(*case.args)[0]), rel=1e-6)
    lengths = [len(c.args[0]) for c in exercises._discounted_return_cases()]
    gammas = [c.args[1] for c in exercises._discounted_return_cases()]
    assert 1 in lengths and 0.0 in gammas and 1.0 in gammas


def test_the_returns_to_go_cases_cover_one_step_and_normalization():
    cases = exercises._returns_to_go_cases()
    one_step = [c for c in cases if len(c.args[0]) == 1]
    assert {c.args[2] for c in one_step} == {False, True}
    assert all(np.allclose(c.expected, c.args[0]) for c in one_step)   # G_0 = r_0, normalized or not
    for c in cases:
        if c.args[2] and len(c.args[0]) > 1:
            assert abs(float(np.mean(c.expected))) < 1e-6
    assert any(c.args[2] and np.allclose(c.expected, 0.0) for c in cases)   # equal returns: all zero


def test_the_surrogate_cases_clip_on_both_sides_and_leave_the_others():
    cases = exercises._clipped_surrogate_cases()
    kinds = set()
    for c in cases:
        lp, old, adv, eps = c.args
        rho = np.exp(lp - old)
        for r, a in zip(rho, adv):
            if r > 1 + eps:
                kinds.add("clipped above" if a > 0 else "unclipped above")
            elif r < 1 - eps:
                kinds.add("clipped below" if a < 0 else "unclipped below")
    assert kinds == {"clipped above", "clipped below", "unclipped above", "unclipped below"}
    assert any(len(c.args[0]) == 1 for c in cases)
    unclipped = lambda lp, old, adv, eps: np.mean(np.exp(lp - old) * adv)   # noqa: E731 (forgets the clip)
    result = exercises.check_clipped_surrogate(unclipped, quiet=True)
    assert result.passed is False and "log_prob = " in result.message


def test_the_gae_cases_have_both_episode_ends():
    cases = exercises._gae_cases()
    assert any(c.args[3][:-1].any() for c in cases) and any(c.args[4].any() for c in cases)
    assert any(c.args[3][-1] for c in cases) and any(len(c.args[0]) == 1 for c in cases)
    assert {0.0, 1.0} <= {c.args[6] for c in cases}

    def bootstraps_after_termination(r, v, nv, term, trunc, gamma, lam):   # a classic mistake
        from genrl_lib.gae import gae
        return gae(r, v, nv, np.zeros_like(term), term | trunc, gamma=gamma, lam=lam)[0]

    result = exercises.check_gae(bootstraps_after_termination, quiet=True)
    assert result.passed is False and "terminated = " in result.message


@pytest.mark.parametrize("checker", ["check_reinforce_loss", "check_clipped_surrogate"])
def test_checkers_that_build_a_policy_leave_torchs_generator_alone(checker):
    import torch

    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    exercises.CHECKERS[checker](lambda *a: 0.0, quiet=True)
    assert torch.equal(torch.rand(3), before)


def test_the_new_checkers_report_shape_nan_and_exceptions():
    r = exercises.check_gae(lambda r, *a: np.zeros(len(r) + 1), quiet=True)
    assert r.passed is False and "returned shape" in r.message
    r = exercises.check_reinforce_loss(lambda z, a, w: float("nan"), quiet=True)
    assert r.passed is False and "NaN" in r.message
    r = exercises.check_bellman_backup(lambda v, T, R, pi, g: T @ v @ pi, quiet=True)   # wrong matrix product
    assert r.passed is False and "raised ValueError" in r.message and "the input" in r.message
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
