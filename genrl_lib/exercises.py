"""Checkers for the book's coding exercises: run a student's function on hidden cases, say what went wrong.

A chapter's exercise has a stub the student fills in (``raise NotImplementedError``) and a cell calling the
checker::

    def q_update(q, s, a, r, s_next, terminated, alpha, gamma):
        raise NotImplementedError   # your code here

    check_q_update(q_update);

Each checker calls the function (positionally, in the order the exercise states) on a few cases whose answers
come from the library (``genrl_lib.td``, ``tabular``, ``pg``, ``ppo``, ``gae``) or, for the discounted return, from
its formula, computed here, never shown beside the blank. It prints one verdict and
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

from genrl_lib import gae, tabular, td

__all__ = ["CheckResult", "Case", "run_check", "check_q_update", "check_epsilon_greedy_probs",
           "check_td_target", "check_huber_loss", "check_discounted_return", "check_bellman_backup",
           "check_returns_to_go", "check_reinforce_loss", "check_clipped_surrogate", "check_gae", "CHECKERS"]


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
    elif isinstance(value, (tuple, list)):    # several results, e.g. (d_loss, g_loss) as tensors
        value = [v.detach().cpu().numpy() if hasattr(v, "detach") else v for v in value]
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


# ---- rl_basics: the return and the Bellman expectation backup ------------------------------------------------

def _discounted_return_cases() -> list[Case]:
    specs = [([1.0, 2.0, 3.0], 0.5),
             ([4.0], 0.9),                                  # one reward: G_0 = r_1
             ([1.0, 1.0, 1.0, 1.0, 10.0], 1.0),             # γ = 1: the plain sum
             ([-1.0, 5.0, 2.0], 0.0),                       # γ = 0: the first reward only
             ([0.0, -1.0, 0.5, -1.0, 0.0, 3.0, 1.0], 0.95)]
    cases = []
    for r, gamma in specs:   # G_0 = Σ_k γ^k r_{k+1}, in float64 (pg.discounted_returns agrees: tests/test_exercises.py)
        expected = float(sum(gamma ** k * x for k, x in enumerate(r)))
        cases.append(Case(("rewards", "gamma"), (np.array(r), gamma), expected))
    return cases


def check_discounted_return(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(rewards, gamma) -> G_0``, the discounted return of a reward sequence ``(r_1, ..., r_T)``
    (``rewards`` of shape ``(T,)``), on five sequences: one reward, ``γ = 0``, ``γ = 1`` included.

    Args:
        fn: the student's function; it returns one number.
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _discounted_return_cases(), name="the discounted return",
                     returns="one number, G_0 = r_1 + γ r_2 + γ² r_3 + ...", quiet=quiet)


def _bellman_cases() -> list[Case]:
    import gymnasium as gym

    rng = np.random.default_rng(20)
    chain, lake = gym.make("genrl_lib/JumpChain-v0"), gym.make("FrozenLake-v1")
    names = ("v", "T", "R", "pi", "gamma")
    cases = []
    # (env, policy (S, A), γ, sweeps k already done): v = V_k (k steps to go), expected V_{k+1}, both exact
    for env, kind, gamma, k in [(chain, "always-R", 1.0, 0), (chain, "uniform", 1.0, 3), (lake, "random", 0.9, 5),
                                (lake, "random", 0.0, 2)]:   # γ = 0: the backup ignores v
        m = tabular.tabular_model(env)
        S, A = m.n_states, m.n_actions
        if kind == "always-R":
            pi = np.zeros((S, A))
            pi[:, 0] = 1.0
        elif kind == "uniform":
            pi = np.full((S, A), 1.0 / A)
        else:
            pi = np.round(rng.dirichlet(np.ones(A), size=S), 3)
            pi[:, -1] = 1.0 - pi[:, :-1].sum(axis=1)
        v = np.zeros(S) if k == 0 else tabular.policy_evaluation(env, pi, gamma, horizon=k)
        if gamma == 0.0:
            v = np.round(rng.normal(0.0, 1.0, size=S), 2)
        cases.append(Case(names, (v, m.T, m.R, pi, gamma), tabular.policy_evaluation(env, pi, gamma, horizon=k + 1)))
    m = tabular.tabular_model(chain)   # the exact V^π of a stochastic policy is a fixed point of the backup
    pi = np.tile([0.7, 0.3], (m.n_states, 1))
    v_pi = tabular.policy_evaluation(chain, pi, 0.9, horizon=None)
    cases.append(Case(names, (v_pi, m.T, m.R, pi, 0.9), v_pi))
    return cases


def check_bellman_backup(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(v, T, R, pi, gamma) -> new v``, one sweep of policy evaluation (the Bellman expectation backup
    ``V(s) ← Σ_a π(a|s) [R(s,a) + γ Σ_s' T(s,a,s') v(s')]``) on the arrays of :func:`genrl_lib.tabular.tabular_model`:
    ``v (S,)``, ``T (S, A, S)`` (continuing transitions only), ``R (S, A)`` expected rewards, ``pi (S, A)``.

    The expected values are :func:`genrl_lib.tabular.policy_evaluation` with ``horizon=k+1`` when ``v`` is its
    result with ``horizon=k``: the jump chain and slippery FrozenLake, deterministic, uniform and random
    policies, ``γ = 0`` and a fixed point (the exact ``V^π``).

    Args:
        fn: the student's function.
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _bellman_cases(), name="the Bellman expectation backup",
                     returns="the new values, one per state, shape (S,)", quiet=quiet)


# ---- policy_gradients: returns-to-go and REINFORCE's loss ----------------------------------------------------

def _returns_to_go_cases() -> list[Case]:
    import torch

    from genrl_lib import pg

    specs = [([0.0, 0.0, 1.0], 0.5, False),
             ([1.0, -1.0, 2.0, 0.5, 3.0], 0.9, False),
             ([2.0], 0.99, False),                  # one step: G_0 = r_0
             ([2.0], 0.99, True),                   # one step, normalized: no spread, left as it is
             ([1.0, -1.0, 2.0, 0.5, 3.0], 0.9, True),
             ([1.0] * 6, 1.0, True),                # CartPole-like: G = 6, 5, ..., 1
             ([1.0, 1.0, 1.0], 0.0, True)]          # γ = 0, equal rewards: all returns equal, normalized to 0
    cases = []
    for r, gamma, normalize in specs:
        g = torch.from_numpy(pg.discounted_returns(r, gamma))
        expected = (pg.standardize(g) if normalize else g).numpy()
        cases.append(Case(("rewards", "gamma", "normalize"), (np.array(r), gamma, normalize), expected))
    return cases


def check_returns_to_go(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(rewards, gamma, normalize) -> G``, the returns-to-go ``G_t = Σ_k γ^k r_{t+k}`` of an episode
    (``rewards (T,)``), standardized over the episode when ``normalize`` (as REINFORCE does): against
    :func:`genrl_lib.pg.discounted_returns` and :func:`genrl_lib.pg.standardize`, one-step episodes and equal
    returns included.

    Args:
        fn: the student's function.
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _returns_to_go_cases(), name="the returns-to-go", atol=1e-5,
                     returns="one return per step, shape (T,)", quiet=quiet)


def _reinforce_loss_cases() -> list[Case]:
    import gymnasium as gym
    import torch

    from genrl_lib import pg
    from genrl_lib.policies import ActorCriticPolicy

    rng = np.random.default_rng(21)
    cases = []
    # (steps T, actions, weights, scale of the logits): normalized returns, one step, raw CartPole returns,
    # a confident policy (large logits), all-zero weights
    specs = [(5, 2, [1.2, 0.6, 0.0, -0.6, -1.2], 1.0), (1, 3, [2.0], 1.0), (6, 4, [6.0, 5.0, 4.0, 3.0, 2.0, 1.0], 1.0),
             (4, 3, [-1.0, 0.5, -0.25, 1.5], 40.0), (3, 2, [0.0, 0.0, 0.0], 1.0)]
    with torch.random.fork_rng():   # the policy's seed must not move the chapter's torch generator
        for i, (n, n_actions, w, scale) in enumerate(specs):
            policy = ActorCriticPolicy(gym.spaces.Box(-1.0, 1.0, (4,)), gym.spaces.Discrete(n_actions), (8,),
                                       ortho_init=False, critic=False, seed=21 + i)
            last = policy.actor[-1]
            assert isinstance(last, torch.nn.Linear)
            with torch.no_grad():
                last.weight.mul_(scale)
                states = torch.from_numpy(rng.normal(size=(n, 4)).astype(np.float32))
                actions = torch.from_numpy(rng.integers(n_actions, size=n))
                weights = torch.tensor(w, dtype=torch.float32)
                logits = policy.actor(states).numpy().astype(np.float64)
                loss = pg.policy_gradient_loss(policy, states, actions, weights).item()
            cases.append(Case(("logits", "actions", "weights"), (logits, actions.numpy(), np.array(w)), loss))
    return cases


def check_reinforce_loss(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(logits, actions, weights) -> L``, REINFORCE's return-weighted negative log-likelihood
    ``L = −(1/T) Σ_t w_t log π(a_t|s_t)`` of a categorical policy with ``logits (T, n_actions)``, ``actions (T,)``
    and ``weights (T,)``, against :func:`genrl_lib.pg.policy_gradient_loss` of the policy that made the logits
    (one step, a confident policy and zero weights included).

    Args:
        fn: the student's function (NumPy arrays in; a number, 0-d array or torch scalar out).
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _reinforce_loss_cases(), name="REINFORCE's loss", atol=1e-5,
                     returns="one number, the mean over the T steps", quiet=quiet)


# ---- ppo: the clipped surrogate and GAE ----------------------------------------------------------------------

def _clipped_surrogate_cases() -> list[Case]:
    import gymnasium as gym
    import torch

    from genrl_lib.policies import ActorCriticPolicy
    from genrl_lib.ppo import ppo_loss

    rng = np.random.default_rng(22)
    specs = [  # (ratios ρ_t, advantages Â_t, ε)
        ([1.5, 0.5, 1.5, 0.5, 1.0, 1.1], [1.0, -1.0, -2.0, 2.0, 0.7, -0.3], 0.2),   # clipped above and below,
        ([1.3], [2.0], 0.2),                                                          # ... not clipped, inside
        ([0.6], [-1.5], 0.2),                                                         # one step on each side
        (list(np.round(rng.uniform(0.7, 1.3, size=5), 3)), list(np.round(rng.normal(size=5), 2)), 0.1),
        ([1.0, 1.0, 1.0], [0.5, -2.0, 1.0], 0.2)]                                     # ρ = 1: L = mean(Â)
    cases = []
    with torch.random.fork_rng():
        for i, (rho, adv, eps) in enumerate(specs):
            n = len(rho)
            policy = ActorCriticPolicy(gym.spaces.Box(-1.0, 1.0, (4,)), gym.spaces.Discrete(3), (8,), seed=22 + i)
            with torch.no_grad():
                obs = torch.from_numpy(rng.normal(size=(n, 4)).astype(np.float32))
                actions = torch.from_numpy(rng.integers(3, size=n))
                logp = policy.log_prob_entropy(obs, actions)[0]
                old = logp - torch.log(torch.tensor(rho, dtype=torch.float32))
                _, parts = ppo_loss(policy, obs, actions, old, torch.tensor(adv, dtype=torch.float32),
                                    torch.zeros(n), eps, normalize_advantage=False)
            cases.append(Case(("log_prob", "old_log_prob", "advantages", "clip_range"),
                              (logp.numpy().astype(np.float64), old.numpy().astype(np.float64), np.array(adv), eps),
                              -parts["policy_loss"].item()))
    return cases


def check_clipped_surrogate(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(log_prob, old_log_prob, advantages, clip_range) -> L^CLIP``, PPO's clipped surrogate objective
    (the mean over the batch, to maximize), against ``−policy_loss`` of :func:`genrl_lib.ppo.ppo_loss` without
    advantage normalization: ratios clipped above and below, unclipped ones on both sides, one-sample batches and
    ``ρ = 1``.

    Args:
        fn: the student's function (``(B,)`` NumPy arrays and ε in; one number out).
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _clipped_surrogate_cases(), name="the clipped surrogate L^CLIP", atol=1e-5,
                     returns="one number, the mean of the clipped terms over the batch", quiet=quiet)


def _gae_cases() -> list[Case]:
    rng = np.random.default_rng(23)
    names = ("rewards", "values", "next_values", "terminated", "truncated", "gamma", "lam")
    specs = [  # (T, terminated at, truncated at, γ, λ)
        (4, [], [], 0.99, 0.95),        # no episode end: the recursion runs through
        (5, [1], [], 0.9, 0.8),         # terminated in the middle: no bootstrap, no carry
        (5, [], [2], 0.9, 0.8),         # truncated in the middle: bootstrap from V(s'), no carry
        (3, [2], [], 0.5, 1.0),         # λ = 1, the last step terminal: the return minus V(s_t)
        (1, [], [], 0.99, 0.0),         # one step, λ = 0: the TD error
        (4, [3], [1], 0.95, 0.0)]       # λ = 0 with both kinds of end
    cases = []
    for n, term_at, trunc_at, gamma, lam in specs:
        r = np.round(rng.normal(1.0, 1.0, size=n), 2)
        v = np.round(rng.normal(2.0, 1.0, size=n), 2)
        nv = np.append(v[1:], np.round(rng.normal(2.0, 1.0), 2))
        term, trunc = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        term[term_at], trunc[trunc_at] = True, True
        for t in [*term_at, *trunc_at]:   # after an episode end, s'_t is the final observation, not s_{t+1}
            nv[t] = np.round(rng.normal(2.0, 1.0), 2)
        adv, _ = gae.gae(r, v, nv, term, trunc, gamma=gamma, lam=lam)
        cases.append(Case(names, (r, v, nv, term, trunc, gamma, lam), adv))
    return cases


def check_gae(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(rewards, values, next_values, terminated, truncated, gamma, lam) -> advantages``, GAE(γ, λ) of
    one environment's rollout (all arrays ``(T,)``), against :func:`genrl_lib.gae.gae`: terminations and
    truncations in the middle and at the end, ``λ = 0``, ``λ = 1`` and a single step.

    Args:
        fn: the student's function.
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _gae_cases(), name="GAE", atol=1e-5, returns="one advantage per step, shape (T,)",
                     quiet=quiet)


CHECKERS = {"check_q_update": check_q_update, "check_epsilon_greedy_probs": check_epsilon_greedy_probs,
            "check_td_target": check_td_target, "check_huber_loss": check_huber_loss,
            "check_discounted_return": check_discounted_return, "check_bellman_backup": check_bellman_backup,
            "check_returns_to_go": check_returns_to_go, "check_reinforce_loss": check_reinforce_loss,
            "check_clipped_surrogate": check_clipped_surrogate, "check_gae": check_gae}
"""Every checker by name (``tests/test_exercises.py`` finds the chapters' check calls by these names)."""


# ---- generative models, GAIL, HQL and the buildings: answers from genrl_lib.generative, .gail, .hql, .buildings ----
# The modules are imported inside the case builders: importing genrl_lib.exercises stays as light as NumPy.

def _torch64(x):
    import torch

    return torch.as_tensor(np.asarray(x, dtype=float), dtype=torch.float64)


def _vae_loss_cases() -> list[Case]:
    from genrl_lib.generative import vae_loss_terms

    rng = np.random.default_rng(20)
    cases = []
    for n, dim, latent, kind in [(3, 4, 2, "random"), (2, 5, 2, "prior"), (1, 6, 3, "wide"), (4, 3, 1, "half")]:
        x = np.round(rng.uniform(0.0, 1.0, size=(n, dim)), 2)
        logits = np.round(rng.normal(0.0, 2.0, size=(n, dim)), 2)
        mu = np.round(rng.normal(0.0, 1.0, size=(n, latent)), 2)
        logvar = np.round(rng.normal(0.0, 0.7, size=(n, latent)), 2)
        if kind == "prior":      # q(z|x) = N(0, I): the KL term is 0; binary pixels
            mu, logvar, x = np.zeros_like(mu), np.zeros_like(logvar), (x > 0.5).astype(float)
        elif kind == "wide":     # a very narrow and a very wide posterior
            logvar = np.array([[-3.0, 0.0, 2.5]])
        elif kind == "half":     # logits 0: every pixel probability is 1/2
            logits = np.zeros_like(logits)
        rec, kl = vae_loss_terms(_torch64(x), _torch64(logits), _torch64(mu), _torch64(logvar))
        cases.append(Case(("x", "logits", "mu", "logvar"), (x, logits, mu, logvar), float((rec + kl).mean())))
    return cases


def check_vae_loss(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(x, logits, mu, logvar) -> −ELBO``, the mean over the batch of the binary cross-entropy of
    ``x`` under ``σ(logits)`` (summed over pixels) plus ``KL(N(μ, σ²) ‖ N(0, I))`` (summed over latent
    dimensions), against :func:`genrl_lib.generative.vae_loss_terms`: four batches, one with ``q(z|x) = N(0, I)``
    (KL = 0), one with a very narrow and a very wide posterior, one with logits 0.

    Args:
        fn: the student's function (NumPy arrays in: ``x`` and ``logits`` ``(n, dim)``, ``mu`` and ``logvar``
            ``(n, latent_dim)``; one number out).
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _vae_loss_cases(), name="the VAE loss (−ELBO)",
                     returns="one number, the mean over the batch of reconstruction + KL, in nats", quiet=quiet)


