"""Generative adversarial imitation learning (GAIL, Ho & Ermon, 2016), built on :class:`genrl_lib.ppo.PPO`.

The thesis (seed 000) writes imitation as ``RL∘IRL_ψ(π_E) = argmin_π −H(π) + ψ*(ρ_π − ρ_{π_E})``; with the GA
regularizer ψ_GA the conjugate ψ* is the optimal negative log-loss of a binary classifier, so GAIL finds a saddle
point of

    max_ω min_θ   E_{π_θ}[log D_ω(s,a)] + E_{π_E}[log(1 − D_ω(s,a))] − λ H(π_θ),

where ``D_ω(s,a) ∈ (0, 1)`` is the probability that ``(s, a)`` was produced by the *learner* (the thesis's and the
paper's convention: ``D → 1`` on the policy, ``D → 0`` on the expert). Each iteration (seed 000):

1. sample trajectories τ_i ~ π_θi (one PPO rollout of ``n_envs × n_steps`` steps);
2. a gradient step on ω that raises  Ê_{τ_i}[log D_ω(s,a)] + Ê_{τ_E}[log(1 − D_ω(s,a))];
3. a policy step (PPO here; TRPO in the paper) on the reward computed from ``D_ω``.

Reward forms (``reward=``), with ``z = logit D_ω(s,a)`` so ``D = σ(z)``:

* ``"positive"``: ``r = −log D = softplus(−z) > 0``, the literal cost of the saddle point. Strictly positive: on a
  task whose episodes end when the agent fails (CartPole), it pays for *surviving*, whatever ``D`` says.
* ``"negative"``: ``r = log(1 − D) = −softplus(z) < 0``. Strictly negative: it pays for *ending* episodes early.
* ``"logit"`` (default): ``r = log(1 − D) − log D = −z``, the sum of the two; positive where ``(s, a)`` looks like
  the expert, negative elsewhere, no built-in sign. The book measures the bias of the other two with
  ``freeze_discriminator=True`` (an untrained ``D``: any success is then the reward's bias, not imitation).

Inputs: Discrete observations are one-hot encoded (Taxi: 500 → a 500-vector) and Discrete actions are one-hot in
``D``'s input. With ``obs_encoding="factored", obs_factors=(5, 5, 5, 4)`` a Discrete state is instead read as a tuple
of small variables (Taxi: taxi row, column, passenger location, destination; :func:`genrl_lib.nets.factored_one_hot`)
and encoded by one one-hot block per variable (19 inputs): the networks can then share what they learn across
states with a common variable, where the plain one-hot makes every unseen state a guess. ``"one_hot+factored"``
concatenates both (519 inputs on Taxi): a per-state table plus shared features. Box observations may be standardized with ``normalize_obs=True`` (mean and standard deviation of the
demonstrations, or your own ``obs_shift``/``obs_scale``): both ``D`` and the policy then see
``(s − shift) / scale``, which matters for raw sensor observations of very different scales.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from genrl_lib.bc import BCConfig, behaviour_clone
from genrl_lib.checks import check_bool, check_number, check_obs_encoding, reject_old_names, renamed, upgrade_config
from genrl_lib.demonstrations import Demonstrations, check_demonstrations
from genrl_lib.envs import spaces_of
from genrl_lib.io import load_torch, save_torch, space_from_json, space_to_json
from genrl_lib.nets import ObsEncoder, action_dim, check_factors, check_obs, check_sizes, check_space, mlp
from genrl_lib.ppo import PPO, PPOConfig, make_vec_env
from genrl_lib.seeding import check_seed

__all__ = ["GAILConfig", "Config", "GAIL", "ObsEncoder", "REWARDS", "check_demonstrations", "disc_reward",
           "discriminator_loss", "spaces_of"]

_KIND = "gail"
REWARDS = ("logit", "positive", "negative")


@renamed(disc_hidden="disc_net_arch", disc_lr="disc_learning_rate")
@dataclass
class GAILConfig:
    """GAIL's own hyperparameters (PPO's live in :class:`genrl_lib.ppo.PPOConfig`).

    Attributes:
        reward: ``"logit"`` (``−logit D``), ``"positive"`` (``−log D``) or ``"negative"`` (``log(1 − D)``).
        disc_net_arch, disc_activation: the discriminator MLP ``(B, obs_dim + act_dim) -> (B, 1)`` logits.
        disc_learning_rate: Adam step size of ``D_ω``. (``disc_net_arch`` and ``disc_learning_rate`` were
            ``disc_hidden`` and ``disc_lr``: SB3's names with the discriminator's prefix.)
        disc_steps: gradient steps on ``D_ω`` per iteration (the thesis: one).
        disc_batch_size: policy and expert samples per step (``None``: the whole rollout, and as many expert
            transitions drawn with replacement).
        grad_penalty: weight of a gradient penalty ``E‖∇_x z(x)‖²`` on inputs interpolated between policy and expert
            pairs (0 = off; 10 as in Kostrikov et al., 2019). It keeps ``D`` smooth so it cannot separate the two
            sets perfectly and the reward does not saturate; without it 5 of 15 CartPole benchmark runs collapsed.
        absorbing: model the end of an episode as an absorbing state ``s_∅`` (Kostrikov et al., 2019) that ``D_ω``
            also judges: a terminal transition then earns ``r_t + γ/(1−γ)·r(s_∅)``, the return of staying in
            ``s_∅`` forever. If the expert never terminates (CartPole) ``D`` learns that ``s_∅`` is the learner's,
            so ending is penalized by the data, not by the reward's sign; ``False`` is plain GAIL (termination
            is worth exactly 0 after it, the hidden bias the reward's sign then decides).
        freeze_discriminator: never train ``D_ω`` (the control experiment for the reward's bias).
        normalize_obs: standardize Box observations with the demonstrations' mean and std (for ``D`` and policy).
        obs_encoding: Discrete observations only, for ``D`` and the policy: ``"one_hot"`` (default), ``"factored"``
            (one one-hot block per variable of ``obs_factors``) or ``"one_hot+factored"`` (both, concatenated).
        obs_factors: with a factored encoding, the sizes of the variables a Discrete state index encodes, most
            significant first (``genrl_lib.nets.TAXI_FACTORS`` for Taxi-v4); ``None`` otherwise.
        seed: seeds ``D_ω``'s initialization and the expert minibatches (PPO's ``seed`` is set to the same).
    """

    reward: str = "logit"
    disc_net_arch: tuple[int, ...] = (64, 64)
    disc_activation: str = "tanh"
    disc_learning_rate: float = 3e-4
    disc_steps: int = 1
    disc_batch_size: int | None = None
    grad_penalty: float = 10.0
    absorbing: bool = True
    freeze_discriminator: bool = False
    normalize_obs: bool = False
    obs_encoding: str = "one_hot"
    obs_factors: tuple[int, ...] | None = None
    seed: int = 0

    def validate(self) -> GAILConfig:
        """Check every field; raise ``ValueError`` naming the bad one. Returns ``self``."""
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")
        self.disc_learning_rate = check_number(self.disc_learning_rate, "disc_learning_rate", low=0.0, low_open=True)
        if isinstance(self.disc_steps, bool) or not isinstance(self.disc_steps, int) or self.disc_steps < 1:
            raise ValueError(f"disc_steps must be a positive int, got {self.disc_steps!r}")
        if self.disc_batch_size is not None and (not isinstance(self.disc_batch_size, int) or self.disc_batch_size < 1):
            raise ValueError(f"disc_batch_size must be a positive int or None, got {self.disc_batch_size!r}")
        self.grad_penalty = check_number(self.grad_penalty, "grad_penalty", low=0.0)
        for name in ("absorbing", "freeze_discriminator", "normalize_obs"):
            setattr(self, name, check_bool(getattr(self, name), name))
        self.disc_net_arch = check_sizes(self.disc_net_arch, "disc_net_arch")
        check_obs_encoding(self.obs_encoding, self.obs_factors)
        if self.obs_factors is not None:     # the product is checked against the env's space by ObsEncoder
            self.obs_factors = check_factors(self.obs_factors)
        check_seed(self.seed)
        return self


Config = GAILConfig   # deprecated alias: the name before the rename


def disc_reward(logits: torch.Tensor, form: str) -> torch.Tensor:
    """Reward from discriminator logits ``z = logit D`` (any shape), ``D`` = P(learner):
    ``logit``: ``−z``; ``positive``: ``−log σ(z)``; ``negative``: ``log(1 − σ(z))``."""
    if form == "logit":
        return -logits
    if form == "positive":
        return nn.functional.softplus(-logits)      # −log D
    if form == "negative":
        return -nn.functional.softplus(logits)      # log(1 − D)
    raise ValueError(f"reward must be one of {REWARDS}, got {form!r}")


def _wrap_env(env, enc: ObsEncoder, n_envs: int | None):
    """The env the policy trains in: observations encoded by ``enc`` (a no-op when ``enc.identity``)."""
    if enc.identity:
        return env
    wrap = lambda e: gym.wrappers.TransformObservation(e, enc.encode_one, enc.encoded_space)  # noqa: E731
    if isinstance(env, str):
        return make_vec_env(env, n_envs or 1, wrappers=[wrap])
    if isinstance(env, gym.vector.VectorEnv):
        raise ValueError("observation encoding (Discrete observations or normalize_obs) needs an env id or a single "
                         "gym.Env, so that each copy encodes its own final observation; pass the id instead")
    return wrap(env)


def _split_hyperparameters(hp: dict) -> tuple[dict, dict]:
    reject_old_names(hp, GAILConfig, "GAIL")
    mine = {f.name for f in dataclasses.fields(GAILConfig)}
    ppo = {f.name for f in dataclasses.fields(PPOConfig)}
    bad = sorted(set(hp) - mine - ppo)
    if bad:
        raise TypeError(f"unknown GAIL/PPO hyperparameter(s) {bad}; GAIL's: {sorted(mine)}; PPO's: {sorted(ppo)}")
    return {k: v for k, v in hp.items() if k in mine}, {k: v for k, v in hp.items() if k in ppo and k not in mine}


def discriminator_loss(discriminator: nn.Module, policy_x: torch.Tensor, expert_x: torch.Tensor,
                       grad_penalty: float = 0.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""The discriminator's loss on one batch: GAIL's step 2, as a minimization.

    ``D_ω(s, a) = σ(z_ω(s, a))`` is the probability that ``(s, a)`` came from the LEARNER. The discriminator
    ascends ``Ê_π[log D_ω(s,a)] + Ê_πE[log(1 − D_ω(s,a))]``, i.e. descends

        L(ω) = −(1/B) Σ_i log σ(z_ω(x_i^π)) − (1/B) Σ_i log(1 − σ(z_ω(x_i^E)))
               + λ_GP · (1/B) Σ_i ‖∇_x z_ω(x̂_i)‖²,      x̂_i = u_i x_i^π + (1 − u_i) x_i^E,  u_i ~ U(0, 1),

    binary cross-entropy with label 1 on the policy's pairs and 0 on the expert's, plus the gradient penalty
    (Kostrikov et al., 2019) when ``grad_penalty = λ_GP > 0`` (it draws ``u`` from torch's global generator).

    Args:
        discriminator: ``(B, in_dim) -> (B, 1)`` logits ``z_ω``.
        policy_x, expert_x: ``(B, in_dim)`` inputs (encoded state, action, absorbing flag) of the learner's and
            the expert's pairs (the same ``B`` when ``grad_penalty > 0``).

    Returns:
        ``(loss, z_policy (B,), z_expert (B,))``; ``loss`` is differentiable w.r.t. ``ω``.
    """
    z_p, z_e = discriminator(policy_x).squeeze(1), discriminator(expert_x).squeeze(1)
    # maximize E_π[log D] + E_πE[log(1 − D)]  <=>  minimize BCE(D(policy), 1) + BCE(D(expert), 0)
    bce = nn.functional.binary_cross_entropy_with_logits
    loss = bce(z_p, torch.ones_like(z_p)) + bce(z_e, torch.zeros_like(z_e))
    if grad_penalty > 0:
        u = torch.rand(len(policy_x), 1)
        xi = (u * policy_x + (1 - u) * expert_x).requires_grad_(True)
        g = torch.autograd.grad(discriminator(xi).sum(), xi, create_graph=True)[0]
        loss = loss + grad_penalty * g.pow(2).sum(dim=1).mean()
    return loss, z_p, z_e


