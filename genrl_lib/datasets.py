"""Data the generative-models chapter trains on: nothing is downloaded.

* :func:`ring_of_gaussians`: the classic GAN test bed, ``n_modes`` Gaussians on a circle;
  with :func:`ring_centers` it lets us *measure* mode coverage (see :mod:`genrl_lib.generative`).
* :func:`two_moons`: scikit-learn's two interleaving half circles.
* :func:`load_digits_split`: scikit-learn's bundled 8×8 handwritten digits (1,797 images, shipped
  with the package), flattened to 64-vectors scaled to ``[0, 1]`` and split train/test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genrl_lib.checks import check_positive_int
from genrl_lib.seeding import check_seed

__all__ = ["ring_centers", "ring_of_gaussians", "two_moons", "DigitsSplit", "load_digits_split"]


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The ``(n_modes, 2)`` centres of a ring: angles ``2πk / n_modes``, ``k = 0..n_modes-1``."""
    n_modes = check_positive_int(n_modes, "n_modes")
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius!r}")
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def ring_of_gaussians(n: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``n`` points from an equal mixture of isotropic Gaussians on a ring.

    Returns:
        ``(X, y)``: ``X`` of shape ``(n, 2)`` (float32), ``y`` of shape ``(n,)`` the mode of each point.
    """
    n = check_positive_int(n, "n")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std!r}")
    rng = np.random.default_rng(check_seed(seed))
    centers = ring_centers(n_modes, radius)
    y = rng.integers(len(centers), size=n)
    X = centers[y] + std * rng.standard_normal((n, 2))
    return X.astype(np.float32), y


def two_moons(n: int, noise: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of scikit-learn's two moons: ``(X (n, 2) float32, y (n,) in {0, 1})``."""
    from sklearn.datasets import make_moons

    n = check_positive_int(n, "n")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    X, y = make_moons(n_samples=n, noise=noise, random_state=check_seed(seed))
    return X.astype(np.float32), y


@dataclass(frozen=True)
class DigitsSplit:
    """scikit-learn's digits, flattened and scaled to ``[0, 1]``.

    Attributes:
        x_train, x_test: ``(n, 64)`` float32 images (row-major 8×8), pixel intensity / 16.
        y_train, y_test: ``(n,)`` digit classes 0–9.
    """

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def load_digits_split(test_size: float = 0.2, seed: int = 0) -> DigitsSplit:
    """Load the 1,797 bundled 8×8 digits (no download) and split them, stratified by class."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_tr, x_te, y_tr, y_te = train_test_split(x, digits.target, test_size=test_size,
                                              random_state=check_seed(seed), stratify=digits.target)
    return DigitsSplit(x_tr, x_te, y_tr, y_te)