def _gan_losses_cases() -> list[Case]:
    from genrl_lib.generative import gan_discriminator_loss, gan_generator_loss

    rng = np.random.default_rng(21)
    r4, f4 = np.round(rng.normal(1.0, 1.5, size=4), 2), np.round(rng.normal(-1.0, 1.5, size=4), 2)
    specs = [(r4, f4, "vanilla"), (r4, f4, "non_saturating"),                # the same logits, both losses
             (np.zeros(3), np.zeros(3), "vanilla"),                          # D = 1/2 everywhere
             (np.full(2, 5.0), np.full(3, -5.0), "vanilla"),                 # D wins: the vanilla loss is flat
             (np.full(2, 5.0), np.full(3, -5.0), "non_saturating"),
             (np.round(rng.normal(size=3), 2), np.round(rng.normal(size=5), 2), "non_saturating")]   # 3 real, 5 fake
    cases = []
    for real, fake, loss in specs:
        d = gan_discriminator_loss(_torch64(real), _torch64(fake))
        g = gan_generator_loss(_torch64(fake), loss)
        cases.append(Case(("d_real", "d_fake", "loss"), (real, fake, loss), [float(d), float(g)]))
    return cases


def check_gan_losses(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(d_real, d_fake, loss) -> (d_loss, g_loss)`` against
    :func:`genrl_lib.generative.gan_discriminator_loss` and :func:`~genrl_lib.generative.gan_generator_loss`:
    the discriminator's and the generator's loss (``loss`` is ``"vanilla"`` or ``"non_saturating"``) from the
    discriminator's logits on real and generated samples; cases with ``D = 1/2``, with a winning ``D`` and with
    batches of different sizes.

    Args:
        fn: the student's function; it returns the two losses, ``d_loss, g_loss``.
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _gan_losses_cases(), name="the GAN losses",
                     returns="two numbers, (d_loss, g_loss): the discriminator's and the generator's loss", quiet=quiet)


