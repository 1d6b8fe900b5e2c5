"""Seeding: one call makes a run repeatable.

What :func:`set_seed` covers: Python's ``random``, NumPy's global generator and torch (CPU and,
if present, CUDA). What it cannot cover are environments and spaces, which own their generators:

* seed an environment on its **first** reset, ``obs, info = env.reset(seed=seed)``; later resets
  without a seed continue the same random stream;
* seed action sampling separately, ``env.action_space.seed(seed)``;
* vector envs: ``envs.reset(seed=seed)`` seeds sub-env *i* with ``seed + i``.
"""

from __future__ import annotations

import os
import random

import numpy as np

__all__ = ["set_seed", "check_seed"]


def check_seed(seed, name: str = "seed") -> int:
    """Validate a seed: a non-negative ``int`` (NumPy integers accepted). Returns it as ``int``.

    Raises:
        TypeError: ``seed`` is not an integer (e.g. ``1.5`` or ``"0"``).
        ValueError: ``seed`` is negative.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name} must be a non-negative int, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative int, got {seed}")
    return int(seed)


def set_seed(seed: int, *, deterministic_torch: bool = False) -> np.random.Generator:
    """Seed Python, NumPy and torch, and return a fresh ``np.random.Generator(seed)``.

    Args:
        seed: non-negative integer.
        deterministic_torch: also ask torch for deterministic kernels
            (``torch.use_deterministic_algorithms(True)``); on CPU our models are deterministic
            without it.

    Returns:
        ``np.random.default_rng(seed)``, a generator for code that prefers explicit RNGs.
    """
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["PYTHONHASHSEED"] = str(seed)  # affects subprocesses only
    try:
        import torch
    except ImportError:  # torch is optional for the tabular chapters
        torch = None
    if torch is not None:
        torch.manual_seed(seed)
        if deterministic_torch:
            torch.use_deterministic_algorithms(True)
    return np.random.default_rng(seed)
