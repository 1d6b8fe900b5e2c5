"""Policy gradients: REINFORCE (with an optional learned baseline) and an A2C-style actor-critic.

Both share one code path: collect a segment of experience into an :class:`EpisodeMemory`, turn its
rewards into discounted returns with :func:`discounted_returns`, weight the log-likelihood of each
action by them, and step. They differ only in where a segment ends and what it bootstraps from:

* REINFORCE (``n_steps=None``): a segment is a whole episode and the return is Monte Carlo,
  ``G_t = Σ_k γ^k r_{t+k}``; the loss is the return-weighted negative log-likelihood
  ``L(θ) = -1/T Σ_t w_t log π_θ(a_t|s_t)`` with ``w_t = G_t`` (normalized over the episode by default)
  or ``w_t = G_t - V_φ(s_t)`` with ``baseline=True``.
* actor-critic (``n_steps=k``): segments of at most ``k`` steps, bootstrapped from the critic,
  ``G_t = r_t + γ r_{t+1} + ... + γ^{k'} V_φ(s_{t+k'})``, and ``w_t = G_t - V_φ(s_t)`` (the advantage).

The critic ``V_φ`` is fitted by least squares on the same returns, ``(G_t - V_φ(s_t))²``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from genrl_lib.checks import (
    check_bool,
    check_number,
    check_positive_int,
    reject_old_names,
    renamed,
    upgrade_config,
)
from genrl_lib.io import load_torch, save_torch, space_from_json, space_to_json
from genrl_lib.nets import check_obs, check_sizes
from genrl_lib.policies import ActorCriticPolicy
from genrl_lib.progress import progress_bar
from genrl_lib.seeding import check_seed, single_thread

__all__ = ["PGConfig", "Config", "EpisodeMemory", "discounted_returns", "standardize", "policy_gradient_loss",
           "PolicyGradient", "REINFORCE", "ActorCritic", "gradient_estimates"]

_KIND = "policy_gradient"


def discounted_returns(rewards, gamma: float, bootstrap: float = 0.0) -> np.ndarray:
    """Discounted returns ``G_t = r_t + γ G_{t+1}`` of a segment, with ``G_T = bootstrap``.

    Args:
        rewards: ``(T,)`` rewards of one segment (one episode for REINFORCE).
        gamma: discount in [0, 1].
        bootstrap: value of the state after the segment (0 if the episode terminated).

    Returns:
        ``(T,)`` float32 array of returns.
    """
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
    r = np.asarray(rewards, dtype=np.float64).reshape(-1)
    g, out = float(bootstrap), np.empty(len(r))
    for t in range(len(r) - 1, -1, -1):
        g = r[t] + gamma * g
        out[t] = g
    return out.astype(np.float32)


def standardize(w: torch.Tensor) -> torch.Tensor:
    """The weights of a segment standardized to mean 0 and standard deviation 1, ``(w − mean) / (std + 1e-8)``.

    The standard deviation is torch's (with ``T − 1`` in the denominator); a segment of one step has none
    and is returned unchanged.

    Args:
        w: ``(T,)`` float tensor of weights (the returns ``G_t`` or the advantages ``G_t − V_φ(s_t)``).

    Returns:
        ``(T,)`` tensor of the same dtype.
    """
    if len(w) <= 1:
        return w
    return (w - w.mean()) / (w.std() + 1e-8)


class EpisodeMemory:
    """What happened in a segment: states, actions, rewards (the ``Memory`` of Huijse's policy-gradients
    chapter), plus how it ended.

    ``push(s, a, r)`` appends one step; ``arrays()`` returns ``(states (T, obs_dim), actions (T,) or
    (T, act_dim), rewards (T,))``; ``reset()`` empties it.
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Forget everything."""
        self.s: list[np.ndarray] = []
        self.a: list[Any] = []                       # ints (Discrete) or (act_dim,) arrays (Box)
        self.r: list[float] = []
        self.next_state: np.ndarray | None = None
        self.terminated, self.truncated = False, False

    def push(self, s, a, r) -> None:
        """Append the step ``(s_t, a_t, r_{t+1})``."""
        self.s.append(s)
        self.a.append(a)
        self.r.append(float(r))

    def __len__(self) -> int:
        return len(self.r)

    def arrays(self):
        """``(states (T, obs_dim) float32, actions (T,) int64 or (T, act_dim) float32, rewards (T,) float32)``."""
        a = np.asarray(self.a)
        return (np.asarray(self.s, dtype=np.float32), a.astype(np.int64 if a.dtype.kind in "iu" else np.float32),
                np.asarray(self.r, dtype=np.float32))


@renamed(hidden="net_arch")
@dataclass
class PGConfig:
    """Hyperparameters of :class:`PolicyGradient`.

    Attributes:
        gamma: discount γ.
        learning_rate: Adam step size of the policy.  value_learning_rate: of the critic.
        net_arch: hidden layer sizes of both MLPs (SB3's name; was ``hidden``).  activation: their activation.
        baseline: REINFORCE only: subtract a learned ``V_φ(s_t)`` from the returns (actor-critic always does).
        normalize: standardize the weights ``w_t`` over each segment (the normalized returns of Huijse's chapter).
        n_steps: ``None``: whole episodes, Monte-Carlo returns (REINFORCE); ``k``: segments of at most ``k``
            steps bootstrapped from the critic (actor-critic).
        ent_coef: entropy bonus.
        max_grad_norm: clip of the policy's gradient norm (0: no clipping).
        seed: seeds the networks, the action sampling and the env's first reset.
    """

    gamma: float = 0.99
    learning_rate: float = 1e-3
    value_learning_rate: float = 1e-3
    net_arch: tuple[int, ...] = (64,)
    activation: str = "relu"
    baseline: bool = False
    normalize: bool = True
    n_steps: int | None = None
    ent_coef: float = 0.0
    max_grad_norm: float = 0.0
    seed: int = 0

    def validate(self) -> PGConfig:
        """Check every field; raise naming the bad one. Returns ``self``."""
        self.gamma = check_number(self.gamma, "gamma", low=0.0, high=1.0)
        for name in ("learning_rate", "value_learning_rate"):
            setattr(self, name, check_number(getattr(self, name), name, low=0.0, low_open=True))
        if self.n_steps is not None:
            check_positive_int(self.n_steps, "n_steps")
        self.ent_coef = check_number(self.ent_coef, "ent_coef", low=0.0)
        self.max_grad_norm = check_number(self.max_grad_norm, "max_grad_norm (0: no clipping)", low=0.0)
        for name in ("baseline", "normalize"):
            setattr(self, name, check_bool(getattr(self, name), name))
        self.net_arch = check_sizes(self.net_arch, "net_arch")
        check_seed(self.seed)
        return self


Config = PGConfig   # deprecated alias: the name before the rename


def policy_gradient_loss(policy: ActorCriticPolicy, states: torch.Tensor, actions: torch.Tensor,
                         weights: torch.Tensor, ent_coef: float = 0.0) -> torch.Tensor:
    r"""The return-weighted negative log-likelihood of a segment of T steps, whose gradient is the policy gradient:

        L(θ) = −(1/T) Σ_t w_t log π_θ(a_t|s_t) − c_e (1/T) Σ_t H(π_θ(·|s_t))

    with weights ``w_t = G_t`` (REINFORCE), ``G_t − V_φ(s_t)`` (a baseline, the actor-critic's advantage),
    standardized or not (:meth:`PolicyGradient.segment_targets`); the weights are constants, not differentiated.

    Args:
        policy: the :class:`~genrl_lib.policies.ActorCriticPolicy` π_θ.
        states: ``(T, obs_dim)``.  actions: ``(T,)`` int64 or ``(T, act_dim)``.  weights: ``(T,)`` w_t.
        ent_coef: c_e.

    Returns:
        the scalar loss L(θ).
    """
    logp, ent = policy.log_prob_entropy(states, actions)
    return -(weights * logp).mean() - ent_coef * ent.mean()             # return-weighted negative log-likelihood


class PolicyGradient:
    """REINFORCE / actor-critic on one gymnasium env with Discrete or Box actions and Box observations.

    Args:
        env: an env id or a ``gym.Env``.
        config: a :class:`PGConfig`; keyword ``hyperparameters`` override its fields.

    Attributes:
        policy: the :class:`~genrl_lib.policies.ActorCriticPolicy` (PPO's class, torch's default initialization):
            ``policy.actor`` maps ``(B, obs_dim)`` to ``(B, n_actions)`` logits or ``(B, act_dim)`` Gaussian means.
        critic: ``policy.critic``, an MLP ``(B, obs_dim) -> (B, 1)``, or ``None`` (REINFORCE without baseline).
        log_std: ``policy.log_std`` (Box actions) or ``None``.
        history: per update ``loss``, ``grad_norm``; per episode ``episode_returns``, ``episode_lengths``.
    """

    def __init__(self, env, config: PGConfig | None = None, **hyperparameters):
        reject_old_names(hyperparameters, PGConfig, type(self).__name__)
        names = {f.name for f in dataclasses.fields(PGConfig)}
        bad = sorted(set(hyperparameters) - names)
        if bad:
            raise TypeError(f"unknown hyperparameter(s) {bad}; valid ones: {sorted(names)}")
        self.config = dataclasses.replace(config or self._default_config(), **hyperparameters).validate()
        if isinstance(env, str):
            env = gym.make(env)
        if isinstance(env, gym.vector.VectorEnv) or not isinstance(env, gym.Env | type(None)):
            raise TypeError("env must be an env id or a single gymnasium Env (policy gradients here run one env)")
        self.env = env
        if env is not None:
            self._build(env.observation_space, env.action_space)

    @staticmethod
    def _default_config() -> PGConfig:
        return PGConfig()

    def _build(self, obs_space, act_space) -> None:
        c = self.config
        self.uses_critic = c.baseline or c.n_steps is not None
        self.policy = ActorCriticPolicy(obs_space, act_space, c.net_arch, c.activation, ortho_init=False,
                                        log_std_init=0.0, critic=self.uses_critic, seed=c.seed)
        self.observation_space, self.action_space = obs_space, act_space
        self.discrete = self.policy.discrete
        self._obs_dim, self._act_dim = self.policy.obs_dim, self.policy.act_dim
        self.critic, self.log_std = self.policy.critic, self.policy.log_std
        self.optimizer = torch.optim.Adam(self.policy.actor_parameters(), lr=c.learning_rate)
        self.value_optimizer = (torch.optim.Adam(self.critic.parameters(), lr=c.value_learning_rate)
                                if self.critic is not None else None)
        self._rng = np.random.default_rng(c.seed)
        self._obs, self._seeded = None, False
        self.memory = EpisodeMemory()
        self.history: dict[str, list[float]] = {"loss": [], "grad_norm": [], "episode_returns": [],
                                                "episode_lengths": []}

    # ---------------------------------------------------------------- acting
    def _sample(self, out: np.ndarray):
        """One action ``a ~ π_θ(·|s)`` from the actor's output ``out (act_dim,)`` (:meth:`ActorCriticPolicy.sample`)."""
        a = self.policy.sample(out[None], self._rng)[0]
        return int(a) if self.discrete else a

    def _env_action(self, a):
        if self.discrete:
            return a + int(self.action_space.start)
        return np.clip(a, self.action_space.low, self.action_space.high).reshape(self.action_space.shape)

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """SB3's ``predict``: actions for one observation ``obs_shape`` or a batch ``(B, *obs_shape)``.

        Returns ``(action, None)``: an int (Discrete) / ``act_shape`` array for one observation, or a ``(B,)`` int64 /
        ``(B, *act_shape)`` array for a batch (so stable-baselines3's ``evaluate_policy`` works on these agents).
        ``deterministic=True`` takes the mode (argmax / the Gaussian mean).
        """
        x, single = check_obs(observation, self.observation_space)
        x = x.astype(np.float32).reshape(-1, self._obs_dim)
        acts = self.policy.env_action(self.policy.predict(x, deterministic, self._rng))
        if single:
            return (int(acts[0]) if self.discrete else acts[0]), None
        return acts, None

    # ---------------------------------------------------------------- the shared rollout / return path
    def _collect_segment(self, forward) -> EpisodeMemory:
        """Run the policy until the episode ends or ``n_steps`` steps, into ``self.memory``."""
        m, limit, env = self.memory, self.config.n_steps, self.env
        assert env is not None                       # learn() and gradient_estimates() refuse an agent without one
        m.reset()
        if self._obs is None:
            self._obs, _ = env.reset(seed=None if self._seeded else self.config.seed)
            self._seeded, self._ep_ret, self._ep_len = True, 0.0, 0
        obs = self._obs
        while True:
            x = np.asarray(obs, dtype=np.float32).reshape(-1)
            a = self._sample(forward(x[None])[0])
            obs, r, term, trunc, _ = env.step(self._env_action(a))
            m.push(x, a, r)
            self._ep_ret += float(r)
            self._ep_len += 1
            if term or trunc:
                self.history["episode_returns"].append(self._ep_ret)
                self.history["episode_lengths"].append(self._ep_len)
                m.next_state, m.terminated, m.truncated = np.asarray(obs, dtype=np.float32).reshape(-1), term, trunc
                self._obs = None
                return m
            if limit is not None and len(m) >= limit:
                m.next_state = np.asarray(obs, dtype=np.float32).reshape(-1)
                self._obs = obs
                return m

    def segment_targets(self, memory: EpisodeMemory):
        """Returns ``G (T,)`` and weights ``w (T,)`` of a segment (both float32 tensors), the shared step.

        Bootstrap: 0 after termination; ``V_φ(s_T)`` after a cut or a truncation when the critic is used
        for bootstrapping (actor-critic); 0 for REINFORCE (Monte Carlo).
        """
        c = self.config
        states, _, rewards = memory.arrays()
        boot = 0.0
        if c.n_steps is not None and not memory.terminated:
            # n_steps means a critic (uses_critic), and every segment ends with its next state
            assert self.critic is not None and memory.next_state is not None
            with torch.no_grad():
                boot = float(self.critic(torch.from_numpy(memory.next_state[None]))[0, 0])
        G = torch.from_numpy(discounted_returns(rewards, c.gamma, boot))
        w = G
        if self.critic is not None:
            with torch.no_grad():
                w = G - self.critic(torch.from_numpy(states)).squeeze(1)    # advantage G_t - V_φ(s_t)
        if c.normalize:
            w = standardize(w)
        return G, w

    def _update(self, memory: EpisodeMemory) -> None:
        c = self.config
        G, w = self.segment_targets(memory)
        states, actions, _ = (torch.from_numpy(x) for x in memory.arrays())
        loss = policy_gradient_loss(self.policy, states, actions, w, c.ent_coef)
        if not torch.isfinite(loss):
            raise FloatingPointError("policy-gradient loss is non-finite (check rewards and learning_rate)")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        norm = (nn.utils.clip_grad_norm_(params, c.max_grad_norm) if c.max_grad_norm > 0
                else torch.sqrt(sum((p.grad ** 2).sum() for p in params)))
        self.optimizer.step()
        if self.critic is not None and self.value_optimizer is not None:     # (the two exist together)
            v_loss = (G - self.critic(states).squeeze(1)).pow(2).mean()  # (G_t - V_φ(s_t))²
            self.value_optimizer.zero_grad(set_to_none=True)
            v_loss.backward()
            self.value_optimizer.step()
        self.history["loss"].append(loss.item())
        self.history["grad_norm"].append(float(norm))

    def learn(self, total_episodes: int, progress_bar: bool = True, stop_at: float | None = None,
              window: int = 100) -> PolicyGradient:
        """Train for ``total_episodes`` finished episodes (stop earlier once the ``window``-episode moving
        average of the return reaches ``stop_at``, if given). Returns ``self``."""
        total_episodes = check_positive_int(total_episodes, "total_episodes")
        window = check_positive_int(window, "window")
        if self.env is None:
            raise ValueError("this agent has no env (it was loaded without one): load(path, env=...) to train it")
        h, start = self.history, len(self.history["episode_returns"])
        with single_thread(), _bar(total_episodes, progress_bar) as bar:
            while len(h["episode_returns"]) - start < total_episodes:
                n_before = len(h["episode_returns"])
                self._update(self._collect_segment(self.policy.numpy_actor()))
                if len(h["episode_returns"]) > n_before:
                    bar.update(1)
                    recent = h["episode_returns"][-window:]
                    bar.set_postfix(avg=f"{np.mean(recent):.1f}", refresh=False)
                    if stop_at is not None and len(recent) == window and np.mean(recent) >= stop_at:
                        break
        return self

    def episodes_to_reach(self, threshold: float, window: int = 100) -> int | None:
        """First episode count at which the ``window``-episode moving average reaches ``threshold`` (or None)."""
        r = np.asarray(self.history["episode_returns"], dtype=float)
        if len(r) < window:
            return None
        ma = np.convolve(r, np.ones(window) / window, mode="valid")
        hit = np.flatnonzero(ma >= threshold)
        return int(hit[0] + window) if len(hit) else None

    # ---------------------------------------------------------------- persistence
    def save(self, path) -> None:
        """Save networks and hyperparameters atomically and pickle-free (``genrl_lib.io``)."""
        nested = self.policy.nested_state()
        state = {"policy": nested.pop("actor"), **nested}     # the file keeps the actor under "policy"
        save_torch(path, _KIND, state, {"class": type(self).__name__, "config": asdict(self.config),
                                        "observation_space": space_to_json(self.observation_space),
                                        "action_space": space_to_json(self.action_space)})

    @classmethod
    def load(cls, path, env=None) -> PolicyGradient:
        """Load a saved agent (``torch.load(weights_only=True)``); pass ``env`` to keep training it."""
        state, meta = load_torch(path, _KIND)
        saved = meta.get("class", "PolicyGradient")
        if cls is PolicyGradient:   # the base class loads either, as the class that saved it
            cls = {"REINFORCE": REINFORCE, "ActorCritic": ActorCritic}.get(saved, cls)
        elif saved != cls.__name__:
            raise ValueError(f"{path} holds a {saved}, not a {cls.__name__}: load it with {saved}.load")
        cfg = upgrade_config(PGConfig, meta["config"])      # files saved before the rename hold "hidden"
        cfg["net_arch"] = tuple(cfg["net_arch"])
        agent = cls(None, PGConfig(**cfg))
        agent._build(space_from_json(meta["observation_space"]), space_from_json(meta["action_space"]))
        agent.policy.load_nested_state({"actor": state["policy"], **{k: v for k, v in state.items() if k != "policy"}})
        if env is not None:
            agent.env = gym.make(env) if isinstance(env, str) else env
        return agent


class REINFORCE(PolicyGradient):
    """Monte-Carlo policy gradient (Williams, 1992): whole episodes; ``baseline=True`` adds a learned ``V_φ``."""

    @staticmethod
    def _default_config() -> PGConfig:
        return PGConfig(n_steps=None)

    def __init__(self, env, config: PGConfig | None = None, **hyperparameters):
        if hyperparameters.get("n_steps") is not None or (config is not None and config.n_steps is not None):
            raise ValueError("REINFORCE uses whole episodes: leave n_steps=None (use ActorCritic for n-step returns)")
        super().__init__(env, config, **hyperparameters)


class ActorCritic(PolicyGradient):
    """A2C-style actor-critic: segments of ``n_steps`` bootstrapped from the critic, advantage ``G_t - V_φ(s_t)``."""

    @staticmethod
    def _default_config() -> PGConfig:
        return PGConfig(n_steps=32, normalize=False, baseline=True)


def _bar(total: int, enabled: bool):
    return progress_bar(total, desc="episodes", enabled=enabled, unit="ep")


def gradient_estimates(agent: PolicyGradient, n_episodes: int, weighting: str = "return", seed: int = 0) -> np.ndarray:
    """Per-episode estimates of the policy gradient at the agent's current policy, one row per episode.

    ``g_e = Σ_t w_t ∇_θ log π_θ(a_t|s_t)`` with raw (un-normalized) discounted returns and
    ``weighting`` = ``"return"`` (``w_t = G_t``), ``"mean_baseline"`` (``w_t = G_t - b``, ``b`` the mean
    of all ``G_t`` in the batch) or ``"value"`` (``w_t = G_t - V_φ(s_t)``, needs a critic). All three
    share the same episodes, so their variances compare directly; the policy is not changed.

    Returns:
        ``(n_episodes, n_policy_params)`` float64 array.
    """
    n_episodes = check_positive_int(n_episodes, "n_episodes")
    if weighting not in ("return", "mean_baseline", "value"):
        raise ValueError(f"weighting must be 'return', 'mean_baseline' or 'value', got {weighting!r}")
    if weighting == "value" and agent.critic is None:
        raise ValueError("weighting='value' needs an agent with a critic (baseline=True or ActorCritic)")
    env = agent.env
    if env is None:
        raise ValueError("this agent has no env (it was loaded without one): load(path, env=...) first")
    saved = (agent._rng, agent._obs, agent.history, agent.memory, agent.config.n_steps)
    agent._rng, agent._obs, agent._seeded = np.random.default_rng(seed), None, True
    agent.history = {"loss": [], "grad_norm": [], "episode_returns": [], "episode_lengths": []}
    agent.memory = EpisodeMemory()
    agent.config.n_steps = None
    try:
        agent._obs, _ = env.reset(seed=seed)
        agent._ep_ret, agent._ep_len = 0.0, 0
        episodes = []
        for _ in range(n_episodes):
            m = agent._collect_segment(agent.policy.numpy_actor())
            s, a, r = m.arrays()
            episodes.append((s, a, discounted_returns(r, agent.config.gamma)))
            agent.memory = EpisodeMemory()
            agent._obs, _ = env.reset()
            agent._ep_ret, agent._ep_len = 0.0, 0
        b = float(np.mean(np.concatenate([G for _, _, G in episodes])))
        params = agent.policy.actor_parameters()
        rows = []
        for s, a, G in episodes:
            w = torch.from_numpy(G)
            if weighting == "mean_baseline":
                w = w - b
            elif weighting == "value":
                assert agent.critic is not None                          # checked at the top
                with torch.no_grad():
                    w = w - agent.critic(torch.from_numpy(s)).squeeze(1)
            logp, _ = agent.policy.log_prob_entropy(torch.from_numpy(s), torch.from_numpy(a))
            grads = torch.autograd.grad((w * logp).sum(), params)
            rows.append(torch.cat([g.reshape(-1) for g in grads]).double().numpy())
        return np.stack(rows)
    finally:
        agent._rng, agent._obs, agent.history, agent.memory, agent.config.n_steps = saved