def _gail_disc_cases() -> list[Case]:
    import torch

    from genrl_lib.gail import discriminator_loss

    rng = np.random.default_rng(22)
    specs = [(np.round(rng.normal(0.5, 1.5, size=4), 2), np.round(rng.normal(-0.5, 1.5, size=4), 2)),
             (np.zeros(3), np.zeros(3)),                                  # D = 1/2 on every pair
             (np.array([12.0, 9.0]), np.array([-11.0, -10.0])),           # a confident, correct discriminator
             (np.array([-3.0, -2.0]), np.array([2.0, 4.0])),              # a confident, wrong one
             (np.round(rng.normal(size=5), 2), np.round(rng.normal(size=3), 2))]   # 5 policy, 3 expert pairs
    cases = []
    for zp, ze in specs:
        loss, _, _ = discriminator_loss(torch.nn.Identity(), _torch64(zp)[:, None], _torch64(ze)[:, None])
        cases.append(Case(("z_policy", "z_expert"), (zp, ze), float(loss)))
    return cases


def check_gail_discriminator_loss(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(z_policy, z_expert) -> loss``, GAIL's discriminator loss from the logits ``z = logit D`` on the
    learner's and the expert's pairs (``D`` = the probability that a pair came from the LEARNER), against
    :func:`genrl_lib.gail.discriminator_loss` without gradient penalty: five batches, with ``D = 1/2``, a
    confident right and a confident wrong discriminator, and batches of different sizes.

    Args:
        fn: the student's function (two NumPy arrays of logits in, one number out).
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _gail_disc_cases(), name="GAIL's discriminator loss",
                     returns="one number: the mean cross-entropy on the policy's pairs plus that on the expert's",
                     quiet=quiet)


