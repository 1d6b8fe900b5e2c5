"""Denoising diffusion (DDPM) over flat vectors, with classifier-free guidance.

The same surface as :mod:`genrl_lib.generative` (data is a float array ``(n, dim)``)::

    model = DDPM(2, DDPMConfig(n_steps=100))
    model.fit(x, steps=3000)                  # tqdm bar; returns {"loss": [...]}
    x = model.sample(1000, seed=0)            # (1000, 2) in the data's scale

    digits = DDPM(64, DDPMConfig(n_classes=10, p_uncond=0.1, normalize="minmax"))
    digits.fit(x, labels=y, steps=4000)
    x7 = digits.sample(16, labels=[7] * 16, guidance=2.0)   # classifier-free guidance, weight w = 2

Equations (Ho et al., 2020; Ho & Salimans, 2022, the notation of the Decision Diffuser paper):

* forward process, fixed: :math:`q(x_k | x_{k-1}) = \\mathcal N(\\sqrt{1-\\beta_k}\\,x_{k-1}, \\beta_k I)`, so in
  one jump :math:`x_k = \\sqrt{\\bar\\alpha_k}\\,x_0 + \\sqrt{1-\\bar\\alpha_k}\\,\\varepsilon`,
  :math:`\\bar\\alpha_k = \\prod_{i \\le k}(1-\\beta_i)`, :math:`\\varepsilon \\sim \\mathcal N(0, I)`;
* loss (noise prediction): :math:`\\mathbb E_{k, x_0, \\varepsilon}\\|\\varepsilon - \\varepsilon_\\theta(x_k, k, y)\\|^2`,
  with the condition :math:`y` replaced by "no condition" :math:`\\varnothing` with probability ``p_uncond``;
* ancestral sampling: :math:`x_{k-1} = \\frac{1}{\\sqrt{\\alpha_k}}\\big(x_k - \\frac{\\beta_k}{\\sqrt{1-\\bar\\alpha_k}}
  \\hat\\varepsilon\\big) + \\sigma_k z`, :math:`\\sigma_k^2 = \\tilde\\beta_k = \\beta_k \\frac{1-\\bar\\alpha_{k-1}}{1-\\bar\\alpha_k}`;
* classifier-free guidance with weight :math:`w \\ge 0`:
  :math:`\\hat\\varepsilon = \\varepsilon_\\theta(x_k, k, \\varnothing) + w\\,(\\varepsilon_\\theta(x_k, k, y) - \\varepsilon_\\theta(x_k, k, \\varnothing))`
  (``w = 0``: unconditional, ``w = 1``: plain conditional, ``w > 1``: pushed towards :math:`y`).

The condition is either a class label (``n_classes > 0``, fed one-hot) or a vector of ``cond_dim`` numbers (the
Decision Diffuser's return, :mod:`genrl_lib.decision_diffuser`). Training is seeded by ``config.seed`` and runs on
the CPU inside :func:`genrl_lib.seeding.single_thread`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genrl_lib.checks import renamed
from genrl_lib.evaluation import check_number, check_positive_int
from genrl_lib.generative import FlatModel, as_data
from genrl_lib.nets import check_sizes, mlp
from genrl_lib.progress import progress_bar as tqdm_bar
from genrl_lib.scaling import KINDS as NORMALIZE_KINDS
from genrl_lib.seeding import check_seed, single_thread

__all__ = ["DDPMConfig", "DDPM", "noise_schedule", "NoiseNet", "check_guidance"]

SCHEDULES = ("cosine", "linear")


def noise_schedule(n_steps: int, kind: str = "cosine") -> torch.Tensor:
    """The variances :math:`\\beta_1..\\beta_K`: a ``(n_steps,)`` float64 tensor in ``(0, 0.999]``.

    ``"linear"``: Ho et al.'s ``1e-4 .. 0.02`` scaled to ``n_steps`` (``0.02 * 1000 / K`` at the end);
    ``"cosine"``: Nichol & Dhariwal's :math:`\\bar\\alpha_k = \\cos^2(\\frac{k/K + s}{1 + s}\\frac{\\pi}{2})`,
    ``s = 0.008``, which spends fewer steps on pure noise (better for few steps, as here).
    """
    n_steps = check_positive_int(n_steps, "n_steps")
    if kind == "linear":
        scale = 1000 / n_steps
        return torch.linspace(1e-4 * scale, min(0.02 * scale, 0.999), n_steps, dtype=torch.float64)
    if kind == "cosine":
        s = 0.008
        k = torch.arange(n_steps + 1, dtype=torch.float64) / n_steps
        abar = torch.cos((k + s) / (1 + s) * math.pi / 2) ** 2
        return (1 - abar[1:] / abar[:-1]).clamp(1e-5, 0.999)
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {kind!r}")


def check_guidance(guidance, name: str = "guidance") -> float:
    """A classifier-free guidance weight ``w >= 0`` as a float, or ``ValueError`` naming ``name``."""
    if isinstance(guidance, bool) or not isinstance(guidance, (int, float, np.integer, np.floating)) \
            or not math.isfinite(guidance) or guidance < 0:
        raise ValueError(f"{name} must be a number >= 0 (0: unconditional, 1: conditional, > 1: guided), "
                         f"got {guidance!r}")
    return float(guidance)


class NoiseNet(nn.Module):
    """:math:`\\varepsilon_\\theta(x_k, k, y)`: an MLP on ``[x_k, emb(k), y, has_y]``.

    Shapes: ``x (m, dim)``, ``k (m,)`` int in ``[0, n_steps)``, ``y (m, cond_dim)`` (zeros where absent),
    ``has_y (m,)`` float 0/1, optional ``context (m, context_dim)`` (always given, never dropped) -> ``(m, dim)``. ``emb(k)`` is the sinusoidal embedding of the transformer paper.
    """

    def __init__(self, dim: int, cond_dim: int, hidden: tuple[int, ...], time_dim: int, activation: str,
                 context_dim: int = 0):
        super().__init__()
        self.time_dim = time_dim
        self.net = mlp(dim + time_dim + context_dim + cond_dim + 1, dim, hidden, activation)

    def time_embedding(self, k: torch.Tensor) -> torch.Tensor:
        half = self.time_dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / max(half - 1, 1))
        ang = k.float()[:, None] * freqs[None, :]
        return torch.cat([ang.sin(), ang.cos()], dim=1)

    def forward(self, x, k, y, has_y, context=None):
        parts = [x, self.time_embedding(k)] + ([context] if context is not None else [])
        return self.net(torch.cat(parts + [y * has_y[:, None], has_y[:, None]], dim=1))


@dataclass
class DDPMConfig:
    """DDPM hyperparameters (defaults work on 2-D toys; digits use ``normalize="minmax"``, ``clip=1``).

    Attributes:
        n_steps: ``K``, diffusion steps (the sampler runs all ``K``).
        schedule: ``"cosine"`` or ``"linear"`` (see :func:`noise_schedule`).
        hidden, activation, time_dim: the noise network (:class:`NoiseNet`).
        n_classes: > 0 for class labels ``0..n_classes-1`` as the condition (one-hot); 0 for none.
        cond_dim: size of a continuous condition vector (exclusive with ``n_classes``); 0 for none.
        context_dim: size of an always-present input (never dropped by guidance; the Decision Diffuser's current
            state), passed as ``context=`` to fit and sample, used as given (no normalization); 0 for none.
        p_uncond: probability of dropping the condition while training (classifier-free guidance needs > 0).
        normalize: per-feature scaling of the data (``"standard"``, ``"minmax"`` or ``None``), undone by sample.
        clip: if set, the predicted :math:`\\hat x_0` is clipped to ``[-clip, clip]`` (normalized scale) at
            every sampling step; 1 with ``normalize="minmax"`` keeps pixels in range.
        lr, batch_size: Adam step size and minibatch size (drawn with replacement).
        ema: if > 0, sampling uses an exponential moving average of the weights (0 = off).
        seed: network initialisation, minibatches, noise.
    """

    n_steps: int = 100
    schedule: str = "cosine"
    hidden: tuple[int, ...] = (128, 128, 128)
    activation: str = "relu"
    time_dim: int = 32
    n_classes: int = 0
    cond_dim: int = 0
    context_dim: int = 0
    p_uncond: float = 0.1
    normalize: str | None = "standard"
    clip: float | None = None
    lr: float = 1e-3
    batch_size: int = 256
    ema: float = 0.995
    seed: int = 0

    def __post_init__(self):
        check_positive_int(self.n_steps, "n_steps")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        self.hidden = check_sizes(self.hidden, "hidden")
        check_positive_int(self.time_dim, "time_dim")
        if self.time_dim % 2:
            raise ValueError(f"time_dim must be even (sine and cosine halves), got {self.time_dim}")
        for name in ("n_classes", "cond_dim", "context_dim"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be an int >= 0, got {v!r}")
        if self.n_classes and self.cond_dim:
            raise ValueError("set n_classes (labels) or cond_dim (a condition vector), not both")
        check_number(self.p_uncond, "p_uncond", low=0.0, high=1.0)
        if self.normalize not in NORMALIZE_KINDS:
            raise ValueError(f"normalize must be one of {NORMALIZE_KINDS}, got {self.normalize!r}")
        if self.clip is not None:
            check_number(self.clip, "clip", low=0.0, low_open=True)
        check_number(self.lr, "lr", low=0.0, low_open=True)
        check_positive_int(self.batch_size, "batch_size")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {self.ema!r}")
        check_seed(self.seed)


class DDPM(FlatModel):
    """A denoising diffusion model over ``(n, dim)`` vectors, optionally conditional (labels or vectors).

    ``fit(data, labels=None | cond=None)`` trains the noise network; ``sample(n, labels=..., cond=...,
    guidance=w)`` runs the ``K``-step ancestral sampler. ``known`` values can be imposed during sampling
    (inpainting: the Decision Diffuser fixes the current state that way).
    """

    kind = "ddpm"
    Config = DDPMConfig

    def _build(self):
        c = self.config
        self.cond_size = c.n_classes or c.cond_dim
        self.net = NoiseNet(self.dim, self.cond_size, c.hidden, c.time_dim, c.activation, c.context_dim)
        self.net_ema = copy.deepcopy(self.net).requires_grad_(False)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=c.lr)
        beta = noise_schedule(c.n_steps, c.schedule)
        alpha = 1 - beta
        abar = torch.cumprod(alpha, 0)
        abar_prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
        self.beta, self.alpha, self.alpha_bar = beta.float(), alpha.float(), abar.float()
        self.sigma = (beta * (1 - abar_prev) / (1 - abar)).sqrt().float()   # σ_k² = β̃_k

    def _modules(self):
        return {"net": self.net, "net_ema": self.net_ema}

    def _optimizers(self):
        return {"opt": self.opt}

    # conditions ----------------------------------------------------------------------------------
    def _condition(self, n: int, labels, cond, name_n: str = "data") -> torch.Tensor:
        """``(n, cond_size)`` float condition from labels or a condition array (zeros if unconditional)."""
        c = self.config
        if c.n_classes:
            if cond is not None:
                raise ValueError("this model is conditioned on labels (n_classes > 0): pass labels=, not cond=")
            if labels is None:
                return torch.zeros(n, self.cond_size)
            y = np.asarray(labels)
            if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
                raise ValueError(f"labels must be an int array of shape ({n},) (one label per row of {name_n}), "
                                 f"got dtype {y.dtype}, shape {y.shape}")
            if y.min() < 0 or y.max() >= c.n_classes:
                raise ValueError(f"labels must lie in [0, {c.n_classes}), got values in [{y.min()}, {y.max()}]")
            return torch.nn.functional.one_hot(torch.from_numpy(y.astype(np.int64)), c.n_classes).float()
        if c.cond_dim:
            if labels is not None:
                raise ValueError("this model is conditioned on a vector (cond_dim > 0): pass cond=, not labels=")
            if cond is None:
                return torch.zeros(n, self.cond_size)
            if isinstance(cond, (str, bytes)) or (np.asarray(cond).dtype.kind not in "biuf"):
                raise TypeError(f"cond must be numbers (an array of shape ({n}, {c.cond_dim})), got "
                                f"{type(cond).__name__} {cond!r}"[:200])
            y = np.asarray(cond, dtype=np.float32)
            if y.ndim == 1 and c.cond_dim == 1 and len(y) == n:
                y = y[:, None]
            if y.shape != (n, c.cond_dim):
                raise ValueError(f"cond must have shape ({n}, {c.cond_dim}), got {y.shape}")
            if not np.isfinite(y).all():
                raise ValueError("cond contains NaN or infinite values")
            return torch.from_numpy(y)
        if labels is not None or cond is not None:
            raise ValueError("this model is unconditional (n_classes = cond_dim = 0): pass neither labels nor cond")
        return torch.zeros(n, 0)

    # training ------------------------------------------------------------------------------------
    def _context(self, n: int, context) -> torch.Tensor | None:
        cd = self.config.context_dim
        if not cd:
            if context is not None:
                raise ValueError("this model has no context (context_dim = 0): do not pass context=")
            return None
        if context is None:
            raise ValueError(f"this model needs context= of shape ({n}, {cd}) (context_dim = {cd})")
        ctx = np.asarray(context, dtype=np.float32)
        if ctx.shape != (n, cd) or not np.isfinite(ctx).all():
            raise ValueError(f"context must be finite numbers of shape ({n}, {cd}), got shape {ctx.shape}")
        return torch.from_numpy(ctx)

    def loss(self, x0: torch.Tensor, y: torch.Tensor, has_y: torch.Tensor,
             context: torch.Tensor | None = None) -> torch.Tensor:
        """The noise-prediction loss :math:`\\|\\varepsilon - \\varepsilon_\\theta(\\sqrt{\\bar\\alpha_k} x_0 +
        \\sqrt{1-\\bar\\alpha_k}\\varepsilon, k, y)\\|^2` on a normalized batch ``x0 (m, dim)``, ``y (m, cond)``,
        ``has_y (m,)``; ``k`` and ``ε`` are drawn with the model's generator."""
        m = len(x0)
        k = torch.randint(self.config.n_steps, (m,), generator=self.rng)            # k ~ U{1..K}
        eps = torch.randn(x0.shape, generator=self.rng)                                # ε ~ N(0, I)
        ab = self.alpha_bar[k][:, None]
        xk = ab.sqrt() * x0 + (1 - ab).sqrt() * eps                                      # q(x_k | x_0)
        return ((eps - self.net(xk, k, y, has_y, context)) ** 2).mean()

    @single_thread()
    @renamed(progress="progress_bar")
    def fit(self, data, *, labels=None, cond=None, context=None, steps: int = 2000, progress_bar: bool = True
            ) -> dict[str, list[float]]:
        """Train on ``data`` ``(n, dim)`` (with ``labels`` ``(n,)`` or ``cond`` ``(n, cond_dim)`` if conditional)
        for ``steps`` Adam steps on minibatches drawn with replacement. Returns ``{"loss": per-step list}``."""
        x = self.prepare(data)
        steps = check_positive_int(steps, "steps")
        c = self.config
        y_all = self._condition(len(x), labels, cond)
        ctx_all = self._context(len(x), context)
        if self.cond_size and labels is None and cond is None:
            raise ValueError("a conditional model (n_classes or cond_dim > 0) needs labels= or cond= to train")
        hist: dict[str, list[float]] = {"loss": []}
        with tqdm_bar(total=steps, desc="DDPM", enabled=progress_bar, unit="step") as bar:
            for _ in range(steps):
                idx = torch.randint(len(x), (c.batch_size,), generator=self.rng)
                has_y = (torch.rand(c.batch_size, generator=self.rng) >= c.p_uncond).float() \
                    if self.cond_size else torch.zeros(c.batch_size)                    # drop y w.p. p_uncond
                loss = self.loss(x[idx], y_all[idx], has_y, None if ctx_all is None else ctx_all[idx])
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                if c.ema > 0:
                    with torch.no_grad():
                        for pe, p in zip(self.net_ema.parameters(), self.net.parameters()):
                            pe.lerp_(p, 1.0 - c.ema)
                self.steps_done += 1
                hist["loss"].append(loss.item())
                bar.update(1)
        return hist

    # sampling ------------------------------------------------------------------------------------
    def _eps(self, net, x, k, y, guidance: float, ctx=None) -> torch.Tensor:
        """ε̂ with classifier-free guidance: ε(x,k,∅) + w (ε(x,k,y) − ε(x,k,∅)); one batched call."""
        m = len(x)
        kk = torch.full((m,), k, dtype=torch.long)
        if not self.cond_size or guidance == 0.0:
            return net(x, kk, y, torch.zeros(m), ctx)
        if guidance == 1.0:
            return net(x, kk, y, torch.ones(m), ctx)
        out = net(torch.cat([x, x]), torch.cat([kk, kk]), torch.cat([y, y]),
                  torch.cat([torch.ones(m), torch.zeros(m)]), None if ctx is None else torch.cat([ctx, ctx]))
        e_c, e_u = out[:m], out[m:]
        return e_u + guidance * (e_c - e_u)

    def _known(self, n: int, known):
        if known is None:
            return None
        if not (isinstance(known, tuple) and len(known) == 2):
            raise TypeError("known must be a pair (mask, values): mask a (dim,) bool array, values (n, dim) or "
                            "(dim,) in the data's scale")
        mask = np.asarray(known[0], dtype=bool)
        if mask.shape != (self.dim,):
            raise ValueError(f"known mask must have shape ({self.dim},), got {mask.shape}")
        vals = np.broadcast_to(np.asarray(known[1], dtype=np.float32), (n, self.dim))
        return torch.from_numpy(mask), torch.from_numpy(self.normalizer.transform(vals))

    @torch.no_grad()
    def sample(self, n: int, *, labels=None, cond=None, context=None, guidance: float = 1.0,
               seed: int | None = None, known=None, temperature: float = 1.0, return_chain: bool = False):
        """Draw ``n`` samples ``(n, dim)`` in the data's scale with the ``K``-step ancestral sampler.

        Args:
            labels / cond: the condition, one per sample (``(n,)`` ints / ``(n, cond_dim)``); omit for
                unconditional sampling.
            context: ``(n, context_dim)`` always-present input, if the model has one.
            guidance: classifier-free guidance weight ``w >= 0`` (ignored if no condition is given).
            seed: fixes the noise; ``None`` continues the model's own generator.
            known: optional ``(mask (dim,) bool, values (n, dim) or (dim,))``: coordinates reset to the given
                values (data scale) after every step (inpainting).
            temperature: scale of the sampling noise ``σ_k z`` (1 = DDPM; < 1 trades diversity for quality).
            return_chain: also return the ``(K + 1, n, dim)`` chain ``x_K .. x_0`` (normalized scale).
        """
        n = check_positive_int(n, "n")
        if not self.normalizer.fitted:
            raise RuntimeError("call fit(data) before sample: the normalizer learns the data's scale")
        w = check_guidance(guidance)
        check_number(temperature, "temperature", low=0.0)
        y = self._condition(n, labels, cond, name_n="the samples")
        if labels is None and cond is None:
            w = 0.0
        known = self._known(n, known)
        ctx = self._context(n, context)
        net = self.net_ema if self.config.ema > 0 else self.net
        gen = torch.Generator().manual_seed(check_seed(seed)) if seed is not None else self.rng
        x = torch.randn(n, self.dim, generator=gen)                                      # x_K ~ N(0, I)
        chain: list[torch.Tensor] = [x.clone()] if return_chain else []
        for k in reversed(range(self.config.n_steps)):
            if known is not None:
                x[:, known[0]] = known[1][:, known[0]]
            x = self._step(net, x, k, y, w, gen, temperature, ctx)
            if return_chain:
                chain.append(x.clone())
        if known is not None:
            x[:, known[0]] = known[1][:, known[0]]
        out = self.to_data(x)
        return (out, torch.stack(chain).numpy()) if return_chain else out

    def _step(self, net, x, k: int, y, w: float, gen, temperature: float = 1.0, ctx=None) -> torch.Tensor:
        """One reverse step ``x_k -> x_{k-1}`` (normalized scale), the DDPM posterior mean plus ``σ_k z``."""
        eps = self._eps(net, x, k, y, w, ctx)
        a, ab, b = self.alpha[k], self.alpha_bar[k], self.beta[k]
        if self.config.clip is not None:          # via x̂_0 = (x_k − √(1−ᾱ_k) ε̂) / √ᾱ_k, clipped
            x0 = ((x - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-self.config.clip, self.config.clip)
            ab_prev = self.alpha_bar[k - 1] if k > 0 else torch.tensor(1.0)
            mean = (ab_prev.sqrt() * b / (1 - ab)) * x0 + (a.sqrt() * (1 - ab_prev) / (1 - ab)) * x
        else:                                      # μ = (x_k − β_k/√(1−ᾱ_k) ε̂) / √α_k
            mean = (x - b / (1 - ab).sqrt() * eps) / a.sqrt()
        if k == 0:
            return mean
        return mean + temperature * self.sigma[k] * torch.randn(x.shape, generator=gen)

    def denoise_loss(self, data, *, labels=None, cond=None, context=None, seed: int = 0) -> float:
        """The noise-prediction loss of ``data`` ``(n, dim)`` (held-out check), over random ``k`` and ``ε``."""
        x = torch.from_numpy(self.normalizer.transform(as_data(data, self.dim)))
        y = self._condition(len(x), labels, cond)
        has = torch.ones(len(x)) if (labels is not None or cond is not None) else torch.zeros(len(x))
        saved = self.rng.get_state()
        self.rng.manual_seed(check_seed(seed))
        try:
            with torch.no_grad():
                return float(self.loss(x, y, has, self._context(len(x), context)))
        finally:
            self.rng.set_state(saved)
