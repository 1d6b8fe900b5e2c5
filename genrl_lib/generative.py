"""Generative models over flat vectors: autoencoder, variational autoencoder and GAN.

Every model takes data as a float array of shape ``(n, dim)``: 64-pixel digits, 2-D toy points or,
in the HQL chapter, flattened Q-tables (Taxi: 500 × 6 = 3,000 numbers). All three share one surface::

    model = GAN(dim, GANConfig(latent_dim=8))
    history = model.fit(data, epochs=200)    # dict of per-step / per-epoch lists; shows a tqdm bar
    x = model.sample(1000, seed=0)           # (1000, dim) NumPy array, in the data's own scale
    model.save("gan.pt"); model = GAN.load("gan.pt")

Training is seeded by ``config.seed`` (network initialisation, minibatches, noise) and runs on the
CPU; the same seed gives the same numbers. Calling ``fit`` again continues training.

Equations (notation of the UPV chapter and of the thesis):

* autoencoder: :math:`\\hat x = g(f(x))`, minimise :math:`\\|\\hat x - x\\|^2`; the *denoising*
  variant feeds a corrupted :math:`\\tilde x` and still compares :math:`g(f(\\tilde x))` with :math:`x`;
* VAE: maximise the ELBO :math:`\\mathbb E_{q(z|x)}[\\log p(x|z)] - \\mathrm{KL}(q(z|x)\\,\\|\\,p(z))`
  with :math:`z = \\mu + \\sigma \\odot \\varepsilon` (reparameterisation);
* GAN: :math:`\\min_G \\max_D \\; \\mathbb E_{x}[\\log D(x)] + \\mathbb E_{z}[\\log(1 - D(G(z)))]`,
  ``d_steps = k`` discriminator updates per generator update (Goodfellow et al., Algorithm 1).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from genrl_lib.checks import check_positive_int, renamed
from genrl_lib.io import load_torch, save_torch
from genrl_lib.nets import check_sizes, mlp
from genrl_lib.progress import progress_bar as tqdm_bar
from genrl_lib.scaling import KINDS as NORMALIZE_KINDS
from genrl_lib.scaling import Scaler
from genrl_lib.seeding import check_seed, single_thread

__all__ = ["corrupt", "AEConfig", "Autoencoder", "VAEConfig", "VAE", "ConvVAEConfig", "ConvVAE",
           "GANConfig", "GAN", "vae_loss_terms", "gan_discriminator_loss", "gan_generator_loss",
           "ModeStats", "mode_stats", "mode_coverage", "high_quality_fraction", "reconstruction_error",
           "plot_image_rows"]


# --------------------------------------------------------------------------------------------------
# Checks shared by the three models
# --------------------------------------------------------------------------------------------------
def _as_data(data, dim: int | None, name: str = "data") -> np.ndarray:
    """``data`` -> float32 ``(n, dim)`` array, or a ``ValueError`` naming ``name`` and the fix."""
    if isinstance(data, tuple) and len(data) == 2 and np.ndim(data[0]) == 2 and np.ndim(data[1]) == 1:
        raise TypeError(f"{name} is a tuple of a {np.shape(data[0])} array and a {np.shape(data[1])} array, as the "
                        "datasets return (x, labels): pass the points only, e.g. x, labels = ring_of_gaussians(n); "
                        "model.fit(x)")
    try:
        x = np.asarray(data, dtype=np.float32)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name} must be a 2-D array (n, dim) of numbers, got {type(data).__name__} ({e})") from None
    if x.ndim == 1 and dim is not None and x.shape[0] == dim:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n, dim); got shape {x.shape}. Flatten each example "
                         f"(e.g. data.reshape(len(data), -1)).")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty: pass at least one row")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} has {x.shape[1]} features per row but the model was built for dim={dim}; "
                         f"reshape it or build a model with dim={x.shape[1]}")
    bad = ~np.isfinite(x)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise ValueError(f"{name} contains NaN or infinite values (rows {rows[:5].tolist()}"
                         f"{'...' if len(rows) > 5 else ''}); drop or impute them first")
    return x


def _epochs(epochs: int, desc: str, enabled: bool):
    """``range(epochs)`` behind a tqdm bar."""
    with tqdm_bar(total=epochs, desc=desc, enabled=enabled, unit="epoch") as bar:
        for epoch in range(epochs):
            yield epoch
            bar.update(1)


def _check_rate(value, name: str, lo: float = 0.0, hi: float = 1.0) -> float:
    if not isinstance(value, (int, float, np.floating)) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {value!r}")
    return float(value)


# --------------------------------------------------------------------------------------------------
# Corruption (the models' normalizer is a genrl_lib.scaling.Scaler)
# --------------------------------------------------------------------------------------------------
def corrupt(x: np.ndarray, fraction: float, rng: np.random.Generator | int = 0, low: float = 0.0,
            high: float = 1.0) -> np.ndarray:
    """Corrupt a ``fraction`` of the entries of ``x`` ``(n, dim)``: each entry is, independently with
    probability ``fraction``, replaced by a uniform draw from ``[low, high]``. Returns a new array.

    With digits scaled to ``[0, 1]`` this is "``fraction`` of the pixels replaced by noise", the
    setting of the denoising-autoencoder slides (25% and 50%).
    """
    fraction = _check_rate(fraction, "fraction")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(check_seed(rng, "rng"))
    x = np.asarray(x, dtype=np.float32)
    mask = rng.random(x.shape) < fraction
    noise = rng.uniform(low, high, size=x.shape).astype(np.float32)
    return np.where(mask, noise, x)


# --------------------------------------------------------------------------------------------------
# Base class: seeding, data checks, save / load
# --------------------------------------------------------------------------------------------------
class _FlatModel:
    kind = "flat_model"
    Config: type[Any] = object
    config: Any          # an instance of the subclass's Config dataclass (each subclass narrows the type)

    def __init__(self, dim: int, config=None):
        self.dim = check_positive_int(dim, "dim")
        self.config = config if config is not None else self.Config()
        if not isinstance(self.config, self.Config):
            raise TypeError(f"config must be a {self.Config.__name__}, got {type(self.config).__name__}")
        self.normalizer = Scaler(getattr(self.config, "normalize", None))   # floor "unit": constant features pass
        self._rng = torch.Generator().manual_seed(self.config.seed)       # minibatches and noise in fit
        with torch.random.fork_rng(devices=[]):                            # init is seeded, global RNG untouched
            torch.manual_seed(self.config.seed)
            self._build()
        self.steps_done = 0

    # subclasses ---------------------------------------------------------------------------------
    def _build(self):
        raise NotImplementedError

    def _modules(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    # helpers ------------------------------------------------------------------------------------
    def _prepare(self, data, name: str = "data") -> torch.Tensor:
        x = _as_data(data, self.dim, name)
        if not self.normalizer.fitted:
            self.normalizer.fit(x)
        return torch.from_numpy(self.normalizer.transform(x))

    def _to_data(self, y: torch.Tensor) -> np.ndarray:
        return self.normalizer.inverse_transform(y.detach().numpy())

    def _check_latent(self, z, name: str = "z") -> torch.Tensor:
        z = np.asarray(z, dtype=np.float32)
        if z.ndim == 1 and z.shape[0] == self.config.latent_dim:
            z = z[None, :]
        if z.ndim != 2 or z.shape[1] != self.config.latent_dim:
            raise ValueError(f"{name} must have shape (n, latent_dim={self.config.latent_dim}), got {z.shape}")
        if not np.isfinite(z).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        return torch.from_numpy(z)

    def _noise(self, n: int, seed: int | None) -> torch.Tensor:
        n = check_positive_int(n, "n")
        gen = torch.Generator().manual_seed(check_seed(seed)) if seed is not None else self._rng
        return torch.randn(n, self.config.latent_dim, generator=gen)

    def _batches(self, n: int, batch_size: int):
        """Indices of one epoch, shuffled with the model's generator, in minibatches."""
        perm = torch.randperm(n, generator=self._rng)
        return [perm[i:i + batch_size] for i in range(0, n, batch_size)]

    # public names for subclasses in other modules (genrl_lib.diffusion) ----------------------------
    @property
    def rng(self) -> torch.Generator:
        """The model's own generator (minibatches and noise in ``fit``)."""
        return self._rng

    def prepare(self, data, name: str = "data") -> torch.Tensor:
        """``data`` ``(n, dim)`` checked and normalized (the normalizer is fitted on first use)."""
        return self._prepare(data, name)

    def to_data(self, y: torch.Tensor) -> np.ndarray:
        """Normalized ``(n, dim)`` tensor -> data scale."""
        return self._to_data(y)

    # save / load --------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save weights, optimizer states, normalizer and config, atomically and without pickle."""
        state: dict[str, Any] = {name: m.state_dict() for name, m in self._modules().items()}
        state["optim"] = {name: o.state_dict() for name, o in self._optimizers().items()}
        if self.normalizer.fitted:
            state["normalizer"] = {k: torch.from_numpy(v) for k, v in self.normalizer.state().items()}
        state["rng"] = self._rng.get_state()
        meta = {"dim": self.dim, "config": asdict(self.config), "steps_done": self.steps_done}
        return save_torch(path, self.kind, state, meta)

    @classmethod
    def load(cls, path: str | Path):
        """Load a model saved by :meth:`save` (``torch.load(weights_only=True)``; foreign files raise ``ValueError``)."""
        state, meta = load_torch(path, cls.kind)
        cfg = dict(meta["config"])
        for f in fields(cls.Config):  # JSON turned tuples into lists
            if isinstance(cfg.get(f.name), list):
                cfg[f.name] = tuple(cfg[f.name])
        model = cls(meta["dim"], cls.Config(**cfg))
        for name, m in model._modules().items():
            m.load_state_dict(state[name])
        for name, o in model._optimizers().items():
            o.load_state_dict(state["optim"][name])
        if "normalizer" in state:
            model.normalizer.load_state(state["normalizer"])
        model._rng.set_state(state["rng"])
        model.steps_done = int(meta.get("steps_done", 0))
        return model


