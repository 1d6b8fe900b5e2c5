"""Policy gradients from pixels: Karpathy's Pong preprocessing, the frame difference and the 2-layer policy.

Following Karpathy's "Deep Reinforcement Learning: Pong from Pixels" (2016):

* :func:`preprocess_pong`: a ``(210, 160, 3)`` Atari frame -> ``(80, 80)`` float32 in {0, 1}: crop the score
  and the borders (rows 35..194), keep every second pixel of the red channel, erase the two background
  colours (144, 109), set everything else (paddles, ball) to 1.
* :func:`frame_difference` / :class:`FrameDifference`: the network sees ``x_t − x_{t−1}``, which is zero
  except where something moved, so one input carries where the ball is *and* where it is going.
* :class:`PongPolicy`: 6400 inputs -> 200 ReLU units -> one output, the probability of moving up.
* :func:`pong_returns`: discounted returns that restart at every point (a reward ≠ 0 ends a rally).
* :func:`up_down_loss`: ``L = −(1/T) Σ_t w_t log p(a_t|x_t)``; with ``w_t = 1`` it is the supervised
  cross-entropy ``L_CE``, with ``w_t = G_t`` the policy-gradient loss ``L_PG``.

A CPU cannot learn Pong in a chapter's budget; ``genrl_lib/Catch-v0`` (:class:`genrl_lib.envs.CatchEnv`) is the
pixel game it can learn: :func:`make_catch` flattens its image for REINFORCE, with :data:`CATCH_REINFORCE`'s
settings (the chapter's and ``benchmarks/pixels_catch.py``'s).

Pong itself comes from ale-py (the optional extra ``genrl_lib[atari]``): :func:`ale_missing` says what to install
when it is absent, :func:`make_pong` makes ``ALE/Pong-v5``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from genrl_lib.envs import CATCH_ID

__all__ = ["PONG_SHAPE", "PONG_UP", "PONG_DOWN", "preprocess_pong", "frame_difference", "FrameDifference",
           "PongPolicy", "pong_returns", "up_down_loss", "ale_missing", "require_ale", "make_pong", "make_catch",
           "CATCH_REINFORCE"]

PONG_SHAPE = (210, 160, 3)
PONG_UP, PONG_DOWN = 2, 3          # ALE's RIGHT and LEFT move Pong's paddle up and down
_BACKGROUND = (144, 109)           # the red channel of Pong's two background colours
# REINFORCE on Catch from pixels: Karpathy's 200 hidden units; raw returns (normalize=False): with one reward at the
# end of an episode, standardizing the returns within the episode would punish the early actions of every catch.
CATCH_REINFORCE = {"net_arch": (200,), "normalize": False, "learning_rate": 2e-3, "gamma": 0.99}
ALE_HINT = "pip install 'ale-py==0.12.1' (or the book's extra: pip install 'genrl_lib[atari]')"


def preprocess_pong(frame) -> np.ndarray:
    """Karpathy's preprocessing of one Pong frame.

    Args:
        frame: ``(210, 160, 3)`` uint8 RGB frame of ``ALE/Pong-v5``.

    Returns:
        ``(80, 80)`` float32 array, 1 where a paddle or the ball is, 0 on the background.

    Raises:
        TypeError: ``frame`` is not array-like.  ValueError: its shape is not ``(210, 160, 3)``.
    """
    try:
        f = np.asarray(frame)
    except Exception as err:   # anything numpy refuses
        raise TypeError(f"frame must be an array of shape {PONG_SHAPE}, got {type(frame).__name__}") from err
    if f.dtype == object or f.dtype.kind not in "uif":
        raise TypeError(f"frame must be a numeric array of shape {PONG_SHAPE}, got dtype {f.dtype}")
    if f.shape != PONG_SHAPE:
        raise ValueError(f"frame must have shape {PONG_SHAPE} (an ALE/Pong-v5 observation), got {f.shape}")
    x = f[35:195:2, ::2, 0]                      # crop to 160 x 160, downsample by 2, red channel: (80, 80)
    return (~np.isin(x, _BACKGROUND)).astype(np.float32)   # background 0, paddles and ball 1


def frame_difference(current, previous=None) -> np.ndarray:
    """``current − previous`` of two preprocessed frames of the same shape; zeros when ``previous`` is None.

    Raises:
        ValueError: the shapes differ.
    """
    cur = np.asarray(current, dtype=np.float32)
    if previous is None:
        return np.zeros_like(cur)
    prev = np.asarray(previous, dtype=np.float32)
    if prev.shape != cur.shape:
        raise ValueError(f"current and previous frames must have the same shape, got {cur.shape} and {prev.shape}")
    return cur - prev


class FrameDifference(gym.Wrapper):
    """Observations ``x_t − x_{t−1}`` of an env with ``Box`` observations (zeros after ``reset``), values in [−1, 1]
    when the wrapped observations lie in [0, 1] (e.g. after :func:`preprocess_pong`)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box):
            raise TypeError(f"FrameDifference needs Box observations, got {type(space).__name__}")
        span = float(np.max(space.high) - np.min(space.low))
        self.observation_space = gym.spaces.Box(-span, span, space.shape, dtype=np.float32)
        self._previous: np.ndarray | None = None

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._previous = np.asarray(obs, dtype=np.float32)
        return frame_difference(self._previous), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        current = np.asarray(obs, dtype=np.float32)
        diff = frame_difference(current, self._previous)
        self._previous = current
        return diff, reward, terminated, truncated, info


