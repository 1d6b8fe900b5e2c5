"""Expert demonstrations: collect, subsample, save and load (a documented, pickle-free npz schema).

Schema (one ``.npz`` written by :func:`genrl_lib.io.save_arrays`, kind ``"demonstrations"``); field
names follow Minari's (for familiarity; no converter is provided). ``N`` is the number of transitions:

==================== ===================== ===============================================
array                shape                 meaning
==================== ===================== ===============================================
``observations``     ``(N, *obs_shape)``   observation before the action (``(N,)`` ints for Discrete)
``actions``          ``(N, *act_shape)``   action taken
``rewards``          ``(N,)`` float32      reward received (the true env reward)
``next_observations````(N, *obs_shape)``   observation after the action
``terminations``     ``(N,)`` bool         the episode ended in a terminal state
``truncations``      ``(N,)`` bool         the episode was cut (time limit)
``episode_ids``      ``(N,)`` int64        index of the episode each transition belongs to
==================== ===================== ===============================================

The JSON header stores ``env_id``, both spaces, and ``subsample_every``. The field names are Minari's, and
Minari datasets (Farama's offline-RL format) are read with :meth:`Demonstrations.from_minari` and written with
:func:`genrl_lib.offline.save_minari`, always in a folder you name; a single npz stays the simplest format for a
chapter's few expert episodes.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field, replace
from pathlib import Path

import gymnasium as gym
import numpy as np

from genrl_lib.checks import check_positive_int
from genrl_lib.envs import spaces_of
from genrl_lib.evaluation import as_action_fn, as_valid_action
from genrl_lib.io import load_arrays, save_arrays, space_from_json, space_to_json

__all__ = ["Demonstrations", "collect_demonstrations", "check_demonstrations", "FIELDS"]

FIELDS = ("observations", "actions", "rewards", "next_observations", "terminations", "truncations", "episode_ids")
KIND = "demonstrations"


@dataclass(frozen=True)
class Demonstrations:
    """A set of expert transitions (see the module docstring for shapes).

    Attributes:
        env_id: id of the env they were collected in (``""`` if unknown).
        observation_space, action_space: the env's spaces.
        subsample_every: 1 for full trajectories, ``k`` after :meth:`subsample` ``(k)``.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    episode_ids: np.ndarray
    observation_space: gym.Space = field(repr=False)
    action_space: gym.Space = field(repr=False)
    env_id: str = ""
    subsample_every: int = 1

    def __post_init__(self):
        n = len(self.actions)
        if n == 0:
            raise ValueError("demonstrations are empty: collect at least one transition")
        for name in FIELDS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"field {name!r} has {len(getattr(self, name))} rows, actions has {n}")
        for name in ("observations", "next_observations"):
            _check_in_space(getattr(self, name), self.observation_space, name)
        _check_in_space(self.actions, self.action_space, "actions")
        if not np.all(np.isfinite(np.asarray(self.rewards, dtype=float))):
            raise ValueError("rewards contain NaN or inf: drop those transitions or fix the reward")

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def n_episodes(self) -> int:
        return int(len(np.unique(self.episode_ids)))

    def episode_returns(self) -> np.ndarray:
        """``(n_episodes,)`` sum of rewards per episode (of the full trajectories only if not subsampled)."""
        ids, inv = np.unique(self.episode_ids, return_inverse=True)
        return np.bincount(inv, weights=self.rewards.astype(float), minlength=len(ids))

    def select(self, mask: np.ndarray, **changes) -> Demonstrations:
        """The transitions where ``mask`` (bool ``(N,)``) is true."""
        return replace(self, **{f: getattr(self, f)[mask] for f in FIELDS}, **changes)

    def take_episodes(self, k: int) -> Demonstrations:
        """The first ``k`` episodes."""
        k = check_positive_int(k, "k")
        keep = np.unique(self.episode_ids)[:k]
        if len(keep) < k:
            raise ValueError(f"k={k} episodes requested but only {len(keep)} are stored")
        return self.select(np.isin(self.episode_ids, keep))

    def subsample(self, every: int = 20, seed: int = 0) -> Demonstrations:
        """Keep every ``every``-th transition of each episode, from a random offset in ``[0, every)``
        per episode: the protocol of the GAIL paper (Ho & Ermon, 2016), which hides the expert's
        exact trajectories from behaviour cloning."""
        every = check_positive_int(every, "every")
        rng = np.random.default_rng(seed)
        mask = np.zeros(len(self), dtype=bool)
        for ep in np.unique(self.episode_ids):
            idx = np.flatnonzero(self.episode_ids == ep)
            mask[idx[int(rng.integers(every)) % len(idx)::every]] = True
        return self.select(mask, subsample_every=self.subsample_every * every)

    def check_env(self, env: gym.Env) -> None:
        """Raise ``ValueError`` if ``env``'s spaces differ from the ones the demonstrations were recorded in."""
        for name in ("observation_space", "action_space"):
            mine, theirs = getattr(self, name), getattr(env, name)
            if mine != theirs:
                raise ValueError(f"demonstrations were recorded with {name} {mine}, but the env has {theirs}: "
                                 f"collect demonstrations in this env (recorded in {self.env_id or 'an unknown env'})")

    def save(self, path) -> Path:
        """Write the npz schema atomically; returns the path."""
        meta = {"env_id": self.env_id, "observation_space": space_to_json(self.observation_space),
                "action_space": space_to_json(self.action_space), "subsample_every": self.subsample_every}
        return save_arrays(path, KIND, {f: getattr(self, f) for f in FIELDS}, meta)

    @classmethod
    def from_minari(cls, dataset_id: str, root, env=None) -> Demonstrations:
        """Read a Minari dataset (``minari`` package) stored under the folder ``root`` (nothing is downloaded),
        for BC, GAIL or offline RL; ``env``'s spaces, if given, must match. See :func:`genrl_lib.offline.load_minari`."""
        from genrl_lib.offline import load_minari
        return load_minari(dataset_id, root, env)

    @classmethod
    def load(cls, path) -> Demonstrations:
        """Read a file written by :meth:`save` (no pickle); a clear error names any missing field."""
        arrays, meta = load_arrays(path, KIND)
        missing = [f for f in FIELDS if f not in arrays]
        if missing:
            raise ValueError(f"{path} lacks the demonstration field(s) {missing}; expected {list(FIELDS)}")
        for key in ("observation_space", "action_space"):
            if key not in meta:
                raise ValueError(f"{path} lacks {key!r} in its header")
        return cls(**{f: arrays[f] for f in FIELDS}, observation_space=space_from_json(meta["observation_space"]),
                   action_space=space_from_json(meta["action_space"]), env_id=meta.get("env_id", ""),
                   subsample_every=int(meta.get("subsample_every", 1)))


