"""Checkers for the book's coding exercises: run a student's function on hidden cases, say what went wrong.

A chapter's exercise has a stub the student fills in (``raise NotImplementedError``) and a cell calling the
checker::

    def q_update(q, s, a, r, s_next, terminated, alpha, gamma):
        raise NotImplementedError   # your code here

    check_q_update(q_update);

Each checker calls the function (positionally, in the order the exercise states) on a few cases whose answers
come from the library (``genrl_lib.td``), computed here, never shown beside the blank. It prints one verdict and
returns a :class:`CheckResult` (truthy only when every case passed). It never raises for a wrong answer
(students iterate) and never shows a traceback from inside the library: when the function raises, returns
``None``, the wrong shape, a non-number, NaN or a wrong value, the message names the case (its input), what was
expected and what came back. A stub that still raises ``NotImplementedError`` is "not answered yet".

The chapters' hidden cells assert the published solution with ``claim(..., bool(check_...(solution)))``;
``tests/test_exercises.py`` runs every check against the chapter's stub (must not pass) and solution (must pass).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from genrl_lib import td

__all__ = ["CheckResult", "Case", "run_check", "check_q_update", "check_epsilon_greedy_probs",
           "check_td_target", "check_huber_loss", "CHECKERS"]


@dataclass(frozen=True)
class CheckResult:
    """The verdict of a checker.

    Attributes:
        passed: ``True`` every case passed, ``False`` a case failed, ``None`` not answered yet (the stub).
        message: what the checker printed: the verdict, and for a failure the case, what was expected and
            what the function gave.
    """
    passed: bool | None
    message: str

    def __bool__(self) -> bool:
        return self.passed is True


@dataclass(frozen=True)
class Case:
    """One input of a check: the named positional arguments and the expected output."""
    names: tuple[str, ...]
    args: tuple
    expected: object

    def shown(self) -> str:
        """The input, one ``name = value`` per line, as the failure message shows it."""
        return "\n".join(f"    {n} = {_fmt(v)}" for n, v in zip(self.names, self.args))


def _fmt(x) -> str:
    if x is None:
        return "None"
    arr = np.asarray(x)
    if arr.ndim == 0:
        v = arr.item()
        return f"{v:.6g}" if isinstance(v, float) else repr(v)
    text = np.array2string(arr, precision=4, separator=", ", suppress_small=True, threshold=40)
    return " ".join(text.split())   # one line: a table reads [[a, b], [c, d]]


def _as_array(value) -> np.ndarray:
    """A returned value as a NumPy array (torch tensors included); raises TypeError for non-numbers."""
    if hasattr(value, "detach"):              # a torch tensor, possibly requiring grad
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(type(value).__name__)
    return arr


def run_check(fn, cases: list[Case], *, name: str, returns: str, atol: float = 1e-6, quiet: bool = False,
              integer_hint: str = "") -> CheckResult:
    """Run ``fn(*case.args)`` on every case and compare with ``case.expected``; print and return the verdict.

    Args:
        fn: the student's function.
        cases: the inputs and their expected outputs (computed by the library, not shown to the student).
        name: what the exercise asks for, used in the messages ("the Q-learning update").
        returns: what ``fn`` should return, in words ("the updated table, shape (n_states, n_actions)").
        atol: absolute tolerance (``np.allclose``, ``rtol=1e-5``).
        quiet: do not print the verdict (tests read ``CheckResult.message``).
        integer_hint: added when ``fn`` returned integers where floats were expected.

    Returns:
        A :class:`CheckResult`; it is truthy only if every case passed.

    Raises:
        TypeError: ``fn`` is not callable (the chapter passes the wrong thing, not a wrong answer).
    """
    if not callable(fn):
        raise TypeError(f"pass your function itself to the check, e.g. check(my_function), got {type(fn).__name__}")
    fname = getattr(fn, "__name__", "your function")

    def verdict(passed, text):
        if not quiet:
            print(text)
        return CheckResult(passed, text)

    for i, case in enumerate(cases, 1):
        expected = np.asarray(case.expected, dtype=float)

        def fail(problem, got=None, i=i, case=case, expected=expected):   # bound now: used in this iteration
            lines = [f"{name}: not yet ✗ - {fname} {problem} on case {i} of {len(cases)}, the input", case.shown()]
            if got is not None:
                lines.append(f"  got:      {_fmt(got)}")
            lines.append(f"  expected: {_fmt(expected)}  ({returns})")
            return verdict(False, "\n".join(lines))

        try:
            got = fn(*copy.deepcopy(case.args))
        except NotImplementedError:
            return verdict(None, f"{name}: not answered yet. {fname} still raises NotImplementedError: replace "
                                 f"that line with your code and run the cell again (it must return {returns}).")
        except Exception as e:  # noqa: BLE001 (any error of the student's code is reported, not raised)
            return fail(f"raised {type(e).__name__}: {e}")
        if got is None:
            return fail("returned None (is a `return` missing?)")
        try:
            arr = _as_array(got)
        except TypeError as e:
            return fail(f"returned a {e}, not a number or an array of numbers")
        if arr.shape != expected.shape:
            return fail(f"returned shape {arr.shape} instead of {expected.shape}", arr)
        if np.iscomplexobj(arr) or not np.isfinite(arr.astype(float)).all():
            return fail("returned NaN, inf or complex values", arr)
        if not np.allclose(arr.astype(float), expected, atol=atol, rtol=1e-5):
            hint = ""
            if not np.issubdtype(arr.dtype, np.floating) and integer_hint:
                hint = f" ({arr.dtype} values: {integer_hint})"
            return fail("returned a wrong value" + hint, arr)
    return verdict(True, f"{name}: correct ✓ ({len(cases)} cases passed)")


# ---- the cases: fixed seeds, answers from genrl_lib.td -------------------------------------------------------

_Q_NAMES = ("q", "s", "a", "r", "s_next", "terminated", "alpha", "gamma")


def _q_update_cases() -> list[Case]:
    rng = np.random.default_rng(19)
    cases = []
    specs = [  # (n_states, n_actions, s, a, s', terminated, alpha, gamma)
        (3, 2, 0, 1, 2, False, 0.5, 0.9),
        (3, 2, 2, 0, 1, True, 0.5, 0.9),      # terminal: no bootstrap
        (4, 3, 1, 2, 1, False, 1.0, 1.0),     # s' = s, α = 1: the entry becomes the target
        (5, 4, 3, 0, 4, False, 0.1, 0.99),
    ]
    for n_s, n_a, s, a, s2, done, alpha, gamma in specs:
        q = np.round(rng.normal(0.0, 2.0, size=(n_s, n_a)), 2)
        r = float(np.round(rng.normal(), 2))
        cases.append(Case(_Q_NAMES, (q, s, a, r, s2, done, alpha, gamma),
                          td.q_learning_update(q, s, a, r, s2, done, alpha, gamma)))
    return cases


def check_q_update(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(q, s, a, r, s_next, terminated, alpha, gamma) -> new table`` against
    :func:`genrl_lib.td.q_learning_update` on four transitions (one terminal, one with ``α = 1``).

    Args:
        fn: the student's function; it may update ``q`` in place, but must return the table.
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _q_update_cases(), name="the Q-learning update",
                     returns="the whole updated table, shape (n_states, n_actions)", quiet=quiet,
                     integer_hint="start from a float table (q.astype(float)) so the update is not rounded")


def _epsilon_cases() -> list[Case]:
    specs = [
        ([1.0, 3.0, 2.0], 0.1),
        ([0.5, 0.5, -1.0, 0.5], 0.2),       # a tie: the lowest action is greedy
        ([-2.0, -1.0], 0.0),                # ε = 0: purely greedy
        ([4.0, 0.0, 1.0, 2.0, 3.0], 1.0),   # ε = 1: uniform
    ]
    return [Case(("q_values", "epsilon"), (np.array(q), e), td.epsilon_greedy_probs(q, e)) for q, e in specs]


def check_epsilon_greedy_probs(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(q_values, epsilon) -> probabilities`` against :func:`genrl_lib.td.epsilon_greedy_probs`
    (ties to the lowest action, ``ε = 0`` and ``ε = 1`` included).

    Args:
        fn: the student's function.
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _epsilon_cases(), name="the ε-greedy probabilities",
                     returns="one probability per action, shape (n_actions,), summing to 1", quiet=quiet)


def _td_target_cases() -> list[Case]:
    rng = np.random.default_rng(190)
    cases = []
    for b, n_a, gamma, double in [(4, 2, 0.99, False), (5, 3, 0.9, False), (4, 2, 0.99, True), (6, 3, 0.5, True)]:
        r = np.round(rng.normal(1.0, 1.0, size=b), 2)
        q_t = np.round(rng.normal(5.0, 2.0, size=(b, n_a)), 2)
        q_o = np.round(rng.normal(5.0, 2.0, size=(b, n_a)), 2)
        done = np.zeros(b, dtype=bool)
        done[1] = True
        online = q_o if double else None
        cases.append(Case(("r", "next_q_target", "terminated", "gamma", "next_q_online"), (r, q_t, done, gamma, online), td.dqn_target(r, q_t, done, gamma, online)))
    return cases


def check_td_target(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(r, next_q_target, terminated, gamma, next_q_online) -> targets`` against
    :func:`genrl_lib.td.dqn_target`: two minibatches with ``next_q_online=None`` (the target network's max) and
    two with it (Double DQN); each has a terminal transition.

    Args:
        fn: the student's function (NumPy arrays in; an array or a torch tensor out).
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _td_target_cases(), name="the DQN target", returns="one target per transition, shape (B,)",
                     quiet=quiet)


def _huber_cases() -> list[Case]:
    specs = [([0.0, 1.0, 2.0], [0.5, 1.0, -1.0]),       # |x| = 0.5, 0, 3
             ([10.0, -3.0], [9.2, 1.0]),                   # one small, one large error
             ([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]),   # zero error
             ([0.0], [1.0])]                               # exactly |x| = δ
    return [Case(("q_sa", "y"), (np.array(p), np.array(y)), td.huber_loss(p, y)) for p, y in specs]


def check_huber_loss(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(q_sa, y) -> mean Huber loss`` (δ = 1) against :func:`genrl_lib.td.huber_loss`.

    Args:
        fn: the student's function; it returns one number (a 0-d array or tensor is fine).
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _huber_cases(), name="the Huber loss", returns="one number, the mean over the batch",
                     quiet=quiet)


CHECKERS = {"check_q_update": check_q_update, "check_epsilon_greedy_probs": check_epsilon_greedy_probs,
            "check_td_target": check_td_target, "check_huber_loss": check_huber_loss}
"""Every checker by name (``tests/test_exercises.py`` finds the chapters' check calls by these names)."""
