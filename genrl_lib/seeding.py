"""Seeding: one call makes a run repeatable.

What :func:`set_seed` covers: Python's ``random``, NumPy's global generator and torch (CPU and,
if present, CUDA). What it cannot cover are environments and spaces, which own their generators:

* seed an environment on its **first** reset, ``obs, info = env.reset(seed=seed)``; later resets
  without a seed continue the same random stream;
* seed action sampling separately, ``env.action_space.seed(seed)``;
* vector envs: ``envs.reset(seed=seed)`` seeds sub-env *i* with ``seed + i``.

Threads are the other half of repeatability: a floating-point sum split over two threads is rounded
differently than over one, and a long training run amplifies the difference. Every ``learn`` and ``fit``
of the library (and the orthogonal weight initialization of :func:`genrl_lib.nets.mlp`) therefore runs inside
:func:`single_thread` (torch and NumPy's BLAS on one thread), so a seed gives the same numbers whatever
``OMP_NUM_THREADS`` or ``torch.set_num_threads`` say. Bit-identical results also need the same package
versions and processor type: another CPU may pick other arithmetic kernels, and a long adversarial run
(GAIL) can then end elsewhere; compare such runs by their spread over seeds, not seed by seed.
"""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np

__all__ = ["set_seed", "check_seed", "single_thread"]


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
        pass
    else:
        torch.manual_seed(seed)
        if deterministic_torch:
            torch.use_deterministic_algorithms(True)
    return np.random.default_rng(seed)


@contextlib.contextmanager
def single_thread(threads: int | None = 1):
    """Run the ``with`` block (or, as ``@single_thread()``, a function) with torch and NumPy's BLAS on
    ``threads`` threads, then restore both.

    Results then do not depend on the machine's thread settings (``OMP_NUM_THREADS``, a notebook's
    ``torch.set_num_threads``): the same seed gives the same numbers. One thread is also the fastest for
    the small networks of this book on 2 cores.

    Args:
        threads: threads for both (a positive int), or ``None`` to change nothing.

    Raises:
        ValueError: ``threads`` is not a positive int or ``None``.
    """
    if threads is None:
        yield
        return
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    import torch
    from threadpoolctl import threadpool_limits

    old = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        with threadpool_limits(limits=int(threads), user_api="blas"):
            yield
    finally:
        torch.set_num_threads(old)