def _check_in_space(x: np.ndarray, space: gym.Space, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless every row of ``x`` ``(N, *space.shape)`` lies in ``space``
    (Discrete: integers in range; Box: finite numbers of the right shape; bounds are not enforced for Box, whose
    observation bounds are often infinite or loose)."""
    x = np.asarray(x)
    if isinstance(space, gym.spaces.Discrete):
        if x.ndim != 1 or not np.issubdtype(x.dtype, np.integer):
            raise ValueError(f"{name} must be a (N,) int array of states/actions of {space}, got dtype {x.dtype}, "
                             f"shape {x.shape}")
        bad = np.flatnonzero((x < space.start) | (x >= space.start + space.n))
        if len(bad):
            raise ValueError(f"{name} holds {x[bad[0]]!r} at row {int(bad[0])} ({len(bad)} rows in all), outside "
                             f"{space}: the demonstrations were not recorded in this env")
    elif isinstance(space, gym.spaces.Box):
        if x.shape[1:] != space.shape:
            raise ValueError(f"{name} has rows of shape {x.shape[1:]}, but {space} has shape {space.shape}")
        if not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"{name} must be numeric, got dtype {x.dtype}")
        finite = np.isfinite(x).reshape(len(x), -1).all(axis=1)
        if not finite.all():
            rows = np.flatnonzero(~finite)
            raise ValueError(f"{name} contain NaN or inf in {len(rows)} rows (first: row {int(rows[0])}): drop "
                             "those transitions before training on them")


def collect_demonstrations(env: gym.Env | str, policy, n_episodes: int, seed: int = 0, deterministic: bool = True,
                           progress_bar: bool = False) -> Demonstrations:
    """Run ``policy`` for ``n_episodes`` (episode ``i`` reset with ``seed + i``) and record every transition.

    Args:
        env: a gymnasium env (Discrete or Box spaces) or a registered id.
        policy: anything :func:`genrl_lib.evaluation.as_action_fn` accepts (callable, ``predict``, ``(S,)`` array).
        n_episodes: positive number of episodes.

    Returns:
        :class:`Demonstrations` with ``N`` = total steps.
    """
    from genrl_lib.progress import progress_bar as bar

    n_episodes = check_positive_int(n_episodes, "n_episodes")
    own = isinstance(env, str)
    if own:
        from genrl_lib.envs import make
        env = make(env)
    act = as_action_fn(policy, deterministic)
    rows = {f: [] for f in FIELDS}
    try:
        with bar(n_episodes, "collecting demonstrations", enabled=progress_bar, unit="episode") as pb:
            for ep in range(n_episodes):
                obs, _ = env.reset(seed=seed + ep)
                done = False
                while not done:
                    a = as_valid_action(act(obs), env.action_space)
                    nxt, r, term, trunc, _ = env.step(a)
                    for f, v in zip(FIELDS, (obs, a, r, nxt, term, trunc, ep)):
                        rows[f].append(v)
                    obs, done = nxt, term or trunc
                pb.update(1)
    finally:
        if own:
            env.close()
    dtypes = {"rewards": np.float32, "terminations": bool, "truncations": bool, "episode_ids": np.int64}
    arrays = {f: np.asarray(v, dtype=dtypes.get(f)) for f, v in rows.items()}
    return Demonstrations(**arrays, observation_space=env.observation_space, action_space=env.action_space,
                          env_id=env.spec.id if env.spec is not None else "")


def check_demonstrations(demonstrations, env) -> Demonstrations:
    """Raise a clear error unless ``demonstrations`` is a :class:`Demonstrations` recorded in ``env``'s spaces."""
    if not isinstance(demonstrations, Demonstrations):
        raise TypeError("demonstrations must be a genrl_lib.demonstrations.Demonstrations (collect_demonstrations(...) "
                        f"or Demonstrations.load(path)), got {type(demonstrations).__name__}")
    obs_space, act_space = spaces_of(env)
    demonstrations.check_env(types.SimpleNamespace(observation_space=obs_space, action_space=act_space))
    return demonstrations