def _gail_reward_cases() -> list[Case]:
    import torch

    from genrl_lib.gail import disc_reward

    d_main = np.array([0.5, 0.8, 0.2, 0.99, 0.01])       # 1/2, learner-like, expert-like, and confident ones
    d_more = np.array([0.999, 0.3, 0.001])
    cases = []
    for d in (d_main, d_more):
        for form in ("positive", "negative", "logit"):
            r = disc_reward(torch.logit(_torch64(d)), form).numpy()
            cases.append(Case(("d", "form"), (d, form), r))
    return cases


def check_gail_reward(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(d, form) -> rewards``, GAIL's reward of each pair from ``D(s, a)`` (the probability that the
    pair came from the learner), for ``form`` ``"positive"`` (``−log D``), ``"negative"`` (``log(1 − D)``) and
    ``"logit"`` (``log(1 − D) − log D``), against :func:`genrl_lib.gail.disc_reward`; ``D`` from 0.001 to 0.999.

    Args:
        fn: the student's function (a NumPy array of probabilities and a string in, one reward per pair out).
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _gail_reward_cases(), name="GAIL's reward", returns="one reward per pair, shape (B,)",
                     quiet=quiet)


def _hql_agreement_cases() -> list[Case]:
    from genrl_lib.hql import greedy_agreement
    from genrl_lib.tabular import greedy_policy

    rng = np.random.default_rng(23)
    cases = []
    for n, n_s, n_a, kind in [(3, 6, 3, "random"), (2, 5, 4, "ties"), (4, 8, 2, "mask"), (1, 4, 3, "copy")]:
        expert = np.round(rng.normal(0.0, 2.0, size=(n_s, n_a)), 1)
        tables = np.round(rng.normal(0.0, 2.0, size=(n, n_s, n_a)), 1)
        states = np.ones(n_s, dtype=bool)
        if kind == "ties":       # integer tables: equal entries, argmax takes the lowest action
            expert, tables = rng.integers(0, 2, size=(n_s, n_a)).astype(float), \
                rng.integers(0, 2, size=(n, n_s, n_a)).astype(float)
            tables[0, 0] = 0.0   # a row of equal values: its greedy action is 0
        elif kind == "mask":     # only some states count
            states = np.array([True, False, True, True, False, False, True, False])
            tables[0] = expert + 0.01
        elif kind == "copy":     # the expert itself, shifted by a constant: agreement 1
            tables[0] = expert - 3.0
        pols = np.stack([greedy_policy(t) for t in tables])
        expected = greedy_agreement(pols, greedy_policy(expert), states)[:, 0]
        cases.append(Case(("tables", "expert", "states"), (tables, expert, states), expected))
    return cases


