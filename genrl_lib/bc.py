"""Behaviour cloning (BC): supervised learning of the expert's actions, with the SAME policy class as PPO/GAIL.

BC maximizes the log-likelihood of the expert's actions under π_θ,

    max_θ  Σ_{(s,a) ∈ D_E} log π_θ(a | s),

(cross-entropy for Discrete actions, Gaussian log-likelihood for Box ones), by minibatch Adam. The policy is a
:class:`genrl_lib.policies.ActorCriticPolicy` built as PPO builds its own, behind the same observation encoding as
GAIL's (:class:`genrl_lib.nets.ObsEncoder`: one-hot or factored one-hot for Discrete observations, optional
standardization for Box ones), so a BC policy and a GAIL policy are the same class of network, act the same way
(``predict``) and can be compared one to one. BC never runs the env: its errors compound at test time, when the
policy drifts to states the expert never showed (Ross & Bagnell, 2010).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np
import torch

from genrl_lib.checks import check_bool, check_number, check_obs_encoding, check_positive_int
from genrl_lib.demonstrations import Demonstrations, check_demonstrations
from genrl_lib.envs import spaces_of
from genrl_lib.io import load_torch, save_torch, space_from_json, space_to_json
from genrl_lib.nets import ObsEncoder, check_factors, check_obs, check_sizes
from genrl_lib.policies import ActorCriticPolicy
from genrl_lib.progress import progress_bar as bar
from genrl_lib.seeding import check_seed, single_thread

__all__ = ["BCConfig", "BehaviourCloning", "behaviour_clone"]

_KIND = "bc"


@dataclass
class BCConfig:
    """Behaviour-cloning hyperparameters.

    Attributes:
        n_epochs: passes over the demonstrations; ``None`` (default): as many as ``n_updates`` Adam steps need,
            so a tiny dataset (1 subsampled trajectory) and a large one are both trained to convergence.
        n_updates: Adam steps when ``n_epochs`` is ``None``.
        batch_size: transitions per Adam step (capped at the dataset size).
        learning_rate: Adam step size.
        weight_decay: L2 penalty (Adam's ``weight_decay``).
        seed: seeds the network initialization and the minibatch order.
        net_arch, activation, log_std_init: the policy's (as :class:`genrl_lib.ppo.PPOConfig`'s fields).
        normalize_obs, obs_encoding, obs_factors: the observation encoding (as :class:`genrl_lib.gail.GAILConfig`'s).
    """

    n_epochs: int | None = None
    n_updates: int = 1000
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    net_arch: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    log_std_init: float = 0.0
    normalize_obs: bool = False
    obs_encoding: str = "one_hot"
    obs_factors: tuple[int, ...] | None = None

    def validate(self) -> BCConfig:
        """Check every field; raise ``ValueError`` naming the bad one. Returns ``self``."""
        if self.n_epochs is not None:
            check_positive_int(self.n_epochs, "n_epochs")
        check_positive_int(self.n_updates, "n_updates")
        check_positive_int(self.batch_size, "batch_size")
        self.learning_rate = check_number(self.learning_rate, "learning_rate", low=0.0, low_open=True)
        self.weight_decay = check_number(self.weight_decay, "weight_decay", low=0.0)
        check_seed(self.seed)
        self.net_arch = check_sizes(self.net_arch, "net_arch")
        self.log_std_init = check_number(self.log_std_init, "log_std_init (log of the initial action std)")
        self.normalize_obs = check_bool(self.normalize_obs, "normalize_obs")
        check_obs_encoding(self.obs_encoding, self.obs_factors)
        if self.obs_factors is not None:
            self.obs_factors = check_factors(self.obs_factors)
        return self


class BehaviourCloning:
    """Behaviour cloning with PPO's and GAIL's policy class.

    Args:
        env: env id or ``gym.Env`` (only its spaces are used; nothing is simulated while training).
        demonstrations: expert :class:`~genrl_lib.demonstrations.Demonstrations` recorded in ``env``'s spaces.
        config: a :class:`BCConfig`; ``**hyperparameters`` override its fields.
        obs_shift, obs_scale: optional ``(obs_dim,)`` arrays standardizing Box observations (override
            ``normalize_obs``).

    Attributes:
        policy: the :class:`~genrl_lib.policies.ActorCriticPolicy` BC trains (its actor and ``log_std``; the critic is
            built, as PPO's, but untouched).
        encoder: the :class:`~genrl_lib.nets.ObsEncoder` between raw observations and the policy.
        history: ``loss`` (mean negative log-likelihood per epoch) and ``accuracy`` (Discrete: fraction of the
            demonstrations' actions the deterministic policy reproduces, after each ``learn``).

    Raises:
        TypeError: an unknown hyperparameter (the message lists the valid ones).
    """

    def __init__(self, env, demonstrations: Demonstrations | None, config: BCConfig | None = None, *,
                 obs_shift=None, obs_scale=None, observation_space: gym.Space | None = None,
                 action_space: gym.Space | None = None, **hyperparameters):
        names = {f.name for f in dataclasses.fields(BCConfig)}
        bad = sorted(set(hyperparameters) - names)
        if bad:
            raise TypeError(f"unknown BC hyperparameter(s) {bad}; valid ones: {sorted(names)}")
        self.config = c = dataclasses.replace(config or BCConfig(), **hyperparameters).validate()
        if env is None:      # BehaviourCloning.load: acting only
            if observation_space is None or action_space is None:
                raise ValueError("env=None: pass observation_space and action_space (BehaviourCloning.load does)")
            obs_space, act_space, self.demonstrations = observation_space, action_space, None
        else:
            self.demonstrations = check_demonstrations(demonstrations, env)
            obs_space, act_space = spaces_of(env)
        factors, keep = c.obs_factors, c.obs_encoding == "one_hot+factored"
        if obs_shift is not None or obs_scale is not None:
            self.encoder = ObsEncoder(obs_space, obs_shift, obs_scale, factors=factors, keep_one_hot=keep)
        elif c.normalize_obs and self.demonstrations is not None:
            self.encoder = ObsEncoder.fit(obs_space, self.demonstrations.observations, factors=factors, keep_one_hot=keep)
        else:
            self.encoder = ObsEncoder(obs_space, factors=factors, keep_one_hot=keep)
        self.observation_space, self.action_space = obs_space, act_space
        self.policy = ActorCriticPolicy(self.encoder.encoded_space, act_space, c.net_arch, c.activation,
                                        ortho_init=True, log_std_init=c.log_std_init, seed=c.seed)
        self._rng = np.random.default_rng(c.seed)
        self.history: dict[str, list] = {"loss": [], "accuracy": []}

    def learn(self, progress_bar: bool = True) -> BehaviourCloning:
        """Fit the policy to the demonstrations (``n_epochs`` passes, or ``n_updates`` Adam steps); returns ``self``."""
        if self.demonstrations is None:
            raise ValueError("this BehaviourCloning was loaded without demonstrations: it can only act")
        d = self.demonstrations
        h = behaviour_clone(self.policy, self.encoder(d.observations), d.actions, self.config, progress_bar)
        self.history["loss"] += h["loss"]
        self.history["accuracy"] += h["accuracy"]
        return self

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """SB3's ``predict``: ``(action, None)`` for one raw observation or a batch ``(B, *obs_shape)`` (Discrete:
        ``(B,)`` ints); an int / ``act_shape`` array for one observation, ``(B,)`` / ``(B, *act_shape)`` for a batch."""
        batch, single = check_obs(observation, self.observation_space)
        a = self.policy.env_action(self.policy.predict(self.encoder(batch), deterministic, self._rng))
        return (a[0].item() if self.policy.discrete else a[0]) if single else a, None

    def save(self, path) -> None:
        """Save the policy, the encoder and the config atomically and pickle-free (``genrl_lib.io``)."""
        state = {**self.policy.nested_state(), "obs_shift": torch.from_numpy(self.encoder.shift.copy()),
                 "obs_scale": torch.from_numpy(self.encoder.scale.copy())}
        meta = {"config": asdict(self.config), "observation_space": space_to_json(self.observation_space),
                "action_space": space_to_json(self.action_space)}
        save_torch(path, _KIND, state, meta)

    def close(self) -> None:
        """Nothing to close (BC never makes an env); kept so BC and GAIL agents are used alike."""

    @classmethod
    def load(cls, path) -> BehaviourCloning:
        """Load a policy saved by :meth:`save` (acting only; ``torch.load(weights_only=True)``)."""
        state, meta = load_torch(path, _KIND)
        cfg = dict(meta["config"])
        cfg["net_arch"] = tuple(cfg["net_arch"])
        if cfg.get("obs_factors") is not None:
            cfg["obs_factors"] = tuple(cfg["obs_factors"])
        obs_space, act_space = space_from_json(meta["observation_space"]), space_from_json(meta["action_space"])
        box = not isinstance(obs_space, gym.spaces.Discrete)
        agent = cls(None, None, BCConfig(**cfg), obs_shift=state["obs_shift"].numpy() if box else None,
                    obs_scale=state["obs_scale"].numpy() if box else None, observation_space=obs_space,
                    action_space=act_space)
        agent.policy.load_nested_state(state)
        return agent


def behaviour_clone(policy: ActorCriticPolicy, observations: np.ndarray, actions, config: BCConfig | None = None,
                    progress_bar: bool = False) -> dict[str, list]:
    """Train ``policy``'s actor (and ``log_std``) by maximum likelihood on demonstrations, in place.

    Args:
        policy: the policy to train (its critic is untouched).
        observations: ``(N, obs_dim)`` float32, already encoded as the policy sees them.
        actions: ``(N,)`` env actions (Discrete: counted from the space's ``start``) or ``(N, *act_shape)``.
        config: minibatch size, learning rate, epochs/updates and seed (the policy fields are unused here).

    Used by :class:`BehaviourCloning` and by :meth:`genrl_lib.gail.GAIL.pretrain` (BC initialization of GAIL).
    Returns ``{"loss": [per-epoch mean NLL], "accuracy": [final accuracy] (Discrete actions) or []}``.
    """
    c = (config or BCConfig()).validate()
    x = torch.from_numpy(np.asarray(observations, np.float32))
    if policy.discrete:
        y = torch.as_tensor(np.asarray(actions), dtype=torch.long).reshape(-1) - int(getattr(policy.action_space, "start", 0))
    else:
        y = torch.as_tensor(np.asarray(actions, np.float32)).reshape(len(x), -1)
    opt = torch.optim.Adam(policy.actor_parameters(), lr=c.learning_rate, weight_decay=c.weight_decay)
    gen = torch.Generator().manual_seed(c.seed)
    b = min(c.batch_size, len(x))
    n_epochs = c.n_epochs or max(1, -(-c.n_updates // -(-len(x) // b)))       # ceil(n_updates / batches per epoch)
    history: dict[str, list] = {"loss": [], "accuracy": []}
    with single_thread():
        with bar(n_epochs, "BC", enabled=progress_bar, unit="epoch") as pb:
            for _ in range(n_epochs):
                total = 0.0
                for idx in torch.randperm(len(x), generator=gen).split(b):
                    logp, _ = policy.log_prob_entropy(x[idx], y[idx])
                    loss = -logp.mean()                              # −(1/B) Σ log π_θ(a|s)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total += float(loss.item()) * len(idx)
                history["loss"].append(total / len(x))
                pb.update(1)
        if policy.discrete:
            with torch.no_grad():
                history["accuracy"].append(float((policy.actor(x).argmax(1) == y).float().mean()))
    return history
