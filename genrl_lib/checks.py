"""Argument checks shared by the whole library: one home, one style (``ValueError``/``TypeError`` naming the
argument and what it must be).

``check_seed`` lives in :mod:`genrl_lib.seeding` (with the seeding it serves) and is re-exported here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast, overload

import numpy as np

from genrl_lib.seeding import check_seed

__all__ = ["check_positive_int", "check_number", "check_bool", "check_seed", "OBS_ENCODINGS", "check_obs_encoding",
           "renamed", "reject_old_names", "upgrade_config"]

_T = TypeVar("_T")


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


# ---------------------------------------------------------------- renamed public names (issue 17)
def renamed(**old_to_new: str) -> Callable[[_T], _T]:
    """Decorator for a class (its ``__init__``) or a function whose keywords were renamed: passing an old name
    raises ``TypeError`` naming the new one. A class keeps the map in ``RENAMED`` for :func:`upgrade_config`.

    Example: ``@renamed(hidden="net_arch")`` on ``DQNConfig``: ``DQNConfig(hidden=(64,))`` raises
    ``TypeError: DQNConfig() has no keyword 'hidden' any more: it is called 'net_arch' now ...``.
    """
    def decorate(obj: _T) -> _T:
        cls: Any = obj
        target: Any = cls.__init__ if isinstance(obj, type) else obj
        owner = getattr(obj, "__qualname__", getattr(obj, "__name__", "this call"))

        @functools.wraps(target)
        def wrapper(*args, **kwargs):
            reject_old_names(kwargs, old_to_new, owner)
            return target(*args, **kwargs)

        if isinstance(obj, type):
            cls.__init__ = wrapper
            cls.RENAMED = {**getattr(cls, "RENAMED", {}), **old_to_new}
            return obj
        return cast(_T, wrapper)

    return decorate


def reject_old_names(kwargs, renames, owner: str) -> None:
    """Raise ``TypeError`` if a keyword in ``kwargs`` is an old name in ``renames`` (a dict old -> new, or a class
    decorated with :func:`renamed`), naming the new one; ``owner`` is the callee the message names."""
    renames = renames if isinstance(renames, dict) else getattr(renames, "RENAMED", {})
    old = [k for k in kwargs if k in renames]
    if old:
        fix = ", ".join(f"{k}= -> {renames[k]}=" for k in old)
        raise TypeError(f"{owner}() has no keyword {old[0]!r} any more: it is called {renames[old[0]]!r} now, "
                        f"as in stable-baselines3 (rename {fix})")


def upgrade_config(config_cls: type, saved: dict) -> dict:
    """A config dict saved by older code (a file's metadata, a benchmark's JSON) with its fields under today's
    names: ``upgrade_config(DQNConfig, {"hidden": [64]})`` -> ``{"net_arch": [64]}``. Unknown keys are kept as
    they are; a key saved under both names keeps the new one."""
    renames: dict[str, str] = getattr(config_cls, "RENAMED", {})
    out = {renames.get(k, k): v for k, v in saved.items() if k not in renames or renames[k] not in saved}
    return out
