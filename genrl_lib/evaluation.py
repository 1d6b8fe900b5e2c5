"""Evaluate a policy by running episodes: one function for our agents, SB3 models and plain callables."""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

from genrl_lib.checks import check_bool, check_number, check_positive_int  # noqa: F401 (re-exported)
from genrl_lib.seeding import check_seed

__all__ = ["EvalResult", "evaluate_policy", "evaluate_batched", "BestCheckpoint", "as_action_fn", "as_valid_action",
           "binned_mean", "check_positive_int", "check_number", "check_bool"]


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


def evaluate_batched(policy, env_id: str, n_episodes: int = 50, seed: int = 0) -> EvalResult:
    """``n_episodes`` deterministic episodes run side by side in one gymnasium vector env, one batched
    ``predict`` per step: for the frequent evaluations of :class:`BestCheckpoint` (50 CartPole episodes in a few
    hundredths of a second, instead of about a second one by one).

    Args:
        policy: an object with ``predict(obs (n, *obs_shape), deterministic=True) -> (actions (n,), state)``
            (our agents, stable-baselines3 models).
        env_id: a registered id; the vector env is ``gym.make_vec(env_id, n_episodes, "vector_entry_point")``
            where gymnasium has a native vector version (CartPole: one NumPy array for all episodes), else ``"sync"``.
        n_episodes: positive number of episodes (= sub-envs); each counts its first episode only.
        seed: the vector env's reset seed. The episodes are other draws than :func:`evaluate_policy`'s for the
            same seed (a native vector env seeds one generator for all sub-envs).

    Returns:
        :class:`EvalResult` with ``returns (n_episodes,)`` and ``lengths (n_episodes,)``.

    Raises:
        TypeError: ``policy`` has no ``predict`` or ``env_id`` is not a string. ValueError: ``n_episodes <= 0``.
    """
    n = check_positive_int(n_episodes, "n_episodes")
    seed = check_seed(seed)
    if not hasattr(policy, "predict"):
        raise TypeError(f"policy must have predict(obs, deterministic=True) (a genrl_lib agent or an SB3 model), "
                        f"got {type(policy).__name__}; for a plain function use evaluate_policy")
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a registered environment id such as 'CartPole-v1', got {type(env_id).__name__}")
    try:
        venv = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    except Exception:   # no native vector version of this env: one copy per episode
        venv = gym.make_vec(env_id, num_envs=n, vectorization_mode="sync")
    try:
        obs, _ = venv.reset(seed=seed)
        returns, lengths = np.zeros(n), np.zeros(n, dtype=np.int64)
        done = np.zeros(n, dtype=bool)
        while not done.all():
            actions, _ = policy.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = venv.step(np.asarray(actions))
            returns += np.where(done, 0.0, reward)        # a finished episode's sub-env restarts: not counted
            lengths += ~done
            done |= np.asarray(terminated) | np.asarray(truncated)
    finally:
        venv.close()
    return EvalResult(mean=float(returns.mean()), std=float(returns.std()), returns=returns, lengths=lengths)


class BestCheckpoint:
    """Keep the best network seen during training, judged by a periodic greedy evaluation (model selection).

    Pass it as ``callback`` to :meth:`genrl_lib.dqn.DQN.learn`: at the end of every training episode it checks
    whether ``every`` env steps have passed since its last evaluation; if so it runs :func:`evaluate_batched`
    (``n_episodes`` episodes on held-out reset seeds) and, when the mean return is at least the best so far, copies
    the agent's network. After training, :meth:`restore` puts the best copy back (the final network is evaluated
    too, so training never returns something worse *by this measure* than the last network). The evaluation
    only reads the network: the training run itself is the same with or without it.

    Args:
        env_id: the registered id to evaluate on (the training env's id).
        every: positive number of env steps between evaluations.
        n_episodes: positive number of evaluation episodes per checkpoint.
        seed: reset seed of every evaluation (the same episodes each time, so checkpoints are compared fairly);
            keep it apart from the seeds of the final evaluation.
        module: the agent's attribute holding the ``torch.nn.Module`` to copy (``"q_net"`` for our DQN,
            ``"policy"`` for a stable-baselines3 model).

    Attributes:
        history: list of ``(env_step, mean_return)`` of every evaluation.
        best_step, best_return: the chosen checkpoint (``None`` before the first evaluation).

    Raises:
        ValueError: non-positive ``every`` or ``n_episodes``; TypeError: ``env_id`` is not a string. Evaluating an
        agent without the attribute ``module`` raises ``AttributeError`` naming it.
    """

    def __init__(self, env_id: str, every: int, n_episodes: int = 50, seed: int = 7_000_000, module: str = "q_net"):
        if not isinstance(env_id, str):
            raise TypeError(f"env_id must be a registered environment id such as 'CartPole-v1', got {type(env_id).__name__}")
        self.env_id, self.every = env_id, check_positive_int(every, "every")
        self.n_episodes, self.seed, self.module = check_positive_int(n_episodes, "n_episodes"), check_seed(seed), module
        self.history: list[tuple[int, float]] = []
        self.best_step: int | None = None
        self.best_return: float | None = None
        self._best_state: dict | None = None
        self._last = 0

    def _net(self, agent):
        net = getattr(agent, self.module, None)
        if net is None or not hasattr(net, "state_dict"):
            raise AttributeError(f"BestCheckpoint(module={self.module!r}): the agent ({type(agent).__name__}) has no "
                                 "torch module by that name; use module='q_net' for genrl_lib's DQN, 'policy' for SB3")
        return net

    def evaluate(self, agent) -> float:
        """Evaluate ``agent`` now (at ``agent.num_timesteps``), keep its network if it is the best so far (ties:
        the later one); returns the mean return."""
        import copy

        net = self._net(agent)
        step = int(agent.num_timesteps)
        mean = evaluate_batched(agent, self.env_id, self.n_episodes, self.seed).mean
        self.history.append((step, mean))
        self._last = step
        if self.best_return is None or mean >= self.best_return:
            self.best_step, self.best_return, self._best_state = step, mean, copy.deepcopy(net.state_dict())
        return mean

    def __call__(self, agent) -> None:
        """The training callback: evaluates when ``every`` steps have passed since the last evaluation."""
        if agent.num_timesteps - self._last >= self.every:
            self.evaluate(agent)

    def restore(self, agent):
        """Evaluate the final network (unless the last evaluation was at this step), then load the best one into
        ``agent``; returns ``agent``. Call it right after training, before anything else loads weights into the agent."""
        if not self.history or self.history[-1][0] != int(agent.num_timesteps):
            self.evaluate(agent)
        self._net(agent).load_state_dict(self._best_state)
        return agent


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
