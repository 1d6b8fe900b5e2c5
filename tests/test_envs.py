import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import genrl_lib
from genrl_lib.envs import JUMP_CHAIN_ID, JumpChainEnv


def test_registered_after_import():
    assert JUMP_CHAIN_ID in gym.registry
    env = gym.make(JUMP_CHAIN_ID)
    assert isinstance(env.unwrapped, JumpChainEnv)


@pytest.mark.parametrize("mode", [None, "ansi", "rgb_array"])
def test_check_env_passes(mode):
    check_env(gym.make(JUMP_CHAIN_ID, render_mode=mode).unwrapped, skip_render_check=mode is None)


def test_dynamics_match_documentation():
    env = JumpChainEnv()
    obs, _ = env.reset(seed=0)
    assert obs == 0
    assert env.step(0)[:3] == (1, 1.0, False)      # R: 0 -> 1, +1
    assert env.step(1)[:3] == (3, -10.0, True)     # JR: 1 -> 3, trap ends the episode
    env.reset(seed=0)
    env.s = 8
    assert env.step(1)[:3] == (8, -10.0, True)     # jumping from 8 overshoots: falls off, -10
    env.s = 7
    assert env.step(1)[:3] == (9, 10.0, True)      # 7 -> 9 goal


def test_episode_is_short_and_model_consistent_with_step():
    env = JumpChainEnv()
    rng = np.random.default_rng(0)
    for _ in range(50):
        s, _ = env.reset(seed=int(rng.integers(1000)))
        for t in range(20):  # noqa: B007 - t is read after the loop
            a = int(rng.integers(2))
            (prob, s2, r, done), = env.P[s][a]
            obs, reward, term, trunc, _ = env.step(a)
            assert (obs, reward, term) == (s2, r, done) and prob == 1.0 and not trunc
            s = obs
            if term:
                break
        assert t < 9


def test_render_text_and_rgb():
    env = JumpChainEnv(render_mode="ansi")
    env.reset(seed=0)
    assert env.render().startswith("[.]")
    img = JumpChainEnv(render_mode="rgb_array")
    img.reset(seed=0)
    frame = img.render()
    assert frame.dtype == np.uint8 and frame.shape == (48, 480, 3)


def test_bad_action_and_render_mode():
    env = JumpChainEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be 0"):
        env.step(2)
    with pytest.raises(ValueError, match="render_mode"):
        JumpChainEnv(render_mode="human")


def test_make_unknown_id_names_argument():
    with pytest.raises(ValueError, match="env_id 'Taxi-v9'.*Did you mean"):
        genrl_lib.make("Taxi-v9")
    with pytest.raises(TypeError, match="env_id"):
        genrl_lib.make(3)
    assert genrl_lib.make("Taxi-v4").observation_space.n == 500
