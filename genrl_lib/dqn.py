"""Deep Q-Network (DQN) with a replay buffer, a target network and (optionally) Double DQN.

CleanRL-style: every hyperparameter lives in :class:`DQNConfig`, :meth:`DQN.learn` is one flat loop
(act ε-greedily -> store the transition -> every ``train_freq`` steps, sample minibatches and take
gradient steps on the TD loss -> update the target network). SB3's verbs::

    agent = DQN(env, seed=0)                 # hyperparameters: DQN(env, learning_rate=1e-3, ...) or config=DQNConfig(...)
    agent.learn(50_000, progress_bar=True)
    action, _ = agent.predict(obs, deterministic=True)
    agent.save("dqn_cartpole.pt"); agent = DQN.load("dqn_cartpole.pt")

The loss (``Q`` the online network with weights ``θ``, ``Q⁻`` the target network with weights ``θ⁻``)::

    y   = r + γ (1 − terminated) Q⁻(s', argmax_a' Q(s', a'))      (Double DQN; plain DQN: max_a' Q⁻(s', a'))
          (with ``n_steps = n``: r -> r_1 + γ r_2 + … + γ^{n−1} r_n and γ -> γ^n, s' -> s_{t+n})
    L(θ) = mean Huber(y − Q(s, a; θ))                               (or the squared error, ``loss="mse"``)

A time-limit truncation is not a terminal state: its transition still bootstraps.

Speed: for ReLU/tanh networks ``∇_θ L`` is written out by hand (the loss reads one output per row, so the backward
pass is a few matrix products; tested equal to autograd's) and Adam is torch's fused kernel called through
``torch.optim.adam.adam``: a 128×128 gradient step on 128 transitions took 0.69 ms instead of 0.99 ms (one CPU thread).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.optim.adam import adam

from genrl_lib.checks import (
    check_bool,
    check_number,
    check_positive_int,
    reject_old_names,
    renamed,
    upgrade_config,
)
from genrl_lib.fast import mlp_forward
from genrl_lib.io import load_torch, save_torch, space_from_json, space_to_json
from genrl_lib.nets import check_obs, check_sizes, check_space, mlp, obs_dim, obs_to_tensor
from genrl_lib.seeding import check_seed, set_seed, single_thread

__all__ = ["DQNConfig", "Config", "DQN", "ReplayBuffer", "linear_schedule", "td_target"]

KIND = "dqn"

# The derivative of a hidden activation, written with its output h = f(z): ReLU' = [h > 0], tanh' = 1 − h².
# For these two the TD gradient is written out by hand (see DQN._td_gradients); other activations use autograd.
_ACTIVATION_GRAD = {"relu": lambda h: h > 0, "tanh": lambda h: 1.0 - h * h}
_ACTIVATION_FN = {"relu": torch.relu, "tanh": torch.tanh}


@renamed(hidden="net_arch")
@dataclass
class DQNConfig:
    """DQN hyperparameters. Defaults tuned for CartPole-v1 on a 50k-step budget, on tuning seeds only, never on the
    benchmark seeds 0-4; how many benchmark seeds reach 475 is measured by benchmarks/dqn_cartpole.py, not promised
    here. The tuning history (which change fixed what, on which seeds) is in that benchmark's docstring.

    Attributes:
        learning_rate: Adam step size at the start of training.
        lr_end_fraction: the step size decays linearly over training to ``learning_rate * lr_end_fraction``
            (1.0 = constant).
        buffer_size: replay memory capacity ``N`` (transitions).
        learning_starts: environment steps of pure ε-greedy play before the first gradient step.
        batch_size: transitions per minibatch.
        gamma: discount factor in ``[0, 1]``.
        n_steps: length of the multi-step return in the target (1 = the classic one-step target of Mnih et al.;
            with 3, a reward reaches the value of the state three steps earlier in one update).
        train_freq: environment steps between two rounds of gradient steps.
        gradient_steps: gradient steps per round.
        target_update_interval: environment steps between target updates ``θ⁻ <- τ θ + (1 − τ) θ⁻``.
        tau: 1.0 = hard copy (classic DQN: e.g. ``tau=1.0, target_update_interval=500``); < 1 = soft (Polyak)
            update, the target is an exponential average of the online weights over ~``interval / τ`` steps.
        exploration_fraction: fraction of ``total_timesteps`` over which ε decays linearly.
        exploration_initial_eps: ε at the start.
        exploration_final_eps: ε after the decay (also used by ``predict(..., deterministic=False)``).
        net_arch: sizes of the hidden layers of the Q-network ``obs -> (n_actions,)`` (SB3's name; was ``hidden``).
        activation: hidden activation (see :func:`genrl_lib.nets.mlp`).
        double_dqn: pick ``a'`` with the online network, evaluate it with the target network.
        loss: ``"huber"`` (smooth L1) or ``"mse"``.
        max_grad_norm: gradient-norm clipping (``None``: no clipping).
        seed: seeds torch, the replay sampling, ε-greedy and the env's first reset.
    """

    learning_rate: float = 2.5e-3
    lr_end_fraction: float = 0.01
    buffer_size: int = 50_000
    learning_starts: int = 1_000
    batch_size: int = 128
    gamma: float = 0.98
    n_steps: int = 3
    train_freq: int = 8
    gradient_steps: int = 4
    target_update_interval: int = 1
    tau: float = 0.005
    exploration_fraction: float = 0.2
    exploration_initial_eps: float = 1.0
    exploration_final_eps: float = 0.02
    net_arch: tuple[int, ...] = (128, 128)
    activation: str = "relu"
    double_dqn: bool = True
    loss: str = "huber"
    max_grad_norm: float | None = 10.0
    seed: int = 0

    def __post_init__(self):
        self.net_arch = check_sizes(self.net_arch, "net_arch")
        for name in ("buffer_size", "batch_size", "n_steps", "train_freq", "gradient_steps", "target_update_interval"):
            setattr(self, name, check_positive_int(getattr(self, name), name))
        if isinstance(self.learning_starts, bool) or not isinstance(self.learning_starts, (int, np.integer)) \
                or self.learning_starts < 0:
            raise ValueError(f"learning_starts must be a non-negative int, got {self.learning_starts!r}")
        self.learning_rate = check_number(self.learning_rate, "learning_rate", low=0.0, low_open=True)
        self.lr_end_fraction = check_number(self.lr_end_fraction, "lr_end_fraction", low=0.0, high=1.0, low_open=True)
        self.gamma = check_number(self.gamma, "gamma", low=0.0, high=1.0)
        self.tau = check_number(self.tau, "tau (1 = hard target update)", low=0.0, high=1.0, low_open=True)
        self.exploration_fraction = check_number(self.exploration_fraction, "exploration_fraction", low=0.0, high=1.0,
                                                 low_open=True)
        for name in ("exploration_initial_eps", "exploration_final_eps"):
            setattr(self, name, check_number(getattr(self, name), name, low=0.0, high=1.0))
        self.double_dqn = check_bool(self.double_dqn, "double_dqn")
        if self.loss not in ("huber", "mse"):
            raise ValueError(f"loss must be 'huber' or 'mse', got {self.loss!r}")
        self.max_grad_norm = check_number(self.max_grad_norm, "max_grad_norm", low=0.0, low_open=True, allow_none=True)
        self.seed = check_seed(self.seed)


Config = DQNConfig   # deprecated alias: the name before the rename


def linear_schedule(start: float, end: float, fraction: float, progress: float) -> float:
    """Linear interpolation from ``start`` to ``end`` over the first ``fraction`` of training, then ``end``.

    ``progress`` is the fraction of training done, in ``[0, 1]``.
    """
    if progress >= fraction:
        return end
    return start + (end - start) * progress / fraction


def td_target(reward: torch.Tensor, discount: torch.Tensor, next_q_target: torch.Tensor,
              next_q_online: torch.Tensor | None = None) -> torch.Tensor:
    """The regression targets ``y (B,)`` of a minibatch, computed with the target network ``Q⁻`` (weights ``θ⁻``)::

        Double DQN (next_q_online given):  y = r + γ^n (1 − terminated) Q⁻(s', argmax_a' Q(s', a'; θ))
        DQN:                               y = r + γ^n (1 − terminated) max_a' Q⁻(s', a')

    The online network ``Q`` (weights ``θ``) then descends ``L(θ) = mean Huber(y − Q(s, a; θ))`` (or the squared
    error); ``y`` is a constant in that gradient (:meth:`DQN._td_gradients`).

    Args:
        reward: ``(B,)`` the n-step return ``r = r_1 + γ r_2 + … + γ^{n−1} r_n`` (one reward when ``n = 1``).
        discount: ``(B,)`` ``γ^n``, or 0 where the episode terminated (a time-limit truncation still bootstraps).
        next_q_target: ``(B, n_actions)`` ``Q⁻(s', ·)``, the target network on the next states.
        next_q_online: ``(B, n_actions)`` ``Q(s', ·; θ)``, the online network on the next states: it picks
            ``a*``, the target network evaluates it (Double DQN). ``None``: the target network's own max.
    """
    if next_q_online is None:
        q_next = next_q_target.max(dim=1).values                               # max_a' Q⁻(s', a')
    else:
        a_star = next_q_online.argmax(dim=1, keepdim=True)                     # a* = argmax_a' Q(s', a'; θ)
        q_next = next_q_target.gather(1, a_star).squeeze(1)                    # Q⁻(s', a*)
    return reward + discount * q_next


class ReplayBuffer:
    """Experience replay ``D``: a ring buffer of the last ``capacity`` transitions, sampled uniformly.

    Stores ``obs (N, obs_dim) float32``, ``action (N,) int64``, ``reward (N,) float32`` (the n-step reward),
    ``next_obs (N, obs_dim) float32`` and ``discount (N,) float32``: the factor of the bootstrap term,
    ``γ^n`` or 0 when the episode terminated within those n steps.
    """

    def __init__(self, capacity: int, obs_size: int, rng: np.random.Generator):
        self.capacity = check_positive_int(capacity, "buffer_size")
        self.obs = np.zeros((capacity, obs_size), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_size), dtype=np.float32)
        self.action = np.zeros(capacity, dtype=np.int64)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.discount = np.zeros(capacity, dtype=np.float32)
        self.pos, self.size, self.rng = 0, 0, rng

    def add(self, obs, action: int, reward: float, next_obs, discount: float) -> None:
        """Store one transition, overwriting the oldest when full."""
        i = self.pos
        self.obs[i], self.action[i], self.reward[i] = obs, action, reward
        self.next_obs[i], self.discount[i] = next_obs, discount
        self.pos, self.size = (i + 1) % self.capacity, min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """A uniform minibatch ``(obs (B, d), action (B,), reward (B,), next_obs (B, d), discount (B,))``."""
        idx = self.rng.integers(0, self.size, size=batch_size)
        obs, action, reward, next_obs, discount = (torch.from_numpy(x[idx]) for x in (
            self.obs, self.action, self.reward, self.next_obs, self.discount))
        return obs, action, reward, next_obs, discount


class DQN:
    """Deep Q-learning for ``Discrete`` actions (observations: ``Box`` flattened, or ``Discrete`` one-hot).

    Args:
        env: a gymnasium env (or a registered id such as ``"CartPole-v1"``). ``None`` only inside :meth:`load`.
        config: a :class:`DQNConfig`; or give hyperparameters as keywords, ``DQN(env, learning_rate=1e-3)``.

    Attributes:
        q_net, target_net: ``obs (B, obs_dim) -> Q-values (B, n_actions)``.
        episode_returns, episode_end_steps: ``(n_episodes,)`` training-episode returns and the env step at which
            each ended (for learning curves over environment steps).
        num_timesteps: environment steps taken by :meth:`learn` so far; ``train_seconds``: wall time of learn.
        current_learning_rate: Adam's step size now (``learning_rate`` decayed by the schedule), set by :meth:`learn`.

    Raises:
        TypeError: the action space is not ``Discrete`` (e.g. ``Box``: use a policy-gradient method), or the
            observation space is neither ``Box`` nor ``Discrete``.
    """

    def __init__(self, env: gym.Env | str | None, config: DQNConfig | None = None, **hyperparameters):
        if config is not None and hyperparameters:
            raise TypeError("pass either config=DQNConfig(...) or keyword hyperparameters, not both")
        reject_old_names(hyperparameters, DQNConfig, "DQN")
        if config is None:
            names = {f.name for f in fields(DQNConfig)}
            unknown = sorted(set(hyperparameters) - names)
            if unknown:
                raise TypeError(f"unknown DQN hyperparameter(s) {unknown}; valid names: {sorted(names)}")
            config = DQNConfig(**hyperparameters)
        elif not isinstance(config, DQNConfig):
            raise TypeError(f"config must be a genrl_lib.dqn.DQNConfig, got {type(config).__name__}")
        self.config = config
        if isinstance(env, str):
            from genrl_lib.envs import make
            env = make(env)
        self.env = env
        if env is not None:
            self._set_spaces(env.observation_space, env.action_space)
        self.num_timesteps, self.train_seconds = 0, 0.0
        self.episode_returns: list[float] = []
        self.episode_end_steps: list[int] = []

    def _set_spaces(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        if isinstance(action_space, gym.spaces.Box):
            raise TypeError(f"DQN needs a Discrete action_space (one Q-value per action), got {action_space}; "
                            "for continuous actions use a policy-gradient method (e.g. genrl_lib's PPO)")
        check_space(action_space, "action_space", (gym.spaces.Discrete,))
        check_space(observation_space, "observation_space", (gym.spaces.Box, gym.spaces.Discrete))
        assert isinstance(action_space, gym.spaces.Discrete)          # checked just above
        self.observation_space, self.action_space = observation_space, action_space
        self.n_actions = int(action_space.n)
        torch.manual_seed(self.config.seed)
        c = self.config
        self.q_net = mlp(obs_dim(observation_space), self.n_actions, c.net_arch, c.activation)
        self.target_net = mlp(obs_dim(observation_space), self.n_actions, c.net_arch, c.activation)
        self.target_net.load_state_dict(self.q_net.state_dict())
        self.target_net.requires_grad_(False)
        # the parameter lists, gathered once: the training loop needs them at every step (load_state_dict copies
        # into these same tensors, so they stay valid after DQN.load)
        self._params: list[torch.Tensor] = list(self.q_net.parameters())
        self._target_params: list[torch.Tensor] = list(self.target_net.parameters())
        self._layers = [(m.weight, m.bias) for m in self.q_net if isinstance(m, nn.Linear)]
        self._target_layers = [(m.weight, m.bias) for m in self.target_net if isinstance(m, nn.Linear)]
        self._box_size = None if isinstance(observation_space, gym.spaces.Discrete) else obs_dim(observation_space)
        hidden_acts = [m for m in self.q_net if not isinstance(m, nn.Linear)]   # modules of nets.mlp, all alike
        # (a network without hidden layers never calls it)
        self._act: Callable[[torch.Tensor], torch.Tensor] = (_ACTIVATION_FN.get(c.activation)
                                                             or (hidden_acts[0] if hidden_acts else nn.Identity()))

    # ---------------------------------------------------------------- acting
    def _encode(self, obs) -> np.ndarray:
        """One observation -> ``(obs_dim,)`` float32 (Box: flattened, the env's own observations are not re-checked)."""
        if self._box_size is not None:
            return np.asarray(obs, dtype=np.float32).reshape(self._box_size)
        return obs_to_tensor(obs, self.observation_space).numpy()[0]

    def _forward(self, layers: list, x: torch.Tensor) -> list[torch.Tensor]:
        """The Q-network layer by layer (no autograd): ``[x (B, d), h_1 (B, H_1), …, Q (B, n_actions)]``.

        Computes what ``q_net(x)`` computes, bit for bit (``layers`` are its ``(weight, bias)`` pairs), keeping every
        layer's output for the hand-written backward pass of :meth:`_td_gradients`: the library's fast path
        (:func:`genrl_lib.fast.mlp_forward`) on torch tensors, with this network's activation.
        """
        return mlp_forward(layers, x, self._act)

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """Greedy (or ε-greedy with ``exploration_final_eps``) action(s), SB3-style.

        Args:
            observation: one observation (shape ``observation_space.shape``) or a batch ``(B, ...)``.

        Returns:
            ``(action, None)``: an ``int`` for one observation, an ``(B,)`` int64 array for a batch.
        """
        batch, single = check_obs(observation, self.observation_space)
        x = obs_to_tensor(batch, self.observation_space)
        with torch.no_grad():
            actions = self.q_net(x).argmax(dim=1).numpy()
        if not deterministic:
            rng = np.random.default_rng()
            explore = rng.random(len(actions)) < self.config.exploration_final_eps
            actions = np.where(explore, rng.integers(0, self.n_actions, len(actions)), actions)
        return (int(actions[0]), None) if single else (actions.astype(np.int64), None)

    # ---------------------------------------------------------------- learning
    def learn(self, total_timesteps: int, progress_bar: bool = True, callback: Callable | None = None) -> DQN:
        """Train for ``total_timesteps`` environment steps (one call; a second call continues training).

        ``callback(dqn)``, if given, runs at the end of every training episode (e.g. a
        :class:`genrl_lib.evaluation.BestCheckpoint`); returning ``False`` stops training there.
        Runs on one thread (:func:`genrl_lib.seeding.single_thread`: small networks train fastest that way on few
        cores, and a seed's numbers do not depend on ``OMP_NUM_THREADS``). Returns ``self``.
        """
        total = check_positive_int(total_timesteps, "total_timesteps")
        if self.env is None:
            raise ValueError("this DQN has no env (it was loaded without one): DQN.load(path, env=env) to train")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be a function dqn -> bool | None (or None), got {type(callback).__name__}")
        with single_thread():
            return self._learn(self.env, total, progress_bar, callback)

    def _learn(self, env: gym.Env, total: int, progress_bar: bool, callback: Callable | None = None) -> DQN:
        from genrl_lib.progress import progress_bar as _bar

        c = self.config
        first_call = self.num_timesteps == 0
        if first_call:
            set_seed(c.seed)
            self._rng = np.random.default_rng([c.seed, 2])
            self.buffer = ReplayBuffer(c.buffer_size, obs_dim(self.observation_space), self._rng)
            # Adam's state (torch's fused Adam kernel, called through torch.optim.adam.adam: the same update as
            # torch.optim.Adam(fused=True) without the optimizer object's per-step Python overhead)
            self._adam_state = ([torch.zeros_like(p) for p in self._params], [torch.zeros_like(p) for p in self._params],
                                [torch.zeros((), dtype=torch.float32) for _ in self._params])
            self.current_learning_rate = c.learning_rate
            env.action_space.seed(c.seed)
        t0 = time.perf_counter()
        obs, _ = env.reset(seed=c.seed if first_call else None)
        x = self._encode(obs)
        ep_return, pending = 0.0, []
        start, every = self.num_timesteps, max(1, total // 100)
        try:
            with _bar(total=total, desc="DQN", enabled=progress_bar, unit="step") as bar:
                for step in range(total):
                    progress = step / total
                    eps = linear_schedule(c.exploration_initial_eps, c.exploration_final_eps, c.exploration_fraction,
                                          progress)
                    # act ε-greedily: random with probability ε, else argmax_a Q(s, a; θ)
                    if self._rng.random() < eps:
                        action = int(self._rng.integers(self.n_actions))
                    else:
                        with torch.no_grad():
                            action = int(self._q_values(torch.from_numpy(x)[None]).argmax())
                    obs2, reward, terminated, truncated, _ = env.step(action)
                    x2 = self._encode(obs2)
                    pending.append((x, action, float(reward)))
                    if len(pending) == c.n_steps or terminated or truncated:
                        self._store(pending, x2, terminated, flush=terminated or truncated)
                    ep_return += float(reward)
                    self.num_timesteps += 1
                    if terminated or truncated:
                        self.episode_returns.append(ep_return)
                        self.episode_end_steps.append(self.num_timesteps)
                        if progress_bar and len(self.episode_returns) % 10 == 0:
                            bar.set_postfix(mean_return_10=f"{np.mean(self.episode_returns[-10:]):.1f}", eps=f"{eps:.2f}")
                        if callback is not None and callback(self) is False:
                            break
                        obs2, _ = env.reset()
                        x2, ep_return = self._encode(obs2), 0.0
                    x = x2
                    # (with n-step returns the buffer may still be empty just after learning_starts=0)
                    if self.num_timesteps > c.learning_starts and step % c.train_freq == 0 and self.buffer.size:
                        self.current_learning_rate = c.learning_rate * linear_schedule(1.0, c.lr_end_fraction, 1.0,
                                                                                       progress)
                        for _ in range(c.gradient_steps):
                            self._gradient_step()
                    if self.num_timesteps % c.target_update_interval == 0:   # θ⁻ <- τ θ + (1 − τ) θ⁻
                        self._update_target()
                    if (step + 1) % every == 0 or step + 1 == total:
                        bar.update(self.num_timesteps - start - bar.n)
        finally:
            self.train_seconds += time.perf_counter() - t0
        return self

    def _store(self, pending: list, x_next: np.ndarray, terminated: bool, flush: bool) -> None:
        """Store (s_t, a_t, r_{t+1} + γ r_{t+2} + …, s_{t+k}, γ^k (1 − terminated)) in D, oldest pending first."""
        gamma = self.config.gamma
        while pending:
            ret = 0.0
            for k, (_, _, r) in enumerate(pending):
                ret += gamma ** k * r
            x0, a0, _ = pending.pop(0)
            self.buffer.add(x0, a0, ret, x_next, 0.0 if terminated else gamma ** (len(pending) + 1))
            if not flush:
                return

    def _q_values(self, x: torch.Tensor) -> torch.Tensor:
        """``Q(x; θ)`` ``(B, n_actions)`` for ``x (B, obs_dim)``: what ``q_net(x)`` gives, without module calls."""
        return self._forward(self._layers, x)[-1]

    def _gradient_step(self) -> None:
        """One minibatch: TD gradient, clipping to ``max_grad_norm``, one Adam step at ``current_learning_rate``."""
        c = self.config
        grads = self._td_gradients(*self.buffer.sample(c.batch_size))
        with torch.no_grad():
            if c.max_grad_norm is not None:   # what nn.utils.clip_grad_norm_ does, on the gradient list
                total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
                torch._foreach_mul_(grads, torch.clamp(c.max_grad_norm / (total + 1e-6), max=1.0))
            exp_avg, exp_avg_sq, steps = self._adam_state
            adam(self._params, grads, exp_avg, exp_avg_sq, [], steps, fused=True, amsgrad=False, beta1=0.9,
                 beta2=0.999, lr=self.current_learning_rate, weight_decay=0.0, eps=1e-8, maximize=False)

    def _td_gradients(self, s, a, r, s2, discount, use_autograd: bool = False) -> list[torch.Tensor]:
        """``∇_θ L(θ)`` of the TD loss on one minibatch, one tensor per parameter of ``q_net`` (its order).

        Args: ``s (B, d)``, ``a (B,)`` int64, ``r (B,)``, ``s2 (B, d)``, ``discount (B,)`` (a ReplayBuffer sample).

        For ReLU and tanh networks the backward pass is written out (``use_autograd=False``): the loss depends on
        one output per row, so it is a handful of matrix products, about 30 % faster than autograd for networks
        this small and equal to it (tested). ``use_autograd=True`` (and any other activation) asks autograd.
        """
        c, n = self.config, len(a)
        with torch.no_grad():
            q_next_target = self._forward(self._target_layers, s2)[-1]          # Q(s', ·; θ⁻)
            if c.double_dqn:
                # one pass of the online network over s and s' together; rows :n are Q(s, ·), n: are Q(s', ·)
                hs = self._forward(self._layers, torch.cat([s, s2]))
                y = td_target(r, discount, q_next_target, hs[-1][n:])
            else:
                hs = self._forward(self._layers, s)
                y = td_target(r, discount, q_next_target)
        grad_of = _ACTIVATION_GRAD.get(c.activation)
        if use_autograd or grad_of is None:
            q_sa = self.q_net(s).gather(1, a[:, None]).squeeze(1)   # Q(s, a; θ)
            loss_fn = nn.functional.smooth_l1_loss if c.loss == "huber" else nn.functional.mse_loss
            return list(torch.autograd.grad(loss_fn(q_sa, y), self._params))
        with torch.no_grad():
            td = hs[-1][:n].gather(1, a[:, None]) - y[:, None]          # Q(s, a; θ) − y, (B, 1)
            # dL/dQ(s, a): Huber' = clip(td, −1, 1), (td²)' = 2 td; the loss is a mean over the batch
            g = (td.clamp(-1.0, 1.0) if c.loss == "huber" else 2.0 * td) / n
            delta = torch.zeros_like(hs[-1][:n]).scatter_(1, a[:, None], g)   # dL/dQ(s, ·), (B, n_actions)
            grads: list[torch.Tensor] = []
            for i in range(len(self._layers) - 1, -1, -1):   # back through layer i: out = h_i W_iᵀ + b_i
                w, _ = self._layers[i]
                h_in = hs[i][:n]
                grads += [delta.sum(0), delta.t() @ h_in]     # dL/db_i, dL/dW_i
                if i:
                    delta = (delta @ w).mul_(grad_of(h_in))  # dL/dz_{i-1} = (δ W_i) ⊙ f'(z_{i-1})
            return grads[::-1]

    def _update_target(self) -> None:
        tau = self.config.tau
        if tau == 1.0:
            self.target_net.load_state_dict(self.q_net.state_dict())
            return
        with torch.no_grad():   # θ⁻ + τ (θ − θ⁻) = τ θ + (1 − τ) θ⁻, all tensors in one call
            torch._foreach_lerp_(self._target_params, self._params, tau)

    # ---------------------------------------------------------------- persistence
    def save(self, path) -> Path:
        """Save weights + config + spaces (``torch.save`` of tensors and JSON, atomic, checksummed); load with
        :meth:`load`. A trained agent also saves what resuming needs: the replay buffer, Adam's moments, the
        step count, the current learning rate and its random generator's state, so that ``save`` -> ``load(path,
        env)`` -> ``learn`` gives the same weights as continuing with ``learn`` (with the env in the same state)."""
        meta = {"config": asdict(self.config), "n_actions": self.n_actions,
                "observation_space": space_to_json(self.observation_space),
                "num_timesteps": self.num_timesteps, "train_seconds": self.train_seconds,
                "episode_returns": list(map(float, self.episode_returns)),
                "episode_end_steps": list(map(int, self.episode_end_steps))}
        state = {"q_net": self.q_net.state_dict(), "target_net": self.target_net.state_dict()}
        if self.num_timesteps > 0:
            b = self.buffer
            state["buffer"] = {k: torch.from_numpy(getattr(b, k)[:b.size].copy())
                               for k in ("obs", "action", "reward", "next_obs", "discount")}
            exp_avg, exp_avg_sq, steps = self._adam_state
            state["adam"] = {"exp_avg": list(exp_avg), "exp_avg_sq": list(exp_avg_sq), "steps": list(steps)}
            meta["resume"] = {"buffer_pos": b.pos, "learning_rate": self.current_learning_rate,
                              "rng": self._rng.bit_generator.state}
        return save_torch(path, KIND, state, meta=meta)

    @classmethod
    def load(cls, path, env: gym.Env | None = None) -> DQN:
        """Load what :meth:`save` wrote (``weights_only=True``). Pass ``env`` to continue training (a trained
        agent continues where it stopped: same buffer, Adam moments and random generator).

        Raises:
            FileNotFoundError: no such file. ValueError: not a genrl DQN file, or ``env`` has other spaces.
        """
        state, meta = load_torch(path, KIND)
        cfg = upgrade_config(DQNConfig, meta["config"])      # files saved before the rename hold "hidden"
        agent = cls(None, config=DQNConfig(**cfg))
        obs_space = space_from_json(meta["observation_space"])
        act_space = gym.spaces.Discrete(int(meta["n_actions"]))
        if env is not None and (obs_dim(env.observation_space) != obs_dim(obs_space)
                                or getattr(env.action_space, "n", None) != act_space.n):
            raise ValueError(f"{path} was trained on observation space {obs_space} and {act_space} actions, "
                             f"but env has {env.observation_space} and {env.action_space}")
        agent._set_spaces(obs_space, act_space)
        agent.q_net.load_state_dict(state["q_net"])
        agent.target_net.load_state_dict(state["target_net"])
        agent.env = env
        agent.num_timesteps = int(meta.get("num_timesteps", 0)) if "resume" in meta else 0
        if "resume" in meta:    # a trained agent: learn() continues with its buffer, Adam moments and generator
            r = meta["resume"]
            agent._rng = np.random.default_rng()
            agent._rng.bit_generator.state = r["rng"]
            agent.buffer = ReplayBuffer(agent.config.buffer_size, obs_dim(obs_space), agent._rng)
            saved = state["buffer"]
            n = len(saved["action"])
            for k, v in saved.items():
                getattr(agent.buffer, k)[:n] = v.numpy()
            agent.buffer.size, agent.buffer.pos = n, int(r["buffer_pos"])
            a = state["adam"]
            agent._adam_state = (list(a["exp_avg"]), list(a["exp_avg_sq"]), list(a["steps"]))
            agent.current_learning_rate = float(r["learning_rate"] if "learning_rate" in r else r["lr"])   # "lr": older files
        agent.train_seconds = float(meta.get("train_seconds", 0.0))
        agent.episode_returns = list(meta.get("episode_returns", []))
        agent.episode_end_steps = list(meta.get("episode_end_steps", []))
        return agent


def returns_at_steps(episode_returns, episode_end_steps, grid, window: int = 10) -> np.ndarray:
    """Training returns on a grid of environment steps, for learning curves of runs with different episode counts.

    Args:
        episode_returns: ``(n_episodes,)`` returns of the finished training episodes.
        episode_end_steps: ``(n_episodes,)`` increasing env step at which each episode ended.
        grid: ``(G,)`` env steps at which to read the curve.
        window: average the last ``window`` episodes finished by each grid step.

    Returns:
        ``(G,)`` array; ``nan`` before the first episode ends.
    """
    r = np.asarray(episode_returns, dtype=float)
    end = np.asarray(episode_end_steps)
    if r.shape != end.shape or r.ndim != 1:
        raise ValueError(f"episode_returns and episode_end_steps must be 1-D of equal length, got {r.shape}, {end.shape}")
    window = check_positive_int(window, "window")
    c = np.concatenate([[0.0], np.cumsum(r)])
    n = np.searchsorted(end, np.asarray(grid), side="right")   # episodes finished by each grid step
    lo = np.maximum(n - window, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[n] - c[lo]) / (n - lo)
    return np.where(n > 0, out, np.nan)


__all__.append("returns_at_steps")
