"""One policy object for every policy-gradient learner of the library (PPO, REINFORCE/actor-critic, BC, GAIL).

An :class:`ActorCriticPolicy` is built from spaces alone, as stable-baselines3's policies are:

* an actor MLP ``(B, obs_dim) -> (B, n_actions)`` logits of a Categorical ``π_θ(·|s)`` (Discrete actions) or
  ``(B, act_dim)`` means μ_θ(s) of a Gaussian ``N(μ_θ(s), diag σ²)`` with a learned state-independent
  ``log σ`` (Box actions);
* optionally a critic MLP ``(B, obs_dim) -> (B, 1)``, the value ``V_φ(s)``.

Observations reach it already flat (``obs_dim`` floats: one-hot or factored one-hot states, or standardized
vectors, see :class:`genrl_lib.nets.ObsEncoder`). The algorithms call its public methods:
:meth:`~ActorCriticPolicy.evaluate_actions` (log π_θ(a|s), the entropy and V_φ(s), differentiable),
:meth:`~ActorCriticPolicy.sample` and :meth:`~ActorCriticPolicy.predict` (NumPy, for acting), and save or
restore it with ``state_dict`` / ``load_state_dict`` (or :meth:`~ActorCriticPolicy.nested_state` /
:meth:`~ActorCriticPolicy.load_nested_state`, the layout of the library's ``.pt`` files).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from genrl_lib.checks import check_number
from genrl_lib.fast import numpy_forward
from genrl_lib.nets import action_dim, check_sizes, check_space, mlp, obs_dim
from genrl_lib.seeding import check_seed

__all__ = ["ActorCriticPolicy"]


class ActorCriticPolicy(nn.Module):
    """π_θ(a|s) (Categorical or diagonal Gaussian) and, optionally, V_φ(s), built from spaces alone.

    Args:
        observation_space: a Box space whose flat size is the networks' input (an encoded space: one-hot
            Discrete states are a ``Box(0, 1, (n,))``, see :class:`genrl_lib.nets.ObsEncoder`).
        action_space: Discrete (Categorical policy) or Box (Gaussian policy).
        net_arch: hidden sizes of the actor and of the (separate) critic.
        activation: their activation (see :func:`genrl_lib.nets.mlp`).
        ortho_init: orthogonal initialization (gain √2, 0.01 on the actor's output and 1 on the critic's, zero
            biases; PPO's), else torch's default initialization (REINFORCE's).
        log_std_init: initial log σ of the Gaussian policy (Box actions).
        critic: build ``V_φ`` (``False``: ``critic`` is ``None``).
        seed: if given, ``torch.manual_seed(seed)`` before the networks are made (actor first, then critic).

    Attributes:
        actor: ``(B, obs_dim) -> (B, act_dim)`` MLP.  critic: ``(B, obs_dim) -> (B, 1)`` MLP or ``None``.
        log_std: ``(act_dim,)`` parameter (Box actions) or ``None``.
        discrete: whether actions are Discrete.  obs_dim, act_dim: input and output sizes.

    Raises:
        TypeError: an observation space other than Box or an action space other than Discrete/Box.
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, net_arch: Sequence[int] = (64, 64),
                 activation: str = "tanh", *, ortho_init: bool = True, log_std_init: float = 0.0,
                 critic: bool = True, seed: int | None = None):
        super().__init__()
        check_space(observation_space, "observation_space", (gym.spaces.Box,))
        check_space(action_space, "action_space", (gym.spaces.Discrete, gym.spaces.Box))
        net_arch = check_sizes(net_arch, "net_arch")
        log_std_init = check_number(log_std_init, "log_std_init (log of the initial action std)")
        self.observation_space, self.action_space = observation_space, action_space
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.obs_dim, self.act_dim = obs_dim(observation_space), action_dim(action_space)
        self.activation = activation
        if seed is not None:
            torch.manual_seed(check_seed(seed))
        self.actor = mlp(self.obs_dim, self.act_dim, net_arch, activation, out_gain=0.01 if ortho_init else None)
        self.critic = (mlp(self.obs_dim, 1, net_arch, activation, out_gain=1.0 if ortho_init else None)
                       if critic else None)
        self.log_std = None if self.discrete else nn.Parameter(torch.full((self.act_dim,), log_std_init))
        self._start = int(action_space.start) if isinstance(action_space, gym.spaces.Discrete) else 0
        if isinstance(action_space, gym.spaces.Box):
            self._low = action_space.low.astype(np.float32)
            self._high = action_space.high.astype(np.float32)
            self._act_shape: tuple[int, ...] = tuple(action_space.shape)

    # ---------------------------------------------------------------- parameters and state
    def actor_parameters(self) -> list[nn.Parameter]:
        """The policy's parameters θ in a fixed order: the actor's, then ``log_std`` (Box actions)."""
        return [*self.actor.parameters()] + ([] if self.log_std is None else [self.log_std])

    def ordered_parameters(self) -> list[nn.Parameter]:
        """Every parameter in the library's fixed order: actor, critic, then ``log_std`` (PPO's flat buffer)."""
        critic = [] if self.critic is None else [*self.critic.parameters()]
        return [*self.actor.parameters(), *critic] + ([] if self.log_std is None else [self.log_std])

    def nested_state(self) -> dict:
        """``{"actor": state_dict, "critic": state_dict (if any), "log_std": (act_dim,) tensor (if any)}``: the
        layout the library's ``.pt`` files use (copies, safe to save)."""
        state: dict = {"actor": self.actor.state_dict()}
        if self.critic is not None:
            state["critic"] = self.critic.state_dict()
        if self.log_std is not None:
            state["log_std"] = self.log_std.detach().clone()
        return state

    def load_nested_state(self, state: dict) -> None:
        """Restore what :meth:`nested_state` returned, in place (parameters keep their storage)."""
        missing = [k for k in ("actor", "critic", "log_std")
                   if k not in state and getattr(self, k) is not None]
        if missing:
            raise ValueError(f"the saved policy lacks {missing}: was it saved from a policy of another shape?")
        self.actor.load_state_dict(state["actor"])
        if self.critic is not None:
            self.critic.load_state_dict(state["critic"])
        if self.log_std is not None:
            self.log_std.data.copy_(state["log_std"])

    # ---------------------------------------------------------------- torch: what the losses differentiate
    def log_prob_entropy(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``log π_θ(a|s)`` ``(B,)`` and the entropy ``H(π_θ(·|s))`` ``(B,)`` for flat float32 ``obs (B, obs_dim)``
        and ``actions`` ``(B,)`` int64 indices (Discrete, counted from 0) or ``(B, act_dim)`` float32 (Box)."""
        out = self.actor(obs)
        if self.discrete:
            logp_all = torch.log_softmax(out, dim=1)
            logp = logp_all.gather(1, actions.unsqueeze(1)).squeeze(1)
            entropy = -(logp_all.exp() * logp_all).sum(dim=1)
            return logp, entropy
        assert self.log_std is not None                     # Box actions
        log_std = self.log_std.expand_as(out)
        z = (actions - out) / log_std.exp()
        logp = (-0.5 * z.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(dim=1)
        entropy = (log_std + 0.5 + 0.5 * math.log(2 * math.pi)).sum(dim=1)
        return logp, entropy

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """``V_φ(s)`` ``(B,)`` for flat ``obs (B, obs_dim)``; raises if the policy has no critic."""
        if self.critic is None:
            raise ValueError("this policy has no critic (built with critic=False)")
        return self.critic(obs).squeeze(1)

    def evaluate_actions(self, obs: torch.Tensor, actions: torch.Tensor
                         ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
        """stable-baselines3's ``evaluate_actions``: ``(V_φ(s) (B,) or None without critic, log π_θ(a|s) (B,),
        H(π_θ(·|s)) (B,))`` for ``obs (B, obs_dim)`` and ``actions`` as in :meth:`log_prob_entropy`."""
        logp, entropy = self.log_prob_entropy(obs, actions)
        return (None if self.critic is None else self.value(obs)), logp, entropy

    # ---------------------------------------------------------------- NumPy: acting
    def numpy_actor(self) -> Callable[[np.ndarray], np.ndarray]:
        """The actor as a NumPy function ``(B, obs_dim) float32 -> (B, act_dim)`` on views of its weights (no copy:
        it follows in-place updates; take it again if the parameters' storage is replaced). Acting then costs
        microseconds per step; activations other than tanh/relu fall back to torch
        (:func:`genrl_lib.fast.numpy_forward`, the library's NumPy fast path)."""
        return numpy_forward(self.actor)

    def sample(self, out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Sample ``a ~ π_θ(·|s)`` from the actor's outputs ``out (B, act_dim)``: ``(B,)`` int64 indices
        (inverse-CDF sampling of the softmax) or ``(B, act_dim)`` float32 (``μ + σ·ε``, unclipped)."""
        if self.discrete:
            z = np.exp(out - out.max(axis=1, keepdims=True))
            cdf = np.cumsum(z, axis=1)
            u = rng.random(len(out))[:, None] * cdf[:, -1:]
            return np.minimum((cdf < u).sum(axis=1), self.act_dim - 1)
        assert self.log_std is not None                     # Box actions
        std = np.exp(self.log_std.detach().numpy())
        return (out + std * rng.standard_normal(out.shape)).astype(np.float32)

    def predict(self, obs: np.ndarray, deterministic: bool = True,
                rng: np.random.Generator | None = None) -> np.ndarray:
        """Actions for flat observations ``obs (B, obs_dim)``: the mode (argmax / μ) if ``deterministic`` (the
        default, as for every agent's ``predict``), else a sample drawn with ``rng``. Returns policy actions
        ``(B,)`` / ``(B, act_dim)`` as :meth:`sample` does (use :meth:`env_action` for the env's); unlike an
        agent's ``predict`` it returns the array alone, not an ``(actions, state)`` pair."""
        with torch.no_grad():
            out = self.actor(torch.from_numpy(np.asarray(obs, np.float32).reshape(-1, self.obs_dim))).numpy()
        if deterministic:
            return out.argmax(axis=1) if self.discrete else out
        if rng is None:
            raise ValueError("predict(deterministic=False) needs rng=np.random.Generator to sample with")
        return self.sample(out, rng)

    def env_action(self, a: np.ndarray) -> np.ndarray:
        """Policy actions ``(B,)`` / ``(B, act_dim)`` -> the env's: Discrete shifted by ``start``; Box clipped to
        the bounds and shaped ``(B, *action_space.shape)``."""
        if self.discrete:
            return a + self._start
        return np.clip(a, self._low, self._high).reshape((len(a), *self._act_shape))
