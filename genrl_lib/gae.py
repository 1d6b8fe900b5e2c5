"""Generalized advantage estimation, GAE(γ, λ) (Schulman et al., 2016), as one tested function.

With per-step next values (the value of the observation that *followed* each step, which at an
episode end is the final observation, not the reset one) the recursion handles termination and
truncation exactly:

    δ_t = r_t + γ (1 - terminated_t) V(s'_t) - V(s_t)           (TD error; bootstraps on truncation)
    Â_t = δ_t + γ λ (1 - done_t) Â_{t+1},   done_t = terminated_t or truncated_t
    R̂_t = Â_t + V(s_t)                                          (the value-function target)

so an advantage never leaks across an episode boundary, a terminated episode bootstraps from 0, and
a truncated one (time limit) from the value of its final observation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gae"]


def gae(rewards, values, next_values, terminated, truncated=None, *, gamma: float = 0.99,
        lam: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Advantages and returns of a rollout with GAE(γ, λ).

    Args:
        rewards: ``(T,)`` or ``(T, N)`` rewards ``r_t`` (``N`` parallel envs).
        values: same shape, ``V(s_t)``.
        next_values: same shape, ``V(s'_t)`` of the observation that followed step ``t`` (the final
            observation when the episode ended at ``t``; the last row is the bootstrap value).
        terminated: same shape, bool: the episode ended at ``t`` in a terminal state (no future).
        truncated: same shape, bool: the episode was cut at ``t`` (time limit); ``None`` means never.
        gamma: discount ``γ`` in [0, 1].
        lam: GAE parameter ``λ`` in [0, 1]; ``λ = 0`` gives one-step TD errors, ``λ = 1`` Monte-Carlo
            returns minus ``V``.

    Returns:
        ``(advantages, returns)``, both float32 with the shape of ``rewards``; ``returns = advantages + values``.

    Raises:
        ValueError: shapes differ, or ``gamma``/``lam`` outside [0, 1].
    """
    r = np.asarray(rewards, dtype=np.float32)
    v = np.asarray(values, dtype=np.float32)
    nv = np.asarray(next_values, dtype=np.float32)
    term = np.asarray(terminated, dtype=bool)
    trunc = np.zeros_like(term) if truncated is None else np.asarray(truncated, dtype=bool)
    for name, x in (("values", v), ("next_values", nv), ("terminated", term), ("truncated", trunc)):
        if x.shape != r.shape:
            raise ValueError(f"{name} has shape {x.shape} but rewards has shape {r.shape}: pass one entry per step")
    if r.ndim not in (1, 2):
        raise ValueError(f"rewards must be (T,) or (T, N), got shape {r.shape}")
    if not (0.0 <= gamma <= 1.0) or not (0.0 <= lam <= 1.0):
        raise ValueError(f"gamma and lam must lie in [0, 1], got gamma={gamma}, lam={lam}")
    delta = r + gamma * (~term) * nv - v                        # δ_t
    carry = gamma * lam * ~(term | trunc)                       # γλ(1 - done_t)
    adv = np.empty_like(r)
    last = np.zeros(r.shape[1:], dtype=np.float32)
    for t in range(r.shape[0] - 1, -1, -1):
        last = delta[t] + carry[t] * last                       # Â_t = δ_t + γλ(1-done_t) Â_{t+1}
        adv[t] = last
    return adv, adv + v
