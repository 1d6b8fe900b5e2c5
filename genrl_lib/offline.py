"""Offline RL data and scoring: a D4RL-style mixed Pendulum dataset in Minari's format, normalized scores,
behaviour cloning for continuous actions and batched evaluation.

* Policies with SB3's ``predict(observation, state=None, episode_start=None, deterministic=True)``:
  :class:`PendulumSwingUp` (a textbook energy-shaping swing-up plus a PD balance controller, the "expert"),
  :class:`RandomPolicy` and :class:`EpsilonPolicy` (the expert with probability ``1 - epsilon``, a uniform
  action otherwise: the "medium" tier).
* :func:`make_mixed_dataset`: random, medium and expert episodes in one
  :class:`~genrl_lib.demonstrations.Demonstrations` (Minari's field names), with the reference returns of the
  random and expert policies measured on fresh episodes (D4RL's ``ref_min_score`` / ``ref_max_score``).
* :func:`save_minari` / :func:`load_minari`: write and read a real Minari dataset (``minari`` package, HDF5),
  always under an explicit ``root`` folder (never ``~/.minari`` by surprise). Nothing is downloaded.
* :func:`normalized_score`: :math:`100 \\frac{R - R_{\\text{random}}}{R_{\\text{expert}} - R_{\\text{random}}}`.
* :class:`ContinuousBC`: an MLP regressing actions on states (MSE), optionally on the top fraction of episodes.
* :func:`rollout_returns`: many episodes in lockstep, the policy called once per step on the ``(n, obs_dim)``
  batch (the Decision Diffuser plans for all episodes at once).

Why Pendulum-v1: continuous 3-D state and 1-D action, a dense reward, episodes of exactly 200 steps (returns are
comparable and horizons never run past an episode), and an expert that needs no training (control theory
gives it), so the dataset is built in seconds on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from genrl_lib.checks import renamed
from genrl_lib.demonstrations import (
    FIELDS,
    Demonstrations,
    collect_demonstrations,
    load_minari,
    minari_reference_scores,
    minari_root,
    save_minari,
)
from genrl_lib.evaluation import check_number, check_positive_int
from genrl_lib.nets import check_sizes, mlp
from genrl_lib.progress import progress_bar as tqdm_bar
from genrl_lib.seeding import check_seed, single_thread

__all__ = ["PendulumSwingUp", "RandomPolicy", "EpsilonPolicy", "MixedDataset", "make_mixed_dataset",
           "concat_demonstrations", "normalized_score", "save_minari", "load_minari", "minari_root",
           "ContinuousBC", "BCRegressorConfig", "rollout_returns", "top_episodes", "minari_reference_scores"]

PENDULUM = "Pendulum-v1"


def _batch_obs(observation, dim: int, name: str = "observation") -> tuple[np.ndarray, bool]:
    """``(dim,)`` or ``(n, dim)`` -> ``((n, dim) float32, was_single)``, or ``ValueError`` naming ``name``."""
    x = np.asarray(observation, dtype=np.float32)
    single = x.ndim == 1
    x = x[None] if single else x
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{name} must have shape ({dim},) or (n, {dim}), got {np.shape(observation)}")
    return x, single


class PendulumSwingUp:
    """Pendulum-v1 expert from control theory: energy pumping far from the top, PD control near it.

    Pendulum's dynamics (``g = 10``, ``m = l = 1``): :math:`\\ddot\\theta = 15 \\sin\\theta + 3u`, with
    :math:`\\theta = 0` upright. Energy :math:`E = \\tfrac12\\dot\\theta^2 + 15\\cos\\theta` is 15 at rest at the top
    and :math:`\\dot E = 3u\\dot\\theta`, so :math:`u = k_E (15 - E)\\,\\mathrm{sign}(\\dot\\theta)` pumps energy in;
    once :math:`\\cos\\theta >` ``near``, :math:`u = -(k_p \\theta + k_d \\dot\\theta)` balances. Actions are clipped to
    ``[-2, 2]``. Mean return about -155 over fresh episodes (a trained SAC reaches about -150).
    """

    def __init__(self, k_energy: float = 0.5, kp: float = 10.0, kd: float = 2.0, near: float = 0.85):
        self.k_energy, self.kp, self.kd, self.near = k_energy, kp, kd, near

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """``observation (3,)`` or ``(n, 3)`` -> ``(action (1,) or (n, 1), None)``."""
        x, single = _batch_obs(observation, 3)
        c, s, w = x[:, 0], x[:, 1], x[:, 2]
        th = np.arctan2(s, c)
        energy = 0.5 * w ** 2 + 15 * c
        pump = self.k_energy * (15 - energy) * np.where(np.abs(w) > 1e-3, np.sign(w), 1.0)
        u = np.where(c > self.near, -(self.kp * th + self.kd * w), pump)
        a = np.clip(u, -2, 2).astype(np.float32)[:, None]
        return (a[0] if single else a), None


class RandomPolicy:
    """Uniform actions from ``action_space`` (a Box), seeded; SB3's ``predict`` signature."""

    def __init__(self, action_space: gym.spaces.Box, seed: int = 0):
        if not isinstance(action_space, gym.spaces.Box):
            raise TypeError(f"action_space must be a gymnasium Box, got {action_space}")
        self.space, self.rng = action_space, np.random.default_rng(check_seed(seed))

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """``(obs_dim,)`` or ``(n, obs_dim)`` -> ``(action, None)`` with ``action`` ``space.shape`` or ``(n, *shape)``."""
        n = 1 if np.ndim(observation) <= 1 else len(observation)
        a = self.rng.uniform(self.space.low, self.space.high, size=(n, *self.space.shape)).astype(self.space.dtype)
        return (a[0] if np.ndim(observation) <= 1 else a), None


