"""The one per-feature scaler of the library: ``x -> (x - shift) / scale``, fitted from data.

Every place that standardizes numbers uses :class:`Scaler`: the generative models' ``normalizer``
(:mod:`genrl_lib.generative`, :mod:`genrl_lib.diffusion`), the observation encoder of BC and GAIL
(:class:`genrl_lib.nets.ObsEncoder`, whose one-hot encoding of Discrete states is a different job) and the
buildings experiments' observation scaler and env wrapper (:mod:`genrl_lib.protocols.buildings`).

The arithmetic is fixed, so a scaler gives the same numbers wherever it is used: the statistics are computed
in float64 and stored as float32 ``(d,)`` arrays; ``transform`` is ``(float32(x) - shift) / scale`` and
``inverse_transform`` is ``float32(y) * scale + shift``, both float32. What differs between the uses is only
how a too small scale (a feature that is constant in the data) is floored, the ``floor`` argument.

Saving is pickle-free: :meth:`Scaler.state` gives two plain arrays (put them in a torch file or an ``.npz``),
:meth:`Scaler.to_dict` a JSON-ready dict; :meth:`Scaler.load_state` and :meth:`Scaler.from_dict` restore them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Scaler", "KINDS", "FLOORS"]

#: How :meth:`Scaler.fit` computes ``(shift, scale)``: ``"standard"`` (mean, standard deviation), ``"minmax"``
#: (the mid-range and half the range: each feature maps to ``[-1, 1]``) or ``None`` (identity: 0 and 1).
KINDS = (None, "standard", "minmax")

#: Named rules for flooring the scale (a positive number is an absolute floor, ``max(scale, floor)``):
#: ``"unit"``: a scale at most ``1e-8 * max(1, |shift|)`` becomes 1 (a constant feature is only shifted);
#: ``"relative"``: ``max(scale, 1e-6 * max(scale) + 1e-8)`` (a constant feature is divided by a tiny number).
FLOORS = ("unit", "relative")


def _check_floor(floor) -> str | float:
    if isinstance(floor, str):
        if floor not in FLOORS:
            raise ValueError(f"floor must be one of {FLOORS} or a positive number, got {floor!r}")
        return floor
    if isinstance(floor, bool) or not isinstance(floor, (int, float, np.integer, np.floating)) or not floor > 0:
        raise ValueError(f"floor must be positive (or one of {FLOORS}), got {floor!r}")
    return float(floor)


class Scaler:
    """Per-feature affine scaling ``x -> (x - shift) / scale`` that round-trips exactly (up to float32).

    Build it unfitted with a recipe and call :meth:`fit`, or fitted from known arrays with
    :meth:`from_shift_scale`::

        scaler = Scaler("standard", floor=1.0).fit(observations)   # (N, d) -> shift, scale (d,)
        z = scaler.transform(observations)                          # (N, d) float32
        x = scaler.inverse_transform(z)

    Args:
        kind: one of :data:`KINDS` (``"standard"``, ``"minmax"``, ``None``).
        floor: how a too small scale is floored: ``"unit"`` (default), ``"relative"`` or a positive number
            (see :data:`FLOORS`).

    Attributes:
        shift, scale: float32 ``(d,)`` arrays once fitted, else ``None``.
    """

    def __init__(self, kind: str | None = "standard", floor: str | float = "unit"):
        if kind not in KINDS:
            raise ValueError(f"normalize must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.floor = _check_floor(floor)
        self.shift: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    # ------------------------------------------------------------------------------------------ building
    @classmethod
    def from_shift_scale(cls, shift, scale, dim: int | None = None, names: tuple[str, str] = ("shift", "scale"),
                         hint: str = "") -> Scaler:
        """A fitted scaler from known ``shift`` and ``scale`` (anything array-like, flattened to float32 ``(d,)``).

        Args:
            dim: the number of features they must have (``None``: any, but both the same).
            names: how errors call the two arguments (e.g. ``("obs_shift", "obs_scale")``).
            hint: appended to the error messages (e.g. how to make valid arrays).

        Raises:
            ValueError: naming the arguments: other sizes, a non-finite entry or a scale that is not positive.
        """
        s_name, c_name = names
        shift = np.asarray(shift, np.float32).reshape(-1)
        scale = np.asarray(scale, np.float32).reshape(-1)
        want = len(shift) if dim is None else dim
        if shift.shape != (want,) or scale.shape != (want,):
            raise ValueError(f"{s_name} and {c_name} must have {want} entries, got {shift.shape} and "
                             f"{scale.shape}{hint}")
        if not (np.isfinite(shift).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError(f"{c_name} must be positive everywhere and both {s_name} and {c_name} finite{hint}")
        out = cls()
        out.shift, out.scale = shift, scale
        return out

    @classmethod
    def identity(cls, dim: int) -> Scaler:
        """The fitted scaler that changes nothing: shift 0 and scale 1 for ``dim`` features."""
        return cls.from_shift_scale(np.zeros(dim, np.float32), np.ones(dim, np.float32))

    def fit(self, x, name: str = "data") -> Scaler:
        """Learn ``shift`` and ``scale`` from ``x`` of shape ``(n, d)`` (statistics in float64). Returns ``self``.

        Raises:
            ValueError: ``x`` (called ``name``) is not a non-empty 2-D array.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or len(x) < 1:
            raise ValueError(f"{name} must be a non-empty (N, d) array, got shape {x.shape}")
        if self.kind == "standard":
            shift, scale = x.mean(axis=0), x.std(axis=0)
        elif self.kind == "minmax":
            lo, hi = x.min(0), x.max(0)
            shift, scale = (lo + hi) / 2, (hi - lo) / 2
        else:
            shift, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
        if self.floor == "unit":
            scale = np.where(scale > 1e-8 * np.maximum(1.0, np.abs(shift)), scale, 1.0)
        elif self.floor == "relative":
            scale = np.maximum(scale, 1e-6 * scale.max() + 1e-8)
        else:
            scale = np.maximum(scale, self.floor)
        self.shift, self.scale = shift.astype(np.float32), scale.astype(np.float32)
        return self

    # ------------------------------------------------------------------------------------------ using
    @property
    def fitted(self) -> bool:
        """Whether ``shift`` and ``scale`` are known (by :meth:`fit`, :meth:`from_shift_scale` or a restore)."""
        return self.shift is not None and self.scale is not None

    @property
    def dim(self) -> int:
        """The number of features ``d``."""
        return len(self._arrays()[0])

    @property
    def is_identity(self) -> bool:
        """True when fitted with shift 0 and scale 1 everywhere (transforming changes nothing)."""
        return self.fitted and not self._arrays()[0].any() and bool((self._arrays()[1] == 1).all())

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self.shift is None or self.scale is None:
            raise RuntimeError("the scaler is not fitted yet: call fit(data) first")
        return self.shift, self.scale

    def _check(self, x, name: str) -> np.ndarray:
        shift, _ = self._arrays()
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 0 or x.shape[-1] != len(shift):
            raise ValueError(f"{name} has shape {x.shape}, but the scaler was fitted on {len(shift)} features: pass "
                             f"one row ({len(shift)},) or a batch (n, {len(shift)})")
        return x

    def transform(self, x, name: str = "x") -> np.ndarray:
        """``(..., d)`` data -> scaled float32 ``(..., d)``: ``(x - shift) / scale``."""
        shift, scale = self._arrays()
        return ((self._check(x, name) - shift) / scale).astype(np.float32)

    def inverse_transform(self, y, name: str = "y") -> np.ndarray:
        """Scaled ``(..., d)`` -> data scale float32 ``(..., d)``: ``y * scale + shift``."""
        shift, scale = self._arrays()
        return (self._check(y, name) * scale + shift).astype(np.float32)

    # ------------------------------------------------------------------------------------------ saving
    def state(self) -> dict[str, np.ndarray]:
        """``{"shift": (d,), "scale": (d,)}`` float32 copies (plain arrays: no pickle needed)."""
        shift, scale = self._arrays()
        return {"shift": shift.copy(), "scale": scale.copy()}

    def load_state(self, state) -> Scaler:
        """Restore :meth:`state` (NumPy arrays, CPU torch tensors or lists). Returns ``self``."""
        fitted = Scaler.from_shift_scale(np.asarray(state["shift"]), np.asarray(state["scale"]))
        self.shift, self.scale = fitted.shift, fitted.scale
        return self

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``kind``, ``floor`` and, once fitted, ``shift`` and ``scale`` as lists of floats."""
        out: dict = {"kind": self.kind, "floor": self.floor}
        if self.fitted:
            out.update({k: v.tolist() for k, v in self.state().items()})
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Scaler:
        """The scaler :meth:`to_dict` described."""
        scaler = cls(d.get("kind", "standard"), d.get("floor", "unit"))
        if "shift" in d:
            scaler.load_state(d)
        return scaler

    def __repr__(self) -> str:
        fitted = f"dim={self.dim}" if self.fitted else "not fitted"
        return f"Scaler(kind={self.kind!r}, floor={self.floor!r}, {fitted})"
