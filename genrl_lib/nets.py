"""Small torch building blocks shared by every deep agent (DQN, PPO, GAIL, GANs).

Observation handling is here once: ``Discrete`` observations are one-hot encoded, ``Box``
observations are flattened; other spaces raise a clear error. An optional *factored* one-hot
(:func:`factored_one_hot`) encodes a Discrete state that is a tuple of small variables (Taxi) by
one one-hot block per variable, so a network can generalize across states sharing a variable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from genrl_lib.scaling import Scaler
from genrl_lib.seeding import single_thread

__all__ = ["mlp", "obs_dim", "obs_to_tensor", "action_dim", "check_space", "check_factors", "factored_one_hot",
           "TAXI_FACTORS", "check_sizes", "check_obs", "ObsEncoder"]

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU, "gelu": nn.GELU}


def mlp(in_dim: int, out_dim: int, hidden: Sequence[int] = (64, 64), activation: str = "tanh",
        out_gain: float | None = None) -> nn.Sequential:
    """A multilayer perceptron ``(B, in_dim) -> (B, out_dim)``.

    Args:
        hidden: sizes of the hidden layers.
        activation: one of ``tanh``, ``relu``, ``leaky_relu``, ``elu``, ``gelu``.
        out_gain: if given, orthogonal initialization of all layers (gain sqrt(2) for hidden layers,
            ``out_gain`` for the last one, zero biases) as in PPO implementations; otherwise torch defaults.
            Either way the weights depend only on torch's seed, not on its thread count.
    """
    if in_dim <= 0 or out_dim <= 0:
        raise ValueError(f"in_dim and out_dim must be positive, got {in_dim}, {out_dim}")
    hidden = check_sizes(hidden, "hidden")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    sizes = [in_dim, *hidden]
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), _ACTIVATIONS[activation]()]
    layers.append(nn.Linear(sizes[-1], out_dim))
    net = nn.Sequential(*layers)
    if out_gain is not None:
        linears = [m for m in net if isinstance(m, nn.Linear)]
        with single_thread():   # orthogonal_ runs a QR whose rounding depends on torch's thread count
            for i, m in enumerate(linears):
                nn.init.orthogonal_(m.weight, out_gain if i == len(linears) - 1 else np.sqrt(2))
                nn.init.zeros_(m.bias)
    return net


def check_sizes(sizes, name: str = "hidden") -> tuple[int, ...]:
    """Hidden-layer sizes as a tuple of positive ints: ``(64, 64)`` -> ``(64, 64)``; ``()`` (no hidden layer) is allowed.

    Refuses, naming ``name``: a string (``tuple("64")`` would silently be ``(6, 4)``), a bare int (write ``(64,)``),
    floats, bools and sizes below 1.
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (tuple, list, np.ndarray)):
        hint = f" (write ({sizes},) for one layer)" if isinstance(sizes, (int, np.integer, str)) else ""
        raise TypeError(f"{name} must be a tuple of positive ints such as (64, 64), got {type(sizes).__name__} "
                        f"{sizes!r}{hint}")
    bad = [h for h in list(sizes) if isinstance(h, (bool, np.bool_)) or not isinstance(h, (int, np.integer)) or h < 1]
    if bad:
        raise ValueError(f"{name} must be a tuple of positive ints such as (64, 64), got {tuple(sizes)!r} "
                         f"(bad entries: {bad})")
    return tuple(int(h) for h in sizes)


def check_obs(obs, space: gym.Space, name: str = "obs") -> tuple[np.ndarray, bool]:
    """Validate observations for ``predict``: one observation of ``space`` or a batch of them.

    Box: ``obs`` of shape ``space.shape`` (one) or ``(B, *space.shape)`` (a batch), real and finite.
    Discrete: an integer (one) or a 1-D integer array ``(B,)`` (a batch), each in ``[start, start + n)``.

    Returns:
        ``(batch, single)``: the observations as an array of shape ``(B, *space.shape)`` (``(B,)`` int64 for
        Discrete; ``B = 1`` for one observation), and whether ``obs`` was a single observation.

    Raises:
        ValueError: another shape, NaN/inf, a non-integer or out-of-range Discrete observation (naming ``name``).
    """
    try:
        x = np.asarray(obs)
    except (ValueError, TypeError) as e:   # ragged nested lists
        raise ValueError(f"{name} must be an observation of {space} or a batch of them, got {obs!r} ({e})") from None
    if isinstance(space, gym.spaces.Discrete):
        if x.ndim > 1 or not (np.issubdtype(x.dtype, np.integer) or (np.issubdtype(x.dtype, np.floating)
                                                                     and np.all(np.isfinite(x)) and np.all(x == np.round(x)))):
            raise ValueError(f"{name} must be an integer state of {space} (or a 1-D batch of them), got {obs!r}")
        x = x.astype(np.int64)
        if ((x < space.start) | (x >= space.start + space.n)).any():
            raise ValueError(f"{name} {obs!r} is outside {space}: states are {int(space.start)}.."
                             f"{int(space.start + space.n - 1)}")
        return x.reshape(-1), x.ndim == 0
    check_space(space, "observation_space", (gym.spaces.Box,))
    shape = tuple(_box(space).shape)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise ValueError(f"{name} must be a numeric array of shape {shape} (or a batch {('B', *shape)}), "
                         f"got {type(obs).__name__} {obs!r}")
    if x.shape == shape:
        single = True
    elif x.ndim == len(shape) + 1 and x.shape[1:] == shape:
        single = False
    else:
        raise ValueError(f"{name} has shape {x.shape}, but {space} expects one observation of shape {shape} "
                         f"or a batch of shape {('B', *shape)}: pass the env's observation as it is")
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf: {obs!r}; the env or a wrapper produced a non-finite value")
    return x.reshape((-1, *shape)), single