# --------------------------------------------------------------------------------------------------
# Autoencoder (plain and denoising)
# --------------------------------------------------------------------------------------------------
_OUTPUTS = ("linear", "sigmoid", "tanh")


def _out(y: torch.Tensor, output: str) -> torch.Tensor:
    return torch.sigmoid(y) if output == "sigmoid" else torch.tanh(y) if output == "tanh" else y


@dataclass
class AEConfig:
    """Autoencoder hyperparameters.

    Attributes:
        latent_dim: size of the code ``z = f(x)`` (2 to plot it).
        hidden: encoder hidden sizes; the decoder mirrors them.
        output: decoder output ``"sigmoid"`` (data in [0, 1], e.g. digits), ``"linear"`` or ``"tanh"``.
        noise: denoising: fraction of entries corrupted by :func:`corrupt` in every epoch (0 = plain AE).
        normalize: data scaling (``None``, ``"standard"``, ``"minmax"``); keep ``None`` with ``"sigmoid"``.
    """

    latent_dim: int = 2
    hidden: tuple[int, ...] = (128, 64)
    activation: str = "relu"
    output: str = "sigmoid"
    noise: float = 0.0
    lr: float = 1e-3
    batch_size: int = 64
    normalize: str | None = None
    seed: int = 0

    def __post_init__(self):
        check_positive_int(self.latent_dim, "latent_dim")
        self.hidden = check_sizes(self.hidden, "hidden")
        if self.output not in _OUTPUTS:
            raise ValueError(f"output must be one of {_OUTPUTS}, got {self.output!r}")
        _check_rate(self.noise, "noise")
        _check_rate(self.lr, "lr", 0.0, 10.0)
        check_positive_int(self.batch_size, "batch_size")
        check_seed(self.seed)


