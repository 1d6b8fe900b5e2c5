"""Unit tests for genrl_lib.decision_diffuser: windows, returns, bad inputs, predict, save/load (tiny budgets)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from genrl_lib.decision_diffuser import (
    DDConfig,
    DecisionDiffuser,
    check_target,
    from_plan_coordinates,
    make_windows,
    to_plan_coordinates,
    window_returns,
)
from genrl_lib.offline import make_mixed_dataset

torch.set_num_threads(1)
TINY = dict(inverse_span=1, horizon=4, n_steps=5, net_arch=(32, 32), inv_net_arch=(16,), steps=30, batch_size=32, return_window=10)


@pytest.fixture(scope="module")
def data():
    return make_mixed_dataset(1, 1, 1, seed=0, n_reference=2).data


@pytest.fixture(scope="module")
def model(data):
    dd = DecisionDiffuser("Pendulum-v1", DDConfig(**TINY))
    dd.learn(data, progress_bar=False)
    return dd


def test_window_returns_are_means_of_the_next_rewards(data):
    y = window_returns(data, 10)
    r = data.rewards[data.episode_ids == 0]
    assert y[0] == pytest.approx(r[:10].mean()) and y[199] == pytest.approx(r[199])
    assert len(y) == len(data)


def test_make_windows_shapes_and_plan_coordinates(data):
    X, y, (s, sn, a) = make_windows(data, 4, 10)
    assert X.shape == (3 * 198, 12) and y.shape == (3 * 198,)     # 201 states -> 198 windows of 4
    assert s.shape == (600, 3) and sn.shape == (600, 3) and a.shape == (600, 1)
    states = data.observations[:4]
    assert np.allclose(from_plan_coordinates(to_plan_coordinates(states)), states, atol=1e-5)
    assert np.allclose(X[0].reshape(4, 3), to_plan_coordinates(states), atol=1e-6)
    with pytest.raises(ValueError, match="horizon=300 is longer"):
        make_windows(data, 300, 10)


def test_predict_plan_shapes_and_seeded(model):
    obs, _ = gym.make("Pendulum-v1").reset(seed=0)
    a, state = model.predict(obs)
    assert a.shape == (1,) and state is None and -2 <= a[0] <= 2
    b, _ = model.predict(np.stack([obs, obs]), target=0.2, guidance=0.0)
    assert b.shape == (2, 1)
    p = model.plan(obs, seed=3)
    assert p.shape == (1, 4, 3) and np.allclose(p[0, 0], obs, atol=1e-5)
    assert np.array_equal(p, model.plan(obs, seed=3))


def test_inverse_span_pairs(data):
    _, _, (s, sn, a) = make_windows(data, 8, None, span=3)
    assert len(s) == 3 * 198 and np.allclose(sn[0], data.observations[3]) and np.allclose(a[0], data.actions[0])


def test_inverse_dynamics_direction(data):
    """A positive torque raises the angular velocity: trained on data, f_φ(s, s') must map a larger
    θ̇' to a larger action (a flipped sign fails)."""
    dd = DecisionDiffuser("Pendulum-v1", DDConfig(**{**TINY, "steps": 400, "inv_net_arch": (64, 64)}))
    dd.learn(data, progress_bar=False)
    s = torch.tensor([[1.0, 0.0, 0.0]])
    lo = dd.inverse_dynamics(s, torch.tensor([[1.0, 0.0, -0.1]]))
    hi = dd.inverse_dynamics(s, torch.tensor([[1.0, 0.0, 0.1]]))
    assert hi.item() > lo.item() + 0.5


def test_save_load_and_wrong_env(model, tmp_path):
    obs = np.array([0.5, 0.5, 0.1], np.float32)
    model.save(tmp_path / "dd.pt")
    back = DecisionDiffuser.load(tmp_path / "dd.pt", "Pendulum-v1")
    assert np.array_equal(model.plan(obs, seed=1), back.plan(obs, seed=1))
    with pytest.raises(ValueError, match="matching env"):
        DecisionDiffuser.load(tmp_path / "dd.pt", "MountainCarContinuous-v0")


def test_bad_inputs(model, data):
    obs = np.zeros(3, np.float32)
    with pytest.raises(TypeError, match="target must be a real number"):
        model.predict(obs, target="high")
    with pytest.raises(ValueError, match="guidance"):
        model.predict(obs, guidance=-1.0)
    with pytest.raises(ValueError, match="observation"):
        model.predict(np.zeros(4))
    with pytest.raises(ValueError, match="horizon"):
        DDConfig(horizon=1)
    with pytest.raises(ValueError, match="guidance"):
        DDConfig(guidance=-0.1)
    with pytest.raises(ValueError, match="inverse_span"):
        DDConfig(horizon=4, inverse_span=4)
    with pytest.raises(TypeError, match="target"):
        check_target(None)
    with pytest.raises(ValueError, match="observation_space"):
        DecisionDiffuser("MountainCarContinuous-v0", DDConfig(**TINY)).learn(data, progress_bar=False)
    with pytest.raises(ValueError, match="longer than every episode"):
        DecisionDiffuser("Pendulum-v1", DDConfig(**{**TINY, "horizon": 500})).learn(data, progress_bar=False)
    with pytest.raises(TypeError, match="Demonstrations"):
        DecisionDiffuser("Pendulum-v1", DDConfig(**TINY)).learn({"observations": []}, progress_bar=False)
    with pytest.raises(TypeError, match="Box"):
        DecisionDiffuser("CartPole-v1")
    with pytest.raises(RuntimeError, match="learn"):
        DecisionDiffuser("Pendulum-v1", DDConfig(**TINY)).predict(obs)
