"""The book's gymnasium environments and a ``make`` with clear errors.

``JumpChain-v0`` is the 10-cell chain of the UPV course notes "Chapter 5. Deep Reinforcement Learning and Generative
Models" (Redes Neuronales, UPV 2022/2023, pages 5.17-5.20)::

    cell     0      1  2  3    4  5  6    7  8  9
    reward   start  1  1  -10  1  1  -10  1  1  +10
                          trap        trap        goal

Dynamics chosen for the book (the slides show only the picture and the Q-tables):

* The agent starts in cell 0. Two actions: ``0 = R`` (move one cell right) and
  ``1 = JR`` (jump two cells right). Moves are deterministic.
* Entering a cell pays that cell's reward. Cells 3 and 6 are traps and cell 9 is the goal:
  entering any of them ends the episode (``terminated=True``).
* Jumping from cell 8 overshoots the goal: the agent falls off the end of the chain, is paid
  ``fall_reward`` (-10) and the episode ends; the observation stays 8.
* Every action moves right, so an episode lasts at most 9 steps; no time limit is needed.

``step_reward`` (default 1) is the reward of the ordinary cells 1, 2, 4, 5, 7, 8. With
``step_reward=0`` only traps and goal pay, which is the reward the slide's Q-table reflects.
Like the toy-text envs, ``env.unwrapped.P[s][a]`` is the list of ``(prob, next_state, reward,
terminated)`` tuples, and ``initial_state_distrib`` is the start distribution.

``Catch-v0`` is Pong's mechanics in miniature, a pixel game a CPU can learn in a minute (the "catch" task of
Mnih et al.'s recurrent attention paper and of DeepMind's bsuite): a ball falls one row per step down a
``rows × cols`` grid from a random column of the top row; a paddle of one cell in the bottom row moves left,
stays or moves right; when the ball reaches the bottom row the episode ends with +1 (caught) or -1 (missed).
The observation is the picture itself, a binary ``(rows, cols)`` image (ball and paddle 1, background 0),
which is what :func:`genrl_lib.pixels.preprocess_pong` makes of a Pong frame.
"""

from __future__ import annotations

import difflib

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["JumpChainEnv", "CatchEnv", "make", "JUMP_CHAIN_ID", "CATCH_ID", "spaces_of"]

JUMP_CHAIN_ID = "genrl_lib/JumpChain-v0"
CATCH_ID = "genrl_lib/Catch-v0"
ACTION_NAMES = ("R", "JR")


