"""The Decision Diffuser (Ajay et al., 2023): offline RL as return-conditioned generation of state sequences.

Three pieces, each a few lines below:

1. A diffusion model :math:`\\varepsilon_\\theta(x_k(\\tau), y(\\tau), k \\mid s_t)` over *state* sequences
   :math:`x_0(\\tau) = (s_{t+1} - s_t, \\dots, s_{t+H-1} - s_{t+H-2})` (the future as state differences, flattened
   to ``(H - 1) * obs_dim`` numbers, see :func:`to_plan_coordinates`; a
   :class:`genrl_lib.diffusion.DDPM` with an MLP noise network: the sequences here are short, 3-D, and an MLP
   over the horizon trains in seconds on a CPU where the paper's temporal U-Net would need a GPU), conditioned on
   the return :math:`y(\\tau)` and trained with classifier-free guidance (the condition dropped with probability
   ``p_uncond``).
2. An inverse-dynamics model :math:`a_t = f_\\phi(s_t, s_{t+1})`, trained by regression on the same data.
3. Receding-horizon control: at every step, sample a plan that starts at the current state (given to the noise
   network as an input it always sees; the paper fixes it by inpainting, which an MLP over a short horizon did not
   learn to respect here) with
   :math:`\\hat\\varepsilon = \\varepsilon_\\theta(x_k, \\varnothing, k) + w\\,(\\varepsilon_\\theta(x_k, y, k) - \\varepsilon_\\theta(x_k, \\varnothing, k))`,
   take :math:`a_t = f_\\phi(s_t, \\hat s_{t+1})`, act, and plan again from the next state.

The return :math:`y(\\tau)` of a window is, by default, the return of the episode it comes from (as a mean reward
per step), scaled to ``[0, 1]`` by the dataset's smallest and largest values (the paper normalizes returns to
``[0, 1]`` too). Every state of an expert episode, even the first ones hanging down, carries the expert's label, so
"behave like the best episodes" is asked for in every state. ``predict(obs, target=0.9)`` asks for a return near
the dataset's best.

SB3's surface: ``DecisionDiffuser(env, config)``, ``learn(dataset)``, ``predict(observation, state=None,
episode_start=None, deterministic=True) -> (action, None)``, ``save(path)``, ``DecisionDiffuser.load(path, env)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from genrl_lib.checks import renamed, upgrade_config
from genrl_lib.demonstrations import Demonstrations
from genrl_lib.diffusion import DDPM, DDPMConfig, check_guidance
from genrl_lib.evaluation import check_number, check_positive_int
from genrl_lib.io import load_torch, save_torch, space_from_json, space_to_json
from genrl_lib.nets import check_sizes, mlp
from genrl_lib.progress import progress_bar as tqdm_bar
from genrl_lib.seeding import check_seed, single_thread

__all__ = ["DDConfig", "DecisionDiffuser", "window_returns", "make_windows", "check_target", "to_plan_coordinates",
           "from_plan_coordinates"]

KIND = "decision_diffuser"


@renamed(hidden="net_arch", inv_hidden="inv_net_arch", lr="learning_rate")
@dataclass
class DDConfig:
    """Decision Diffuser hyperparameters.

    Attributes:
        horizon: ``H``, states per generated plan (the current one included).
        return_window: ``None`` (default): the condition ``y`` is the mean reward of the window's whole episode
            (the episode's return / its length, D4RL's trajectory return); an int: the mean reward of the next
            ``return_window`` steps.
        n_plans: plans sampled per step; the action is the mean of their inverse-dynamics actions.
        inverse_span: ``j``, the inverse model reads :math:`a_t = f_\\phi(s_t, \\hat s_{t+j})`; 1 is the paper's
            :math:`f_\\phi(s_t, s_{t+1})`. With ``j > 1`` it is told where the plan is heading rather than the
            exact next state, whose small difference from :math:`s_t` is below the diffusion model's precision.
        n_steps: ``K``, diffusion steps; net_arch: the noise MLP; p_uncond: condition dropout.
        guidance: default classifier-free guidance weight ``w`` of :meth:`DecisionDiffuser.predict`.
        target: default requested return ``y`` in ``[0, 1]`` of :meth:`DecisionDiffuser.predict`.
        temperature: sampling noise scale (the paper samples at a low temperature, 0.5).
        inv_net_arch: the inverse-dynamics MLP.
        steps: Adam steps of :meth:`DecisionDiffuser.learn` (both models); batch_size, learning_rate: minibatch,
            Adam step size. (``net_arch``, ``inv_net_arch`` and ``learning_rate`` were ``hidden``, ``inv_hidden``
            and ``lr``: SB3's names, as every agent's.)
        seed: initialisation, minibatches, diffusion noise and planning noise.
    """

    horizon: int = 8
    return_window: int | None = None
    n_plans: int = 1
    inverse_span: int = 3
    n_steps: int = 20
    net_arch: tuple[int, ...] = (256, 256, 256)
    p_uncond: float = 0.25
    guidance: float = 3.0
    target: float = 0.9
    temperature: float = 0.5
    inv_net_arch: tuple[int, ...] = (128, 128)
    steps: int = 4000
    batch_size: int = 256
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self):
        check_positive_int(self.horizon, "horizon")
        if self.horizon < 2:
            raise ValueError(f"horizon must be >= 2 (the current state and at least the next one), got {self.horizon}")
        if self.return_window is not None:
            check_positive_int(self.return_window, "return_window")
        check_positive_int(self.n_plans, "n_plans")
        check_positive_int(self.inverse_span, "inverse_span")
        if self.inverse_span > self.horizon - 1:
            raise ValueError(f"inverse_span ({self.inverse_span}) must be at most horizon - 1 ({self.horizon - 1}): the "
                             "inverse model reads the plan's state inverse_span steps ahead")
        check_positive_int(self.n_steps, "n_steps")
        self.net_arch = check_sizes(self.net_arch, "net_arch")
        self.inv_net_arch = check_sizes(self.inv_net_arch, "inv_net_arch")
        check_number(self.p_uncond, "p_uncond", low=0.0, high=1.0)
        check_guidance(self.guidance, "guidance")
        check_target(self.target)
        check_number(self.temperature, "temperature", low=0.0)
        check_positive_int(self.steps, "steps")
        check_positive_int(self.batch_size, "batch_size")
        check_number(self.learning_rate, "learning_rate", low=0.0, low_open=True)
        check_seed(self.seed)


def check_target(target, name: str = "target") -> float:
    """A requested return: a real number (normalized, 0 = the dataset's worst window, 1 = its best)."""
    if isinstance(target, bool) or not isinstance(target, (int, float, np.integer, np.floating)) \
            or not math.isfinite(target):
        raise TypeError(f"{name} must be a real number (a normalized return: 0 = the dataset's worst, 1 = its best), "
                        f"got {type(target).__name__} {target!r}")
    return float(target)


def window_returns(data: Demonstrations, window: int | None = None) -> np.ndarray:
    """``(N,)`` the return condition of each transition: with ``window=None`` the mean reward of its whole
    episode (every transition of an episode gets the same value), otherwise the mean reward of the next ``window``
    transitions of its episode (fewer at its end)."""
    out = np.empty(len(data), dtype=np.float64)
    if window is None:
        for ep in np.unique(data.episode_ids):
            idx = np.flatnonzero(data.episode_ids == ep)
            out[idx] = data.rewards[idx].astype(np.float64).mean()
        return out
    window = check_positive_int(window, "window")
    for ep in np.unique(data.episode_ids):
        idx = np.flatnonzero(data.episode_ids == ep)
        r = data.rewards[idx].astype(np.float64)
        c = np.concatenate([[0.0], np.cumsum(r)])
        T = len(r)
        end = np.minimum(np.arange(T) + window, T)
        out[idx] = (c[end] - c[:T]) / (end - np.arange(T))
    return out


def make_windows(data: Demonstrations, horizon: int, window: int | None = None, span: int = 1
                 ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every length-``horizon`` state window of every episode, with its return and the (s, s', a) triples.

    Returns:
        ``(X (M, horizon * obs_dim), y (M,), (s (N', obs_dim), s_next (N', obs_dim), a (N', act_dim)))``: windows
        ``(s_t .. s_{t+H-1})`` in :func:`to_plan_coordinates`, flattened, their raw mean-reward return ``y``, and all transitions for inverse
        dynamics.

    Raises:
        ValueError: an episode is shorter than ``horizon`` states (naming the shortest length and the fix).
    """
    horizon = check_positive_int(horizon, "horizon")
    y_all = window_returns(data, window)
    obs = np.asarray(data.observations, dtype=np.float32).reshape(len(data), -1)
    nxt = np.asarray(data.next_observations, dtype=np.float32).reshape(len(data), -1)
    X, Y = [], []
    shortest = None
    for ep in np.unique(data.episode_ids):
        idx = np.flatnonzero(data.episode_ids == ep)
        states = np.concatenate([obs[idx], nxt[idx[-1:]]])          # T + 1 states
        shortest = len(states) if shortest is None else min(shortest, len(states))
        if len(states) < horizon:
            continue
        win = np.lib.stride_tricks.sliding_window_view(states, horizon, axis=0)   # (T+2-H, obs_dim, H)
        win = win[:len(idx)].transpose(0, 2, 1)                       # (M_ep, H, obs_dim), from each transition
        X.append(to_plan_coordinates(win).reshape(len(win), -1))
        Y.append(y_all[idx[:len(win)]])
    if not X:
        raise ValueError(f"horizon={horizon} is longer than every episode (the longest has {shortest} states): "
                         f"use horizon <= {shortest}")
    acts = np.asarray(data.actions, dtype=np.float32).reshape(len(data), -1)
    span = check_positive_int(span, "span")
    if span > 1:                                   # (s_t, s_{t+span}, a_t) inside each episode
        S, SN, A = [], [], []
        for ep in np.unique(data.episode_ids):
            idx = np.flatnonzero(data.episode_ids == ep)
            states = np.concatenate([obs[idx], nxt[idx[-1:]]])
            if len(idx) >= span:
                S.append(states[:len(idx) + 1 - span])
                SN.append(states[span:])
                A.append(acts[idx[:len(idx) + 1 - span]])
        obs, nxt, acts = np.concatenate(S), np.concatenate(SN), np.concatenate(A)
    return np.concatenate(X), np.concatenate(Y), (obs, nxt, acts)


def to_plan_coordinates(states: np.ndarray) -> np.ndarray:
    r"""``(..., H, obs_dim)`` states -> ``(..., H, obs_dim)``: the first state, then the differences
    :math:`s_{i+1} - s_i`. Standardized per coordinate by the diffusion model, the differences keep the action's
    small effect on the next state (Pendulum: :math:`\Delta\dot\theta = 0.05\,(15\sin\theta + 3u)`) at the
    model's scale; plain states would bury it under the state's own range."""
    out = np.array(states, dtype=np.float32, copy=True)
    out[..., 1:, :] = states[..., 1:, :] - states[..., :-1, :]
    return out


def from_plan_coordinates(plan: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_plan_coordinates`: cumulative sums of the differences from the first state."""
    return np.cumsum(np.asarray(plan, dtype=np.float32), axis=-2)


class DecisionDiffuser:
    """Return-conditioned diffusion over state plans + inverse dynamics + receding-horizon control.

    Args:
        env: a gymnasium env or id with Box observation and action spaces (only its spaces are used).
        config: a :class:`DDConfig`.
    """

    def __init__(self, env: gym.Env | str, config: DDConfig | None = None):
        e = gym.make(env) if isinstance(env, str) else env
        obs_space, act_space = e.observation_space, e.action_space
        self.env_id = e.spec.id if e.spec is not None else ""
        if isinstance(env, str):
            e.close()
        for name, sp in (("observation_space", obs_space), ("action_space", act_space)):
            if not isinstance(sp, gym.spaces.Box):
                raise TypeError(f"DecisionDiffuser needs a Box {name}, got {sp}")
        assert isinstance(obs_space, gym.spaces.Box) and isinstance(act_space, gym.spaces.Box)   # checked just above
        self.observation_space, self.action_space = obs_space, act_space
        self.config = config if config is not None else DDConfig()
        if not isinstance(self.config, DDConfig):
            raise TypeError(f"config must be a DDConfig, got {type(self.config).__name__}")
        c = self.config
        self.obs_dim = int(np.prod(self.observation_space.shape))
        self.act_dim = int(np.prod(self.action_space.shape))
        # x_0(τ): the H − 1 future state differences; the current state s_t is the network's context input
        self.diffusion = DDPM((c.horizon - 1) * self.obs_dim,
                              DDPMConfig(n_steps=c.n_steps, hidden=c.net_arch, cond_dim=1, context_dim=self.obs_dim,
                                         p_uncond=c.p_uncond, batch_size=c.batch_size, lr=c.learning_rate, seed=c.seed))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed + 1)
            self.inverse = mlp(2 * self.obs_dim, self.act_dim, c.inv_net_arch, "relu")      # f_φ(s_t, s_{t+1})
        self.inv_opt = torch.optim.Adam(self.inverse.parameters(), lr=c.learning_rate)
        self.y_low, self.y_high = 0.0, 1.0
        self.s_mean: np.ndarray = np.zeros(self.obs_dim, np.float32)
        self.s_std: np.ndarray = np.ones(self.obs_dim, np.float32)
        self.d_std: np.ndarray = np.ones(self.obs_dim, np.float32)
        self.a_scale = torch.as_tensor(self.action_space.high, dtype=torch.float32).reshape(-1)
        self._gen = torch.Generator().manual_seed(c.seed + 2)      # planning noise in predict
        self.trained = False

    # ------------------------------------------------------------------------------------------
    def _check_data(self, data: Demonstrations) -> None:
        if not isinstance(data, Demonstrations):
            raise TypeError(f"dataset must be a genrl_lib.demonstrations.Demonstrations (e.g. from "
                            f"genrl_lib.offline.load_minari), got {type(data).__name__}")
        for name in ("observation_space", "action_space"):
            mine, theirs = getattr(self, name), getattr(data, name)
            if mine != theirs:
                raise ValueError(f"the dataset's {name} is {theirs} but the env's is {mine}: use a dataset "
                                 f"recorded in this env ({self.env_id or 'unknown id'})")

    def normalize_return(self, y_raw):
        """Raw mean-reward return(s) -> the ``[0, 1]`` scale of the condition."""
        return (np.asarray(y_raw, dtype=np.float64) - self.y_low) / (self.y_high - self.y_low)

    def inverse_dynamics(self, s: torch.Tensor, s_next: torch.Tensor) -> torch.Tensor:
        """:math:`a = a_{\\max} \\tanh f_\\phi(s, s')` for ``s, s_next (m, obs_dim)`` -> ``(m, act_dim)``."""
        mean, std, dstd = (torch.from_numpy(v) for v in (self.s_mean, self.s_std, self.d_std))
        z = torch.cat([(s - mean) / std, (s_next - s) / dstd], dim=1)
        return self.a_scale * torch.tanh(self.inverse(z))

    @single_thread()
    @renamed(progress="progress_bar")
    def learn(self, dataset: Demonstrations, steps: int | None = None, progress_bar: bool = True
              ) -> dict[str, list[float]]:
        """Train the diffusion model and the inverse dynamics on ``dataset`` (``steps`` Adam steps each).

        Returns ``{"diffusion_loss": [...], "inverse_loss": [...]}`` per step.
        """
        self._check_data(dataset)
        c = self.config
        steps = check_positive_int(steps if steps is not None else c.steps, "steps")
        X, y_raw, (s, s_next, a) = make_windows(dataset, c.horizon, c.return_window, c.inverse_span)
        if not self.trained:
            self.y_low, self.y_high = float(y_raw.min()), float(y_raw.max())
            if self.y_high <= self.y_low:
                self.y_high = self.y_low + 1.0
            self.s_mean, self.s_std = s.mean(0), np.maximum(s.std(0), 1e-6).astype(np.float32)
            self.d_std = np.maximum((s_next - s).std(0), 1e-6).astype(np.float32)
        y = self.normalize_return(y_raw).astype(np.float32)[:, None]
        hist: dict[str, list[float]] = {"diffusion_loss": [], "inverse_loss": []}
        diff = self.diffusion
        x0_all = diff.prepare(X[:, self.obs_dim:])                  # future differences, standardized
        ctx_all = torch.from_numpy((X[:, :self.obs_dim] - self.s_mean) / self.s_std)   # s_t, standardized
        y_all = torch.from_numpy(y)
        s_t, sn_t, a_t = (torch.from_numpy(v) for v in (s, s_next, a))
        gen = diff.rng
        with tqdm_bar(total=steps, desc="Decision Diffuser", enabled=progress_bar, unit="step") as bar:
            for _ in range(steps):
                # diffusion: E ||ε − ε_θ(x_k(τ), (1 − β) y(τ) + β ∅, k)||², β ~ Bernoulli(p_uncond)
                idx = torch.randint(len(x0_all), (c.batch_size,), generator=gen)
                has_y = (torch.rand(c.batch_size, generator=gen) >= c.p_uncond).float()
                loss = diff.loss(x0_all[idx], y_all[idx], has_y, ctx_all[idx])
                diff.opt.zero_grad()
                loss.backward()
                diff.opt.step()
                with torch.no_grad():
                    for pe, p in zip(diff.net_ema.parameters(), diff.net.parameters()):
                        pe.lerp_(p, 1.0 - diff.config.ema)
                diff.steps_done += 1
                # inverse dynamics: E ||a_t − f_φ(s_t, s_{t+1})||²
                j = torch.randint(len(s_t), (c.batch_size,), generator=gen)
                inv_loss = ((self.inverse_dynamics(s_t[j], sn_t[j]) - a_t[j]) ** 2).mean()
                self.inv_opt.zero_grad()
                inv_loss.backward()
                self.inv_opt.step()
                hist["diffusion_loss"].append(loss.item())
                hist["inverse_loss"].append(inv_loss.item())
                bar.update(1)
        self.trained = True
        return hist

    # ------------------------------------------------------------------------------------------
    def _check_obs(self, observation) -> tuple[np.ndarray, bool]:
        x = np.asarray(observation, dtype=np.float32)
        single = x.ndim == len(self.observation_space.shape)
        x = x.reshape(1, -1) if single else x.reshape(len(x), -1)
        if x.shape[1] != self.obs_dim:
            raise ValueError(f"observation must have shape {self.observation_space.shape} or (n, "
                             f"{self.obs_dim}), got {np.shape(observation)}")
        return x, single

    @torch.no_grad()
    def plan(self, observation, target: float | None = None, guidance: float | None = None,
             seed: int | None = None) -> np.ndarray:
        """Sampled plans ``(n, horizon, obs_dim)`` starting at ``observation`` ``(obs_dim,)`` or ``(n, obs_dim)``,
        conditioned on the normalized return ``target`` with guidance weight ``guidance``."""
        if not self.trained:
            raise RuntimeError("call learn(dataset) before planning")
        c = self.config
        target = check_target(c.target if target is None else target)
        w = check_guidance(c.guidance if guidance is None else guidance)
        x, _ = self._check_obs(observation)
        n = len(x)
        gen_seed = seed if seed is not None else int(torch.randint(2 ** 31 - 1, (1,), generator=self._gen))
        diffs = self.diffusion.sample(n, cond=np.full((n, 1), target, np.float32), guidance=w, seed=gen_seed,
                                      context=(x - self.s_mean) / self.s_std, temperature=c.temperature)
        plans = np.concatenate([x[:, None, :], diffs.reshape(n, c.horizon - 1, self.obs_dim)], axis=1)
        return from_plan_coordinates(plans)

    @torch.no_grad()
    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True, *,
                target: float | None = None, guidance: float | None = None):
        """SB3's signature: ``observation (obs_dim,)`` or ``(n, obs_dim)`` -> ``(action, None)``, the action
        ``(act_dim,)`` or ``(n, act_dim)`` = :math:`f_\\phi(s_t, \\hat s_{t+1})` of a freshly sampled plan.

        ``target`` (normalized requested return) and ``guidance`` (``w >= 0``) default to the config's.
        ``deterministic`` is accepted for compatibility: planning is stochastic, seeded by ``config.seed``.
        """
        x, single = self._check_obs(observation)
        m = self.config.n_plans
        xs = np.repeat(x, m, axis=0)                                  # n_plans plans per observation
        plans = self.plan(xs, target, guidance)
        j = self.config.inverse_span
        a = self.inverse_dynamics(torch.from_numpy(xs), torch.from_numpy(plans[:, j].copy())).numpy()
        a = a.reshape(len(x), m, -1).mean(1)                          # a_t = mean over plans of f_φ(s_t, ŝ_{t+j})
        a = np.clip(a, self.action_space.low, self.action_space.high).astype(self.action_space.dtype)
        return (a[0].reshape(self.action_space.shape) if single else a), None

    # ------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Weights, normalizers and config, atomically, without pickle (:mod:`genrl_lib.io`)."""
        if not self.trained:
            raise RuntimeError("nothing to save: call learn(dataset) first")
        d = self.diffusion
        state = {"net": d.net.state_dict(), "net_ema": d.net_ema.state_dict(), "inverse": self.inverse.state_dict(),
                 "normalizer": {k: torch.from_numpy(v) for k, v in d.normalizer.state().items()},
                 "s_mean": torch.from_numpy(self.s_mean),
                 "s_std": torch.from_numpy(self.s_std), "d_std": torch.from_numpy(self.d_std)}
        meta = {"config": asdict(self.config), "y_low": self.y_low, "y_high": self.y_high, "env_id": self.env_id,
                "observation_space": space_to_json(self.observation_space),
                "action_space": space_to_json(self.action_space), "steps_done": d.steps_done}
        return save_torch(path, KIND, state, meta)

    @classmethod
    def load(cls, path: str | Path, env: gym.Env | str) -> DecisionDiffuser:
        """Load a model saved by :meth:`save` into ``env``, whose spaces must match (``ValueError`` otherwise);
        ``torch.load(weights_only=True)``, never pickle."""
        state, meta = load_torch(path, KIND)
        e = gym.make(env) if isinstance(env, str) else env
        try:
            for name in ("observation_space", "action_space"):
                saved = space_from_json(meta[name])
                if saved != getattr(e, name):
                    raise ValueError(f"{path} was trained with {name} {saved} ({meta.get('env_id') or 'unknown env'}), "
                                     f"but the env has {getattr(e, name)}: load it into a matching env")
            cfg = upgrade_config(DDConfig, meta["config"])      # files saved before the rename hold "hidden", "lr"
            for f in fields(DDConfig):
                if isinstance(cfg.get(f.name), list):
                    cfg[f.name] = tuple(cfg[f.name])
            model = cls(e, DDConfig(**cfg))
        finally:
            if isinstance(env, str):
                e.close()
        d = model.diffusion
        d.net.load_state_dict(state["net"])
        d.net_ema.load_state_dict(state["net_ema"])
        d.normalizer.load_state(state["normalizer"])
        d.steps_done = int(meta.get("steps_done", 0))
        model.inverse.load_state_dict(state["inverse"])
        model.s_mean, model.s_std = state["s_mean"].numpy(), state["s_std"].numpy()
        model.d_std = state["d_std"].numpy()
        model.y_low, model.y_high = float(meta["y_low"]), float(meta["y_high"])
        model.trained = True
        return model
