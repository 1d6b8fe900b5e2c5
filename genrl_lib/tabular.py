"""Exact dynamic programming on tabular environments (JumpChain, FrozenLake, Taxi, CliffWalking).

All functions read the environment's model ``env.unwrapped.P[s][a] = [(prob, s', r, terminated), ...]``
(the toy-text convention) and turn it into arrays once (:func:`tabular_model`). Values are exact up
to ``tol``; no sampling is involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

__all__ = ["TabularModel", "tabular_model", "value_iteration", "policy_evaluation", "expected_return",
           "greedy_from_q", "check_gamma"]


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
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.floating, np.integer)):
        raise TypeError(f"gamma must be a number in [0, 1], got {type(gamma).__name__}")
    if not 0.0 <= float(gamma) <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    return float(gamma)


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
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    m = tabular_model(env)
    V = np.zeros(m.n_states)
    for _ in range(int(max_iter)):
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
    if horizon == "auto":
        horizon = m.horizon
    if horizon is None:
        try:
            V = np.linalg.solve(np.eye(m.n_states) - gamma * T_pi, R_pi)
        except np.linalg.LinAlgError:
            raise ValueError("the policy never terminates from some state and gamma=1: its infinite-horizon value "
                             "is undefined; pass horizon=<steps> or gamma < 1") from None
        return V
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon <= 0:
        raise ValueError(f"horizon must be a positive int, 'auto' or None, got {horizon!r}")
    V = np.zeros(m.n_states)
    for _ in range(int(horizon)):  # V_{k+1} = R_π + γ T_π V_k: value with k+1 steps left
        V = R_pi + gamma * T_pi @ V
    return V


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