class JumpChainEnv(gym.Env):
    """The UPV course notes' "right / jump right" chain as a tabular gymnasium environment.

    Observation: ``Discrete(10)``, the current cell. Action: ``Discrete(2)``, 0 = R, 1 = JR.
    Render modes: ``"ansi"`` (a text line) and ``"rgb_array"`` (an ``(H, W, 3)`` uint8 image).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    N_CELLS = 10
    TRAPS = (3, 6)
    GOAL = 9

    def __init__(self, render_mode: str | None = None, step_reward: float = 1.0,
                 trap_reward: float = -10.0, goal_reward: float = 10.0, fall_reward: float = -10.0):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.observation_space = spaces.Discrete(self.N_CELLS)
        self.action_space = spaces.Discrete(2)
        self.cell_rewards = np.full(self.N_CELLS, float(step_reward))
        self.cell_rewards[0] = 0.0  # the start cell is never entered
        self.cell_rewards[list(self.TRAPS)] = trap_reward
        self.cell_rewards[self.GOAL] = goal_reward
        self.fall_reward = float(fall_reward)
        self.terminal_states = (*self.TRAPS, self.GOAL)
        self.initial_state_distrib = np.zeros(self.N_CELLS)
        self.initial_state_distrib[0] = 1.0
        self.P = self._build_model()
        self.s = 0
        self.lastaction: int | None = None

    def _build_model(self) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:
        P: dict[int, dict[int, list]] = {}
        for s in range(self.N_CELLS):
            P[s] = {}
            for a, step in ((0, 1), (1, 2)):
                if s in self.terminal_states:
                    P[s][a] = [(1.0, s, 0.0, True)]
                elif s + step >= self.N_CELLS:  # jumping from 8 overshoots the goal
                    P[s][a] = [(1.0, s, self.fall_reward, True)]
                else:
                    s2 = s + step
                    P[s][a] = [(1.0, s2, float(self.cell_rewards[s2]), s2 in self.terminal_states)]
        return P

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.s = int(self.np_random.choice(self.N_CELLS, p=self.initial_state_distrib))
        self.lastaction = None
        return self.s, {"prob": 1.0}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0 (R) or 1 (JR), got {action!r}")
        prob, s2, reward, terminated = self.P[self.s][int(action)][0]
        self.s, self.lastaction = s2, int(action)
        return s2, reward, terminated, False, {"prob": prob}

    def render(self):
        if self.render_mode == "ansi":
            return self._render_text()
        if self.render_mode == "rgb_array":
            return self._render_rgb()
        return None

    def _render_text(self) -> str:
        cells = []
        for c in range(self.N_CELLS):
            mark = "G" if c == self.GOAL else "X" if c in self.TRAPS else "."
            cells.append(f"[{mark}]" if c == self.s else f" {mark} ")
        last = "" if self.lastaction is None else f"  ({ACTION_NAMES[self.lastaction]})"
        return "".join(cells) + last + "\n"

    def _render_rgb(self, cell: int = 48) -> np.ndarray:
        img = np.full((cell, cell * self.N_CELLS, 3), 235, dtype=np.uint8)
        for c in range(self.N_CELLS):
            x0 = c * cell
            colour = (90, 170, 90) if c == self.GOAL else (200, 70, 70) if c in self.TRAPS else (235, 235, 235)
            img[2:-2, x0 + 2:x0 + cell - 2] = colour
            if c == self.s:  # the agent: a dark square in the middle of its cell
                q = cell // 4
                img[q:cell - q, x0 + q:x0 + cell - q] = (40, 60, 160)
        return img


# gymnasium's EnvCreator protocol asks for a callable taking **kwargs; a class is a documented entry point
gym.register(id=JUMP_CHAIN_ID, entry_point=JumpChainEnv)  # type: ignore[arg-type]


class CatchEnv(gym.Env):
    """Catch a falling ball with a paddle, from pixels (see the module docstring).

    Observation: ``Box(0, 1, (rows, cols), float32)``, a binary image: the ball's cell and the paddle's cell are 1.
    Action: ``Discrete(3)``, 0 = left, 1 = stay, 2 = right (the paddle stops at the walls).
    Reward: 0 while the ball falls; +1 if the paddle is under the ball when it reaches the bottom row, else -1.
    An episode lasts ``rows - 1`` steps. The ball starts in a random column of the top row, the paddle in
    the middle of the bottom row. Render modes: ``"rgb_array"`` (an ``(H, W, 3)`` uint8 image, Pong's colours).

    Args:
        rows, cols: the grid (at least 3 rows, 2 columns); with ``cols <= rows`` every ball can be caught.
        render_mode: ``None`` or ``"rgb_array"``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}
    ACTION_NAMES = ("left", "stay", "right")

    def __init__(self, rows: int = 10, cols: int = 5, render_mode: str | None = None):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        for name, value, low in (("rows", rows, 3), ("cols", cols, 2)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        self.rows, self.cols, self.render_mode = int(rows), int(cols), render_mode
        self.observation_space = spaces.Box(0.0, 1.0, (self.rows, self.cols), dtype=np.float32)
        self.action_space = spaces.Discrete(3)
        self.ball = (0, 0)
        self.paddle = self.cols // 2

    def _image(self) -> np.ndarray:
        img = np.zeros((self.rows, self.cols), dtype=np.float32)
        img[self.ball] = 1.0
        img[self.rows - 1, self.paddle] = 1.0
        return img

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.ball = (0, int(self.np_random.integers(self.cols)))
        self.paddle = self.cols // 2
        return self._image(), {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0 (left), 1 (stay) or 2 (right), got {action!r}")
        self.paddle = int(np.clip(self.paddle + int(action) - 1, 0, self.cols - 1))
        self.ball = (self.ball[0] + 1, self.ball[1])
        terminated = self.ball[0] == self.rows - 1
        reward = (1.0 if self.ball[1] == self.paddle else -1.0) if terminated else 0.0
        return self._image(), reward, terminated, False, {}

    def render(self, cell: int = 24):
        if self.render_mode != "rgb_array":
            return None
        img = np.empty((self.rows * cell, self.cols * cell, 3), dtype=np.uint8)
        img[:] = (144, 72, 17)                                   # Pong's brown background
        r, c = self.ball
        img[r * cell + 4:(r + 1) * cell - 4, c * cell + 4:(c + 1) * cell - 4] = (236, 236, 236)   # the ball
        y = (self.rows - 1) * cell
        img[y + cell // 3:y + cell, self.paddle * cell + 1:(self.paddle + 1) * cell - 1] = (92, 186, 92)  # the paddle
        return img


gym.register(id=CATCH_ID, entry_point=CatchEnv, max_episode_steps=1000)  # type: ignore[arg-type]  # as JumpChain above


def make(env_id: str, **kwargs) -> gym.Env:
    """``gymnasium.make`` with an error that names the argument and suggests registered ids.

    Args:
        env_id: a registered id, e.g. ``"Taxi-v4"``, ``"CartPole-v1"`` or ``"genrl_lib/JumpChain-v0"``.
        **kwargs: passed to ``gymnasium.make`` (e.g. ``render_mode="rgb_array"``).

    Raises:
        TypeError: ``env_id`` is not a string.
        ValueError: ``env_id`` is not registered (the message lists close matches).
    """
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a string such as 'Taxi-v4', got {type(env_id).__name__}")
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.5)
        hint = f" Did you mean {close}?" if close else " See gymnasium.pprint_registry() for the registered ids."
        raise ValueError(f"env_id {env_id!r} is not a registered gymnasium environment.{hint}")
    return gym.make(env_id, **kwargs)


def spaces_of(env) -> tuple[gym.Space, gym.Space]:
    """``(observation_space, action_space)`` of an env id, a ``gym.Env`` or a ``VectorEnv`` (single-env spaces)."""
    if isinstance(env, str):
        e = make(env)
        spaces = e.observation_space, e.action_space
        e.close()
        return spaces
    if isinstance(env, gym.vector.VectorEnv):
        return env.single_observation_space, env.single_action_space
    if isinstance(env, gym.Env):
        return env.observation_space, env.action_space
    raise TypeError(f"env must be an env id, a gymnasium Env or a VectorEnv, got {type(env).__name__}")