class GAIL:
    """GAIL: a discriminator ``D_ω(s, a)`` and a PPO policy ``π_θ`` trained against each other.

    Args:
        env: an env id (a vector env of ``n_envs`` copies is made), a ``gym.Env`` (``n_envs=1``) or a ``VectorEnv``
            with Box observations. Discrete or Box observations; Discrete or Box actions.
        demonstrations: expert :class:`~genrl_lib.demonstrations.Demonstrations` recorded in ``env``'s spaces.
        config: a :class:`GAILConfig`; ``ppo_config``: a :class:`genrl_lib.ppo.PPOConfig`.
        obs_shift, obs_scale: optional ``(obs_dim,)`` arrays for Box observations (overrides ``normalize_obs``).
        **hyperparameters: fields of either config (``reward="logit"``, ``n_steps=32``, ``seed=1``, ...).
            ``seed`` seeds both.

    Attributes:
        ppo: the :class:`~genrl_lib.ppo.PPO` learner (``ppo.history`` has its diagnostics).
        discriminator: torch MLP ``(B, obs_dim + act_dim) -> (B, 1)``, logits of ``D_ω`` = P(learner).
        history: per iteration ``timesteps``, ``disc_loss``, ``disc_acc_expert`` (fraction of expert samples with
            ``D < 1/2``), ``disc_acc_policy`` (policy samples with ``D > 1/2``), ``reward_mean``; and, shared with
            ``ppo.history``, the TRUE env ``episode_returns``, ``episode_lengths``, ``episode_timesteps``.
    """

    def __init__(self, env, demonstrations: Demonstrations | None, config: GAILConfig | None = None, *,
                 ppo_config: PPOConfig | None = None, obs_shift=None, obs_scale=None,
                 observation_space: gym.Space | None = None, action_space: gym.Space | None = None,
                 **hyperparameters):
        mine, ppo_hp = _split_hyperparameters(hyperparameters)
        if "seed" in mine:
            ppo_hp["seed"] = mine["seed"]
        self.config = dataclasses.replace(config or GAILConfig(), **mine).validate()
        ppo_cfg = dataclasses.replace(ppo_config or PPOConfig(), **ppo_hp)
        if ppo_config is None:
            ppo_cfg.seed = self.config.seed          # one seed for D_ω and π_θ unless a PPO config says otherwise
        if env is None:                              # acting only (GAIL.load without env): spaces are enough
            if observation_space is None or action_space is None or demonstrations is not None:
                raise ValueError("env=None builds a GAIL that only acts: pass observation_space and action_space and "
                                 "no demonstrations (to train, pass an env and demonstrations)")
            self.demonstrations, obs_space, act_space = None, observation_space, action_space
        else:
            self.demonstrations = check_demonstrations(demonstrations, env)
            obs_space, act_space = spaces_of(env)
        fac: dict[str, Any] = dict(factors=self.config.obs_factors,
                                   keep_one_hot=self.config.obs_encoding == "one_hot+factored")
        if obs_shift is not None or obs_scale is not None:
            enc = ObsEncoder(obs_space, obs_shift, obs_scale, **fac)
        elif self.config.normalize_obs:
            if self.demonstrations is None:
                raise ValueError("normalize_obs=True without demonstrations: pass obs_shift and obs_scale")
            enc = ObsEncoder.fit(obs_space, self.demonstrations.observations, **fac)
        else:
            enc = ObsEncoder(obs_space, **fac)
        hooks: dict[str, Any] = dict(reward_fn=self._reward, callback=self._on_rollout)
        self._no_env, self._own_env = env is None, False
        if env is None:
            ppo = PPO(None, ppo_cfg, observation_space=enc.encoded_space, action_space=act_space, **hooks)
        else:
            n_envs = ppo_cfg.n_envs if isinstance(env, str) else None
            kw: dict[str, Any] = {"n_envs": ppo_cfg.n_envs} if "n_envs" in ppo_hp else {}
            wrapped = _wrap_env(env, enc, n_envs)
            self._own_env = isinstance(env, str) and wrapped is not env   # GAIL made the vector env: it closes it
            ppo = PPO(wrapped, ppo_cfg, **hooks, **kw)
        self._setup(ppo, enc, act_space)
        if self.demonstrations is not None:
            self._encode_demonstrations()

    # ---------------------------------------------------------------- construction
    def _setup(self, ppo: PPO, enc: ObsEncoder, act_space: gym.Space) -> None:
        self.ppo, self.encoder, self.observation_space, self.action_space = ppo, enc, enc.space, act_space
        check_space(act_space, "action_space", (gym.spaces.Discrete, gym.spaces.Box))
        self.discrete_actions = isinstance(act_space, gym.spaces.Discrete)
        self._act_dim = action_dim(act_space)
        # the first action of a Discrete space (D's one-hot starts there); 0 for Box actions, which are not shifted
        self._action_start = int(act_space.start) if isinstance(act_space, gym.spaces.Discrete) else 0
        c = self.config
        torch.manual_seed(c.seed)
        self.discriminator = mlp(enc.dim + self._act_dim + 1, 1, c.disc_net_arch, c.disc_activation)
        self.disc_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=c.disc_learning_rate)
        self._rng = np.random.default_rng(c.seed + 7919)
        self._user_callback: Callable | None = None
        # lists, one entry per iteration (and pretrain's "bc_pretrain": behaviour cloning's own history dict)
        self.history: dict[str, Any] = {k: [] for k in
                                         ("timesteps", "disc_loss", "disc_acc_expert", "disc_acc_policy", "reward_mean")}
        for k in ("episode_returns", "episode_lengths", "episode_timesteps"):
            self.history[k] = ppo.history[k]          # the same list: TRUE env returns

    def _encode_demonstrations(self) -> None:
        d = self.demonstrations
        assert d is not None                           # called only when there are demonstrations
        x = self._disc_input(self.encoder(d.observations), d.actions, raw_actions=True)
        if self.config.absorbing:   # one s_∅ sample per terminal transition (subsampling keeps the proportion)
            x = torch.cat([x, self._absorbing_input(int(np.sum(d.terminations)))])
        self._expert_x = x

    def _absorbing_input(self, k: int) -> torch.Tensor:
        """``(k, in_dim)`` inputs of the absorbing state: zeros with the last (absorbing-flag) feature 1."""
        x = torch.zeros(k, self.encoder.dim + self._act_dim + 1)
        x[:, -1] = 1.0
        return x

    def _disc_input(self, enc_obs: np.ndarray, actions, raw_actions: bool = False) -> torch.Tensor:
        """``(B, obs_dim + act_dim + 1)`` input of ``D``: encoded observations, one-hot (Discrete) or flat actions,
        and an absorbing-state flag (0 here)."""
        x = torch.as_tensor(np.asarray(enc_obs, np.float32)).reshape(-1, self.encoder.dim)
        if self.discrete_actions:
            a = torch.as_tensor(np.asarray(actions), dtype=torch.long).reshape(-1)
            if raw_actions:
                a = a - self._action_start
            a = nn.functional.one_hot(a, self._act_dim).float()
        else:
            a = torch.as_tensor(np.asarray(actions, np.float32)).reshape(len(x), self._act_dim)
        return torch.cat([x, a, torch.zeros(len(x), 1)], dim=1)

    # ---------------------------------------------------------------- the two hooks of PPO
    def _on_rollout(self, ro) -> bool | None:
        """After each rollout, before PPO's update: the discriminator step (2. in the module docstring)."""
        c = self.config
        valid = ro.valid.reshape(-1)
        pol_x = self._disc_input(ro.obs.reshape(-1, self.encoder.dim)[valid], ro.actions.reshape(len(valid), -1)[valid])
        if c.absorbing:
            pol_x = torch.cat([pol_x, self._absorbing_input(int((ro.terminated & ro.valid).sum()))])
        loss = acc_e = acc_p = float("nan")
        for _ in range(c.disc_steps):
            b = c.disc_batch_size or len(pol_x)
            px = pol_x[torch.from_numpy(self._rng.integers(len(pol_x), size=b))] if c.disc_batch_size else pol_x
            ex = self._expert_x[torch.from_numpy(self._rng.integers(len(self._expert_x), size=b))]
            loss_t, z_p, z_e = discriminator_loss(self.discriminator, px, ex, c.grad_penalty)
            if not c.freeze_discriminator:
                self.disc_optimizer.zero_grad(set_to_none=True)
                loss_t.backward()
                self.disc_optimizer.step()
            loss = float(loss_t.item())
            acc_p, acc_e = float((z_p > 0).float().mean()), float((z_e < 0).float().mean())
        h = self.history
        h["timesteps"].append(int(ro.timesteps))
        h["disc_loss"].append(loss)
        h["disc_acc_expert"].append(acc_e)
        h["disc_acc_policy"].append(acc_p)
        if self._user_callback is not None and self._user_callback(self) is False:
            return False
        return None

    def _reward(self, ro) -> np.ndarray:
        """PPO's ``reward_fn``: the learned reward of the rollout it is handed (:meth:`rollout_reward`)."""
        r = self.rollout_reward(ro.obs, ro.actions, ro.terminated & ro.valid)
        self.history["reward_mean"].append(float(r.mean()))
        return r

    def rollout_reward(self, obs, actions, terminated) -> np.ndarray:
        """The learned reward of a rollout, a function of its arguments and ``D_ω`` only.

        ``r_t = reward(z_t)`` with ``z_t = logit D_ω(s_t, a_t)`` (the ``reward`` form of the config), plus, with
        ``absorbing=True``, ``Σ_{k≥1} γ^k r(s_∅) = γ/(1−γ)·r(s_∅)`` at each terminal step (the absorbing state's
        return: the episode does not end for the learner, it stays in ``s_∅``).

        Args:
            obs: ``(T, N, obs_dim)`` encoded observations (as the policy sees them).
            actions: ``(T, N)`` action indices (Discrete, from 0) or ``(T, N, act_dim)``.
            terminated: ``(T, N)`` bool, the steps after which the episode terminated (not truncated).

        Returns:
            ``(T, N)`` float32 rewards.
        """
        obs, terminated = np.asarray(obs, np.float32), np.asarray(terminated, bool)
        T, N = terminated.shape
        if obs.shape[:2] != (T, N):
            raise ValueError(f"obs has shape {obs.shape} but terminated {terminated.shape}: both must start with "
                             "(n_steps, n_envs)")
        with torch.no_grad():
            z = self.discriminator(self._disc_input(obs.reshape(T * N, -1),
                                                    np.asarray(actions).reshape(T * N, -1))).squeeze(1)
        r = disc_reward(z, self.config.reward).numpy().reshape(T, N)
        if self.config.absorbing and terminated.any():
            with torch.no_grad():
                r_abs = float(disc_reward(self.discriminator(self._absorbing_input(1)), self.config.reward))
            g = self.ppo.config.gamma
            r = r + terminated * (r_abs * g / (1.0 - g) if g < 1 else 0.0)   # Σ_k≥1 γ^k r(s_∅)
        return r

    def reward(self, observations, actions) -> np.ndarray:
        """The learned reward of raw env ``observations (B, *obs_shape)`` and ``actions (B[, *act_shape])`` -> ``(B,)``."""
        with torch.no_grad():
            z = self.discriminator(self._disc_input(self.encoder(observations), actions, raw_actions=True)).squeeze(1)
        return disc_reward(z, self.config.reward).numpy()

    def discriminate(self, observations, actions) -> np.ndarray:
        """``D_ω(s, a)`` = P(learner) for raw ``observations (B, *obs_shape)`` and ``actions`` -> ``(B,)``."""
        with torch.no_grad():
            z = self.discriminator(self._disc_input(self.encoder(observations), actions, raw_actions=True)).squeeze(1)
        return torch.sigmoid(z).numpy()

    # ---------------------------------------------------------------- SB3 verbs
    def learn(self, total_timesteps: int, progress_bar: bool = True, callback: Callable | None = None) -> GAIL:
        """Run GAIL iterations (one PPO rollout each) for at least ``total_timesteps`` env steps.

        ``callback(gail)`` runs after each iteration's discriminator step; returning ``False`` stops.
        Returns ``self``.
        """
        if self._no_env:
            raise ValueError("this GAIL was loaded without an env: GAIL.load(path, env=..., demonstrations=...) to train")
        self._user_callback = callback
        try:
            self.ppo.learn(total_timesteps, progress_bar=progress_bar)
        finally:
            self._user_callback = None
        return self

    def pretrain(self, progress_bar: bool = False, **bc_hyperparameters) -> GAIL:
        """Initialize the policy by behaviour cloning on the demonstrations (:func:`genrl_lib.bc.behaviour_clone`,
        ``bc_hyperparameters`` = fields of :class:`genrl_lib.bc.BCConfig`, ``seed`` defaults to GAIL's). Returns ``self``."""
        if self.demonstrations is None:
            raise ValueError("this GAIL was loaded without demonstrations: GAIL.load(path, env=..., demonstrations=...)")
        bc_hyperparameters.setdefault("seed", self.config.seed)
        d = self.demonstrations
        self.history["bc_pretrain"] = behaviour_clone(self.ppo.policy, self.encoder(d.observations), d.actions,
                                                      BCConfig(**bc_hyperparameters), progress_bar)
        return self

    @property
    def num_timesteps(self) -> int:
        """Env steps collected so far."""
        return self.ppo.num_timesteps

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """Actions for one raw observation or a batch ``(B, *obs_shape)`` (Discrete: ``(B,)`` ints) -> ``(action, None)``."""
        batch, single = check_obs(observation, self.encoder.space)
        x = self.encoder(batch)
        a, _ = self.ppo.predict(x, deterministic=deterministic)
        return (a[0].item() if self.discrete_actions else a[0]) if single else a, None

    def save(self, path) -> None:
        """Save policy, critic, discriminator, encoder and both configs atomically and pickle-free."""
        p = self.ppo
        state = {**p.policy.nested_state(), "discriminator": self.discriminator.state_dict(),
                 "obs_shift": torch.from_numpy(self.encoder.shift.copy()),
                 "obs_scale": torch.from_numpy(self.encoder.scale.copy())}
        meta = {"config": asdict(self.config), "ppo_config": asdict(p.config),
                "observation_space": space_to_json(self.observation_space),
                "action_space": space_to_json(self.action_space), "num_timesteps": p.num_timesteps,
                "demonstrations": None if (d := self.demonstrations) is None else {
                    "env_id": d.env_id, "n_transitions": len(d), "n_episodes": d.n_episodes,
                    "subsample_every": d.subsample_every}}   # None: an agent loaded to act, without demonstrations
        save_torch(path, _KIND, state, meta)

    @classmethod
    def load(cls, path, env=None, demonstrations: Demonstrations | None = None) -> GAIL:
        """Load a saved GAIL (``torch.load(weights_only=True)``). To keep training pass ``env`` and ``demonstrations``."""
        state, meta = load_torch(path, _KIND)
        saved = upgrade_config(GAILConfig, meta["config"])      # files saved before the rename hold "disc_hidden"
        cfg = GAILConfig(**{**saved, "disc_net_arch": tuple(saved["disc_net_arch"])}).validate()
        pcfg = PPOConfig(**{**meta["ppo_config"], "net_arch": tuple(meta["ppo_config"]["net_arch"])})
        obs_space, act_space = space_from_json(meta["observation_space"]), space_from_json(meta["action_space"])
        if (env is None) != (demonstrations is None):
            raise ValueError("pass both env and demonstrations to keep training, or neither to only act")
        if env is not None and spaces_of(env) != (obs_space, act_space):
            raise ValueError("env's spaces differ from the saved agent's: load with an env of the same task")
        box = not isinstance(obs_space, gym.spaces.Discrete)
        agent = cls(env, demonstrations, cfg, ppo_config=pcfg,
                    obs_shift=state["obs_shift"].numpy() if box else None,
                    obs_scale=state["obs_scale"].numpy() if box else None,
                    observation_space=None if env is not None else obs_space,
                    action_space=None if env is not None else act_space)
        agent.ppo.policy.load_nested_state(state)
        agent.ppo.num_timesteps = int(meta.get("num_timesteps", 0))
        agent.discriminator.load_state_dict(state["discriminator"])
        return agent

    def close(self) -> None:
        """Close the env if this agent (or its PPO) made it."""
        self.ppo.close()
        if self._own_env and self.ppo.env is not None:   # (an own env is never None)
            self.ppo.env.close()
