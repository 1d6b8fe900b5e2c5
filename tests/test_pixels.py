"""genrl_lib.pixels (Pong preprocessing, frame difference, the up/down policy and loss) and the Catch env."""

import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import genrl_lib  # noqa: F401 - registers the book's envs
from genrl_lib import pixels
from genrl_lib.envs import CATCH_ID, CatchEnv
from genrl_lib.pixels import FrameDifference, PongPolicy, frame_difference, pong_returns, preprocess_pong, up_down_loss


def synthetic_frame():
    """A Pong-like frame: brown background (red 144), a paddle (red 92) and the ball (red 236) on the field."""
    f = np.zeros((210, 160, 3), dtype=np.uint8)
    f[:, :, 0] = 144
    f[100:116, 140:144, 0] = 92      # our paddle, right
    f[80:82, 60:62, 0] = 236         # the ball
    f[10:20, 10:20, 0] = 236         # the score: cropped away
    return f


def test_preprocess_shape_dtype_and_binary():
    x = preprocess_pong(synthetic_frame())
    assert x.shape == (80, 80) and x.dtype == np.float32
    assert set(np.unique(x)) == {0.0, 1.0}
    assert x[23, 30] == 1.0                       # the ball: frame row 81 = 35 + 2·23, column 60 = 2·30
    assert x[:, 70:72].sum() == 16                # the paddle: 16 rows x 4 columns -> 8 x 2
    assert x.sum() == 1 + 8 * 2                   # background erased, score cropped


@pytest.mark.parametrize("bad", [np.zeros((80, 80)), np.zeros((210, 160)), np.zeros((160, 210, 3))])
def test_preprocess_refuses_wrong_shapes(bad):
    with pytest.raises(ValueError, match="210, 160, 3"):
        preprocess_pong(bad)


def test_preprocess_refuses_non_numeric():
    with pytest.raises(TypeError, match="frame"):
        preprocess_pong(np.full((210, 160, 3), "a"))


def test_frame_difference():
    a, b = np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32)
    a[1, 1], b[2, 1] = 1, 1
    d = frame_difference(b, a)
    assert d[2, 1] == 1 and d[1, 1] == -1 and np.abs(d).sum() == 2
    assert not frame_difference(b).any()
    with pytest.raises(ValueError, match="same shape"):
        frame_difference(np.zeros((3, 3)), np.zeros((4, 4)))


def test_frame_difference_wrapper_on_catch():
    env = FrameDifference(gym.make(CATCH_ID))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (10, 5) and not obs.any()
    assert env.observation_space.contains(obs)
    obs, *_ = env.step(1)                          # paddle stays: only the ball moved, one row down
    assert obs.sum() == 0 and obs.max() == 1 and obs.min() == -1
    with pytest.raises(TypeError, match="Box"):
        FrameDifference(gym.make("Taxi-v4"))


def test_policy_shapes_and_probabilities():
    p = PongPolicy(hidden=200, seed=0)
    out = p(torch.zeros(3, 80, 80) + 1.0)
    assert out.shape == (3,) and torch.all((out > 0) & (out < 1))
    assert torch.equal(PongPolicy(seed=0).w1, p.w1)            # seeded
    assert p(torch.zeros(1, 6400)).item() == pytest.approx(0.5)   # no biases: a blank frame is 50/50


def test_pong_returns_restart_at_points():
    np.testing.assert_allclose(pong_returns([0, 0, -1, 0, 1], 0.9), [-0.81, -0.9, -1.0, 0.9, 1.0], rtol=1e-6)
    with pytest.raises(ValueError, match="gamma"):
        pong_returns([1], 1.5)


def test_up_down_loss_is_cross_entropy_and_its_weighted_form():
    p = torch.tensor([0.8, 0.3])
    ce = up_down_loss(p, [1, 0])
    assert ce.item() == pytest.approx(-(np.log(0.8) + np.log(0.7)) / 2, rel=1e-6)
    pg = up_down_loss(p, [1, 0], weights=[2.0, -1.0])
    assert pg.item() == pytest.approx(-(2 * np.log(0.8) - np.log(0.7)) / 2, rel=1e-6)
    with pytest.raises(ValueError, match="went_up"):
        up_down_loss(p, [1, 0, 1])
    with pytest.raises(ValueError, match="weights"):
        up_down_loss(p, [1, 0], weights=[1.0])


def test_up_down_loss_gradient_direction():
    """A positive weight makes the action taken more likely after one step, a negative one less likely."""
    for w, sign in ((1.0, 1), (-1.0, -1)):
        net = PongPolicy(hidden=8, in_features=4, seed=0)
        x = torch.ones(1, 4)
        before = net(x).item()
        up_down_loss(net(x), [1], weights=[w]).backward()
        with torch.no_grad():
            for q in net.parameters():
                q -= 0.1 * q.grad
        assert sign * (net(x).item() - before) > 0


def test_ale_present_here():
    assert pixels.ale_missing() is None


def test_ale_missing_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ale_py", None)        # import ale_py now raises ImportError
    msg = pixels.ale_missing()
    assert "ale-py" in msg and "pip install" in msg
    with pytest.raises(ImportError, match="ale-py"):
        pixels.require_ale()


def test_catch_registered_and_checked():
    env = gym.make(CATCH_ID, render_mode="rgb_array")
    assert isinstance(env.unwrapped, CatchEnv)
    check_env(env.unwrapped)
    env.reset(seed=0)
    assert env.render().shape == (240, 120, 3)


def test_catch_dynamics():
    env = CatchEnv(rows=5, cols=3)
    obs, _ = env.reset(seed=0)
    col = env.ball[1]
    assert obs[0, col] == 1 and obs[4, 1] == 1 and obs.sum() == 2
    total, steps, done = 0.0, 0, False
    while not done:                                # steer under the ball: always caught
        action = 1 + int(np.sign(col - env.paddle))
        _, r, done, trunc, _ = env.step(action)
        total, steps = total + r, steps + 1
    assert (total, steps) == (1.0, 4)
    env.reset(seed=0)
    env.ball = (0, 0)
    for _ in range(4):
        _, r, done, _, _ = env.step(2)             # run away to the right: missed
    assert done and r == -1.0 and env.paddle == 2
    with pytest.raises(ValueError, match="action"):
        env.step(3)


@pytest.mark.parametrize("kwargs", [dict(rows=2), dict(cols=1), dict(rows=3.5), dict(render_mode="human")])
def test_catch_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        CatchEnv(**kwargs)
