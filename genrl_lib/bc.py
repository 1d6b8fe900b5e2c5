"""Behaviour cloning (BC): supervised learning of the expert's actions, with the SAME policy network as PPO/GAIL.

BC maximizes the log-likelihood of the expert's actions under π_θ,

    max_θ  Σ_{(s,a) ∈ D_E} log π_θ(a | s),

(cross-entropy for Discrete actions, Gaussian log-likelihood for Box ones), by minibatch Adam. The policy is the
actor of a :class:`genrl_lib.ppo.PPO` built by :class:`genrl_lib.gail.GAIL`'s construction (same observation encoding:
one-hot for Discrete observations, optional standardization for Box ones), so a BC policy and a GAIL policy are the
same class of network, act the same way (``predict``) and can be compared one to one. BC never runs the env: its
errors compound at test time, when the policy drifts to states the expert never showed (Ross & Bagnell, 2010).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from genrl_lib.demonstrations import Demonstrations
from genrl_lib.evaluation import check_number, check_positive_int
from genrl_lib.gail import GAIL
from genrl_lib.progress import progress_bar as bar
from genrl_lib.seeding import check_seed, single_thread

__all__ = ["BCConfig", "BehaviourCloning", "behaviour_clone"]


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
    """

    n_epochs: int | None = None
    n_updates: int = 1000
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0

    def validate(self) -> "BCConfig":
        """Check every field; raise ``ValueError`` naming the bad one. Returns ``self``."""
        if self.n_epochs is not None:
            check_positive_int(self.n_epochs, "n_epochs")
        check_positive_int(self.n_updates, "n_updates")
        check_positive_int(self.batch_size, "batch_size")
        self.learning_rate = check_number(self.learning_rate, "learning_rate", low=0.0, low_open=True)
        self.weight_decay = check_number(self.weight_decay, "weight_decay", low=0.0)
        check_seed(self.seed)
        return self


class BehaviourCloning:
    """Behaviour cloning with GAIL's policy network.

    Args:
        env: env id or ``gym.Env`` (only its spaces are used; nothing is simulated while training).
        demonstrations: expert :class:`~genrl_lib.demonstrations.Demonstrations` recorded in ``env``'s spaces.
        config: a :class:`BCConfig`; ``**hyperparameters`` override its fields, or set the policy's PPO/GAIL
            fields (``net_arch``, ``activation``, ``normalize_obs``, ...).

    Attributes:
        agent: the underlying :class:`~genrl_lib.gail.GAIL` whose policy ``agent.ppo.actor`` BC trains.
        history: ``loss`` (mean negative log-likelihood per epoch) and ``accuracy`` (Discrete: fraction of the
            demonstrations' actions the deterministic policy reproduces, after each ``learn``).
    """

    def __init__(self, env, demonstrations: Demonstrations, config: BCConfig | None = None, **hyperparameters):
        names = {f.name for f in dataclasses.fields(BCConfig)}
        mine = {k: v for k, v in hyperparameters.items() if k in names}
        rest = {k: v for k, v in hyperparameters.items() if k not in names}
        self.config = dataclasses.replace(config or BCConfig(), **mine).validate()
        if isinstance(env, str):
            rest.setdefault("n_envs", 1)
        self.agent = GAIL(env, demonstrations, seed=self.config.seed, **rest)
        self.history: dict[str, list] = {"loss": [], "accuracy": []}

    @property
    def policy(self) -> torch.nn.Module:
        """The actor MLP ``(B, obs_dim) -> (B, n_actions or act_dim)``."""
        return self.agent.ppo.actor

    def learn(self, progress_bar: bool = True) -> "BehaviourCloning":
        """Fit the policy to the demonstrations (``n_epochs`` passes, or ``n_updates`` Adam steps); returns ``self``."""
        h = behaviour_clone(self.agent, self.config, progress_bar)
        self.history["loss"] += h["loss"]
        self.history["accuracy"] += h["accuracy"]
        return self

    def predict(self, obs, state=None, episode_start=None, deterministic: bool = True):
        """Same as :meth:`genrl_lib.gail.GAIL.predict`: ``(action, None)`` for one raw observation or a batch."""
        return self.agent.predict(obs, deterministic=deterministic)

    def save(self, path) -> None:
        """Save atomically and pickle-free (the GAIL file format; its discriminator is untrained)."""
        self.agent.save(path)

    def close(self) -> None:
        """Close the env the underlying agent made (if any)."""
        self.agent.close()

    @classmethod
    def load(cls, path) -> "BehaviourCloning":
        """Load a policy saved by :meth:`save` (acting only)."""
        self = cls.__new__(cls)
        self.agent = GAIL.load(path)
        self.config = BCConfig()
        self.history = {"loss": [], "accuracy": []}
        return self


def behaviour_clone(agent: GAIL, config: BCConfig | None = None, progress_bar: bool = False) -> dict[str, list]:
    """Train ``agent.ppo``'s actor (and ``log_std``) by maximum likelihood on ``agent.demonstrations``, in place.

    Used by :class:`BehaviourCloning` and by :meth:`genrl_lib.gail.GAIL.pretrain` (BC initialization of GAIL).
    Returns ``{"loss": [per-epoch mean NLL], "accuracy": [final accuracy] (Discrete actions) or []}``.
    """
    c, ppo, d = (config or BCConfig()).validate(), agent.ppo, agent.demonstrations
    x = torch.from_numpy(agent.encoder(d.observations))
    if agent.discrete_actions:
        y = torch.as_tensor(np.asarray(d.actions), dtype=torch.long).reshape(-1) - int(agent.action_space.start)
    else:
        y = torch.as_tensor(np.asarray(d.actions, np.float32)).reshape(len(x), -1)
    params = list(ppo.actor.parameters()) + ([ppo.log_std] if ppo.log_std is not None else [])
    opt = torch.optim.Adam(params, lr=c.learning_rate, weight_decay=c.weight_decay)
    gen = torch.Generator().manual_seed(c.seed)
    b = min(c.batch_size, len(x))
    n_epochs = c.n_epochs or max(1, -(-c.n_updates // -(-len(x) // b)))       # ceil(n_updates / batches per epoch)
    history: dict[str, list] = {"loss": [], "accuracy": []}
    with single_thread():
        with bar(n_epochs, "BC", enabled=progress_bar, unit="epoch") as pb:
            for _ in range(n_epochs):
                total = 0.0
                for idx in torch.randperm(len(x), generator=gen).split(b):
                    logp, _ = ppo._dist_terms(x[idx], y[idx])
                    loss = -logp.mean()                              # −(1/B) Σ log π_θ(a|s)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total += float(loss.item()) * len(idx)
                history["loss"].append(total / len(x))
                pb.update(1)
        if agent.discrete_actions:
            with torch.no_grad():
                history["accuracy"].append(float((ppo.actor(x).argmax(1) == y).float().mean()))
    return history