class EpsilonPolicy:
    """``policy``'s action with probability ``1 - epsilon``, a uniform random one otherwise (per step)."""

    def __init__(self, policy, action_space: gym.spaces.Box, epsilon: float = 0.5, seed: int = 0):
        self.policy = policy
        self.epsilon = check_number(epsilon, "epsilon", low=0.0, high=1.0)
        self.random = RandomPolicy(action_space, seed)
        self.rng = np.random.default_rng(check_seed(seed) + 1)

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        a, _ = self.policy.predict(observation, deterministic=True)
        r, _ = self.random.predict(observation)
        pick = self.rng.random(np.shape(a)[:-1]) < self.epsilon        # one draw per observation
        return np.where(np.asarray(pick)[..., None], r, a).astype(np.float32), None


def concat_demonstrations(parts: list[Demonstrations]) -> Demonstrations:
    """Join datasets recorded in the same spaces; episode ids are renumbered ``0..E-1`` in order."""
    if not parts:
        raise ValueError("parts is empty: pass at least one Demonstrations")
    first = parts[0]
    for p in parts[1:]:
        if p.observation_space != first.observation_space or p.action_space != first.action_space:
            raise ValueError("all parts must share the observation and action spaces")
    arrays: dict[str, list[np.ndarray]] = {f: [] for f in FIELDS}
    offset = 0
    for p in parts:
        _, inv = np.unique(p.episode_ids, return_inverse=True)
        for f in FIELDS:
            arrays[f].append(inv + offset if f == "episode_ids" else getattr(p, f))
        offset += int(inv.max()) + 1
    merged: dict[str, Any] = {f: np.concatenate(v) for f, v in arrays.items()}
    return Demonstrations(**merged, observation_space=first.observation_space, action_space=first.action_space,
                          env_id=first.env_id)


def normalized_score(returns, ref_min: float, ref_max: float):
    """D4RL's normalized score ``100 (R - ref_min) / (ref_max - ref_min)`` (0 = random, 100 = expert);
    ``returns`` a number or array, returned in the same form."""
    if not ref_max > ref_min:
        raise ValueError(f"ref_max ({ref_max}) must be above ref_min ({ref_min}): check the reference scores")
    out = 100.0 * (np.asarray(returns, dtype=float) - ref_min) / (ref_max - ref_min)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class MixedDataset:
    """A mixed-quality offline dataset and its reference returns.

    Attributes:
        data: every transition (Minari field names, see :mod:`genrl_lib.demonstrations`).
        tiers: ``(n_episodes,)`` str, the policy of each episode (``"random"``, ``"medium"``, ``"expert"``).
        ref_min_score, ref_max_score: mean return of the random and the expert policy on fresh episodes.
    """

    data: Demonstrations
    tiers: np.ndarray
    ref_min_score: float
    ref_max_score: float

    def normalized(self, returns):
        """:func:`normalized_score` with this dataset's references."""
        return normalized_score(returns, self.ref_min_score, self.ref_max_score)