def check_greedy_agreement(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(tables, expert, states) -> agreement``: for each Q-table of ``tables`` ``(n, S, A)``, the
    fraction of the states ``states`` (a boolean mask ``(S,)``) where its greedy action ``argmax_a Q(s, a)``
    (ties to the lowest action) equals that of ``expert`` ``(S, A)``; against :func:`genrl_lib.hql.greedy_agreement`
    on :func:`genrl_lib.tabular.greedy_policy` (ties, a mask, a shifted copy of the expert included).

    Args:
        fn: the student's function.
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _hql_agreement_cases(), name="the greedy agreement",
                     returns="one fraction in [0, 1] per table, shape (n,)", quiet=quiet)


def _generator_gradient_cases() -> list[Case]:
    import torch

    from genrl_lib.generative import gan_generator_loss

    rng = np.random.default_rng(24)
    specs = [(np.array([-8.0, -2.0, 0.0, 1.5]), "vanilla"), (np.array([-8.0, -2.0, 0.0, 1.5]), "non_saturating"),
             (np.round(rng.normal(-3.0, 2.0, size=6), 2), "vanilla"), (np.array([-12.0]), "non_saturating"),
             (np.array([-12.0]), "vanilla")]
    cases = []
    for logits, loss in specs:
        z = _torch64(logits).requires_grad_(True)
        (grad,) = torch.autograd.grad(gan_generator_loss(z, loss), z)
        cases.append(Case(("logits", "loss"), (logits, loss), grad.numpy()))
    return cases


