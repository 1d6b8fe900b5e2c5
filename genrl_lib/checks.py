"""Argument checks shared by the whole library: one home, one style (``ValueError``/``TypeError`` naming the
argument and what it must be).

``check_seed`` lives in :mod:`genrl_lib.seeding` (with the seeding it serves) and is re-exported here.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np

from genrl_lib.seeding import check_seed

__all__ = ["check_positive_int", "check_number", "check_bool", "check_seed", "OBS_ENCODINGS", "check_obs_encoding"]


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as ``int`` if it is a positive integer, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
    hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
    return f"{lo}, {hi}"


@overload
def check_number(value, name: str, *, low: float | None = ..., high: float | None = ..., low_open: bool = ...,
                 high_open: bool = ..., allow_none: Literal[False] = ...) -> float: ...
@overload
def check_number(value, name: str, *, low: float | None = ..., high: float | None = ..., low_open: bool = ...,
                 high_open: bool = ..., allow_none: bool = ...) -> float | None: ...
def check_number(value, name: str, *, low: float | None = None, high: float | None = None, low_open: bool = False,
                 high_open: bool = False, allow_none: bool = False) -> float | None:
    """Return ``value`` as a finite ``float`` in the interval ``low..high``, else raise naming ``name``.

    ``low_open``/``high_open`` exclude the end points; ``None`` bounds are unbounded (the value must still be
    finite: NaN and inf are refused everywhere). ``allow_none`` lets ``None`` through (an optional setting).

    Raises:
        TypeError: not a real number (a string, a bool, an array...).
        ValueError: NaN, inf or outside the interval.
    """
    if value is None and allow_none:
        return None
    expected = f"a finite number in {_interval(low, high, low_open, high_open)}" + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__} {value!r}")
    v = float(value)
    if not (np.isfinite(v) and (low is None or (v > low if low_open else v >= low))
            and (high is None or (v < high if high_open else v <= high))):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return v


def check_bool(value, name: str) -> bool:
    """Return ``value`` if it is a ``bool`` (NumPy's included), else raise ``TypeError`` naming ``name``
    (a string such as ``"no"`` would otherwise count as true)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


#: How a Discrete observation is fed to a network (BC's and GAIL's ``obs_encoding``, :class:`genrl_lib.nets.ObsEncoder`).
OBS_ENCODINGS = ("one_hot", "factored", "one_hot+factored")


def check_obs_encoding(obs_encoding, obs_factors) -> None:
    """Refuse an unknown ``obs_encoding``, or ``obs_factors`` given without a factored encoding (or missing with one),
    naming both arguments and an example of the fix."""
    if obs_encoding not in OBS_ENCODINGS:
        raise ValueError(f"obs_encoding must be one of {OBS_ENCODINGS}, got {obs_encoding!r}")
    if (obs_encoding == "one_hot") != (obs_factors is None):
        raise ValueError("obs_factors goes with obs_encoding='factored' or 'one_hot+factored' (e.g. "
                         "obs_encoding='factored', obs_factors=(5, 5, 5, 4) on Taxi) and only with them; got "
                         f"obs_encoding={obs_encoding!r}, obs_factors={obs_factors!r}")
