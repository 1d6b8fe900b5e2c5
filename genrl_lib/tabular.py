"""Exact dynamic programming on tabular environments (JumpChain, FrozenLake, Taxi, CliffWalking).

All functions read the environment's model ``env.unwrapped.P[s][a] = [(prob, s', r, terminated), ...]``
(the toy-text convention) and turn it into arrays once (:func:`tabular_model`). Values are exact up
to ``tol``; no sampling is involved.

The second half learns from samples instead: :func:`q_learning`, :func:`sarsa` and
:func:`monte_carlo_control` share one episode loop, and :class:`TabularSimulator` replays the env's own
dynamics from ``P`` (same transitions as ``env.step`` for the same seed, without its overhead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from genrl_lib.checks import check_number, check_positive_int

__all__ = ["TabularModel", "tabular_model", "value_iteration", "policy_evaluation", "expected_return",
           "return_std", "termination_probability", "greedy_from_q", "check_gamma"]


@dataclass(frozen=True)
class TabularModel:
    """Arrays of a finite MDP.

    Attributes:
        T: ``(S, A, S)`` probability of reaching ``s'`` **without** the episode terminating.
        R: ``(S, A)`` expected immediate reward ``E[r | s, a]``.
        mu0: ``(S,)`` initial-state distribution.
        horizon: the env's time limit (``spec.max_episode_steps``) or ``None``.
    """

    T: np.ndarray
    R: np.ndarray
    mu0: np.ndarray
    horizon: int | None

    @property
    def n_states(self) -> int:
        return self.T.shape[0]

    @property
    def n_actions(self) -> int:
        return self.T.shape[1]


def check_gamma(gamma) -> float:
    """Validate a discount factor: a number in ``[0, 1]``. Returns it as ``float``."""
    return check_number(gamma, "gamma", low=0.0, high=1.0)


def tabular_model(env: gym.Env) -> TabularModel:
    """Read ``env.unwrapped.P`` into arrays (see :class:`TabularModel`).

    Args:
        env: a gymnasium env with ``Discrete`` observation and action spaces and a toy-text model ``P``.

    Raises:
        TypeError: the env has no tabular model (e.g. ``CartPole-v1``) or its spaces are not ``Discrete``.
    """
    if not isinstance(env, gym.Env):
        raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
    base = env.unwrapped
    P = getattr(base, "P", None)
    if not isinstance(P, dict) or not isinstance(env.observation_space, gym.spaces.Discrete) \
            or not isinstance(env.action_space, gym.spaces.Discrete):
        name = env.spec.id if env.spec is not None else type(base).__name__
        raise TypeError(f"env {name!r} has no tabular model: value_iteration/policy_evaluation need Discrete "
                        "observation and action spaces and a model env.unwrapped.P[s][a] = [(prob, s', r, terminated)] "
                        "(e.g. Taxi-v4, FrozenLake-v1, CliffWalking-v1, genrl_lib/JumpChain-v0)")
    S, A = env.observation_space.n, env.action_space.n
    T = np.zeros((S, A, S))
    R = np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            for prob, s2, r, done in P[s][a]:
                R[s, a] += prob * r
                if not done:
                    T[s, a, s2] += prob
    mu0 = getattr(base, "initial_state_distrib", None)
    if mu0 is None:  # e.g. CliffWalking: a fixed start state
        mu0 = np.zeros(S)
        mu0[int(getattr(base, "start_state_index", 0))] = 1.0
    horizon = env.spec.max_episode_steps if env.spec is not None else None
    return TabularModel(T=T, R=R, mu0=np.asarray(mu0, dtype=float), horizon=horizon)


def value_iteration(env: gym.Env, gamma: float = 1.0, tol: float = 1e-9, max_iter: int = 100_000):
    """Optimal values by value iteration, ``Q(s,a) = R(s,a) + γ Σ_s' T(s,a,s') max_a' Q(s',a')``.

    Infinite horizon (the env's time limit is ignored). With ``gamma=1`` it converges when every
    optimal policy reaches a terminal state, as in JumpChain, FrozenLake and Taxi.

    Args:
        env: a tabular env (see :func:`tabular_model`).
        gamma: discount factor in ``[0, 1]``.
        tol: stop when the largest change of V in one sweep is below ``tol``.
        max_iter: raise ``RuntimeError`` if not converged after this many sweeps.

    Returns:
        ``(V, Q)``: ``V`` of shape ``(S,)`` and ``Q`` of shape ``(S, A)``.
    """
    gamma = check_gamma(gamma)
    tol = check_number(tol, "tol", low=0.0, low_open=True)
    max_iter = check_positive_int(max_iter, "max_iter")
    m = tabular_model(env)
    V = np.zeros(m.n_states)
    for _ in range(max_iter):
        Q = m.R + gamma * m.T @ V
        V_new = Q.max(axis=1)
        delta = np.max(np.abs(V_new - V))
        V = V_new
        if delta < tol:
            return V, m.R + gamma * m.T @ V
    raise RuntimeError(f"value_iteration did not converge in max_iter={max_iter} sweeps (last change {delta:.3g}); "
                       "use gamma < 1 or raise max_iter")


def _policy_matrix(policy, S: int, A: int) -> np.ndarray:
    pi = np.asarray(policy)
    if pi.shape == (S,):
        if not np.issubdtype(pi.dtype, np.integer) or pi.min() < 0 or pi.max() >= A:
            raise ValueError(f"policy of shape (S,) must hold integer actions in [0, {A}), got dtype {pi.dtype}, "
                             f"range [{pi.min()}, {pi.max()}]")
        out = np.zeros((S, A))
        out[np.arange(S), pi] = 1.0
        return out
    if pi.shape == (S, A):
        if np.any(pi < 0) or not np.allclose(pi.sum(axis=1), 1.0):
            raise ValueError("policy of shape (S, A) must hold probabilities that sum to 1 in every row")
        return pi.astype(float)
    raise ValueError(f"policy must have shape (S,)=({S},) of actions or (S, A)=({S}, {A}) of probabilities, "
                     f"got {pi.shape}")


def policy_evaluation(env: gym.Env, policy, gamma: float = 1.0, horizon: int | str | None = "auto") -> np.ndarray:
    """Exact values ``V^π(s)`` of a fixed policy.

    Args:
        env: a tabular env (see :func:`tabular_model`).
        policy: ``(S,)`` integer actions (deterministic) or ``(S, A)`` action probabilities.
        gamma: discount factor in ``[0, 1]``.
        horizon: ``"auto"`` uses the env's time limit (Taxi-v4: 200 steps), so the value is what the
            env really pays, also for policies that never finish; an int sets it; ``None`` means
            infinite horizon (a linear solve, which needs ``gamma < 1`` or a policy that terminates).

    Returns:
        ``V`` of shape ``(S,)``: the expected (discounted) return from each state with the full horizon left.
    """
    gamma = check_gamma(gamma)
    m = tabular_model(env)
    pi = _policy_matrix(policy, m.n_states, m.n_actions)
    R_pi = (pi * m.R).sum(axis=1)                      # (S,)   E[r | s] under π
    T_pi = np.einsum("sa,sat->st", pi, m.T)          # (S, S) P(s' | s) under π, continuing only
    return _evaluate(T_pi, R_pi, gamma, _check_horizon(horizon, m))


def _evaluate(T_pi: np.ndarray, R_pi: np.ndarray, gamma: float, horizon: int | None) -> np.ndarray:
    """``V = Σ_t γ^t T_π^t R_π`` over ``horizon`` steps (``None``: the infinite-horizon linear solve)."""
    if horizon is None:
        return _solve_never_stuck(np.eye(len(R_pi)) - gamma * T_pi, R_pi)
    V = np.zeros(len(R_pi))
    for _ in range(int(horizon)):  # V_{k+1} = R_π + γ T_π V_k: value with k+1 steps left
        V = R_pi + gamma * T_pi @ V
    return V


def _check_horizon(horizon, m: TabularModel) -> int | None:
    if horizon == "auto":
        return m.horizon
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer))
                                or horizon <= 0):
        raise ValueError(f"horizon must be a positive int, 'auto' or None, got {horizon!r}")
    return None if horizon is None else int(horizon)


def _solve_never_stuck(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise ValueError("the policy never terminates from some state and gamma=1: its infinite-horizon value "
                         "is undefined; pass horizon=<steps> or gamma < 1") from None


def return_std(env: gym.Env, policy, gamma: float = 1.0, horizon: int | str | None = "auto") -> float:
    """Exact standard deviation of ONE episode's (discounted) return ``G``, started from the env's ``μ0``.

    It is what a single evaluation episode scatters by: the mean of ``n`` episodes has standard error
    ``return_std / sqrt(n)``. Exact, from the model, by the law of total variance (Sobel's variance Bellman
    equation): with ``V_k`` the value and ``W_k(s) = Var[G | s]`` with ``k`` steps left,

        W_{k+1}(s) = Σ_a π(a|s) Σ_{s', r} p(s', r | s, a) [(r + γ (1 − done) V_k(s') − V_{k+1}(s))² + γ² (1 − done) W_k(s')],

    and ``Var G = Σ_s μ0(s) W(s) + Σ_s μ0(s) (V(s) − μ0·V)²`` (the random start state included). Every term is a
    squared deviation, so a deterministic return has exactly zero spread (``E[G²] − E[G]²`` would lose it to
    cancellation: 40000 − 40000 for Taxi's −200). Same arguments as :func:`policy_evaluation` (``horizon=None``:
    the infinite-horizon linear solves).

    Returns:
        ``float`` >= 0. For Taxi-v4's optimal policy, about 2.59 (all of it from the random start).
    """
    gamma = check_gamma(gamma)
    m = tabular_model(env)
    pi = _policy_matrix(policy, m.n_states, m.n_actions)
    # one row per outcome (s, a) -> (s', r, done) of the model: (K,) arrays
    model: Any = env.unwrapped                       # a toy-text env: its transition model is the attribute P
    rows = [(s, a, prob, s2, r, not done) for s, row in model.P.items() for a, outcomes in row.items()
            for prob, s2, r, done in outcomes]
    s_, a_, p_, s2_, r_, live = (np.asarray(c) for c in zip(*rows))
    s_, a_, s2_ = s_.astype(np.int64), a_.astype(np.int64), s2_.astype(np.int64)
    w, live = pi[s_, a_] * p_, live.astype(float)             # (K,) probability of each outcome under π

    def one_step_spread(v_next: np.ndarray, v: np.ndarray) -> np.ndarray:   # (S,): E[(r + γ V'(s') − V(s))² | s]
        dev = r_ + gamma * live * v_next[s2_] - v[s_]
        return np.bincount(s_, weights=w * dev * dev, minlength=m.n_states)

    R_pi, T_pi = (pi * m.R).sum(axis=1), np.einsum("sa,sat->st", pi, m.T)
    horizon = _check_horizon(horizon, m)
    if horizon is None:
        V = _evaluate(T_pi, R_pi, gamma, None)
        W = _solve_never_stuck(np.eye(m.n_states) - gamma ** 2 * T_pi, one_step_spread(V, V))
    else:
        V, W = np.zeros(m.n_states), np.zeros(m.n_states)
        for _ in range(horizon):   # both with k steps left -> k + 1
            V_next = R_pi + gamma * T_pi @ V
            V, W = V_next, one_step_spread(V, V_next) + gamma ** 2 * T_pi @ W
    mean = m.mu0 @ V
    return float(np.sqrt(max(m.mu0 @ W + m.mu0 @ (V - mean) ** 2, 0.0)))


def termination_probability(env: gym.Env, policy, horizon: int | str | None = "auto") -> np.ndarray:
    """Exact probability that an episode started in ``s`` **terminates** (reaches a terminal state, e.g. Taxi's
    drop-off) within the horizon under ``policy``, instead of being cut by the time limit.

    With ``P_k(s)`` for ``k`` steps left: ``P_{k+1}(s) = Σ_a π(a|s) [P(done | s, a) + Σ_{s'} T(s, a, s') P_k(s')]``.

    Args:
        env: a tabular env (see :func:`tabular_model`).
        policy: ``(S,)`` integer actions or ``(S, A)`` action probabilities.
        horizon: as in :func:`policy_evaluation` (``"auto"``: the env's time limit; ``None``: ever).

    Returns:
        ``(S,)`` probabilities in ``[0, 1]``. For a deterministic policy on Taxi each entry is 0 or 1: a start
        state with 0 is one from which the greedy taxi never delivers (it loops until the 200-step limit).
    """
    m = tabular_model(env)
    pi = _policy_matrix(policy, m.n_states, m.n_actions)
    T_pi = np.einsum("sa,sat->st", pi, m.T)                        # (S, S) continuing transitions under π
    D_pi = 1.0 - T_pi.sum(axis=1)                                   # (S,) P(the next step terminates)
    # the value of a reward of 1 paid on the terminating step, undiscounted
    return np.clip(_evaluate(T_pi, D_pi, 1.0, _check_horizon(horizon, m)), 0.0, 1.0)


def expected_return(env: gym.Env, policy, gamma: float = 1.0, horizon: int | str | None = "auto") -> float:
    """Exact expected return from the env's initial-state distribution: ``Σ_s μ0(s) V^π(s)``.

    Same arguments as :func:`policy_evaluation`. For Taxi-v4 the optimal policy gives 7.930.
    """
    m = tabular_model(env)
    return float(m.mu0 @ policy_evaluation(env, policy, gamma=gamma, horizon=horizon))


def greedy_from_q(q_table: np.ndarray) -> np.ndarray:
    """Greedy deterministic policy of a Q-table: ``π(s) = argmax_a Q(s, a)`` (ties: lowest action).

    Args:
        q_table: ``(S, A)`` array.

    Returns:
        ``(S,)`` int64 array of actions.
    """
    q = np.asarray(q_table)
    if q.ndim != 2:
        raise ValueError(f"q_table must have shape (n_states, n_actions), got {q.shape}")
    if np.isnan(q).any():
        raise ValueError("q_table contains NaN")
    return q.argmax(axis=1).astype(np.int64)


# ---------------------------------------------------------------------------------------------------------------
# Learning from samples: Q-learning, SARSA and Monte Carlo control share ONE episode loop (:func:`_run_episodes`).
# ---------------------------------------------------------------------------------------------------------------

greedy_policy = greedy_from_q  # the name the learning chapters use: π(s) = argmax_a Q(s, a)

METHODS = ("q_learning", "sarsa", "monte_carlo")
Q_TABLE_KIND = "q_table"


class TabularSimulator:
    """The env's own dynamics, sampled in plain Python from its model ``P`` (no ``gym.step`` overhead).

    A toy-text env (Taxi, FrozenLake, CliffWalking) draws, per ``step``, ONE uniform number ``u`` from
    ``env.np_random`` and takes the first outcome of ``P[s][a]`` whose cumulative probability exceeds ``u``;
    ``reset`` does the same with ``initial_state_distrib``; ``gym.make`` adds a ``TimeLimit``. This class
    does exactly that with a generator seeded like the env's (:func:`gymnasium.utils.seeding.np_random`), so
    for the same seed and the same actions it returns the **same** states, rewards and flags as ``gym.step``
    (``tests/test_qlearning.py`` checks it), several times faster. The learner still only sees sampled transitions.

    Args:
        env: a tabular env (see :func:`tabular_model`); Taxi's ``fickle_passenger`` variant is refused
            (its extra randomness is not in ``P``).

    Attributes:
        n_states, n_actions: sizes of the ``Discrete`` spaces.
        horizon: the env's time limit (``spec.max_episode_steps``) or ``None``.
    """

    _CHUNK = 8192

    def __init__(self, env: gym.Env):
        m = tabular_model(env)  # validates spaces and P, with the clear error
        base: Any = env.unwrapped                    # a toy-text env: its transition model is the attribute P
        if getattr(base, "fickle_passenger", False):
            raise ValueError("env has fickle_passenger=True, whose randomness is not in P: use fast=False")
        self.n_states, self.n_actions = m.n_states, m.n_actions
        # outcomes[s][a] = (cumulative probs, next states, rewards, terminated flags), Python lists for speed
        self.outcomes = []
        for s in range(self.n_states):
            row = []
            for a in range(self.n_actions):
                trans = base.P[s][a]
                cum = np.cumsum([t[0] for t in trans]).tolist()
                row.append((cum, [int(t[1]) for t in trans], [float(t[2]) for t in trans], [bool(t[3]) for t in trans]))
            self.outcomes.append(row)
        mu0 = getattr(base, "initial_state_distrib", None)
        if mu0 is None:
            mu0 = tabular_model(env).mu0
        self.mu0_cum = np.cumsum(np.asarray(mu0, dtype=float)).tolist()
        self.horizon = env.spec.max_episode_steps if env.spec is not None else None
        self.seed(None)

    def seed(self, seed: int | None) -> None:
        """Restart the random stream exactly as ``env.reset(seed=seed)`` restarts ``env.np_random``."""
        from gymnasium.utils import seeding

        self._rng, _ = seeding.np_random(seed)
        self._buf: list[float] = []
        self._i = 0

    def _uniform(self) -> float:
        if self._i == len(self._buf):  # draw in chunks: the same stream as one rng.random() per call
            self._buf, self._i = self._rng.random(self._CHUNK).tolist(), 0
        u = self._buf[self._i]
        self._i += 1
        return u

    @staticmethod
    def _pick(cum: list[float], u: float) -> int:
        for i, c in enumerate(cum):  # categorical_sample: first index with cumsum > u
            if c > u:
                return i
        return 0  # cum[-1] <= u only through rounding; np.argmax of all-False is 0 as well

    def reset(self, seed: int | None = None) -> int:
        """Start an episode: ``s0 ~ p(s0)``. Returns the start state."""
        if seed is not None:
            self.seed(seed)
        self.s, self.t = self._pick(self.mu0_cum, self._uniform()), 0
        return self.s

    def step(self, a: int) -> tuple[int, float, bool, bool]:
        """One transition from the current state: returns ``(s', r, terminated, truncated)``."""
        cum, nxt, rew, term = self.outcomes[self.s][a]
        i = self._pick(cum, self._uniform())
        self.s, self.t = nxt[i], self.t + 1
        return self.s, rew[i], term[i], self.horizon is not None and self.t >= self.horizon


class _GymSimulator:
    """The same interface as :class:`TabularSimulator`, stepping through ``env.step`` (any Discrete env)."""

    def __init__(self, env: gym.Env):
        self.env = env
        obs_space, act_space = env.observation_space, env.action_space
        assert isinstance(obs_space, gym.spaces.Discrete) and isinstance(act_space, gym.spaces.Discrete)  # _learn checked
        self.n_states, self.n_actions = int(obs_space.n), int(act_space.n)

    def reset(self, seed: int | None = None) -> int:
        return int(self.env.reset(seed=seed)[0])

    def step(self, a: int) -> tuple[int, float, bool, bool]:
        s2, r, terminated, truncated, _ = self.env.step(a)
        return int(s2), float(r), bool(terminated), bool(truncated)


@dataclass(frozen=True)
class QLearningResult:
    """What :func:`q_learning`, :func:`sarsa` and :func:`monte_carlo_control` return.

    Attributes:
        q_table: ``(n_states, n_actions)`` learned action values.
        episode_returns: ``(n_episodes,)`` undiscounted return of each training episode (exploration included).
        episode_lengths: ``(n_episodes,)`` steps of each training episode.
        epsilons: ``(n_episodes,)`` exploration rate used in each episode.
        method: ``"q_learning"``, ``"sarsa"`` or ``"monte_carlo"``.
        config: the arguments of the run (JSON-able), saved with the table.
        snapshots: ``(k, n_states, n_actions)`` copies of the table after the episodes in ``snapshot_episodes``
            (empty unless requested).
    """

    q_table: np.ndarray
    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    epsilons: np.ndarray
    method: str
    config: dict
    snapshots: np.ndarray

    @property
    def policy(self) -> np.ndarray:
        """``(n_states,)`` greedy actions of the final table."""
        return greedy_policy(self.q_table)

    def save(self, path):
        """Save the Q-table and config (pickle-free ``.npz``, atomic); load with :func:`load_q_table`."""
        return save_q_table(path, self.q_table, meta={"method": self.method, **self.config})


def check_alpha(alpha) -> float:
    """Validate a step size (learning rate): a number in ``(0, 1]``. Returns it as ``float``."""
    return check_number(alpha, "alpha (the step size of Q <- Q + alpha * TD error)", low=0.0, high=1.0, low_open=True)


def epsilon_schedule(epsilon, n_episodes: int, exploration_fraction: float = 0.5) -> np.ndarray:
    """Per-episode exploration rates of ε-greedy.

    Args:
        epsilon: a constant in ``[0, 1]``, or ``(start, end)``: linear decay from ``start`` to ``end``
            over the first ``exploration_fraction`` of the episodes, then ``end`` (as SB3's DQN does in steps).
        n_episodes: number of episodes.
        exploration_fraction: in ``(0, 1]``.

    Returns:
        ``(n_episodes,)`` array of ε values.
    """
    from genrl_lib.checks import check_positive_int

    n = check_positive_int(n_episodes, "n_episodes")
    pair = (epsilon, epsilon) if np.ndim(epsilon) == 0 else tuple(epsilon)
    if len(pair) != 2:
        raise ValueError(f"epsilon must be a number in [0, 1] or a pair (start, end), got {epsilon!r}")
    for e in pair:
        if isinstance(e, bool) or not isinstance(e, (int, float, np.floating, np.integer)) or not 0 <= e <= 1:
            raise ValueError(f"epsilon must be in [0, 1] (a number or a pair (start, end)), got {epsilon!r}")
    if not 0 < exploration_fraction <= 1:
        raise ValueError(f"exploration_fraction must be in (0, 1], got {exploration_fraction}")
    start, end = map(float, pair)
    progress = np.minimum(np.arange(n) / max(1.0, exploration_fraction * n), 1.0)
    return start + (end - start) * progress


def _check_discrete_env(env) -> None:
    if not isinstance(env, gym.Env):
        raise TypeError(f"env must be a gymnasium.Env (e.g. gym.make('Taxi-v4')), got {type(env).__name__}")
    if not isinstance(env.observation_space, gym.spaces.Discrete):
        raise TypeError(f"tabular methods need a Discrete observation_space (one row of the Q-table per state), got "
                        f"{env.observation_space}; for Box observations use genrl_lib.dqn.DQN")
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise TypeError(f"tabular methods need a Discrete action_space, got {env.action_space}")


def _run_episodes(sim, method: str, n_episodes: int, alpha: float, gamma: float, epsilons: np.ndarray,
                  seed: int, q_init: float, snapshot_episodes, progress_bar: bool):
    """THE episode loop of all three methods. Only the line that builds the target differs:

    * Q-learning (off-policy TD):  ``Q(s,a) += α [r + γ max_a' Q(s',a') − Q(s,a)]``  after every step;
    * SARSA (on-policy TD):        ``Q(s,a) += α [r + γ Q(s',a') − Q(s,a)]``, ``a'`` the action taken next;
    * Monte Carlo (constant α):    ``Q(s,a) += α [G_t − Q(s,a)]`` for every visit, at the end of the episode.

    A terminal ``s'`` contributes no bootstrap term; a time-limit truncation does (the future exists).
    """
    from genrl_lib.progress import progress_bar as _bar

    S, A = sim.n_states, sim.n_actions
    Q = [[float(q_init)] * A for _ in range(S)]  # lists of floats: faster than ndarray scalar indexing
    agent_rng = np.random.default_rng([seed, 1])   # the agent's coin flips, independent of the env's stream
    buf: list[float] = []
    k = 0
    returns, lengths = np.zeros(n_episodes), np.zeros(n_episodes, dtype=np.int64)
    snap_at = {int(e): i for i, e in enumerate(snapshot_episodes or ())}
    snaps = np.zeros((len(snap_at), S, A))
    td, sarsa = method != "monte_carlo", method == "sarsa"
    sim_seed: int | None = seed
    with _bar(total=n_episodes, desc=method, enabled=progress_bar, unit="ep", miniters=max(1, n_episodes // 100)) as bar:
        for ep in range(n_episodes):
            eps = float(epsilons[ep])
            s = sim.reset(seed=sim_seed)
            sim_seed = None                            # seed once, then continue the stream
            ret, t, done, episode = 0.0, 0, False, []

            def act(state):                            # ε-greedy on the current table (ties: lowest action)
                nonlocal buf, k
                if k + 2 > len(buf):
                    buf, k = agent_rng.random(8192).tolist(), 0
                u, v = buf[k], buf[k + 1]
                k += 2
                if u < eps:          # noqa: B023 - act is called within this episode, with this episode's eps
                    return int(v * A)
                row = Q[state]
                return row.index(max(row))

            a = act(s)
            while not done:
                s2, r, terminated, truncated = sim.step(a)
                ret += r
                t += 1
                done = terminated or truncated
                if td:
                    a2 = None
                    if terminated:
                        target = r                                         # no future after a terminal state
                    elif sarsa:
                        a2 = act(s2)                                       # SARSA: a' chosen before the update
                        target = r + gamma * Q[s2][a2]                     # Q(s', a') of the action taken next
                    else:
                        target = r + gamma * max(Q[s2])                    # max_a' Q(s', a')
                    Q[s][a] += alpha * (target - Q[s][a])                  # Q <- Q + α δ
                    if not sarsa and not done:
                        a2 = act(s2)                                       # choose after the update
                else:
                    episode.append((s, a, r))
                    a2 = act(s2) if not done else None
                s, a = s2, a2
            if not td:  # G_t = r_{t+1} + γ G_{t+1}, backwards; a truncated episode's tail is simply cut
                G = 0.0
                for s_, a_, r_ in reversed(episode):
                    G = r_ + gamma * G
                    Q[s_][a_] += alpha * (G - Q[s_][a_])
            returns[ep], lengths[ep] = ret, t
            if ep in snap_at:
                snaps[snap_at[ep]] = Q
            bar.update(1)
    return np.array(Q, dtype=float), returns, lengths, snaps


def _learn(method: str, env, n_episodes, alpha, gamma, epsilon, seed, exploration_fraction, q_init, fast,
           snapshot_episodes, progress_bar) -> QLearningResult:
    from genrl_lib.checks import check_positive_int
    from genrl_lib.seeding import check_seed

    _check_discrete_env(env)
    n_episodes = check_positive_int(n_episodes, "n_episodes")
    alpha, gamma, seed = check_alpha(alpha), check_gamma(gamma), check_seed(seed)
    epsilons = epsilon_schedule(epsilon, n_episodes, exploration_fraction)
    snapshot_episodes = [] if snapshot_episodes is None else [int(e) for e in snapshot_episodes]
    if any(not 0 <= e < n_episodes for e in snapshot_episodes):
        raise ValueError(f"snapshot_episodes must be episode indices in [0, {n_episodes}), got {snapshot_episodes}")
    sim = TabularSimulator(env) if fast else _GymSimulator(env)
    q, rets, lens, snaps = _run_episodes(sim, method, n_episodes, alpha, gamma, epsilons, seed, q_init,
                                         snapshot_episodes, progress_bar)
    env_id = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    config = {"env_id": env_id, "n_episodes": n_episodes, "alpha": alpha, "gamma": gamma,
              "epsilon": list(map(float, np.atleast_1d(epsilon))), "exploration_fraction": float(exploration_fraction),
              "seed": seed, "q_init": float(q_init), "fast": bool(fast)}
    return QLearningResult(q_table=q, episode_returns=rets, episode_lengths=lens, epsilons=epsilons, method=method,
                           config=config, snapshots=snaps)


_LEARN_DOC = """
    Args:
        env: a gymnasium env with ``Discrete`` observation and action spaces (e.g. ``gym.make("Taxi-v4")``).
        n_episodes: number of training episodes.
        alpha: step size in ``(0, 1]``.
        gamma: discount factor in ``[0, 1]``.
        epsilon: ε-greedy exploration, a constant or ``(start, end)`` decayed linearly per episode over the
            first ``exploration_fraction`` of the episodes (see :func:`epsilon_schedule`).
        seed: seeds the env's stream (first reset) and the agent's ε-greedy draws: same seed, same table.
        exploration_fraction: see ``epsilon``.
        q_init: initial value of every entry.
        fast: sample transitions with :class:`TabularSimulator` (same dynamics, start distribution, time
            limit and random stream as ``env.step``, needs the model ``P``); ``False`` steps through ``env.step``.
        snapshot_episodes: episode indices after which to keep a copy of the table (``result.snapshots``).
        progress_bar: show a tqdm bar over episodes.

    Returns:
        :class:`QLearningResult` with ``q_table (S, A)`` and ``episode_returns (n_episodes,)``.

    Raises:
        TypeError: a non-Discrete observation or action space.
        ValueError: ``alpha`` outside (0, 1], ``gamma`` outside [0, 1], ``epsilon`` outside [0, 1].
"""


def q_learning(env: gym.Env, n_episodes: int = 5000, *, alpha: float = 0.5, gamma: float = 1.0,
               epsilon=(1.0, 0.05), seed: int = 0, exploration_fraction: float = 0.5, q_init: float = 0.0,
               fast: bool = True, snapshot_episodes=None, progress_bar: bool = True) -> QLearningResult:
    return _learn("q_learning", env, n_episodes, alpha, gamma, epsilon, seed, exploration_fraction, q_init, fast,
                  snapshot_episodes, progress_bar)


def sarsa(env: gym.Env, n_episodes: int = 5000, *, alpha: float = 0.5, gamma: float = 1.0,
          epsilon=(1.0, 0.05), seed: int = 0, exploration_fraction: float = 0.5, q_init: float = 0.0,
          fast: bool = True, snapshot_episodes=None, progress_bar: bool = True) -> QLearningResult:
    return _learn("sarsa", env, n_episodes, alpha, gamma, epsilon, seed, exploration_fraction, q_init, fast,
                  snapshot_episodes, progress_bar)


def monte_carlo_control(env: gym.Env, n_episodes: int = 5000, *, alpha: float = 0.1, gamma: float = 1.0,
                        epsilon=(1.0, 0.05), seed: int = 0, exploration_fraction: float = 0.5, q_init: float = 0.0,
                        fast: bool = True, snapshot_episodes=None, progress_bar: bool = True) -> QLearningResult:
    return _learn("monte_carlo", env, n_episodes, alpha, gamma, epsilon, seed, exploration_fraction, q_init, fast,
                  snapshot_episodes, progress_bar)


q_learning.__doc__ = ("Tabular Q-learning: ``Q(s,a) <- Q(s,a) + α [r + γ max_a' Q(s',a') − Q(s,a)]`` after each step."
                      + _LEARN_DOC)
sarsa.__doc__ = ("SARSA, on-policy TD control: ``Q(s,a) <- Q(s,a) + α [r + γ Q(s',a') − Q(s,a)]``, with ``a'`` the "
                 "ε-greedy action actually taken next." + _LEARN_DOC)
monte_carlo_control.__doc__ = ("Constant-α every-visit Monte Carlo control: after each episode, "
                               "``Q(s_t,a_t) <- Q(s_t,a_t) + α [G_t − Q(s_t,a_t)]`` with the sampled return ``G_t``."
                               + _LEARN_DOC)


def save_q_table(path, q_table: np.ndarray, meta: dict | None = None):
    """Save an ``(S, A)`` Q-table (and JSON-able ``meta``) to a pickle-free ``.npz``, atomically. Returns the path."""
    from genrl_lib.io import save_arrays

    q = np.asarray(q_table, dtype=float)
    if q.ndim != 2:
        raise ValueError(f"q_table must have shape (n_states, n_actions), got {q.shape}")
    return save_arrays(path, Q_TABLE_KIND, {"q_table": q}, meta=meta)


def load_q_table(path, n_states: int | None = None, n_actions: int | None = None) -> tuple[np.ndarray, dict]:
    """Load what :func:`save_q_table` (or ``QLearningResult.save``) wrote: ``(q_table (S, A), meta)``.

    Args:
        n_states, n_actions: if given, the expected shape; a mismatch raises ``ValueError``.

    Raises:
        FileNotFoundError: no such file. ValueError: not a genrl Q-table file, or the wrong shape.
    """
    from genrl_lib.io import load_arrays

    arrays, meta = load_arrays(path, Q_TABLE_KIND)
    q = arrays.get("q_table")
    if q is None or q.ndim != 2:
        raise ValueError(f"{path} holds no (n_states, n_actions) q_table array")
    for name, want, got in (("n_states", n_states, q.shape[0]), ("n_actions", n_actions, q.shape[1])):
        if want is not None and want != got:
            raise ValueError(f"{path} holds a Q-table of shape {q.shape}, but {name}={want} was expected")
    return q, meta


__all__ += ["greedy_policy", "TabularSimulator", "QLearningResult", "check_alpha", "epsilon_schedule", "q_learning",
            "sarsa", "monte_carlo_control", "save_q_table", "load_q_table", "METHODS"]