def check_generator_gradient(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(logits, loss) -> gradient``: the derivative of the generator's loss (the mean over the ``m``
    generated tables of ``log(1 − D)`` for ``"vanilla"``, of ``−log D`` for ``"non_saturating"``, ``D = σ(ℓ)``)
    with respect to each logit ``ℓ_i``, against torch's autograd of :func:`genrl_lib.generative.gan_generator_loss`;
    logits from −12 (``D`` wins) to 1.5.

    Args:
        fn: the student's function (a NumPy array of logits and a string in).
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _generator_gradient_cases(), name="the generator's gradient",
                     returns="one derivative per logit, shape (m,)", atol=1e-9, quiet=quiet)


def _linear_reward_cases() -> list[Case]:
    from genrl_lib.buildings import linear_reward

    winter, summer = (20.0, 23.5), (23.0, 26.0)
    specs = [(3000.0, [21.0], winter),                 # comfortable: only the energy term
             (4500.0, [19.2], winter),                 # too cold
             (1200.0, [26.8], summer),                 # too warm in summer
             (2500.0, [18.5, 24.0], winter),           # two zones, one too cold and one too warm
             (800.0, [23.5, 20.0], winter),            # on the edges of the band: comfortable
             (0.0, [22.0, 27.5], summer)]              # the HVAC off
    return [Case(("power", "temperatures", "band"), (p, np.array(t), band), linear_reward(p, t, band))
            for p, t, band in specs]


