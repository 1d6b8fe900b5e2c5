"""Evaluate a policy by running episodes: one function for our agents, SB3 models and plain callables."""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

from genrl_lib.checks import check_bool, check_number, check_positive_int  # noqa: F401 (re-exported)
from genrl_lib.seeding import check_seed

__all__ = ["EvalResult", "evaluate_policy", "as_action_fn", "as_valid_action", "binned_mean", "check_positive_int",
           "check_number", "check_bool"]


@dataclass(frozen=True)
class EvalResult:
    """Returns of ``n`` evaluation episodes.

    Attributes:
        mean: mean undiscounted return.
        std: standard deviation of the returns (``ddof=0``).
        returns: ``(n,)`` return of each episode.
        lengths: ``(n,)`` number of steps of each episode.
    """

    mean: float
    std: float
    returns: np.ndarray = field(repr=False)
    lengths: np.ndarray = field(repr=False)

    @property
    def stderr(self) -> float:
        """Standard error of the mean, ``std / sqrt(n)``."""
        return float(self.std / np.sqrt(len(self.returns)))

    def __str__(self) -> str:
        return f"{self.mean:.2f} ± {self.std:.2f} over {len(self.returns)} episodes"


def as_action_fn(policy, deterministic: bool = True):
    """Turn ``policy`` into a function ``obs -> action``.

    ``policy`` may be a callable ``obs -> action``, an object with SB3's
    ``predict(obs, deterministic=...) -> (action, state)`` (our agents and SB3 models), or a
    tabular policy: an ``(S,)`` integer array indexed by the observation.
    """
    if hasattr(policy, "predict"):
        return lambda obs: policy.predict(obs, deterministic=deterministic)[0]
    if isinstance(policy, np.ndarray):
        if policy.ndim != 1 or not np.issubdtype(policy.dtype, np.integer):
            raise ValueError(f"an array policy must be an (S,) int array of actions, got shape {policy.shape}, "
                             f"dtype {policy.dtype}")
        return lambda obs: int(policy[int(obs)])
    if callable(policy):
        return policy
    raise TypeError("policy must be a callable obs -> action, an object with predict(obs, deterministic=True), "
                    f"or an (S,) int array; got {type(policy).__name__}")


def as_valid_action(action, space: gym.Space):
    """``action`` in the form ``env.step`` expects (a Python int for Discrete, an array of ``space.shape``
    for Box), or ``ValueError`` naming the policy's action if it is outside ``space``."""
    a = action
    if isinstance(space, gym.spaces.Discrete):
        arr = np.asarray(a)
        if arr.size == 1 and np.issubdtype(arr.dtype, np.integer):
            a = int(arr.reshape(()))
    elif isinstance(space, gym.spaces.Box):
        a = np.asarray(a, dtype=space.dtype).reshape(space.shape) if np.size(a) == np.prod(space.shape) else a
    if not space.contains(a):
        raise ValueError(f"policy returned action {action!r}, which is not in the env's action space {space}")
    return a


def evaluate_policy(policy, env: gym.Env | str, n_episodes: int = 10, seed: int | None = 0,
                    deterministic: bool = True, max_steps: int | None = None) -> EvalResult:
    """Run ``n_episodes`` episodes with ``policy`` and report the undiscounted returns.

    Args:
        policy: a callable ``obs -> action``, an object with ``predict(obs, deterministic=True)``
            (our agents, stable-baselines3 models), or an ``(S,)`` int array for tabular envs.
        env: a gymnasium env or a registered id (then it is made and closed here).
        n_episodes: positive number of episodes.
        seed: the first reset uses ``seed``, episode ``i`` uses ``seed + i``, so results do not depend on
            what ran before; ``None`` leaves the env's generator as it is.
        deterministic: passed to ``predict``.
        max_steps: optional cap on the steps of one episode (besides the env's own time limit).

    Returns:
        :class:`EvalResult` with ``mean``, ``std``, ``returns (n,)`` and ``lengths (n,)``.

    Raises:
        ValueError: ``n_episodes <= 0``, or the policy returns an action outside the action space.
    """
    n_episodes = check_positive_int(n_episodes, "n_episodes")
    if seed is not None:
        seed = check_seed(seed)
    own = isinstance(env, str)
    if isinstance(env, str):
        from genrl_lib.envs import make
        env = make(env)
    act = as_action_fn(policy, deterministic)
    returns, lengths = np.zeros(n_episodes), np.zeros(n_episodes, dtype=np.int64)
    try:
        for i in range(n_episodes):
            obs, _ = env.reset(seed=None if seed is None else seed + i)
            done, ret, t = False, 0.0, 0
            while not done:
                obs, r, terminated, truncated, _ = env.step(as_valid_action(act(obs), env.action_space))
                ret += float(r)
                t += 1
                done = terminated or truncated or (max_steps is not None and t >= max_steps)
            returns[i], lengths[i] = ret, t
    finally:
        if own:
            env.close()
    return EvalResult(mean=float(returns.mean()), std=float(returns.std()), returns=returns, lengths=lengths)


def binned_mean(ends, values, total: int, width: int, decimals: int = 3) -> list[float | None]:
    """Learning curve on a fixed grid: ``ends (K,)`` env steps at which episodes ended, ``values (K,)`` their
    returns -> ``ceil(total / width)`` floats, the mean of the values ending in each ``(lo, lo + width]`` bin
    rounded to ``decimals`` (``None`` for an empty bin). The one binner of the library and its benchmarks."""
    total, width = check_positive_int(total, "total"), check_positive_int(width, "width")
    ends, values = np.asarray(ends), np.asarray(values, float)
    if ends.shape != values.shape:
        raise ValueError(f"ends and values must have the same shape, got {ends.shape} and {values.shape}")
    edges = np.arange(0, total + width, width)
    return [round(float(values[(ends > lo) & (ends <= hi)].mean()), decimals) if ((ends > lo) & (ends <= hi)).any()
            else None for lo, hi in zip(edges[:-1], edges[1:])]