class Autoencoder(_FlatModel):
    """An MLP autoencoder ``x (n, dim) -> z (n, latent_dim) -> x̂ (n, dim)``, trained on the squared error.

    With ``config.noise > 0`` it is a *denoising* autoencoder: the encoder sees ``corrupt(x, noise)``,
    the loss still compares the output with the clean ``x``.
    """

    kind = "autoencoder"
    Config = AEConfig
    config: AEConfig

    def _build(self):
        c = self.config
        self.encoder = mlp(self.dim, c.latent_dim, c.hidden, c.activation)
        self.decoder = mlp(c.latent_dim, self.dim, c.hidden[::-1], c.activation)
        self.opt = torch.optim.Adam([*self.encoder.parameters(), *self.decoder.parameters()], lr=c.lr)
        self._np_rng = np.random.default_rng(c.seed)

    def _modules(self):
        return {"encoder": self.encoder, "decoder": self.decoder}

    def _optimizers(self):
        return {"opt": self.opt}

    @single_thread()   # the same numbers for a seed whatever the thread settings (genrl_lib.seeding)
    @renamed(progress="progress_bar")
    def fit(self, data, epochs: int = 50, *, progress_bar: bool = True) -> dict[str, list[float]]:
        """Train for ``epochs`` passes over ``data`` ``(n, dim)``. Returns ``{"loss": [mean MSE per epoch]}``."""
        epochs = check_positive_int(epochs, "epochs")
        x = self._prepare(data)
        clean = x.numpy()
        history: dict[str, list[float]] = {"loss": []}
        for _ in _epochs(epochs, type(self).__name__, progress_bar):
            # denoising: x̃ = corrupt(x); the target stays the clean x
            inp = torch.from_numpy(corrupt(clean, self.config.noise, self._np_rng)) if self.config.noise else x
            total = 0.0
            for idx in self._batches(len(x), self.config.batch_size):
                x_hat = _out(self.decoder(self.encoder(inp[idx])), self.config.output)  # x̂ = g(f(x̃))
                loss = F.mse_loss(x_hat, x[idx])                                        # ||x̂ - x||² / dim
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                total += loss.item() * len(idx)
                self.steps_done += 1
            history["loss"].append(total / len(x))
        return history

    @torch.no_grad()
    def encode(self, data) -> np.ndarray:
        """``(n, dim)`` data -> ``(n, latent_dim)`` codes."""
        if not self.normalizer.fitted:
            raise RuntimeError("call fit(data) before encode")
        x = torch.from_numpy(self.normalizer.transform(_as_data(data, self.dim)))
        return self.encoder(x).numpy()

    @torch.no_grad()
    def decode(self, z) -> np.ndarray:
        """``(n, latent_dim)`` codes -> ``(n, dim)`` reconstructions in the data's scale."""
        if not self.normalizer.fitted:
            raise RuntimeError("call fit(data) before decode")
        return self._to_data(_out(self.decoder(self._check_latent(z)), self.config.output))

    def reconstruct(self, data) -> np.ndarray:
        """``decode(encode(data))``: ``(n, dim) -> (n, dim)``."""
        return self.decode(self.encode(data))


# --------------------------------------------------------------------------------------------------
# Variational autoencoder
# --------------------------------------------------------------------------------------------------
@dataclass
class VAEConfig:
    """VAE hyperparameters.

    Attributes:
        latent_dim: size of ``z``; prior ``p(z) = N(0, I)``.
        likelihood: ``"bernoulli"`` (data in [0, 1], e.g. digits; decoder outputs logits) or
            ``"gaussian"`` (unit variance, decoder outputs the mean).
        beta: weight of the KL term (1 = the ELBO; other values give a β-VAE).
    """

    latent_dim: int = 2
    hidden: tuple[int, ...] = (256, 128)
    activation: str = "relu"
    likelihood: str = "bernoulli"
    beta: float = 1.0
    lr: float = 1e-3
    batch_size: int = 64
    normalize: str | None = None
    seed: int = 0

    def __post_init__(self):
        check_positive_int(self.latent_dim, "latent_dim")
        self.hidden = check_sizes(self.hidden, "hidden")
        if self.likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {self.likelihood!r}")
        _check_rate(self.beta, "beta", 0.0, 1e3)
        _check_rate(self.lr, "lr", 0.0, 10.0)
        check_positive_int(self.batch_size, "batch_size")
        check_seed(self.seed)