def check_linear_reward(fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fn(power, temperatures, band) -> r``, Sinergym's linear reward of one step with the book's weights
    (``w = 0.5``, ``λ_E = 1e-4``, ``λ_T = 1``), against :func:`genrl_lib.buildings.linear_reward`: one and two
    zones, both comfort bands, zones on the band's edges, the HVAC off.

    Args:
        fn: the student's function (a power in W, a NumPy array of zone temperatures in °C and a
            ``(low, high)`` band in).
        quiet: do not print the verdict.

    Returns:
        :class:`CheckResult`, truthy if all cases pass.
    """
    return run_check(fn, _linear_reward_cases(), name="the linear reward", returns="one number, the step's reward",
                     quiet=quiet)


CHECKERS.update({"check_vae_loss": check_vae_loss, "check_gan_losses": check_gan_losses,
                 "check_gail_discriminator_loss": check_gail_discriminator_loss, "check_gail_reward": check_gail_reward,
                 "check_greedy_agreement": check_greedy_agreement, "check_generator_gradient": check_generator_gradient,
                 "check_linear_reward": check_linear_reward})
__all__ += ["check_vae_loss", "check_gan_losses", "check_gail_discriminator_loss", "check_gail_reward",
            "check_greedy_agreement", "check_generator_gradient", "check_linear_reward"]
