"""The one-step pieces of temporal-difference learning, as small pure NumPy functions.

The training loops (``genrl_lib.tabular``, ``genrl_lib.dqn``) compute these inside their loops, fused for speed;
here each piece stands alone, so a chapter's exercise can compare a student's version with the library's
(``genrl_lib.exercises``) and a test can compare them with the loops::

    Q(s, a) <- Q(s, a) + α (r + γ (1 − terminated) max_a' Q(s', a') − Q(s, a))      q_learning_update
    π(a | s) = ε / |A| + (1 − ε) [a = argmax_a' Q(s, a')]   (ties: lowest action)   epsilon_greedy_probs
    y = r + γ (1 − terminated) max_a' Q⁻(s', a')                                     dqn_target
    y = r + γ (1 − terminated) Q⁻(s', argmax_a' Q(s', a'))    (Double DQN)           dqn_target(next_q_online=...)
    L = mean_i huber(Q(s_i, a_i) − y_i),  huber(x) = x²/2 if |x| <= δ else δ (|x| − δ/2)   huber_loss
"""

from __future__ import annotations

import numpy as np

__all__ = ["q_learning_update", "epsilon_greedy_probs", "dqn_target", "huber_loss"]


def _finite(x, name: str, ndim: int | None = None) -> np.ndarray:
    """``x`` as a float64 array; refuses non-numbers, NaN/inf and the wrong number of dimensions by name."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {type(x).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (no NaN or inf), got {x!r}")
    return arr


def _unit(x, name: str) -> float:
    v = float(_finite(x, name, ndim=0))
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {v}")
    return v


def q_learning_update(q_table, state: int, action: int, reward: float, next_state: int, terminated: bool,
                      alpha: float, gamma: float) -> np.ndarray:
    """One Q-learning step on a table; returns a new table (``q_table`` is not modified).

    Args:
        q_table: ``(n_states, n_actions)`` action values.
        state, action: the pair that was tried.
        reward: the reward received.
        next_state: where it led.
        terminated: ``True`` if ``next_state`` ends the episode (then the target is ``reward`` alone;
            a time-limit truncation is *not* a termination).
        alpha: step size in ``(0, 1]``.
        gamma: discount in ``[0, 1]``.

    Returns:
        The ``(n_states, n_actions)`` table after ``Q(s, a) <- Q(s, a) + α (Y − Q(s, a))``,
        ``Y = r + γ max_a' Q(s', a')`` (``Y = r`` if terminated).

    Raises:
        ValueError / TypeError: a table that is not 2-D and finite, a state or action out of range, or
            ``alpha``/``gamma`` outside their ranges (the message names the argument).
    """
    q = _finite(q_table, "q_table", ndim=2).copy()
    n_s, n_a = q.shape
    for name, v, n in (("state", state, n_s), ("next_state", next_state, n_s), ("action", action, n_a)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < n:
            raise ValueError(f"{name} must be an integer in [0, {n}), got {v!r}")
    alpha = _unit(alpha, "alpha")
    if alpha == 0.0:
        raise ValueError("alpha must be in (0, 1], got 0: a zero step size learns nothing")
    gamma = _unit(gamma, "gamma")
    r = float(_finite(reward, "reward", ndim=0))
    target = r if terminated else r + gamma * q[next_state].max()
    q[state, action] += alpha * (target - q[state, action])
    return q


def epsilon_greedy_probs(q_values, epsilon: float) -> np.ndarray:
    """The action probabilities of ε-greedy in one state, as ``genrl_lib.tabular`` acts.

    With probability ε a uniformly random action (any of the ``n`` actions, the greedy one included), otherwise
    the greedy action; ties go to the lowest action, as ``np.argmax`` breaks them.

    Args:
        q_values: ``(n_actions,)`` action values of the state.
        epsilon: exploration rate in ``[0, 1]``.

    Returns:
        ``(n_actions,)`` probabilities summing to 1: ``ε/n`` each, plus ``1 − ε`` on the greedy action.
    """
    q = _finite(q_values, "q_values", ndim=1)
    if q.size == 0:
        raise ValueError("q_values must hold at least one action value, got an empty array")
    eps = _unit(epsilon, "epsilon")
    p = np.full(q.size, eps / q.size)
    p[int(np.argmax(q))] += 1.0 - eps
    return p


def dqn_target(rewards, next_q_target, terminated, gamma: float, next_q_online=None) -> np.ndarray:
    """DQN's regression targets for a minibatch, with a target network, optionally Double DQN's.

    Args:
        rewards: ``(B,)`` rewards.
        next_q_target: ``(B, n_actions)`` target-network values ``Q⁻(s', ·; θ⁻)`` of the next states.
        terminated: ``(B,)`` booleans (or 0/1): the next state ends the episode, so nothing is bootstrapped.
        gamma: discount in ``[0, 1]``.
        next_q_online: ``(B, n_actions)`` online-network values ``Q(s', ·; θ)``; when given, the target is Double
            DQN's: the online network picks ``a* = argmax_a Q(s', a; θ)``, the target network evaluates it.

    Returns:
        ``(B,)`` targets ``y = r + γ (1 − terminated) Q⁻(s', a*)`` (``a*`` the target network's own argmax
        without ``next_q_online``). ``genrl_lib.dqn.DQN`` computes the same (its ``n_steps=1`` case).
    """
    r = _finite(rewards, "rewards", ndim=1)
    qt = _finite(next_q_target, "next_q_target", ndim=2)
    done = np.asarray(terminated)
    if done.shape != r.shape or not (done.dtype == bool or np.isin(done, (0, 1)).all()):
        raise ValueError(f"terminated must be {r.shape[0]} booleans (one per reward), got {terminated!r}")
    if qt.shape[0] != r.shape[0]:
        raise ValueError(f"next_q_target must have one row per reward ({r.shape[0]}), got shape {qt.shape}")
    gamma = _unit(gamma, "gamma")
    if next_q_online is None:
        q_next = qt.max(axis=1)
    else:
        qo = _finite(next_q_online, "next_q_online", ndim=2)
        if qo.shape != qt.shape:
            raise ValueError(f"next_q_online must have next_q_target's shape {qt.shape}, got {qo.shape}")
        q_next = qt[np.arange(len(qt)), qo.argmax(axis=1)]
    return r + gamma * (1.0 - done.astype(float)) * q_next


def huber_loss(prediction, target, delta: float = 1.0) -> float:
    """Mean Huber (smooth L1) loss, as ``torch.nn.functional.smooth_l1_loss`` with ``beta=delta`` computes it.

    Args:
        prediction: ``(B,)`` values ``Q(s_i, a_i; θ)``.
        target: ``(B,)`` targets ``y_i`` (same shape).
        delta: where the loss turns from quadratic to linear (> 0).

    Returns:
        ``mean_i h(x_i)``, ``x = prediction − target``, ``h(x) = x²/(2δ)`` if ``|x| < δ`` else ``|x| − δ/2``
        (for ``δ = 1``: ``x²/2`` and ``|x| − 1/2``; its gradient is ``clip(x, −1, 1)``).
    """
    p, y = _finite(prediction, "prediction"), _finite(target, "target")
    if p.shape != y.shape:
        raise ValueError(f"prediction and target must have the same shape, got {p.shape} and {y.shape}")
    if p.size == 0:
        raise ValueError("prediction is empty: pass at least one value")
    d = float(_finite(delta, "delta", ndim=0))
    if d <= 0:
        raise ValueError(f"delta must be > 0, got {d}")
    x = np.abs(p - y)
    return float(np.where(x < d, 0.5 * x**2 / d, x - 0.5 * d).mean())
