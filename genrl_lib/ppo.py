"""Proximal policy optimization (PPO-clip, Schulman et al., 2017), lean and reusable.

The algorithm as the thesis states it: N actors (a gymnasium vector env with ``n_envs`` copies) each
run the old policy π_θold for T = ``n_steps`` steps; advantages Â_1..Â_T come from GAE(γ, λ); then K =
``n_epochs`` epochs of minibatch (M = ``batch_size`` <= N·T) gradient steps on

    L(θ) = E_t[ min(ρ_t Â_t, clip(ρ_t, 1-ε, 1+ε) Â_t) ] - c_v E_t[(V_θ(s_t) - R̂_t)²] + c_e E_t[H(π_θ(·|s_t))],
    ρ_t = π_θ(a_t|s_t) / π_θold(a_t|s_t).

Usage mirrors stable-baselines3::

    agent = PPO("CartPole-v1", n_envs=8, n_steps=32)
    agent.learn(100_000)
    action, _ = agent.predict(obs, deterministic=True)
    agent.save("ppo.pt"); agent = PPO.load("ppo.pt")

Two hooks make PPO the engine of adversarial imitation (GAIL) without copying it:

* ``reward_fn(rollout) -> (T, N)`` replaces the environment's reward in the update: a function of the
  rollout it scores (observations, actions, next observations, terminations), nothing else;
* ``callback(rollout)`` runs after each rollout is collected and before the update (e.g. to train a
  discriminator on ``rollout.obs``/``rollout.actions``); returning ``False`` stops training.

Speed: the rollout runs the actor as plain NumPy matrix products (:mod:`genrl_lib.fast`, on views of
the weights: nothing is copied), so acting costs microseconds; values and log-probabilities are then
computed once for the whole rollout (in NumPy with ``backend="numpy"``, in torch with ``"torch"``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn

from genrl_lib.checks import check_bool, check_number, check_positive_int
from genrl_lib.fast import NUMPY_ACTIVATIONS, layer_pairs, mlp_forward
from genrl_lib.gae import gae
from genrl_lib.io import load_torch, save_torch, space_from_json, space_to_json
from genrl_lib.nets import check_obs, check_sizes
from genrl_lib.policies import ActorCriticPolicy
from genrl_lib.progress import progress_bar
from genrl_lib.seeding import check_seed, single_thread

__all__ = ["PPOConfig", "Config", "PPO", "Rollout", "make_vec_env", "linear_schedule_value", "ppo_loss"]

_KIND = "ppo"


@dataclass
class PPOConfig:
    """PPO hyperparameters (defaults: stable-baselines3's).

    Attributes:
        n_envs: number of parallel environments N (ignored when a ``VectorEnv`` is passed: its ``num_envs`` is used).
        n_steps: steps T per env and rollout; a rollout holds N·T transitions.
        batch_size: minibatch size M; must divide N·T.
        n_epochs: epochs K over each rollout.
        gamma: discount γ.  gae_lambda: GAE's λ.
        learning_rate: Adam step size (initial value when ``lr_schedule="linear"``).
        lr_schedule: ``"constant"`` or ``"linear"`` (decays to 0 over ``learn``'s budget, like rl-zoo's ``lin_``).
        clip_range: ε of the clipped surrogate.  clip_schedule: ``"constant"`` or ``"linear"``.
        ent_coef: entropy bonus c_e (initial value when ``ent_schedule="linear"``).  ent_schedule: ``"constant"`` or
            ``"linear"`` (decays to 0 over ``learn``'s budget).  vf_coef: value-loss weight c_v.
        max_grad_norm: global gradient-norm clip.
        normalize_advantage: standardize Â within each minibatch.
        target_kl: stop the epochs of an update early when the approximate KL exceeds 1.5·target_kl.
        net_arch: hidden sizes of the (separate) actor and critic MLPs.  activation: their activation.
        log_std_init: initial log standard deviation of the Gaussian policy (Box actions).
        seed: seeds the networks, the action sampling, the minibatch order and the env's first reset.
        torch_threads: threads of torch and NumPy's BLAS during ``learn`` (:func:`genrl_lib.seeding.single_thread`;
            1 is fastest for small MLPs and makes a seed's numbers independent of ``OMP_NUM_THREADS``).
        backend: ``"numpy"`` (hand-written gradients, fast, tanh/relu MLPs) or ``"torch"`` (autograd, the
            readable reference; any activation). Both compute the same update (unit-tested).
    """

    n_envs: int = 1
    n_steps: int = 2048
    batch_size: int = 64
    n_epochs: int = 10
    gamma: float = 0.99
    gae_lambda: float = 0.95
    learning_rate: float = 3e-4
    lr_schedule: str = "constant"
    clip_range: float = 0.2
    clip_schedule: str = "constant"
    ent_coef: float = 0.0
    ent_schedule: str = "constant"
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    normalize_advantage: bool = True
    target_kl: float | None = None
    net_arch: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    log_std_init: float = 0.0
    seed: int = 0
    torch_threads: int | None = 1
    backend: str = "numpy"

    def validate(self, rollout: bool = True) -> PPOConfig:
        """Check every field; raise naming the bad one. ``rollout=False`` skips the check that ``batch_size``
        divides ``n_envs * n_steps`` (before a VectorEnv has set ``n_envs``). Returns ``self``."""
        for name in ("n_envs", "n_steps", "batch_size", "n_epochs"):
            check_positive_int(getattr(self, name), name)
        if rollout and (self.n_envs * self.n_steps) % self.batch_size:
            raise ValueError(f"batch_size={self.batch_size} must divide the rollout size n_envs*n_steps="
                             f"{self.n_envs * self.n_steps}; pick a divisor, e.g. {self.n_envs * self.n_steps}")
        for name in ("gamma", "gae_lambda"):
            setattr(self, name, check_number(getattr(self, name), name, low=0.0, high=1.0))
        for name in ("learning_rate", "clip_range"):
            setattr(self, name, check_number(getattr(self, name), name, low=0.0, low_open=True))
        for name in ("ent_coef", "vf_coef", "max_grad_norm"):
            setattr(self, name, check_number(getattr(self, name), name, low=0.0))
        self.log_std_init = check_number(self.log_std_init, "log_std_init (log of the initial action std)")
        for name in ("lr_schedule", "clip_schedule", "ent_schedule"):
            if getattr(self, name) not in ("constant", "linear"):
                raise ValueError(f"{name} must be 'constant' or 'linear', got {getattr(self, name)!r}")
        if self.backend not in ("numpy", "torch"):
            raise ValueError(f"backend must be 'numpy' or 'torch', got {self.backend!r}")
        self.normalize_advantage = check_bool(self.normalize_advantage, "normalize_advantage")
        self.target_kl = check_number(self.target_kl, "target_kl", low=0.0, low_open=True, allow_none=True)
        if self.torch_threads is not None:
            check_positive_int(self.torch_threads, "torch_threads")
        self.net_arch = check_sizes(self.net_arch, "net_arch")
        check_seed(self.seed)
        return self


Config = PPOConfig   # deprecated alias: the name before the rename


def ppo_loss(policy: ActorCriticPolicy, obs: torch.Tensor, actions: torch.Tensor, old_log_prob: torch.Tensor,
             advantages: torch.Tensor, returns: torch.Tensor, clip_range: float, vf_coef: float = 0.5,
             ent_coef: float = 0.0, normalize_advantage: bool = True) -> tuple[torch.Tensor, dict]:
    r"""PPO-clip's loss on one minibatch of B transitions, the quantity each gradient step descends:

        ρ_t(θ)    = π_θ(a_t|s_t) / π_θold(a_t|s_t) = exp(log π_θ(a_t|s_t) − log π_θold(a_t|s_t))
        L^CLIP(θ) = (1/B) Σ_t min(ρ_t(θ) Â_t, clip(ρ_t(θ), 1−ε, 1+ε) Â_t)
        L(θ)      = −L^CLIP(θ) + c_v (1/B) Σ_t (V_θ(s_t) − R̂_t)² − c_e (1/B) Σ_t H(π_θ(·|s_t))

    With ``normalize_advantage`` (and B > 1) the advantages Â_t are first standardized over the minibatch.
    The torch backend of :class:`PPO` calls it; the NumPy backend computes the same loss with written-out
    gradients (tested equal).

    Args:
        policy: the :class:`~genrl_lib.policies.ActorCriticPolicy` π_θ, V_θ.
        obs: ``(B, obs_dim)``.  actions: ``(B,)`` int64 or ``(B, act_dim)``.
        old_log_prob: ``(B,)`` log π_θold(a_t|s_t), fixed.  advantages, returns: ``(B,)`` Â_t and R̂_t.
        clip_range: ε.  vf_coef: c_v.  ent_coef: c_e.

    Returns:
        ``(L, parts)``: the scalar loss and a dict of its ``policy_loss`` (−L^CLIP), ``value_loss``, ``entropy``
        (scalars), and ``ratio``, ``log_ratio``, ``advantages`` (as used), ``values`` (``(B,)`` tensors).
    """
    values, logp, entropy = policy.evaluate_actions(obs, actions)
    if values is None:
        raise ValueError("ppo_loss needs a policy with a critic: ActorCriticPolicy(..., critic=True)")
    if normalize_advantage and len(advantages) > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    log_ratio = logp - old_log_prob
    ratio = log_ratio.exp()                                                       # ρ_t = π_θ / π_θold
    surrogate = torch.min(ratio * advantages, ratio.clamp(1 - clip_range, 1 + clip_range) * advantages)
    policy_loss = -surrogate.mean()                                               # −L^CLIP
    value_loss = (returns - values).pow(2).mean()                                 # (V_θ(s_t) − R̂_t)²
    entropy_mean = entropy.mean()                                                 # H(π_θ(·|s_t))
    loss = policy_loss + vf_coef * value_loss - ent_coef * entropy_mean
    return loss, {"policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy_mean, "ratio": ratio,
                  "log_ratio": log_ratio, "advantages": advantages, "values": values}


def linear_schedule_value(initial: float, progress_remaining: float, schedule: str) -> float:
    """Value of a hyperparameter under a schedule: ``initial`` or ``initial * progress_remaining`` (in [0, 1])."""
    return initial * progress_remaining if schedule == "linear" else initial


@dataclass
class Rollout:
    """One rollout of N envs × T steps, as handed to ``callback`` and ``reward_fn``.

    Attributes:
        obs: ``(T, N, *obs_shape)`` observations s_t.
        actions: ``(T, N)`` (Discrete) or ``(T, N, *act_shape)`` (Box, unclipped samples) actions a_t.
        next_obs: ``(T, N, *obs_shape)`` the observation after a_t (the final one when the episode ended).
        rewards: ``(T, N)`` environment rewards.
        terminated, truncated: ``(T, N)`` bool episode-end flags.
        valid: ``(T, N)`` bool; ``False`` marks the reset steps of a NEXT_STEP-autoreset vector env
            (their action was ignored), which the update skips.
        train_rewards: ``(T, N)`` rewards the update uses (``reward_fn``'s output, else ``rewards``).
        timesteps: total env steps collected so far, after this rollout.
    """

    obs: np.ndarray
    actions: np.ndarray
    next_obs: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray
    timesteps: int = 0
    train_rewards: np.ndarray | None = None


def make_vec_env(env_id: str, n_envs: int, seed: int | None = None, **make_kwargs) -> gym.vector.VectorEnv:
    """A ``SyncVectorEnv`` of ``n_envs`` copies of ``env_id`` with SAME_STEP autoreset (the final
    observation of an episode is in ``info["final_obs"]``, the returned one is already the reset one)."""
    n_envs = check_positive_int(n_envs, "n_envs")
    envs = gym.make_vec(env_id, num_envs=n_envs, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, **make_kwargs)
    if seed is not None:
        envs.reset(seed=seed)
    return envs


class PPO:
    """PPO-clip for Discrete or Box action spaces and Box observations, on gymnasium vector envs (Discrete
    observations: encode them first, e.g. with :class:`genrl_lib.nets.ObsEncoder` as GAIL does).

    Args:
        env: an env id (a ``SyncVectorEnv`` of ``n_envs`` copies is made), a single ``gym.Env``
            (then ``n_envs`` must be 1) or a ``gym.vector.VectorEnv`` (its ``num_envs`` sets N;
            both SAME_STEP and NEXT_STEP autoreset are handled).
        config: a :class:`PPOConfig`; keyword ``hyperparameters`` override its fields.
        reward_fn: optional learned reward ``reward_fn(rollout: Rollout) -> (T, N)`` array or tensor that replaces
            the env reward in the update (evaluation and ``history["episode_returns"]`` keep the env's reward). It
            receives the rollout it scores, with ``obs``/``next_obs`` shaped ``(T, N, *obs_shape)`` and ``actions``
            ``(T, N)`` or ``(T, N, *act_shape)``, and the episode ends (``terminated``, ``truncated``, ``valid``).
        callback: optional ``callback(rollout: Rollout) -> bool | None`` run after each collection,
            before ``reward_fn`` and the update; ``False`` stops ``learn``.
        observation_space, action_space: with ``env=None``, build the agent from these spaces alone (to act, or
            to be loaded into); ``learn`` then refuses until an env is given through :meth:`load`.

    Attributes:
        history: dict of lists, one entry per update: ``timesteps``, ``approx_kl``, ``clip_fraction``,
            ``entropy``, ``explained_variance``, ``value_loss``, ``policy_loss``, ``learning_rate``,
            ``clip_range``, ``wall_time``; and per finished episode ``episode_returns``, ``episode_lengths``,
            ``episode_timesteps`` (env steps when it ended).
        policy: the :class:`~genrl_lib.policies.ActorCriticPolicy` (actor π_θ, critic V_φ, ``log_std``).
        actor, critic, log_std: its parts (``policy.actor`` ...), the torch MLPs ``(B, obs_dim) -> (B, n_actions or
            act_dim)`` and ``(B, obs_dim) -> (B, 1)``.
    """

    _prev_done: np.ndarray     # (N,) the envs whose episode ended at the previous step (NEXT_STEP autoreset)

    def __init__(self, env, config: PPOConfig | None = None, *, reward_fn: Callable | None = None,
                 callback: Callable | None = None, observation_space: gym.Space | None = None,
                 action_space: gym.Space | None = None, **hyperparameters):
        config = dataclasses.replace(config or PPOConfig(), **self._check_keys(hyperparameters)).validate(rollout=False)
        for name, fn in (("reward_fn", reward_fn), ("callback", callback)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be a function or None, got {type(fn).__name__} {fn!r}")
        self.config = config
        self.env, self._own_env = None, False
        if env is not None:
            self.env, self._own_env, n = self._as_vec_env(env, config, "n_envs" in hyperparameters)
            config.n_envs = n
            self._build(self.env.single_observation_space, self.env.single_action_space, config)
        elif observation_space is not None or action_space is not None:
            if observation_space is None or action_space is None:
                raise ValueError("env=None: pass both observation_space and action_space to build the agent")
            self._build(observation_space, action_space, config)
        self.reward_fn, self.callback = reward_fn, callback
        self._obs: np.ndarray | None = None          # (N, obs_dim) current observations, set by the first learn
        self.num_timesteps = 0

    # ---------------------------------------------------------------- construction
    @staticmethod
    def _check_keys(hp: dict) -> dict:
        names = {f.name for f in dataclasses.fields(PPOConfig)}
        bad = sorted(set(hp) - names)
        if bad:
            raise TypeError(f"unknown PPO hyperparameter(s) {bad}; valid ones: {sorted(names)}")
        return hp

    @staticmethod
    def _as_vec_env(env, config: PPOConfig, n_given: bool):
        if isinstance(env, str):
            check_positive_int(config.n_envs, "n_envs")
            return make_vec_env(env, config.n_envs), True, config.n_envs
        if isinstance(env, gym.vector.VectorEnv):
            if n_given and config.n_envs != env.num_envs:
                raise ValueError(f"n_envs={config.n_envs} but the vector env has num_envs={env.num_envs}; "
                                 "drop n_envs or make the vector env with that many copies")
            return env, False, env.num_envs
        if isinstance(env, gym.Env):
            if config.n_envs != 1:
                raise ValueError(f"n_envs={config.n_envs} needs an env id or a VectorEnv; a single env instance "
                                 "can only be used with n_envs=1")
            vec = gym.vector.SyncVectorEnv([lambda: env], autoreset_mode=AutoresetMode.SAME_STEP)
            return vec, False, 1
        raise TypeError(f"env must be an env id, a gymnasium Env or a VectorEnv, got {type(env).__name__}")

    def _build(self, obs_space: gym.Space, act_space: gym.Space, config: PPOConfig) -> None:
        self.config = c = config.validate()
        self.policy = ActorCriticPolicy(obs_space, act_space, c.net_arch, c.activation, ortho_init=True,
                                        log_std_init=c.log_std_init, seed=c.seed)
        assert self.policy.critic is not None                       # ActorCriticPolicy has one by default
        self.actor, self.critic, self.log_std = self.policy.actor, self.policy.critic, self.policy.log_std
        self.observation_space, self.action_space = obs_space, act_space
        self._act_shape: tuple[int, ...] = tuple(act_space.shape or ())   # () for Discrete actions
        self.discrete = self.policy.discrete
        self._obs_shape: tuple[int, ...] = tuple(obs_space.shape or ())
        self._obs_dim, self._act_dim = self.policy.obs_dim, self.policy.act_dim
        self._params = self.policy.ordered_parameters()
        # One flat float32 buffer holds every parameter; the torch modules' tensors are views of it, so the
        # NumPy backend (and the NumPy actor used while acting) reads and writes the very same numbers.
        n = sum(p.numel() for p in self._params)
        self._flat, self._flat_grad = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
        flat_t, o = torch.from_numpy(self._flat), 0
        views, grads = [], []
        for p in self._params:
            k = p.numel()
            flat_t[o:o + k].copy_(p.data.reshape(-1))
            p.data = flat_t[o:o + k].view_as(p)
            views.append(self._flat[o:o + k].reshape(tuple(p.shape)))
            grads.append(self._flat_grad[o:o + k].reshape(tuple(p.shape)))
            o += k
        # [(W (out, in), b)] of the actor's layers, then the critic's (the buffer's order: actor, critic, log σ)
        n_act = 2 * (len(c.net_arch) + 1)
        self._np_actor, self._np_critic = layer_pairs(views[:n_act]), layer_pairs(views[n_act:2 * n_act])
        self._np_actor_g, self._np_critic_g = layer_pairs(grads[:n_act]), layer_pairs(grads[n_act:2 * n_act])
        self._np_log_std = None if self.discrete else (views[-1], grads[-1])
        self._np_ok = c.activation in NUMPY_ACTIVATIONS
        if c.backend == "numpy" and not self._np_ok:
            raise ValueError(f"backend='numpy' supports activation 'tanh' or 'relu', got {c.activation!r}; "
                             "use backend='torch' for other activations")
        self._adam_m, self._adam_v, self._adam_t = np.zeros(n, np.float32), np.zeros(n, np.float32), 0
        self.optimizer = torch.optim.Adam(self._params, lr=c.learning_rate, eps=1e-5)   # backend="torch"
        self._rng = np.random.default_rng(c.seed)
        self.history: dict[str, list] = {k: [] for k in (
            "timesteps", "approx_kl", "clip_fraction", "entropy", "explained_variance", "value_loss",
            "policy_loss", "learning_rate", "clip_range", "ent_coef", "wall_time",
            "episode_returns", "episode_lengths", "episode_timesteps")}

    # ---------------------------------------------------------------- NumPy networks
    def _np_forward(self, layers, x: np.ndarray) -> list[np.ndarray]:
        """Activations ``[x, h_1, ..., out]`` of the actor or critic given as ``[(W, b)]``, for ``x (B, in)``:
        the library's NumPy fast path (:func:`genrl_lib.fast.mlp_forward`) with this agent's activation."""
        return mlp_forward(layers, x, NUMPY_ACTIVATIONS[self.config.activation])

    def _np_backward(self, layers, grads, hs: list[np.ndarray], d: np.ndarray) -> None:
        """Backpropagate ``d = dL/d out (B, out)`` through the MLP, writing dL/dW, dL/db into ``grads``."""
        tanh = self.config.activation == "tanh"
        for i in range(len(layers) - 1, -1, -1):
            gw, gb = grads[i]
            np.matmul(d.T, hs[i], out=gw)
            np.sum(d, axis=0, out=gb)
            if i > 0:
                h = hs[i]
                d = (d @ layers[i][0]) * ((1.0 - h * h) if tanh else (h > 0))   # tanh' = 1 - tanh², relu' = 1[h>0]

    def _np_logp(self, out: np.ndarray, actions: np.ndarray):
        """log π(a|s) ``(B,)``, entropy ``(B,)`` and what their gradients need, from the actor's output."""
        if self.discrete:
            z = out - out.max(axis=1, keepdims=True)
            logp_all = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            p = np.exp(logp_all)
            ent = -(p * logp_all).sum(axis=1)
            return logp_all[np.arange(len(out)), actions], ent, (p, logp_all)
        assert self._np_log_std is not None                     # Box actions
        log_std = self._np_log_std[0]
        zs = (actions - out) * np.exp(-log_std)
        logp = (-0.5 * zs * zs - log_std).sum(axis=1) - 0.5 * math.log(2 * math.pi) * self._act_dim
        ent = np.full(len(out), (log_std + 0.5 + 0.5 * math.log(2 * math.pi)).sum(), dtype=np.float32)
        return logp, ent, zs

    # ---------------------------------------------------------------- acting
    def _sample(self, obs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Sample actions ``(N,)`` or ``(N, act_dim)`` for flat observations ``(N, obs_dim)``."""
        if out is None:
            if self._np_ok:
                out = self._np_forward(self._np_actor, obs)[-1]
            else:
                with torch.no_grad():
                    out = self.actor(torch.from_numpy(obs)).numpy()
        return self.policy.sample(out, self._rng)

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """SB3's ``predict``: actions for one observation ``obs_shape`` or a batch ``(B, *obs_shape)``.

        Returns ``(action, None)``: an int (Discrete) / ``act_shape`` array for one observation, or ``(B,)`` /
        ``(B, *act_shape)`` for a batch. ``deterministic=True`` takes the mode (argmax / the Gaussian mean).
        """
        x, single = check_obs(observation, self.observation_space)
        x = x.astype(np.float32).reshape(-1, self._obs_dim)
        a = self.policy.env_action(self.policy.predict(x, deterministic, self._rng))
        return (a[0].item() if self.discrete else a[0]) if single else a, None

    # ---------------------------------------------------------------- learning
    def _collect(self) -> Rollout:
        c, env = self.config, self.env
        assert env is not None and self._obs is not None      # learn() checks the env, _learn resets it first
        T, N = c.n_steps, env.num_envs
        obs_b = np.empty((T, N, self._obs_dim), dtype=np.float32)
        next_b = np.empty_like(obs_b)
        act_b = np.empty((T, N) if self.discrete else (T, N, self._act_dim), dtype=np.int64 if self.discrete else np.float32)
        rew_b = np.empty((T, N), dtype=np.float32)
        term_b, trunc_b = np.empty((T, N), dtype=bool), np.empty((T, N), dtype=bool)
        valid_b = np.ones((T, N), dtype=bool)
        next_step = self._autoreset == AutoresetMode.NEXT_STEP
        obs = self._obs
        for t in range(T):
            obs_b[t] = obs
            a = self._sample(obs)
            act_b[t] = a
            nobs, r, term, trunc, info = env.step(self.policy.env_action(a))
            nobs = nobs.reshape(N, self._obs_dim)
            rew_b[t], term_b[t], trunc_b[t] = r, term, trunc
            next_b[t] = nobs
            if next_step:   # this step only reset the envs that ended last step: their action was ignored
                valid_b[t] = ~self._prev_done
                r = np.where(self._prev_done, 0.0, r)
            done = term | trunc
            if done.any() and not next_step and "_final_obs" in info:
                for i in np.flatnonzero(info["_final_obs"]):   # SAME_STEP: the true s' is in final_obs
                    next_b[t, i] = np.asarray(info["final_obs"][i], dtype=np.float32).reshape(-1)
            self._ep_ret += r
            self._ep_len += ~self._prev_done if next_step else 1
            if done.any():
                for i in np.flatnonzero(done):
                    self.history["episode_returns"].append(float(self._ep_ret[i]))
                    self.history["episode_lengths"].append(int(self._ep_len[i]))
                    self.history["episode_timesteps"].append(self.num_timesteps + (t + 1) * N)
                self._ep_ret[done], self._ep_len[done] = 0.0, 0
            if next_step:
                self._prev_done = done
            obs = nobs
        self._obs = obs
        self.num_timesteps += T * N
        return Rollout(obs_b, act_b, next_b, rew_b, term_b, trunc_b, valid_b, self.num_timesteps)

    def _train_rewards(self, ro: Rollout) -> np.ndarray:
        if self.reward_fn is None:
            return ro.rewards
        shape_o = (*ro.obs.shape[:2], *self._obs_shape)
        acts = ro.actions if self.discrete else ro.actions.reshape((*ro.actions.shape[:2], *self._act_shape))
        out = self.reward_fn(dataclasses.replace(ro, obs=ro.obs.reshape(shape_o), actions=acts,
                                                 next_obs=ro.next_obs.reshape(shape_o)))
        if isinstance(out, torch.Tensor):
            out = out.detach().cpu().numpy()
        out = np.asarray(out, dtype=np.float32)
        if out.size != ro.rewards.size:
            raise ValueError(f"reward_fn returned shape {out.shape}; it must return one reward per step, "
                             f"shape {ro.rewards.shape} (n_steps, n_envs)")
        out = out.reshape(ro.rewards.shape)
        if not np.isfinite(out).all():
            raise FloatingPointError("reward_fn returned NaN or inf rewards; check the learned reward model")
        return out

    @staticmethod
    def _raise_nan(**quantities) -> None:
        for name, x in quantities.items():
            if not np.isfinite(np.asarray(x.detach() if isinstance(x, torch.Tensor) else x)).all():
                raise FloatingPointError(
                    f"PPO update produced a non-finite {name}; lower learning_rate, check the observations and "
                    "rewards for NaN/inf, or keep max_grad_norm > 0")
        raise FloatingPointError("PPO update produced a non-finite loss")

    def learn(self, total_timesteps: int, progress_bar: bool = True) -> PPO:
        """Train for (at least) ``total_timesteps`` env steps, rounded up to whole rollouts of N·T steps.

        Schedules (``linear``) decay over this call's budget. The first call resets the env with ``seed``.
        Returns ``self``.
        """
        total_timesteps = check_positive_int(total_timesteps, "total_timesteps")
        if self.env is None:
            raise ValueError("this PPO has no env (it was loaded without one): PPO.load(path, env=...) to train it")
        with single_thread(self.config.torch_threads):
            self._learn(self.env, total_timesteps, progress_bar)
        return self

    def _learn(self, env: gym.vector.VectorEnv, total_timesteps: int, show: bool) -> None:
        c, N = self.config, env.num_envs
        self._autoreset = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if self._autoreset == AutoresetMode.DISABLED:
            raise ValueError("vector envs with autoreset_mode=DISABLED are not supported: use SAME_STEP or NEXT_STEP")
        if self._obs is None:
            obs, _ = env.reset(seed=c.seed)
            self._obs = obs.reshape(N, self._obs_dim).astype(np.float32)
            self._ep_ret, self._ep_len = np.zeros(N), np.zeros(N, dtype=np.int64)
            self._prev_done = np.zeros(N, dtype=bool)
        start_steps, t0 = self.num_timesteps, time.perf_counter()
        with progress_bar(total_timesteps, desc="PPO", enabled=show, unit="step") as bar:
            while self.num_timesteps - start_steps < total_timesteps:
                ro = self._collect()
                if self.callback is not None and self.callback(ro) is False:
                    break
                ro.train_rewards = self._train_rewards(ro)
                progress = max(0.0, 1.0 - (self.num_timesteps - start_steps) / total_timesteps)
                self.update(ro, progress)
                self.history["timesteps"].append(self.num_timesteps)
                self.history["wall_time"].append(time.perf_counter() - t0)
                bar.update(min(c.n_steps * N, total_timesteps - bar.n))
                if self.history["episode_returns"]:
                    bar.set_postfix(ret=f"{np.mean(self.history['episode_returns'][-20:]):.1f}", refresh=False)

    def _values(self, x: np.ndarray) -> np.ndarray:
        if self.config.backend == "numpy":
            return self._np_forward(self._np_critic, x)[-1][:, 0]
        with torch.no_grad():
            return self.critic(torch.from_numpy(x)).squeeze(1).numpy()

    def update(self, ro: Rollout, progress_remaining: float = 1.0) -> None:
        """One PPO update (K epochs of minibatch steps) on a collected rollout; appends to ``history``.

        ``ro.train_rewards`` (default ``ro.rewards``) are the rewards used; ``progress_remaining`` in [0, 1]
        drives the linear schedules. ``learn`` calls it; it is public for tests and custom loops.
        """
        c, h = self.config, self.history
        lr = linear_schedule_value(c.learning_rate, progress_remaining, c.lr_schedule)
        eps = linear_schedule_value(c.clip_range, progress_remaining, c.clip_schedule)
        ent_coef = linear_schedule_value(c.ent_coef, progress_remaining, c.ent_schedule)
        T, N = ro.rewards.shape
        obs = ro.obs.reshape(T * N, self._obs_dim)
        acts = ro.actions.reshape(T * N, *(() if self.discrete else (self._act_dim,)))
        values = self._values(obs)
        next_values = self._values(ro.next_obs.reshape(T * N, self._obs_dim))
        rewards = ro.rewards if ro.train_rewards is None else ro.train_rewards
        if not np.isfinite(rewards).all():
            raise FloatingPointError("the rollout's rewards contain NaN or inf; check the env or reward_fn")
        adv, ret = gae(rewards, values.reshape(T, N), next_values.reshape(T, N),
                       ro.terminated, ro.truncated, gamma=c.gamma, lam=c.gae_lambda)
        adv, ret = adv.reshape(-1), ret.reshape(-1)
        idx_valid = np.flatnonzero(ro.valid.reshape(-1))
        v_np, r_np = values[idx_valid], ret[idx_valid]
        var_r = r_np.var()
        h["explained_variance"].append(float("nan") if var_r == 0 else float(1 - np.var(r_np - v_np) / var_r))
        # what the minibatches are cut from: (obs, actions, old log π, advantages, returns), NumPy arrays for the
        # numpy backend, tensors sharing their memory for the torch backend
        sources: tuple[Any, ...]
        if c.backend == "numpy":
            old_logp = self._np_logp(self._np_forward(self._np_actor, obs)[-1], acts)[0]
            sources = (obs, acts, old_logp, adv, ret)
            step = self._np_step
        else:
            obs_t, acts_t = torch.from_numpy(obs), torch.from_numpy(acts)
            with torch.no_grad():
                old_logp_t = self.policy.log_prob_entropy(obs_t, acts_t)[0]
            sources = (obs_t, acts_t, old_logp_t, torch.from_numpy(adv), torch.from_numpy(ret))
            for g in self.optimizer.param_groups:
                g["lr"] = lr
            step = self._torch_step
        n_batches = max(1, math.ceil(len(idx_valid) / c.batch_size))
        stats, n_mb = np.zeros(5), 0   # sums of policy loss, value loss, entropy, approx KL, clip fraction
        for _ in range(c.n_epochs):
            for mb in np.array_split(self._rng.permutation(idx_valid), n_batches):
                idx = torch.from_numpy(mb) if c.backend == "torch" else mb
                o, a, lp, ad, r = (x[idx] for x in sources)
                s = step(o, a, lp, ad, r, eps, lr, ent_coef)
                stats += s
                n_mb += 1
                if c.target_kl is not None and s[3] > 1.5 * c.target_kl:
                    break
            else:
                continue
            break
        for k, x in zip(("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"), stats / n_mb):
            h[k].append(float(x))
        h["learning_rate"].append(lr)
        h["clip_range"].append(eps)
        h["ent_coef"].append(ent_coef)

    def minibatch_step(self, obs, actions, old_log_prob, advantages, returns, clip_range: float,
                       learning_rate: float, ent_coef: float = 0.0) -> np.ndarray:
        """One gradient step of the configured backend on a minibatch (what :meth:`update` repeats).

        Args:
            obs: ``(B, obs_dim)`` float32 flat observations.  actions: ``(B,)`` int64 or ``(B, act_dim)`` float32.
            old_log_prob: ``(B,)`` log π_θold(a|s) (the policy that collected the rollout).
            advantages, returns: ``(B,)`` Â_t (standardized here if ``normalize_advantage``) and R̂_t.
            clip_range: ε.  learning_rate: Adam's step size.  ent_coef: c_e.

        Returns:
            ``(5,)`` float64: policy loss ``-L^CLIP``, value loss, entropy, approximate KL, clip fraction.
        """
        if self.config.backend == "torch":
            o, a, lp, ad, r = (x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
                               for x in (obs, actions, old_log_prob, advantages, returns))
            for g in self.optimizer.param_groups:
                g["lr"] = learning_rate
            return self._torch_step(o, a, lp, ad, r, clip_range, learning_rate, ent_coef)
        o_np, a_np, lp_np, ad_np, r_np = (np.asarray(x) for x in (obs, actions, old_log_prob, advantages, returns))
        return self._np_step(o_np, a_np, lp_np, ad_np, r_np, clip_range, learning_rate, ent_coef)

    def _torch_step(self, obs, acts, old_logp, adv, ret, eps: float, lr: float, ent_coef: float) -> np.ndarray:
        """One minibatch step with torch autograd: the readable reference of :meth:`_np_step`."""
        c = self.config
        loss, t = ppo_loss(self.policy, obs, acts, old_logp, adv, ret, eps, c.vf_coef, ent_coef, c.normalize_advantage)
        pg_loss, v_loss, ent, ratio, log_ratio = t["policy_loss"], t["value_loss"], t["entropy"], t["ratio"], t["log_ratio"]
        if not torch.isfinite(loss):
            self._raise_nan(advantages=t["advantages"], returns=ret, log_ratio=log_ratio, values=t["values"],
                            policy_loss=pg_loss, value_loss=v_loss, entropy=ent)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if c.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(self._params, c.max_grad_norm)
        self.optimizer.step()
        with torch.no_grad():
            approx_kl = ((ratio - 1) - log_ratio).mean()                            # KL(π_old || π_θ) estimate
            clip_frac = ((ratio - 1).abs() > eps).float().mean()
        return np.array([pg_loss.item(), v_loss.item(), ent.item(), approx_kl.item(), clip_frac.item()])

    def _np_step(self, obs, acts, old_logp, adv, ret, eps: float, lr: float, ent_coef: float) -> np.ndarray:
        """The same minibatch step as :meth:`_torch_step`, with hand-written gradients in NumPy (float32).

        Tested against torch autograd; about twice as fast for the small MLPs PPO uses.
        """
        c, B = self.config, len(obs)
        ha = self._np_forward(self._np_actor, obs)
        hc = self._np_forward(self._np_critic, obs)
        v = hc[-1][:, 0]
        logp, entropy, aux = self._np_logp(ha[-1], acts)
        if c.normalize_advantage and B > 1:
            adv = (adv - adv.mean()) / (adv.std(ddof=1) + 1e-8)
        log_ratio = logp - old_logp
        ratio = np.exp(log_ratio)                                                   # ρ_t = π_θ / π_θold
        surr1, surr2 = ratio * adv, np.clip(ratio, 1 - eps, 1 + eps) * adv
        pg_loss = -np.minimum(surr1, surr2).mean()                                  # -L^CLIP
        v_err = v - ret
        v_loss = (v_err * v_err).mean()                                             # (V_θ(s_t) - R̂_t)²
        ent = entropy.mean()                                                        # H(π_θ(·|s_t))
        loss = pg_loss + c.vf_coef * v_loss - ent_coef * ent
        if not np.isfinite(loss):
            self._raise_nan(advantages=adv, returns=ret, log_ratio=log_ratio, values=v,
                            policy_loss=pg_loss, value_loss=v_loss, entropy=ent)
        # dL/d log π(a_t|s_t): -ρ_t Â_t / B where the unclipped term is the minimum, else 0
        d_logp = np.where(surr1 <= surr2, -adv * ratio / B, 0.0).astype(np.float32)
        if self.discrete:
            p, logp_all = aux
            d_out = -p * d_logp[:, None]                                            # d log π / d logits = 1[a] - p
            d_out[np.arange(B), acts] += d_logp
            if ent_coef:
                d_out += (ent_coef / B) * p * (logp_all + entropy[:, None])        # -c_e dH/dlogits
        else:
            z = aux
            assert self._np_log_std is not None                 # Box actions
            sig_inv = np.exp(-self._np_log_std[0])
            d_out = (d_logp[:, None] * z * sig_inv).astype(np.float32)              # d log π / dμ = z / σ
            g_log_std = self._np_log_std[1]
            np.sum(d_logp[:, None] * (z * z - 1.0), axis=0, out=g_log_std)         # d log π / d log σ = z² - 1
            g_log_std -= ent_coef                                                 # dH/d log σ = 1
        self._np_backward(self._np_actor, self._np_actor_g, ha, d_out)
        self._np_backward(self._np_critic, self._np_critic_g, hc, (2.0 * c.vf_coef / B) * v_err[:, None])
        g = self._flat_grad
        if c.max_grad_norm > 0:
            norm = float(np.sqrt(g @ g))
            if norm > c.max_grad_norm:
                g *= c.max_grad_norm / (norm + 1e-6)                                 # clip the global norm
        self._adam_t += 1                                                            # Adam (torch's formulas)
        m, s2, t = self._adam_m, self._adam_v, self._adam_t
        m *= 0.9
        m += 0.1 * g
        s2 *= 0.999
        s2 += 0.001 * g * g
        denom = np.sqrt(s2) / math.sqrt(1 - 0.999 ** t) + 1e-5
        self._flat -= (lr / (1 - 0.9 ** t)) * m / denom
        approx_kl = ((ratio - 1) - log_ratio).mean()                                # KL(π_old || π_θ) estimate
        clip_frac = (np.abs(ratio - 1) > eps).mean()
        return np.array([pg_loss, v_loss, ent, approx_kl, clip_frac], dtype=np.float64)

    # ---------------------------------------------------------------- persistence
    def save(self, path) -> None:
        """Save networks, hyperparameters and spaces atomically, checksummed and pickle-free (``genrl_lib.io``).

        A trained agent also saves what resuming needs: Adam's state (both backends), the step count, the random
        generator and the episodes in progress (current observations, returns and lengths so far); see :meth:`load`.
        """
        state = self.policy.nested_state()
        meta = {"config": asdict(self.config), "observation_space": space_to_json(self.observation_space),
                "action_space": space_to_json(self.action_space), "num_timesteps": self.num_timesteps}
        if self.num_timesteps > 0:
            state["adam"] = {"m": torch.from_numpy(self._adam_m.copy()), "v": torch.from_numpy(self._adam_v.copy()),
                             "torch": self.optimizer.state_dict()}
            meta["resume"] = {"adam_t": self._adam_t, "rng": self._rng.bit_generator.state}
            if self._obs is not None:
                state["episodes"] = {"obs": torch.from_numpy(self._obs.copy()), "ret": torch.from_numpy(self._ep_ret.copy()),
                                     "len": torch.from_numpy(self._ep_len.copy()),
                                     "prev_done": torch.from_numpy(self._prev_done.copy())}
        save_torch(path, _KIND, state, meta)

    @classmethod
    def load(cls, path, env=None, *, continue_episodes: bool = False, **kwargs) -> PPO:
        """Load a saved agent (``torch.load(weights_only=True)``); pass ``env`` to keep training it.

        A trained agent continues with its Adam state, step count and random generator. ``continue_episodes=True``
        also continues the episodes that were in progress at save time: pass the env in the state it had then (the
        same object, or a ``copy.deepcopy`` taken at save time); ``save`` -> ``load`` -> ``learn`` then gives the same
        weights as an uninterrupted run. By default the env is reset (seeded with ``config.seed``) at the next learn.
        """
        continue_episodes = check_bool(continue_episodes, "continue_episodes")
        state, meta = load_torch(path, _KIND)
        cfg = meta["config"]
        cfg["net_arch"] = tuple(cfg["net_arch"])
        agent = cls(None, PPOConfig(**cfg), observation_space=space_from_json(meta["observation_space"]),
                    action_space=space_from_json(meta["action_space"]), **kwargs)
        agent.policy.load_nested_state(state)
        agent.num_timesteps = int(meta.get("num_timesteps", 0))
        if "resume" in meta:
            agent._adam_m[:], agent._adam_v[:] = state["adam"]["m"].numpy(), state["adam"]["v"].numpy()
            agent.optimizer.load_state_dict(state["adam"]["torch"])
            agent._adam_t = int(meta["resume"]["adam_t"])
            agent._rng.bit_generator.state = meta["resume"]["rng"]
        if continue_episodes:
            if env is None or "episodes" not in state:
                raise ValueError(f"continue_episodes=True needs an env and a file saved during training; {path} "
                                 f"{'has no episodes in progress' if 'episodes' not in state else 'was loaded without env'}")
            e = state["episodes"]
            agent._obs, agent._ep_ret, agent._ep_len = e["obs"].numpy(), e["ret"].numpy(), e["len"].numpy()
            agent._prev_done = e["prev_done"].numpy()
        if env is not None:
            agent.env, agent._own_env, n = cls._as_vec_env(env, agent.config, False)
            agent.config.n_envs = n
            agent.config.validate()
            if (agent.env.single_observation_space.shape != agent.observation_space.shape
                    or agent.env.single_action_space != agent.action_space):
                raise ValueError("env's spaces differ from the saved agent's: load with an env of the same task")
            if continue_episodes and agent._obs is not None and len(agent._obs) != n:   # (set just above)
                raise ValueError(f"continue_episodes=True: {path} has {len(agent._obs)} episodes in progress, the env "
                                 f"has {n} copies")
        return agent

    def close(self) -> None:
        """Close the vector env if this agent made it."""
        if self._own_env and self.env is not None:
            self.env.close()