class VAE(_FlatModel):
    """A variational autoencoder over ``(n, dim)`` vectors with a Gaussian encoder ``q(z|x)``.

    The encoder outputs ``μ(x)`` and ``log σ²(x)`` ``(n, latent_dim)`` each; ``z = μ + σ ⊙ ε``,
    ``ε ~ N(0, I)`` (reparameterisation), so gradients flow through the sampling step.
    """

    kind = "vae"
    Config = VAEConfig
    config: VAEConfig

    def _build(self):
        c = self.config
        if c.likelihood == "bernoulli" and c.normalize is not None:
            raise ValueError("a Bernoulli VAE needs data in [0, 1]: use normalize=None")
        self.encoder = mlp(self.dim, 2 * c.latent_dim, c.hidden, c.activation)
        self.decoder = mlp(c.latent_dim, self.dim, c.hidden[::-1], c.activation)
        self.opt = torch.optim.Adam([*self.encoder.parameters(), *self.decoder.parameters()], lr=c.lr)

    def _modules(self):
        return {"encoder": self.encoder, "decoder": self.decoder}

    def _optimizers(self):
        return {"opt": self.opt}

    def _terms(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-example reconstruction term ``-log p(x|z)`` and ``KL(q(z|x) || N(0, I))``, each ``(n,)``."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * eps                                  # z = μ + σ ⊙ ε
        return vae_loss_terms(x, self.decoder(z), mu, logvar, self.config.likelihood)

    @single_thread()   # the same numbers for a seed whatever the thread settings (genrl_lib.seeding)
    @renamed(progress="progress_bar")
    def fit(self, data, epochs: int = 50, *, progress_bar: bool = True) -> dict[str, list[float]]:
        """Maximise the ELBO on ``data`` ``(n, dim)``.

        Returns ``{"elbo", "recon", "kl"}``: per-epoch means per example (ELBO = -(recon + kl), in nats).
        """
        epochs = check_positive_int(epochs, "epochs")
        x = self._prepare(data)
        if self.config.likelihood == "bernoulli" and (x.min() < 0 or x.max() > 1):
            raise ValueError("a Bernoulli VAE needs data in [0, 1]; scale it or use likelihood='gaussian'")
        history: dict[str, list[float]] = {"elbo": [], "recon": [], "kl": []}
        for _ in _epochs(epochs, "VAE", progress_bar):
            tot_rec = tot_kl = 0.0
            for idx in self._batches(len(x), self.config.batch_size):
                eps = torch.randn(len(idx), self.config.latent_dim, generator=self._rng)
                rec, kl = self._terms(x[idx], eps)
                loss = (rec + self.config.beta * kl).mean()                     # -ELBO (β = 1)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                tot_rec += rec.sum().item()
                tot_kl += kl.sum().item()
                self.steps_done += 1
            history["recon"].append(tot_rec / len(x))
            history["kl"].append(tot_kl / len(x))
            history["elbo"].append(-(tot_rec + tot_kl) / len(x))
        return history

    @torch.no_grad()
    def elbo(self, data, seed: int = 0) -> float:
        """Mean ELBO per example (nats, one sample of ``z`` each) on ``data`` ``(n, dim)``, e.g. held-out data."""
        if not self.normalizer.fitted:
            raise RuntimeError("call fit(data) before elbo")
        x = torch.from_numpy(self.normalizer.transform(_as_data(data, self.dim)))
        eps = torch.randn(len(x), self.config.latent_dim, generator=torch.Generator().manual_seed(check_seed(seed)))
        rec, kl = self._terms(x, eps)
        return float(-(rec + kl).mean())

    @torch.no_grad()
    def encode(self, data) -> np.ndarray:
        """``(n, dim)`` -> the posterior means ``μ(x)``, ``(n, latent_dim)``."""
        if not self.normalizer.fitted:
            raise RuntimeError("call fit(data) before encode")
        x = torch.from_numpy(self.normalizer.transform(_as_data(data, self.dim)))
        return self.encoder(x).chunk(2, dim=1)[0].numpy()

    @torch.no_grad()
    def decode(self, z) -> np.ndarray:
        """``(n, latent_dim)`` -> ``(n, dim)`` decoder means (pixel probabilities for ``"bernoulli"``)."""
        if not self.normalizer.fitted:
            raise RuntimeError("call fit(data) before decode")
        out = self.decoder(self._check_latent(z))
        return self._to_data(torch.sigmoid(out) if self.config.likelihood == "bernoulli" else out)

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """Draw ``z ~ N(0, I)`` and decode: ``(n, dim)``."""
        return self.decode(self._noise(n, seed).numpy())


@dataclass
class ConvVAEConfig(VAEConfig):
    """Convolutional VAE hyperparameters (those of :class:`VAEConfig` plus the image layout).

    Attributes:
        image_shape: ``(H, W)`` of the one-channel images; ``dim`` must be ``H * W`` and both even.
        channels: ``(c1, c2)``: the encoder's two convolutions (3×3; the second with stride 2 halves H and W);
            the decoder mirrors them with a transposed convolution that doubles H and W back.
    """

    image_shape: tuple[int, int] = (8, 8)
    channels: tuple[int, int] = (16, 32)

    def __post_init__(self):
        super().__post_init__()
        self.image_shape = check_sizes(self.image_shape, "image_shape")
        self.channels = check_sizes(self.channels, "channels")
        if len(self.image_shape) != 2 or any(n % 2 for n in self.image_shape):
            raise ValueError(f"image_shape must be (H, W) with H and W even, got {self.image_shape}")
        if len(self.channels) != 2:
            raise ValueError(f"channels must be two sizes (c1, c2), got {self.channels}")


class ConvVAE(VAE):
    """A VAE whose encoder is a convolutional network and whose decoder is a transposed-convolution
    ("deconvolutional") network, over flattened one-channel images ``(n, H*W)``.

    Encoder: ``(n, 1, H, W) -conv 3×3-> (n, c1, H, W) -conv 3×3, stride 2-> (n, c2, H/2, W/2) -linear->
    (n, 2 latent_dim)`` = ``μ(x), log σ²(x)``. Decoder: ``z -linear-> (n, c2, H/2, W/2) -transposed conv 4×4,
    stride 2-> (n, c1, H, W) -conv 3×3-> (n, 1, H, W)`` logits. Everything else (the ELBO, the
    reparameterisation, ``fit``, ``sample``, ``save``/``load``) is :class:`VAE`'s: only the two networks differ.
    """

    kind = "conv_vae"
    Config = ConvVAEConfig
    config: ConvVAEConfig

    def _build(self):
        c = self.config
        (h, w), (c1, c2) = c.image_shape, c.channels
        if self.dim != h * w:
            raise ValueError(f"dim must be H*W = {h * w} for image_shape {c.image_shape}, got {self.dim}")
        if c.likelihood == "bernoulli" and c.normalize is not None:
            raise ValueError("a Bernoulli VAE needs data in [0, 1]: use normalize=None")
        act = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "tanh": nn.Tanh, "gelu": nn.GELU}
        if c.activation not in act:
            raise ValueError(f"activation must be one of {sorted(act)}, got {c.activation!r}")
        A = act[c.activation]
        self.encoder = nn.Sequential(
            nn.Unflatten(1, (1, h, w)),
            nn.Conv2d(1, c1, 3, padding=1), A(),                               # (n, c1, H, W)
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), A(),                    # (n, c2, H/2, W/2)
            nn.Flatten(), nn.Linear(c2 * (h // 2) * (w // 2), 2 * c.latent_dim))  # μ, log σ²
        self.decoder = nn.Sequential(
            nn.Linear(c.latent_dim, c2 * (h // 2) * (w // 2)), A(),
            nn.Unflatten(1, (c2, h // 2, w // 2)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), A(),           # (n, c1, H, W)
            nn.Conv2d(c1, 1, 3, padding=1), nn.Flatten())                      # (n, H*W) logits / means
        self.opt = torch.optim.Adam([*self.encoder.parameters(), *self.decoder.parameters()], lr=c.lr)


# --------------------------------------------------------------------------------------------------
# GAN
# --------------------------------------------------------------------------------------------------
GAN_LOSSES = ("vanilla", "non_saturating", "wasserstein")


# --------------------------------------------------------------------------------------------------
# The losses the chapter teaches, one function each (the models' training loops call them)
# --------------------------------------------------------------------------------------------------
_LIKELIHOODS = ("bernoulli", "gaussian")


def vae_loss_terms(x: torch.Tensor, out: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                   likelihood: str = "bernoulli") -> tuple[torch.Tensor, torch.Tensor]:
    r"""The two terms of the negative ELBO of a VAE, per example: ``-ELBO(x) = rec + kl``.

    With a Gaussian encoder ``q(z|x) = N(μ, diag σ²)`` and the prior ``p(z) = N(0, I)``:

        rec = −log p(x | z) = −Σ_j [x_j log p_j + (1 − x_j) log(1 − p_j)],  p = σ(out)   (Bernoulli pixels)
            or ½ Σ_j (out_j − x_j)²                                            (Gaussian, unit variance, + const)
        kl  = KL(q(z|x) ‖ N(0, I)) = ½ Σ_k (μ_k² + σ_k² − 1 − log σ_k²)

    Args:
        x: ``(n, dim)`` data (in ``[0, 1]`` for ``"bernoulli"``).
        out: ``(n, dim)`` decoder output for one sample ``z``: logits of the pixel probabilities
            (``"bernoulli"``) or the mean (``"gaussian"``).
        mu, logvar: ``(n, latent_dim)`` encoder outputs ``μ`` and ``log σ²``.
        likelihood: ``"bernoulli"`` or ``"gaussian"``.

    Returns:
        ``(rec, kl)``, each ``(n,)``, in nats; differentiable.
    """
    if likelihood not in _LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {_LIKELIHOODS}, got {likelihood!r}")
    if likelihood == "bernoulli":                                               # -log p(x|z), Bernoulli
        rec = F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(1)
    else:                                                                       # -log p(x|z), N(out, I) + const
        rec = 0.5 * ((out - x) ** 2).sum(1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(1)                   # KL(N(μ, σ²) || N(0, I))
    return rec, kl


def gan_discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""The discriminator's loss of the GAN game, as a minimization (Goodfellow et al., Algorithm 1).

    ``D(x) = σ(ℓ(x))`` is the probability that ``x`` is real. ``D`` ascends
    ``E_x[log D(x)] + E_z[log(1 − D(G(z)))]``, i.e. descends

        L_D = −(1/m) Σ_i log σ(ℓ_i^real) − (1/m') Σ_i log(1 − σ(ℓ_i^fake)),

    binary cross-entropy with label 1 on the real samples and 0 on the generated ones.

    Args:
        d_real: ``(m,)`` discriminator logits on real samples.
        d_fake: ``(m',)`` logits on generated samples.

    Returns:
        A 0-d tensor (nats), differentiable.
    """
    return (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
            + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))


def gan_generator_loss(d_fake: torch.Tensor, loss: str = "non_saturating") -> torch.Tensor:
    r"""The generator's loss, as a minimization, from the discriminator's logits on generated samples.

    With ``D = σ(ℓ)`` on ``m`` generated samples:

    * ``"vanilla"`` (minimax): ``(1/m) Σ_i log(1 − σ(ℓ_i))``, flat where ``D(G(z)) ≈ 0`` (its gradient in
      ``ℓ_i`` is ``−σ(ℓ_i)/m``: it saturates when ``D`` wins);
    * ``"non_saturating"``: ``−(1/m) Σ_i log σ(ℓ_i)`` (gradient ``−(1 − σ(ℓ_i))/m``, strong when ``D`` wins);
    * ``"wasserstein"``: ``−(1/m) Σ_i ℓ_i`` (``ℓ`` is a critic's score, not a logit).

    Args:
        d_fake: ``(m,)`` discriminator logits (critic scores) on generated samples.
        loss: one of ``GAN_LOSSES``.

    Returns:
        A 0-d tensor, differentiable.
    """
    if loss == "vanilla":           # descend log(1 - D(G(z)))  (saturates when D wins)
        return -F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    if loss == "non_saturating":    # ascend log D(G(z))  <=>  descend BCE(D(G(z)), 1)
        return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
    if loss == "wasserstein":       # ascend E[D(G(z))]
        return -d_fake.mean()
    raise ValueError(f"loss must be one of {GAN_LOSSES}, got {loss!r}")


@dataclass
class GANConfig:
    """GAN hyperparameters (defaults work on 2-D toys and on digits).

    Attributes:
        latent_dim: size of the noise ``z ~ N(0, I)`` fed to the generator.
        g_hidden, d_hidden: hidden sizes of generator ``G`` and discriminator ``D``.
        loss: ``"vanilla"`` (minimax: ``G`` descends ``log(1 - D(G(z)))``), ``"non_saturating"``
            (``G`` ascends ``log D(G(z))``) or ``"wasserstein"`` (critic with gradient penalty).
        d_steps: ``k``, discriminator updates per generator update.
        normalize: per-feature scaling of the data (``"standard"``, ``"minmax"`` or ``None``), undone by
            :meth:`GAN.sample`; with ``"minmax"`` use ``output="tanh"``.
        output: generator output in normalized space: ``"linear"``, ``"tanh"`` or ``"sigmoid"``.
        gp_weight: gradient-penalty weight λ (``"wasserstein"`` only).
        ema: if > 0, :meth:`GAN.sample` uses an exponential moving average of the generator's weights,
            ``θ̄ ← ema·θ̄ + (1 − ema)·θ`` after every step (damps the oscillation of GAN training; 0 = off).
    """

    latent_dim: int = 8
    g_hidden: tuple[int, ...] = (128, 128)
    d_hidden: tuple[int, ...] = (128, 128)
    activation: str = "leaky_relu"
    loss: str = "non_saturating"
    d_steps: int = 1
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 128
    normalize: str | None = "standard"
    output: str = "linear"
    gp_weight: float = 10.0
    ema: float = 0.0
    seed: int = 0

    def __post_init__(self):
        check_positive_int(self.latent_dim, "latent_dim")
        self.g_hidden = check_sizes(self.g_hidden, "g_hidden")
        self.d_hidden = check_sizes(self.d_hidden, "d_hidden")
        if self.loss not in GAN_LOSSES:
            raise ValueError(f"loss must be one of {GAN_LOSSES}, got {self.loss!r}")
        check_positive_int(self.d_steps, "d_steps")
        _check_rate(self.lr_g, "lr_g", 0.0, 10.0)
        _check_rate(self.lr_d, "lr_d", 0.0, 10.0)
        self.betas = tuple(float(b) for b in self.betas)
        check_positive_int(self.batch_size, "batch_size")
        if self.normalize not in NORMALIZE_KINDS:
            raise ValueError(f"normalize must be one of {NORMALIZE_KINDS}, got {self.normalize!r}")
        if self.output not in _OUTPUTS:
            raise ValueError(f"output must be one of {_OUTPUTS}, got {self.output!r}")
        _check_rate(self.gp_weight, "gp_weight", 0.0, 1e4)
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {self.ema!r}")
        check_seed(self.seed)


class GAN(_FlatModel):
    """A GAN over ``(n, dim)`` vectors: MLP generator ``G: (m, latent_dim) -> (m, dim)`` and discriminator
    ``D: (m, dim) -> (m,)`` logits (a critic score for ``loss="wasserstein"``).

    Works unchanged from 2-D points to a few thousand dimensions (a flattened 500 × 6 Q-table): the
    normalizer puts every feature on a common scale, and minibatches are drawn with replacement, so
    even a handful of training vectors (fewer than ``batch_size``) is fine.
    """

    kind = "gan"
    Config = GANConfig
    config: GANConfig

    def _build(self):
        c = self.config
        self.generator = mlp(c.latent_dim, self.dim, c.g_hidden, c.activation)
        self.discriminator = mlp(self.dim, 1, c.d_hidden, c.activation)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=c.betas, fused=True)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=c.betas, fused=True)

    def _modules(self):
        return {"generator": self.generator, "discriminator": self.discriminator, "generator_ema": self.generator_ema}

    def _optimizers(self):
        return {"opt_g": self.opt_g, "opt_d": self.opt_d}

    def _generate(self, z: torch.Tensor, ema: bool = False) -> torch.Tensor:
        net = self.generator_ema if ema and self.config.ema > 0 else self.generator
        return _out(net(z), self.config.output)

    @torch.no_grad()
    def _update_ema(self):
        for p_ema, p in zip(self.generator_ema.parameters(), self.generator.parameters()):
            p_ema.lerp_(p, 1.0 - self.config.ema)                          # θ̄ ← ema·θ̄ + (1 − ema)·θ

    def _d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, float, float]:
        d_real, d_fake = self.discriminator(torch.cat([real, fake])).squeeze(1).split([len(real), len(fake)])
        if self.config.loss == "wasserstein":
            # critic: maximise E[D(x)] - E[D(G(z))], with λ E[(||∇D(x̂)|| - 1)²] on interpolates x̂
            alpha = torch.rand(len(real), 1, generator=self._rng)
            x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
            grad, = torch.autograd.grad(self.discriminator(x_hat).sum(), x_hat, create_graph=True)
            gp = ((grad.norm(dim=1) - 1) ** 2).mean()
            loss = d_fake.mean() - d_real.mean() + self.config.gp_weight * gp
            return loss, d_real.mean().item(), d_fake.mean().item()
        # ascend log D(x) + log(1 - D(G(z)))  <=>  descend BCE(D(x), 1) + BCE(D(G(z)), 0)
        loss = gan_discriminator_loss(d_real, d_fake)
        return loss, torch.sigmoid(d_real).mean().item(), torch.sigmoid(d_fake).mean().item()

    def _g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        return gan_generator_loss(self.discriminator(fake).squeeze(1), self.config.loss)

    @single_thread()   # the same numbers for a seed whatever the thread settings (genrl_lib.seeding)
    @renamed(progress="progress_bar")
    def fit(self, data, epochs: int = 100, *, steps: int | None = None, progress_bar: bool = True
            ) -> dict[str, list[float]]:
        """Goodfellow et al.'s Algorithm 1 on ``data`` ``(n, dim)``.

        One *step* = ``k = d_steps`` discriminator updates, each on a fresh real minibatch (drawn with
        replacement) and fresh noise, then one generator update. ``epochs`` means
        ``ceil(n / batch_size)`` steps each; pass ``steps`` to set the number of steps directly.

        Returns:
            per-step lists ``{"d_loss", "g_loss", "d_real", "d_fake"}``: the last discriminator loss,
            the generator loss, and the mean of ``D(x)`` and ``D(G(z))`` (probabilities, or critic
            scores for ``"wasserstein"``).
        """
        x = self._prepare(data)
        n, m, c = len(x), self.config.batch_size, self.config
        steps = check_positive_int(steps, "steps") if steps is not None else \
            check_positive_int(epochs, "epochs") * math.ceil(n / m)
        history: dict[str, list[float]] = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
        bar = tqdm_bar(total=steps, desc=f"GAN ({c.loss})", enabled=progress_bar, unit="step")
        with bar:
            for _ in range(steps):
                for _ in range(c.d_steps):                                   # k discriminator steps
                    real = x[torch.randint(n, (m,), generator=self._rng)]     # {x^(i)} ~ p_data
                    z = torch.randn(m, c.latent_dim, generator=self._rng)     # {z^(i)} ~ p_z
                    with torch.no_grad():
                        fake = self._generate(z)
                    d_loss, d_real, d_fake = self._d_loss(real, fake)
                    self.opt_d.zero_grad()
                    d_loss.backward()
                    self.opt_d.step()
                z = torch.randn(m, c.latent_dim, generator=self._rng)
                g_loss = self._g_loss(self._generate(z))                     # one generator step
                self.opt_g.zero_grad()
                g_loss.backward()
                self.opt_g.step()
                if c.ema > 0:
                    self._update_ema()
                self.steps_done += 1
                for key, val in zip(history, (d_loss.item(), g_loss.item(), d_real, d_fake)):
                    history[key].append(val)
                bar.update(1)
        return history

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` generated vectors ``(n, dim)`` in the data's scale. ``seed`` fixes the noise."""
        check_positive_int(n, "n")
        if not self.normalizer.fitted:
            raise RuntimeError("call fit(data) before sample: the normalizer learns the data's scale")
        return self._to_data(self._generate(self._noise(n, seed), ema=True))

    @torch.no_grad()
    def decode(self, z) -> np.ndarray:
        """The generator on given noise: ``(n, latent_dim) -> (n, dim)`` in the data's scale."""
        if not self.normalizer.fitted:
            raise RuntimeError("call fit(data) before decode")
        return self._to_data(self._generate(self._check_latent(z), ema=True))

    @torch.no_grad()
    def discriminate(self, data) -> np.ndarray:
        """``D(x)`` for ``(n, dim)`` data: probabilities ``(n,)`` that ``x`` is real (critic scores for WGAN)."""
        if not self.normalizer.fitted:
            raise RuntimeError("call fit(data) before discriminate")
        x = torch.from_numpy(self.normalizer.transform(_as_data(data, self.dim)))
        out = self.discriminator(x).squeeze(1)
        return (out if self.config.loss == "wasserstein" else torch.sigmoid(out)).numpy()


# --------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModeStats:
    """How well samples cover a mixture of isotropic Gaussians.

    Attributes:
        covered: number of modes that received at least ``min_fraction`` of the samples as high-quality samples.
        high_quality: fraction of samples within ``n_sigma`` standard deviations of their nearest mode.
        counts: ``(n_modes,)`` high-quality samples per mode.
    """

    covered: int
    high_quality: float
    counts: np.ndarray = field(repr=False)


def mode_stats(samples, centers, std: float, n_sigma: float = 3.0, min_fraction: float = 0.01) -> ModeStats:
    """Mode coverage and sample quality (the protocol of the unrolled-GAN paper).

    Args:
        samples: ``(n, d)`` generated points.
        centers: ``(n_modes, d)`` mode centres.
        std: the modes' standard deviation σ.
        n_sigma: a sample is *high-quality* if its distance to the nearest centre is at most ``n_sigma * std``.
        min_fraction: a mode counts as *covered* if at least ``max(1, min_fraction * n)`` high-quality
            samples fall on it (1% of 1,000 samples = 10; a uniform spread over 8 modes gives 12.5% each).
    """
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2:
        raise ValueError(f"centers must be (n_modes, d), got shape {centers.shape}")
    x = _as_data(samples, centers.shape[1], "samples").astype(np.float64)
    if not std > 0:
        raise ValueError(f"std must be positive, got {std!r}")
    _check_rate(min_fraction, "min_fraction")
    dist = np.linalg.norm(x[:, None, :] - centers[None, :, :], axis=2)
    nearest, d_min = dist.argmin(1), dist.min(1)
    good = d_min <= n_sigma * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    covered = int((counts >= max(1, math.ceil(min_fraction * len(x)))).sum())
    return ModeStats(covered, float(good.mean()), counts)


def mode_coverage(samples, centers, std: float, n_sigma: float = 3.0, min_fraction: float = 0.01) -> int:
    """Number of modes covered by ``samples`` ``(n, d)``; see :func:`mode_stats`."""
    return mode_stats(samples, centers, std, n_sigma, min_fraction).covered


def high_quality_fraction(samples, centers, std: float, n_sigma: float = 3.0) -> float:
    """Fraction of ``samples`` ``(n, d)`` within ``n_sigma * std`` of the nearest centre; see :func:`mode_stats`."""
    return mode_stats(samples, centers, std, n_sigma).high_quality


def reconstruction_error(x_hat, x, per_example: bool = False):
    """Mean squared error between ``x_hat`` and ``x``, both ``(n, dim)``.

    Returns a float (mean over all entries) or, with ``per_example=True``, an ``(n,)`` array.
    """
    x = _as_data(x, None, "x")
    x_hat = _as_data(x_hat, x.shape[1], "x_hat")
    if len(x_hat) != len(x):
        raise ValueError(f"x_hat has {len(x_hat)} rows, x has {len(x)}: pass matching examples")
    err = ((x_hat.astype(np.float64) - x) ** 2).mean(1)
    return err if per_example else float(err.mean())


# --------------------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------------------
def plot_image_rows(rows: dict[str, np.ndarray], image_shape: tuple[int, int] = (8, 8), *, title: str | None = None,
                    cmap: str = "gray_r", scale: float = 0.9):
    """Show rows of images: ``{row label: (n, h*w) flat images}``, all rows with the same ``n``.

    Returns the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("rows is empty: pass {label: (n, h*w) images}")
    arrays = {k: np.asarray(v, dtype=float).reshape(len(v), *image_shape) for k, v in rows.items()}
    n = max(len(a) for a in arrays.values())
    fig, axes = plt.subplots(len(arrays), n, figsize=(scale * n, scale * len(arrays) + (0.4 if title else 0)),
                             squeeze=False)
    for r, (label, imgs) in enumerate(arrays.items()):
        for j in range(n):
            ax = axes[r, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(imgs):
                ax.imshow(imgs[j], cmap=cmap, vmin=0, vmax=1)
            else:
                ax.axis("off")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# Public names for models built on the same base in other modules (genrl_lib.diffusion.DDPM).
FlatModel = _FlatModel
as_data = _as_data