class PongPolicy(nn.Module):
    """Karpathy's policy network: ``(B, 80, 80)`` or ``(B, 6400)`` frames -> ``(B,)`` probabilities of "up".

    ``h = ReLU(W1 x)``, ``p(up) = σ(w2 · h)``, with ``hidden`` units (200 in the post) and no biases, as there.
    """

    def __init__(self, hidden: int = 200, in_features: int = 80 * 80, seed: int = 0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.w1 = nn.Parameter(torch.randn(hidden, in_features, generator=gen) / in_features ** 0.5)   # "Xavier"
        self.w2 = nn.Parameter(torch.randn(hidden, generator=gen) / hidden ** 0.5)
        self.in_features = in_features

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        """The log-odds of "up", ``(B,)``."""
        x = torch.as_tensor(x, dtype=torch.float32).reshape(-1, self.in_features)
        return torch.relu(x @ self.w1.T) @ self.w2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logit(x))


def pong_returns(rewards, gamma: float = 0.99) -> np.ndarray:
    """Karpathy's ``discount_rewards``: ``G_t = r_t + γ G_{t+1}``, restarting at every nonzero reward (a point
    ends a rally in Pong, so later points do not credit earlier actions).

    Args:
        rewards: ``(T,)`` rewards.  gamma: discount in [0, 1].

    Returns:
        ``(T,)`` float32 returns.
    """
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
    r = np.asarray(rewards, dtype=np.float64).reshape(-1)
    out, g = np.empty(len(r)), 0.0
    for t in range(len(r) - 1, -1, -1):
        if r[t] != 0:
            g = 0.0                      # a new rally starts here (reading backwards)
        g = r[t] + gamma * g
        out[t] = g
    return out.astype(np.float32)


def up_down_loss(p_up: torch.Tensor, went_up, weights=None) -> torch.Tensor:
    r"""The return-weighted cross-entropy of a binary (up/down) policy:

        L = −(1/T) Σ_t w_t log p(a_t | x_t),   p(up|x) = p_up,  p(down|x) = 1 − p_up.

    With ``weights=None`` (all ``w_t = 1``) it is the supervised loss ``L_CE`` with the taken actions as labels;
    with ``w_t = G_t`` it is ``L_PG``, whose gradient is the policy gradient.

    Args:
        p_up: ``(T,)`` probabilities of "up" (the output of :class:`PongPolicy`).
        went_up: ``(T,)`` bools or 0/1, the actions taken.  weights: ``(T,)`` or None.

    Returns:
        the scalar loss.
    """
    y = torch.as_tensor(np.asarray(went_up), dtype=torch.float32).reshape(-1)
    if y.shape != p_up.shape:
        raise ValueError(f"went_up must have shape {tuple(p_up.shape)} like p_up, got {tuple(y.shape)}")
    logp = y * torch.log(p_up.clamp_min(1e-8)) + (1 - y) * torch.log((1 - p_up).clamp_min(1e-8))
    if weights is None:
        return -logp.mean()
    w = torch.as_tensor(np.asarray(weights), dtype=torch.float32).reshape(-1)
    if w.shape != y.shape:
        raise ValueError(f"weights must have shape {tuple(y.shape)}, got {tuple(w.shape)}")
    return -(w * logp).mean()


def ale_missing() -> str | None:
    """``None`` when ale-py (the Atari games) can be imported, else a one-line message that says what to install."""
    try:
        import ale_py  # noqa: F401 - the import is the check: it also catches a broken install
    except ImportError as err:
        return (f"This section needs the Atari emulator ale-py, which cannot be imported ({err}): {ALE_HINT}, "
                "then restart the kernel.")
    return None


def require_ale():
    """Import ale-py and register its games with gymnasium; raise ``ImportError`` naming the install otherwise."""
    message = ale_missing()
    if message:
        raise ImportError(message)
    import ale_py

    gym.register_envs(ale_py)
    return ale_py


def make_pong(**kwargs) -> gym.Env:
    """``gym.make("ALE/Pong-v5", **kwargs)`` after :func:`require_ale` (frameskip 4, sticky actions 0.25)."""
    require_ale()
    return gym.make("ALE/Pong-v5", **kwargs)


def make_catch(render_mode: str | None = None, **kwargs) -> gym.Env:
    """``genrl_lib/Catch-v0`` with its ``(rows, cols)`` image flattened to ``(rows * cols,)`` (``FlattenObservation``),
    the input of an MLP policy; ``render_mode="rgb_array"`` for animations; ``kwargs`` go to :class:`CatchEnv`."""
    return gym.wrappers.FlattenObservation(gym.make(CATCH_ID, render_mode=render_mode, **kwargs))
