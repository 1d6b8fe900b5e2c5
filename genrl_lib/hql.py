"""Hybridization Q-learning (HQL, *Hibridación Q-learning*): a GAN that generates whole Q-tables.

The thesis's proposal. Train ``n`` tabular Q-learning agents (the **expert database**
``Q(S,A) = {Q(S,A,1), …, Q(S,A,n)}``), flatten each ``(S, A)`` table into a vector of ``S·A``
numbers, and train a vanilla GAN on those vectors::

    min_{Q*} max_D  E_{Q ~ P_Q}[log D(Q)] + E_{Q* ~ P_{Q*}}[log(1 − D(Q*))]

The generator ``G: z (latent_dim,) -> Q* (S·A,)`` then produces new tables, whose greedy policies
``π(s) = argmax_a Q*(s, a)`` are evaluated **exactly** on the env's model (policy evaluation with the
env's time limit), never only by a few noisy episodes. The GAN is :class:`genrl_lib.generative.GAN`,
unchanged; this module builds the database, wraps the GAN and measures what it generates::

    db = build_expert_database(gym.make("Taxi-v4"), n_experts=20, n_episodes=3000)
    db.save("experts.npz"); db = ExpertDatabase.load("experts.npz")
    hql = HQL(env, db.q_tables, latent_dim=8)
    history = hql.fit(epochs=100)                 # tqdm bar over epochs
    tables = hql.generate(100, seed=0)            # (100, S, A)
    returns = hql.evaluate(tables)                # (100,) exact expected returns of the greedy policies
    hql.save("hql.pt"); hql = HQL.load("hql.pt")
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from genrl_lib.checks import check_positive_int
from genrl_lib.generative import GAN, GANConfig
from genrl_lib.io import load_arrays, load_torch, save_arrays, save_torch
from genrl_lib.progress import progress_bar as _progress_bar
from genrl_lib.seeding import check_seed, single_thread
from genrl_lib.tabular import check_gamma, expected_return, greedy_policy, q_learning, tabular_model, value_iteration

__all__ = ["check_discrete_env", "check_q_tables", "ExpertDatabase", "build_expert_database", "BatchEvaluator",
           "exact_returns", "optimal_actions", "reachable_states", "greedy_agreement", "table_distances",
           "nearest_expert", "mean_pairwise_distance", "HQLConfig", "HQL", "DATABASE_KIND", "HQL_KIND"]

DATABASE_KIND = "hql_expert_database"
HQL_KIND = "hql"


# --------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------
def _env_name(env) -> str:
    return env.spec.id if getattr(env, "spec", None) is not None else type(env.unwrapped).__name__


def check_discrete_env(env, name: str = "env") -> tuple[int, int]:
    """``(n_states, n_actions)`` of a gymnasium env with ``Discrete`` spaces, else a ``TypeError`` naming ``name``."""
    if not isinstance(env, gym.Env):
        raise TypeError(f"{name} must be a gymnasium.Env (e.g. gym.make('Taxi-v4')), got {type(env).__name__}")
    for space_name in ("observation_space", "action_space"):
        space = getattr(env, space_name)
        if not isinstance(space, gym.spaces.Discrete):
            raise TypeError(f"{name}.{space_name} must be Discrete for HQL (a Q-table has one row per state and one "
                            f"column per action), got {space}; HQL works on tabular envs such as Taxi-v4, "
                            "FrozenLake-v1 or CliffWalking-v1")
    obs_space, act_space = env.observation_space, env.action_space
    assert isinstance(obs_space, gym.spaces.Discrete) and isinstance(act_space, gym.spaces.Discrete)  # checked above
    return int(obs_space.n), int(act_space.n)


def check_q_tables(q_tables, name: str = "expert_q_tables", shape: tuple[int, int] | None = None) -> np.ndarray:
    """Stack Q-tables into a float64 ``(n, S, A)`` array, with clear errors.

    Args:
        q_tables: an ``(n, S, A)`` array, or a sequence of ``(S, A)`` arrays (all the same shape).
        name: the argument's name, used in error messages.
        shape: the expected ``(S, A)`` (e.g. the env's ``(n_states, n_actions)``).

    Raises:
        ValueError: empty, tables of different shapes, not 3-D, wrong ``(S, A)``, or NaN/inf entries.
    """
    if isinstance(q_tables, np.ndarray):
        tables = [q_tables] if q_tables.ndim == 2 else list(q_tables) if q_tables.ndim == 3 else None
        if tables is None:
            raise ValueError(f"{name} must be an (n, n_states, n_actions) array or a list of (n_states, n_actions) "
                             f"tables, got an array of shape {q_tables.shape}")
    else:
        tables = list(q_tables)
    if len(tables) == 0:
        raise ValueError(f"{name} is empty: pass at least one (n_states, n_actions) Q-table")
    shapes = [np.shape(t) for t in tables]
    if any(len(s) != 2 for s in shapes):
        raise ValueError(f"{name}: every Q-table must be 2-D (n_states, n_actions); got shapes {sorted(set(shapes))}")
    if len(set(shapes)) > 1:
        bad = [i for i, s in enumerate(shapes) if s != shapes[0]]
        raise ValueError(f"{name}: Q-tables have mismatched shapes {sorted(set(shapes))} (table 0 is {shapes[0]}, "
                         f"tables {bad[:5]} differ); all experts must come from the same env")
    q = np.asarray(np.stack(tables), dtype=np.float64)
    if shape is not None and q.shape[1:] != tuple(shape):
        raise ValueError(f"{name} have shape (n_states, n_actions)={q.shape[1:]}, but the env needs {tuple(shape)}: "
                         "train the experts on this env")
    nonfinite = ~np.isfinite(q)
    if nonfinite.any():
        idx = np.unique(np.nonzero(nonfinite)[0])
        raise ValueError(f"{name} contain NaN or infinite values (tables {idx[:5].tolist()}); retrain or drop them")
    return q


def _check_policies(policies, n_states: int, n_actions: int, name: str = "policies") -> np.ndarray:
    pi = np.asarray(policies)
    if pi.ndim == 1:
        pi = pi[None]
    if pi.ndim != 2 or pi.shape[1] != n_states:
        raise ValueError(f"{name} must have shape (n, n_states={n_states}), got {np.shape(policies)}")
    if not np.issubdtype(pi.dtype, np.integer) or (pi.size and (pi.min() < 0 or pi.max() >= n_actions)):
        raise ValueError(f"{name} must hold integer actions in [0, {n_actions}); use HQL.greedy_policies(tables)")
    return pi.astype(np.int64)


# --------------------------------------------------------------------------------------------------
# The expert database
# --------------------------------------------------------------------------------------------------
@dataclass
class ExpertDatabase:
    """The expert database ``Q(S,A) = {Q(S,A,1), …, Q(S,A,n)}`` and what is known about each expert.

    File format (``save``/``load``): a pickle-free ``.npz`` written by :func:`genrl_lib.io.save_arrays`
    with kind ``"hql_expert_database"``; arrays ``q_tables`` ``(n, S, A)`` float64, ``exact_returns``
    ``(n,)`` float64, ``n_episodes`` ``(n,)`` int64 and ``seeds`` ``(n,)`` int64; the JSON header's
    ``meta`` holds ``env_id`` and the Q-learning arguments. Readable with plain
    ``numpy.load(path, allow_pickle=False)``.

    Attributes:
        q_tables: ``(n, S, A)`` expert Q-tables.
        exact_returns: ``(n,)`` exact expected return of each expert's greedy policy.
        n_episodes: ``(n,)`` Q-learning episodes each expert was trained for.
        seeds: ``(n,)`` Q-learning seed of each expert.
        meta: ``env_id`` and the Q-learning arguments (JSON-able).
    """

    q_tables: np.ndarray
    exact_returns: np.ndarray
    n_episodes: np.ndarray
    seeds: np.ndarray
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.q_tables = check_q_tables(self.q_tables, "q_tables")
        n = len(self.q_tables)
        self.exact_returns = np.asarray(self.exact_returns, dtype=np.float64)
        self.n_episodes = np.asarray(self.n_episodes, dtype=np.int64)
        self.seeds = np.asarray(self.seeds, dtype=np.int64)
        for name in ("exact_returns", "n_episodes", "seeds"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have shape (n_experts,)=({n},), got {getattr(self, name).shape}")

    def __len__(self) -> int:
        return len(self.q_tables)

    @property
    def best(self) -> int:
        """Index of the expert with the highest exact return."""
        return int(np.argmax(self.exact_returns))

    def subset(self, idx) -> ExpertDatabase:
        """A database with the experts ``idx`` (indices or a boolean mask)."""
        idx = np.arange(len(self))[idx]
        return ExpertDatabase(self.q_tables[idx], self.exact_returns[idx], self.n_episodes[idx], self.seeds[idx],
                              dict(self.meta))

    def save(self, path) -> Path:
        """Write the documented ``.npz`` (see the class docstring), atomically. Returns the path."""
        return save_arrays(path, DATABASE_KIND, {"q_tables": self.q_tables, "exact_returns": self.exact_returns,
                                                 "n_episodes": self.n_episodes, "seeds": self.seeds}, meta=self.meta)

    @classmethod
    def load(cls, path) -> ExpertDatabase:
        """Read what :meth:`save` wrote (a file of another kind raises ``ValueError``)."""
        arrays, meta = load_arrays(path, DATABASE_KIND)
        missing = {"q_tables", "exact_returns", "n_episodes", "seeds"} - set(arrays)
        if missing:
            raise ValueError(f"{path} lacks the arrays {sorted(missing)} of an expert database")
        return cls(arrays["q_tables"], arrays["exact_returns"], arrays["n_episodes"], arrays["seeds"], meta)


def build_expert_database(env: gym.Env, n_experts: int = 20, n_episodes=3000, *, seed: int = 0,
                          progress_bar: bool = True, **q_learning_kwargs) -> ExpertDatabase:
    """Train ``n_experts`` Q-learning agents (:func:`genrl_lib.tabular.q_learning`) with seeds
    ``seed, seed + 1, …`` and evaluate each greedy policy exactly.

    Args:
        env: a tabular env (``Discrete`` spaces and a model ``P``), e.g. ``gym.make("Taxi-v4")``.
        n_experts: database size ``n``.
        n_episodes: training episodes, one int for all experts or a sequence of ``n_experts`` ints
            (experts of different quality).
        seed: seed of the first expert.
        progress_bar: one tqdm bar over the experts.
        **q_learning_kwargs: passed to ``q_learning`` (``alpha``, ``gamma``, ``epsilon``, …).

    Returns:
        :class:`ExpertDatabase` with ``q_tables`` ``(n_experts, S, A)``.
    """
    check_discrete_env(env)
    n_experts = check_positive_int(n_experts, "n_experts")
    seed = check_seed(seed)
    if np.ndim(n_episodes) == 0:
        episodes = np.full(n_experts, check_positive_int(n_episodes, "n_episodes"), dtype=np.int64)
    else:
        episodes = np.array([check_positive_int(e, "n_episodes") for e in n_episodes], dtype=np.int64)
    if episodes.shape != (n_experts,):
        raise ValueError(f"n_episodes must be one int or {n_experts} ints (one per expert), got {len(episodes)}")
    tables = []
    with _progress_bar(total=n_experts, desc="expert database", enabled=progress_bar, unit="expert") as bar:
        for i in range(n_experts):
            res = q_learning(env, int(episodes[i]), seed=seed + i, progress_bar=False, **q_learning_kwargs)
            tables.append(res.q_table)
            bar.update(1)
    stacked = np.stack(tables)
    rets = BatchEvaluator(env)([greedy_policy(q) for q in stacked])  # exact, = expected_return of each expert
    meta = {"env_id": _env_name(env), "max_episode_steps": getattr(env.spec, "max_episode_steps", None),
            "q_learning": {k: (list(v) if isinstance(v, tuple) else v) for k, v in q_learning_kwargs.items()}}
    return ExpertDatabase(stacked, rets, episodes,
                          np.arange(seed, seed + n_experts), meta)


# --------------------------------------------------------------------------------------------------
# Exact evaluation of many greedy policies at once
# --------------------------------------------------------------------------------------------------
class BatchEvaluator:
    """Exact expected returns of many deterministic policies at once, on the env's model.

    The same quantity as :func:`genrl_lib.tabular.expected_return` (``Σ_s μ0(s) V^π(s)`` with
    ``V_{k+1} = R_π + γ T_π V_k`` for ``horizon`` steps), computed for a batch: the model is read once
    (:func:`genrl_lib.tabular.tabular_model`) and stored sparsely (each ``(s, a)`` has at most ``K``
    successors: 1 in Taxi and CliffWalking, 3 in slippery FrozenLake), so 100 Taxi policies take a few
    milliseconds instead of ~6 s. ``horizon=None`` (infinite horizon) falls back to ``expected_return``.

    Args:
        env: a tabular env.
        gamma: discount in ``[0, 1]``.
        horizon: ``"auto"`` (the env's time limit), an int, or ``None``.
    """

    def __init__(self, env: gym.Env, gamma: float = 1.0, horizon: int | str | None = "auto"):
        self.env = env
        self.n_states, self.n_actions = check_discrete_env(env)
        self.gamma = check_gamma(gamma)
        m = tabular_model(env)
        self.R, self.mu0 = m.R, m.mu0
        self.horizon = m.horizon if horizon == "auto" else horizon
        if self.horizon is not None and (isinstance(self.horizon, bool) or not isinstance(self.horizon, (int, np.integer))
                                         or self.horizon <= 0):
            raise ValueError(f"horizon must be a positive int, 'auto' or None, got {horizon!r}")
        K = max(1, int((m.T > 0).sum(axis=2).max()))
        self.next = np.zeros((self.n_states, self.n_actions, K), dtype=np.int64)   # successor s'
        self.prob = np.zeros((self.n_states, self.n_actions, K))                   # T(s, a, s'), 0 = padding
        for s, a, s2 in zip(*np.nonzero(m.T)):
            k = int((self.prob[s, a] > 0).sum())
            self.next[s, a, k], self.prob[s, a, k] = s2, m.T[s, a, s2]

    def __call__(self, policies) -> np.ndarray:
        """``(n, S)`` (or ``(S,)``) integer policies -> ``(n,)`` exact expected returns."""
        pi = _check_policies(policies, self.n_states, self.n_actions)
        if self.horizon is None:
            return np.array([expected_return(self.env, p, gamma=self.gamma, horizon=None) for p in pi])
        states = np.arange(self.n_states)
        R_pi = self.R[states, pi]                       # (n, S)     R(s, π(s))
        nxt, prob = self.next[states, pi], self.prob[states, pi]   # (n, S, K)
        rows = np.arange(len(pi))[:, None, None]
        V = np.zeros_like(R_pi)
        for _ in range(int(self.horizon)):              # V_{k+1}(s) = R(s,π(s)) + γ Σ_s' T(s,π(s),s') V_k(s')
            V = R_pi + self.gamma * (prob * V[rows, nxt]).sum(axis=2)
        return V @ self.mu0                             # Σ_s μ0(s) V(s)


def exact_returns(env: gym.Env, policies, gamma: float = 1.0, horizon: int | str | None = "auto") -> np.ndarray:
    """Exact expected returns ``(n,)`` of ``(n, S)`` deterministic policies; see :class:`BatchEvaluator`."""
    return BatchEvaluator(env, gamma, horizon)(policies)


def optimal_actions(env: gym.Env, gamma: float = 1.0, tol: float = 1e-6) -> np.ndarray:
    """``(S, A)`` boolean mask of the optimal actions, ``Q*(s, a) >= max_a' Q*(s, a') − tol`` (value iteration)."""
    _, Q = value_iteration(env, gamma=gamma)
    return Q >= Q.max(axis=1, keepdims=True) - tol


def reachable_states(env: gym.Env) -> np.ndarray:
    """``(S,)`` boolean mask of the states reachable from the start distribution under *some* actions.

    Taxi-v4 has 500 states, but the passenger never starts at the destination, so some states never occur;
    their Q-values are never updated and their greedy actions do not matter.
    """
    m = tabular_model(env)
    seen = m.mu0 > 0
    frontier = seen.copy()
    adj = (m.T > 0).any(axis=1)                        # (S, S): some action leads s -> s'
    while frontier.any():
        new = adj[frontier].any(axis=0) & ~seen
        seen |= new
        frontier = new
    return seen


# --------------------------------------------------------------------------------------------------
# What did the generator learn?
# --------------------------------------------------------------------------------------------------
def greedy_agreement(policies, reference_policies, states=None) -> np.ndarray:
    """Fraction of states where two policies pick the same action.

    Args:
        policies: ``(n, S)`` integer policies (e.g. greedy policies of generated tables).
        reference_policies: ``(m, S)`` (e.g. the experts' greedy policies).
        states: optional ``(S,)`` boolean mask of the states that count (e.g. :func:`reachable_states`).

    Returns:
        ``(n, m)`` agreement fractions in ``[0, 1]``.
    """
    a, b = np.atleast_2d(policies), np.atleast_2d(reference_policies)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"policies have {a.shape[1]} states, reference_policies {b.shape[1]}: use the same env")
    mask = np.ones(a.shape[1], bool) if states is None else np.asarray(states, bool)
    return (a[:, None, mask] == b[None, :, mask]).mean(axis=2)


def table_distances(tables, others, states=None) -> np.ndarray:
    """Root-mean-square distance between Q-tables: ``(n, S, A)`` and ``(m, S, A)`` -> ``(n, m)``.

    ``states`` (optional ``(S,)`` boolean mask) restricts the mean to those rows of the tables.
    """
    a = check_q_tables(tables, "tables")
    b = check_q_tables(others, "others", shape=a.shape[1:])
    if states is not None:
        mask = np.asarray(states, bool)
        a, b = a[:, mask], b[:, mask]
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    sq = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0) / a.shape[1])


def nearest_expert(tables, experts, states=None) -> tuple[np.ndarray, np.ndarray]:
    """For each table ``(n, S, A)``: index ``(n,)`` of the nearest expert ``(m, S, A)`` and the RMS distance ``(n,)``."""
    d = table_distances(tables, experts, states)
    idx = d.argmin(axis=1)
    return idx, d[np.arange(len(d)), idx]


def mean_pairwise_distance(tables, states=None) -> float:
    """Mean RMS distance over all pairs of distinct tables in ``(n, S, A)`` (diversity; 0 = all identical)."""
    d = table_distances(tables, tables, states)
    n = len(d)
    if n < 2:
        raise ValueError("tables must hold at least 2 tables to measure diversity")
    return float(d[~np.eye(n, dtype=bool)].mean())


# --------------------------------------------------------------------------------------------------
# HQL
# --------------------------------------------------------------------------------------------------
@dataclass
class HQLConfig(GANConfig):
    """HQL hyperparameters: every field of :class:`genrl_lib.generative.GANConfig` plus the epoch length.

    Defaults that differ from the GAN's: ``loss="vanilla"`` (the thesis's minimax objective),
    hidden sizes ``(64, 64)`` for ``G: z -> Q*`` (output ``S·A``) and ``D: Q -> logit``, ``batch_size=32``
    tables per minibatch (drawn with replacement from the database).

    Attributes:
        steps_per_epoch: GAN steps (``d_steps`` discriminator updates + 1 generator update) per epoch.
    """

    g_hidden: tuple[int, ...] = (64, 64)
    d_hidden: tuple[int, ...] = (64, 64)
    loss: str = "vanilla"
    batch_size: int = 32
    steps_per_epoch: int = 10

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.steps_per_epoch, "steps_per_epoch")

    def gan_config(self) -> GANConfig:
        """The plain :class:`GANConfig` of the underlying GAN (without ``steps_per_epoch``)."""
        names = {f.name for f in fields(GANConfig)}
        return GANConfig(**{k: v for k, v in asdict(self).items() if k in names})


class HQL:
    """Hybridization Q-learning: a vanilla GAN over flattened ``(S, A)`` Q-tables.

    Args:
        env: the tabular env the experts were trained on (``Discrete`` spaces and model ``P``).
        expert_q_tables: ``(n, S, A)`` array, a list of ``(S, A)`` tables, or an :class:`ExpertDatabase`.
        config: an :class:`HQLConfig`; or pass its fields as keyword arguments (``HQL(env, q, latent_dim=4)``).

    Attributes:
        gan: the :class:`genrl_lib.generative.GAN` on vectors of ``S·A`` numbers.
        experts: ``(n, S, A)`` float64 expert tables.
        history: ``{"d_loss", "g_loss", "d_real", "d_fake"}`` per GAN step and ``"evaluation"`` (one dict per
            evaluated epoch), accumulated over calls of :meth:`fit`.
    """

    def __init__(self, env: gym.Env, expert_q_tables, config: HQLConfig | None = None, **hyperparameters):
        self.n_states, self.n_actions = check_discrete_env(env)
        self.env = env
        if isinstance(expert_q_tables, ExpertDatabase):
            expert_q_tables = expert_q_tables.q_tables
        self.experts = check_q_tables(expert_q_tables, "expert_q_tables", shape=(self.n_states, self.n_actions))
        if config is not None and not isinstance(config, HQLConfig):
            raise TypeError(f"config must be an HQLConfig, got {type(config).__name__}")
        unknown = set(hyperparameters) - {f.name for f in fields(HQLConfig)}
        if unknown:
            raise TypeError(f"unknown HQL hyperparameters {sorted(unknown)}; valid: {[f.name for f in fields(HQLConfig)]}")
        self.config = HQLConfig(**{**(asdict(config) if config else {}), **hyperparameters})
        self.gan = GAN(self.n_states * self.n_actions, self.config.gan_config())
        self.epochs_done = 0
        self.history: dict[str, list] = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": [], "evaluation": []}
        self._evaluator: BatchEvaluator | None = None

    @property
    def evaluator(self) -> BatchEvaluator:
        """The env's :class:`BatchEvaluator` (built on first use)."""
        if self._evaluator is None:
            self._evaluator = BatchEvaluator(self.env)
        return self._evaluator

    @single_thread()   # the same numbers for a seed whatever the thread settings (genrl_lib.seeding)
    def fit(self, epochs: int, progress_bar: bool = True, *, eval_every: int | None = None, eval_n: int = 20,
            eval_seed: int = 0, callback=None) -> dict[str, list]:
        """Train the GAN for ``epochs`` epochs of ``config.steps_per_epoch`` steps on the expert tables.

        Args:
            epochs: number of epochs (continues where a previous ``fit`` stopped).
            progress_bar: a tqdm bar over epochs.
            eval_every: every ``eval_every`` epochs, generate ``eval_n`` tables with noise seed ``eval_seed``
                and record the exact returns of their greedy policies in ``history["evaluation"]``
                (``epoch``, ``exact_mean``, ``exact_min``, ``exact_max``, ``exact_returns``).
            callback: optional ``callback(hql, epoch) -> dict`` called at the same epochs; its dict is
                merged into that epoch's record (e.g. a simulated evaluation).

        Returns:
            ``self.history``.
        """
        epochs = check_positive_int(epochs, "epochs")
        if eval_every is not None:
            check_positive_int(eval_every, "eval_every")
        check_positive_int(eval_n, "eval_n")
        data = self.experts.reshape(len(self.experts), -1)       # each table Q(S,A,i) as one vector of S·A numbers
        with _progress_bar(total=epochs, desc="HQL", enabled=progress_bar, unit="epoch") as bar:
            for _ in range(epochs):
                # k discriminator steps ascend log D(Q) + log(1 − D(Q*)), then G descends log(1 − D(Q*))
                h = self.gan.fit(data, steps=self.config.steps_per_epoch, progress_bar=False)
                for key in ("d_loss", "g_loss", "d_real", "d_fake"):
                    self.history[key].extend(h[key])
                self.epochs_done += 1
                if eval_every is not None and self.epochs_done % eval_every == 0:
                    rets = self.evaluate(self.generate(eval_n, seed=eval_seed))
                    rec = {"epoch": self.epochs_done, "exact_mean": float(rets.mean()), "exact_min": float(rets.min()),
                           "exact_max": float(rets.max()), "exact_returns": rets.tolist()}
                    if callback is not None:
                        rec.update(callback(self, self.epochs_done) or {})
                    self.history["evaluation"].append(rec)
                bar.update(1)
        return self.history

    def generate(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` generated Q-tables ``Q* = G(z)``, ``z ~ N(0, I)``: ``(n, S, A)`` float64. ``seed`` fixes ``z``."""
        if not self.gan.normalizer.fitted:
            raise RuntimeError("call fit(epochs) before generate: the GAN has not seen the expert tables yet")
        return self.gan.sample(n, seed=seed).reshape(n, self.n_states, self.n_actions).astype(np.float64)

    def greedy_policies(self, tables) -> np.ndarray:
        """``(n, S, A)`` Q-tables -> ``(n, S)`` int64 greedy policies ``π(s) = argmax_a Q(s, a)``."""
        q = check_q_tables(tables, "tables", shape=(self.n_states, self.n_actions))
        return np.stack([greedy_policy(t) for t in q])

    def evaluate(self, tables_or_policies) -> np.ndarray:
        """Exact expected returns ``(n,)`` of greedy policies: pass ``(n, S, A)`` tables or ``(n, S)`` policies."""
        x = np.asarray(tables_or_policies)
        pols = self.greedy_policies(x) if x.ndim == 3 or np.issubdtype(x.dtype, np.floating) else x
        return self.evaluator(pols)

    # save / load ---------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Save the GAN (weights, optimizers, normalizer), the expert tables, config and history to one file,
        atomically and pickle-free (``torch.load(weights_only=True)`` reads it)."""
        with tempfile.TemporaryDirectory() as tmp:
            gan_state, gan_meta = load_torch(self.gan.save(Path(tmp) / "gan.pt"), GAN.kind)
        state = {"gan": gan_state, "experts": torch.from_numpy(self.experts)}
        hist = json.loads(json.dumps(self.history, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
        meta = {"gan_meta": gan_meta, "config": asdict(self.config), "env_id": _env_name(self.env),
                "max_episode_steps": getattr(self.env.spec, "max_episode_steps", None),
                "epochs_done": self.epochs_done, "history": hist}
        return save_torch(path, HQL_KIND, state, meta)

    @classmethod
    def load(cls, path, env: gym.Env | None = None) -> HQL:
        """Load what :meth:`save` wrote. ``env`` defaults to ``gym.make(<saved env id>)``."""
        state, meta = load_torch(path, HQL_KIND)
        if env is None:
            kwargs = {"max_episode_steps": meta["max_episode_steps"]} if meta.get("max_episode_steps") else {}
            env = gym.make(meta["env_id"], **kwargs)
        cfg = dict(meta["config"])
        for f in fields(HQLConfig):
            if isinstance(cfg.get(f.name), list):
                cfg[f.name] = tuple(cfg[f.name])
        hql = cls(env, state["experts"].numpy(), HQLConfig(**cfg))
        with tempfile.TemporaryDirectory() as tmp:
            hql.gan = GAN.load(save_torch(Path(tmp) / "gan.pt", GAN.kind, state["gan"], meta["gan_meta"]))
        hql.epochs_done = int(meta["epochs_done"])
        hql.history = {k: list(v) for k, v in meta["history"].items()}
        return hql