def check_space(space: gym.Space, name: str, allowed: tuple[type, ...]) -> gym.Space:
    """Raise ``TypeError`` naming ``name`` if ``space`` is not one of ``allowed`` space types."""
    if not isinstance(space, allowed):
        names = " or ".join(t.__name__ for t in allowed)
        raise TypeError(f"{name} must be a gymnasium {names} space, got {space}")
    return space


def _box(space: gym.Space) -> gym.spaces.Box:
    """``space``, typed as the ``Box`` that :func:`check_space` (or an ``isinstance`` test) already made sure it is."""
    assert isinstance(space, gym.spaces.Box), space
    return space


def obs_dim(space: gym.Space) -> int:
    """Input size of a network for observations from ``space`` (Discrete: n, one-hot; Box: flat size)."""
    check_space(space, "observation_space", (gym.spaces.Discrete, gym.spaces.Box))
    return int(space.n) if isinstance(space, gym.spaces.Discrete) else int(np.prod(_box(space).shape))


def action_dim(space: gym.Space) -> int:
    """Output size of a policy head: number of actions (Discrete) or action dimension (Box)."""
    check_space(space, "action_space", (gym.spaces.Discrete, gym.spaces.Box))
    return int(space.n) if isinstance(space, gym.spaces.Discrete) else int(np.prod(_box(space).shape))


def obs_to_tensor(obs, space: gym.Space) -> torch.Tensor:
    """Observations -> float32 tensor ``(B, obs_dim(space))``; a single observation gets ``B = 1``.

    Discrete observations (ints, shape ``()`` or ``(B,)``) are one-hot encoded; Box observations
    (shape ``space.shape`` or ``(B, *space.shape)``) are flattened.
    """
    if isinstance(space, gym.spaces.Discrete):
        idx = torch.as_tensor(check_obs(obs, space, "observation")[0]) - int(space.start)
        return nn.functional.one_hot(idx, int(space.n)).float()
    check_space(space, "observation_space", (gym.spaces.Box,))
    x = torch.as_tensor(np.asarray(obs, dtype=np.float32))
    flat = int(np.prod(_box(space).shape))
    if x.numel() % flat:
        raise ValueError(f"observation of shape {tuple(x.shape)} does not match {space}")
    return x.reshape(-1, flat)


# Taxi-v4's state index is ((taxi_row * 5 + taxi_col) * 5 + passenger_location) * 4 + destination
# (gymnasium's TaxiEnv.encode): a mixed-radix number with digits of sizes 5, 5, 5 and 4.
TAXI_FACTORS = (5, 5, 5, 4)


def check_factors(factors, space: gym.Space | None = None, name: str = "obs_factors") -> tuple[int, ...]:
    """Validate mixed-radix ``factors``: a non-empty sequence of positive ints (not bools or a string) and, given a
    ``space``, a Discrete one with ``space.n`` equal to their product. Returns them as a tuple of ints."""
    if space is not None and not isinstance(space, gym.spaces.Discrete):
        raise TypeError(f"{name} applies to Discrete observation spaces only, got {space}")
    if (isinstance(factors, (str, bytes)) or not hasattr(factors, "__len__") or not len(factors)
            or any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1 for x in factors)):
        raise ValueError(f"{name} must be a tuple of positive ints, e.g. (5, 5, 5, 4) for Taxi, got {factors!r}")
    f = tuple(int(x) for x in factors)
    if space is not None and int(np.prod(f)) != int(space.n):
        raise ValueError(f"{name} {f} multiply to {int(np.prod(f))}, but {space} has {int(space.n)} states "
                         f"(Taxi-v4: {TAXI_FACTORS})")
    return f


