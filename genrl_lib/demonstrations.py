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

import os
import shutil
import types
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from genrl_lib.checks import check_positive_int
from genrl_lib.envs import spaces_of
from genrl_lib.evaluation import as_action_fn, as_valid_action
from genrl_lib.io import load_arrays, save_arrays, space_from_json, space_to_json

__all__ = ["Demonstrations", "collect_demonstrations", "check_demonstrations", "FIELDS", "save_minari", "load_minari",
           "minari_root", "minari_reference_scores"]

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

    def check_env(self, env: gym.Env | types.SimpleNamespace) -> None:
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
        for BC, GAIL or offline RL; ``env``'s spaces, if given, must match. See :func:`load_minari`."""
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
    if isinstance(env, str):
        from genrl_lib.envs import make
        env = make(env)
    act = as_action_fn(policy, deterministic)
    rows: dict[str, list[Any]] = {f: [] for f in FIELDS}
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
    arrays: dict[str, Any] = {f: np.asarray(v, dtype=dtypes.get(f)) for f, v in rows.items()}
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


# --------------------------------------------------------------------------------------------------
# Minari
# --------------------------------------------------------------------------------------------------
@contextmanager
def minari_root(root: str | os.PathLike):
    """Within the block, Minari reads and writes datasets under ``root`` (``MINARI_DATASETS_PATH``), restored after."""
    if root is None:
        raise ValueError("root must be a folder for Minari datasets (e.g. '_build/minari'); it is never "
                         "left to Minari's default ~/.minari")
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(Path(root).resolve())
    try:
        yield Path(root)
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def _require_minari():
    try:
        import minari
    except ImportError:
        raise ImportError("Minari datasets need the 'minari' package with HDF5: pip install 'minari[hdf5]==0.5.4' "
                          "(it is in the book's requirements.lock)") from None
    return minari


def save_minari(data: Demonstrations, dataset_id: str, root: str | os.PathLike, *, env: str | None = None,
                ref_min_score: float | None = None, ref_max_score: float | None = None, algorithm_name: str = "",
                description: str = "", overwrite: bool = True) -> Path:
    """Write ``data`` as the Minari dataset ``dataset_id`` (e.g. ``"genrl/pendulum/mixed-v0"``) under ``root``.

    Each episode becomes one Minari episode (``observations`` ``(T + 1, obs_dim)``: the states and the last
    next-state; ``actions``, ``rewards``, ``terminations``, ``truncations`` ``(T, ...)``). Returns the dataset's folder.
    """
    minari = _require_minari()
    from minari.data_collector import EpisodeBuffer

    env_id = env or data.env_id
    if not env_id:
        raise ValueError("env is unknown: pass env='Pendulum-v1' (the id the data was recorded in)")
    buffers = []
    for i, ep in enumerate(np.unique(data.episode_ids)):
        idx = np.flatnonzero(data.episode_ids == ep)
        obs = np.concatenate([data.observations[idx], data.next_observations[idx[-1:]]])
        buffers.append(EpisodeBuffer(id=i, observations=obs, actions=data.actions[idx],
                                     rewards=data.rewards[idx].astype(np.float64).tolist(),
                                     terminations=data.terminations[idx].tolist(),
                                     truncations=data.truncations[idx].tolist(), infos={}))
    with minari_root(root):
        from minari.storage import get_dataset_path
        path = get_dataset_path(dataset_id)
        if path.exists():
            if not overwrite:
                raise FileExistsError(f"Minari dataset {dataset_id} exists in {root}: pass overwrite=True or "
                                      "another dataset_id")
            shutil.rmtree(path)
        kwargs = {}
        if ref_max_score is not None:
            if ref_min_score is None:
                raise TypeError("ref_max_score needs ref_min_score too: pass both (the random and the expert score)")
            kwargs = {"ref_min_score": float(ref_min_score), "ref_max_score": float(ref_max_score)}
        with warnings.catch_warnings():      # Minari asks for an author e-mail: a course dataset has none
            warnings.filterwarnings("ignore", message=".*author_email.*", category=UserWarning)
            minari.create_dataset_from_buffers(dataset_id, buffers, env=env_id, eval_env=env_id, author="genrl_lib",
                                               code_permalink="genrl_lib/offline.py (make_mixed_dataset)",
                                               algorithm_name=algorithm_name or "genrl_lib",
                                               description=description or f"{len(buffers)} episodes of {env_id}",
                                               data_format="hdf5", **kwargs)
        return path


def load_minari(dataset_id: str, root: str | os.PathLike, env: gym.Env | str | None = None) -> Demonstrations:
    """Read the Minari dataset ``dataset_id`` from ``root`` as :class:`Demonstrations` (flat transitions).

    If ``env`` is given, its spaces must equal the dataset's (``ValueError`` naming both otherwise).
    Raises ``FileNotFoundError`` (the dataset is not in ``root``; nothing is downloaded) and ``ValueError``
    (an empty dataset).
    """
    minari = _require_minari()
    with minari_root(root):
        from minari.storage import get_dataset_path
        if not get_dataset_path(dataset_id).exists():
            raise FileNotFoundError(f"no Minari dataset {dataset_id!r} under {Path(root).resolve()}: create it with "
                                    "genrl_lib.offline.save_minari (nothing is downloaded)")
        ds = minari.load_dataset(dataset_id)
        if ds.total_episodes == 0 or ds.total_steps == 0:
            raise ValueError(f"Minari dataset {dataset_id} is empty: it has no episodes")
        rows: dict[str, list[np.ndarray]] = {f: [] for f in FIELDS}
        for i, ep in enumerate(ds.iterate_episodes()):
            T = len(ep.rewards)
            obs = np.asarray(ep.observations)
            for f, v in zip(FIELDS, (obs[:T], np.asarray(ep.actions), np.asarray(ep.rewards, np.float32), obs[1:T + 1],
                                     np.asarray(ep.terminations, bool), np.asarray(ep.truncations, bool),
                                     np.full(T, i, np.int64))):
                rows[f].append(v)
        spec = ds.spec
        arrays: dict[str, Any] = {f: np.concatenate(v) for f, v in rows.items()}
        data = Demonstrations(**arrays,
                              observation_space=ds.observation_space, action_space=ds.action_space,
                              env_id=spec.env_spec.id if spec.env_spec is not None else "")
        meta = ds.storage.metadata
    if env is not None:
        e = gym.make(env) if isinstance(env, str) else env
        try:
            data.check_env(e)
        finally:
            if isinstance(env, str):
                e.close()
    object.__setattr__(data, "_minari_metadata", dict(meta))
    return data


def minari_reference_scores(dataset_id: str, root) -> tuple[float, float]:
    """``(ref_min_score, ref_max_score)`` stored in a Minari dataset's metadata."""
    minari = _require_minari()
    with minari_root(root):
        meta = minari.load_dataset(dataset_id).storage.metadata
    if "ref_max_score" not in meta:
        raise ValueError(f"Minari dataset {dataset_id} has no reference scores: save it with ref_min_score/ref_max_score")
    return float(meta["ref_min_score"]), float(meta["ref_max_score"])