@renamed(progress="progress_bar")
def make_mixed_dataset(n_random: int = 30, n_medium: int = 30, n_expert: int = 30, *, epsilon: float = 0.5,
                       seed: int = 0, n_reference: int = 50, progress_bar: bool = False) -> MixedDataset:
    """Random, medium (:class:`EpsilonPolicy` around the expert) and expert (:class:`PendulumSwingUp`) episodes
    of Pendulum-v1. Episode ``i`` of a tier resets with a seed of its own, derived from ``seed``; the reference
    returns use ``n_reference`` other fresh episodes (seeds ``10**6 + seed*1000 + i``)."""
    for name, v in (("n_random", n_random), ("n_medium", n_medium), ("n_expert", n_expert)):
        check_positive_int(v, name)
    seed = check_seed(seed)
    env = gym.make(PENDULUM)
    torque = env.action_space
    assert isinstance(torque, gym.spaces.Box)                  # Pendulum's one torque
    expert = PendulumSwingUp()
    policies = {"random": RandomPolicy(torque, seed), "medium": EpsilonPolicy(expert, torque, epsilon, seed + 1),
                "expert": expert}
    counts = {"random": n_random, "medium": n_medium, "expert": n_expert}
    parts, tiers = [], []
    for j, (tier, pol) in enumerate(policies.items()):
        parts.append(collect_demonstrations(env, pol, counts[tier], seed=seed * 100_000 + j * 10_000,
                                            progress_bar=progress_bar))
        tiers += [tier] * counts[tier]
    env.close()
    ref_seed = 10 ** 6 + seed * 1000
    ref_min = float(rollout_returns(RandomPolicy(torque, seed + 7), n_reference, seed=ref_seed).mean())
    ref_max = float(rollout_returns(expert, n_reference, seed=ref_seed).mean())
    return MixedDataset(concat_demonstrations(parts), np.array(tiers), ref_min, ref_max)


def top_episodes(data: Demonstrations, fraction: float = 0.1) -> Demonstrations:
    """The episodes whose return is in the top ``fraction`` (at least one episode)."""
    fraction = check_number(fraction, "fraction", low=0.0, high=1.0, low_open=True)
    ids = np.unique(data.episode_ids)
    rets = data.episode_returns()
    k = max(1, int(round(fraction * len(ids))))
    keep = ids[np.argsort(-rets, kind="stable")[:k]]
    return data.select(np.isin(data.episode_ids, keep))


# --------------------------------------------------------------------------------------------------
# Batched evaluation
# --------------------------------------------------------------------------------------------------
@renamed(progress="progress_bar")
def rollout_returns(policy, n_episodes: int, seed: int = 0, env_id: str = PENDULUM, progress_bar: bool = False,
                    **predict_kwargs) -> np.ndarray:
    """Run ``n_episodes`` episodes of ``env_id`` in lockstep (episode ``i`` reset with ``seed + i``), calling
    ``policy.predict`` once per step on the ``(n_alive, obs_dim)`` batch. Returns the ``(n_episodes,)`` returns."""
    n_episodes = check_positive_int(n_episodes, "n_episodes")
    seed = check_seed(seed)
    envs = [gym.make(env_id) for _ in range(n_episodes)]
    obs = np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(envs)])
    ret, alive = np.zeros(n_episodes), np.ones(n_episodes, bool)
    first = True
    try:
        spec = envs[0].spec                                      # gym.make always sets it
        with tqdm_bar(total=(spec.max_episode_steps if spec is not None else None) or 0, desc="episodes", enabled=progress_bar,
                          unit="step") as bar:
            while alive.any():
                idx = np.flatnonzero(alive)
                act, _ = policy.predict(obs[idx], episode_start=np.full(len(idx), first), **predict_kwargs)
                first = False
                act = np.asarray(act, dtype=np.float32).reshape(len(idx), -1)
                for j, i in enumerate(idx):
                    o, r, term, trunc, _ = envs[i].step(act[j])
                    obs[i], ret[i] = o, ret[i] + float(r)
                    alive[i] = not (term or trunc)
                bar.update(1)
    finally:
        for e in envs:
            e.close()
    return ret