def factored_one_hot(obs, space: gym.Space, factors) -> torch.Tensor:
    """Factored one-hot encoding of Discrete observations: ``(B,)`` ints -> float32 ``(B, sum(factors))``.

    The state index ``i - space.start`` is read as a mixed-radix number whose digits (most significant
    first) have sizes ``factors``; each digit is one-hot encoded and the blocks are concatenated. For
    Taxi-v4 (``TAXI_FACTORS = (5, 5, 5, 4)``) the blocks are taxi row, taxi column, passenger location
    (R, G, Y, B or in the taxi) and destination: 19 inputs instead of 500. A single observation gets ``B = 1``.
    """
    f = check_factors(factors, space)
    assert isinstance(space, gym.spaces.Discrete)             # check_factors raised otherwise
    idx = torch.as_tensor(np.asarray(obs), dtype=torch.long).reshape(-1) - int(space.start)
    if (idx < 0).any() or (idx >= space.n).any():
        raise ValueError(f"observation {obs!r} is outside {space}")
    blocks = []
    for size in reversed(f):                  # least significant digit first
        blocks.append(nn.functional.one_hot(idx % size, size).float())
        idx = idx // size
    return torch.cat(blocks[::-1], dim=1)


class ObsEncoder:
    """Observation encoding shared by the policy and the discriminator.

    Discrete observations -> one-hot ``(B, n)``, or with ``factors`` the factored one-hot ``(B, sum(factors))``
    (:func:`genrl_lib.nets.factored_one_hot`), or with ``factors`` and ``keep_one_hot`` both ``(B, n + sum(factors))``;
    Box observations -> flat ``(B, d)``, then scaled by :attr:`scaler` (a :class:`genrl_lib.scaling.Scaler`:
    ``(x − shift) / scale``). Encoding (one-hot) is this class's job; scaling is the scaler's.

    Args:
        space: the env's observation space.
        shift, scale: ``(d,)`` arrays (Box only; default 0 and 1).
        factors: Discrete only: sizes of the variables the state index encodes (product = ``space.n``).
        keep_one_hot: with ``factors``, put the plain one-hot in front of the factored blocks.
    """

    def __init__(self, space: gym.Space, shift=None, scale=None, factors=None, keep_one_hot: bool = False):
        check_space(space, "observation_space", (gym.spaces.Discrete, gym.spaces.Box))
        self.space = space
        self.discrete = isinstance(space, gym.spaces.Discrete)
        self.factors = None if factors is None else check_factors(factors, space)
        self.keep_one_hot = bool(keep_one_hot) and self.factors is not None
        if self.factors is not None:
            self.dim = sum(self.factors) + (obs_dim(space) if self.keep_one_hot else 0)
        else:
            self.dim = obs_dim(space)      # n (one-hot) for Discrete, the flat size for Box
        if self.discrete and (shift is not None or scale is not None):
            raise ValueError("obs_shift/obs_scale apply to Box observations only; Discrete ones are one-hot encoded")
        self.scaler = Scaler.from_shift_scale(np.zeros(self.dim, np.float32) if shift is None else shift,
                                              np.ones(self.dim, np.float32) if scale is None else scale,
                                              self.dim, ("obs_shift", "obs_scale"))

    @classmethod
    def fit(cls, space: gym.Space, observations: np.ndarray, factors=None, keep_one_hot: bool = False) -> ObsEncoder:
        """Standardize with the mean and std of ``observations (N, *obs_shape)`` (std floored at 1e-6·max + 1e-8:
        ``Scaler("standard", floor="relative")``); Discrete spaces are one-hot (or factored one-hot with
        ``factors``) encoded, not standardized."""
        if isinstance(space, gym.spaces.Discrete):
            return cls(space, factors=factors, keep_one_hot=keep_one_hot)
        if factors is not None:
            check_factors(factors, space)       # raises: factors need a Discrete space
        x = np.asarray(observations, np.float64).reshape(len(observations), -1)
        s = Scaler("standard", floor="relative").fit(x, "observations")
        return cls(space, s.shift, s.scale)

    @property
    def shift(self) -> np.ndarray:
        """The scaler's float32 ``(dim,)`` shift (zeros for Discrete spaces)."""
        return self.scaler.state()["shift"]

    @property
    def scale(self) -> np.ndarray:
        """The scaler's float32 ``(dim,)`` scale (ones for Discrete spaces)."""
        return self.scaler.state()["scale"]

    @property
    def identity(self) -> bool:
        """True when encoding is a no-op (a Box space without scaling)."""
        return not self.discrete and self.scaler.is_identity

    @property
    def encoded_space(self) -> gym.spaces.Box:
        """The Box space the policy sees."""
        if self.identity:
            return _box(self.space)
        if self.discrete:
            return gym.spaces.Box(0.0, 1.0, (self.dim,), np.float32)
        return gym.spaces.Box(-np.inf, np.inf, (self.dim,), np.float32)

    def __call__(self, obs) -> np.ndarray:
        """Encode one observation or a batch: float32 ``(B, dim)``."""
        if self.factors is not None:
            blocks = factored_one_hot(obs, self.space, self.factors)
            if self.keep_one_hot:
                blocks = torch.cat([obs_to_tensor(obs, self.space), blocks], dim=1)
            return blocks.numpy()
        x = obs_to_tensor(obs, self.space).numpy()
        return x if self.discrete else self.scaler.transform(x, "observation")

    def encode_one(self, obs) -> np.ndarray:
        """Encode a single observation to ``(dim,)`` (the env wrapper's function)."""
        return self(obs)[0]