# --------------------------------------------------------------------------------------------------
# Behaviour cloning for continuous actions
# --------------------------------------------------------------------------------------------------
@renamed(hidden="net_arch", lr="learning_rate")
@dataclass
class BCRegressorConfig:
    """Hyperparameters of :class:`ContinuousBC`: hidden layer sizes ``net_arch``, Adam steps, batch size, step size
    ``learning_rate`` (SB3's names; they were ``hidden`` and ``lr``), seed."""

    net_arch: tuple[int, ...] = (256, 256)
    steps: int = 3000
    batch_size: int = 256
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self):
        self.net_arch = check_sizes(self.net_arch, "net_arch")
        check_positive_int(self.steps, "steps")
        check_positive_int(self.batch_size, "batch_size")
        check_number(self.learning_rate, "learning_rate", low=0.0, low_open=True)
        check_seed(self.seed)


class ContinuousBC:
    """Behaviour cloning for Box actions: :math:`\\min_\\theta \\mathbb E_{(s,a)\\sim D}\\|\\pi_\\theta(s) - a\\|^2`,
    with :math:`\\pi_\\theta(s) = a_{\\max}\\tanh(\\mathrm{MLP}(s))` on standardized states."""

    def __init__(self, env: gym.Env | str, config: BCRegressorConfig | None = None):
        e = gym.make(env) if isinstance(env, str) else env
        self.observation_space, self.action_space = e.observation_space, e.action_space
        if isinstance(env, str):
            e.close()
        if not isinstance(self.action_space, gym.spaces.Box) or not isinstance(self.observation_space, gym.spaces.Box):
            raise TypeError("ContinuousBC needs Box observation and action spaces")
        self.config = config or BCRegressorConfig()
        self.obs_dim, self.act_dim = int(np.prod(self.observation_space.shape)), int(np.prod(self.action_space.shape))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            self.net = mlp(self.obs_dim, self.act_dim, self.config.net_arch, "relu")
        self.scale = torch.as_tensor(self.action_space.high, dtype=torch.float32).reshape(-1)
        self.mean = torch.zeros(self.obs_dim)
        self.std = torch.ones(self.obs_dim)

    @single_thread()
    @renamed(progress="progress_bar")
    def learn(self, data: Demonstrations, progress_bar: bool = True) -> dict[str, list[float]]:
        """Fit on every transition of ``data`` (checked against the env's spaces). Returns ``{"loss": [...]}``."""
        if data.observation_space != self.observation_space or data.action_space != self.action_space:
            raise ValueError(f"data was recorded in spaces {data.observation_space}, {data.action_space}; the policy "
                             f"acts in {self.observation_space}, {self.action_space}: use data from this env")
        s = torch.as_tensor(data.observations, dtype=torch.float32).reshape(len(data), -1)
        a = torch.as_tensor(data.actions, dtype=torch.float32).reshape(len(data), -1)
        self.mean, self.std = s.mean(0), s.std(0).clamp_min(1e-6)
        gen = torch.Generator().manual_seed(self.config.seed)
        opt = torch.optim.Adam(self.net.parameters(), lr=self.config.learning_rate)
        hist: dict[str, list[float]] = {"loss": []}
        with tqdm_bar(total=self.config.steps, desc="BC", enabled=progress_bar, unit="step") as bar:
            for _ in range(self.config.steps):
                idx = torch.randint(len(s), (self.config.batch_size,), generator=gen)
                loss = ((self._act(s[idx]) - a[idx]) ** 2).mean()        # ||π_θ(s) − a||²
                opt.zero_grad()
                loss.backward()
                opt.step()
                hist["loss"].append(loss.item())
                bar.update(1)
        return hist

    def _act(self, s: torch.Tensor) -> torch.Tensor:
        return self.scale * torch.tanh(self.net((s - self.mean) / self.std))

    @torch.no_grad()
    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """``(obs_dim,)`` or ``(n, obs_dim)`` -> ``(action (act_dim,) or (n, act_dim), None)``."""
        x, single = _batch_obs(observation, self.obs_dim)
        a = self._act(torch.from_numpy(x)).numpy().astype(self.action_space.dtype)
        return (a[0] if single else a), None
