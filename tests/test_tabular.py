import gymnasium as gym
import numpy as np
import pytest

from genrl_lib.tabular import (check_gamma, expected_return, greedy_from_q, policy_evaluation, tabular_model,
                               value_iteration)


@pytest.fixture(scope="module")
def taxi():
    return gym.make("Taxi-v4")


def test_jump_chain_exact_values():
    V, Q = value_iteration(gym.make("genrl_lib/JumpChain-v0"))
    assert np.allclose(V, [16, 15, 14, 0, 13, 12, 0, 11, 10, 0])
    assert Q.shape == (10, 2) and np.isclose(Q[0, 1], 15) and np.isclose(Q[8, 1], -10)


def test_taxi_optimum_is_7_930(taxi):
    _, Q = value_iteration(taxi)
    pi = greedy_from_q(Q)
    assert pi.shape == (500,) and pi.dtype == np.int64
    assert expected_return(taxi, pi) == pytest.approx(7.930, abs=1e-6)
    assert expected_return(taxi, pi, horizon=None) == pytest.approx(7.930, abs=1e-6)


def test_policy_evaluation_agrees_with_bellman_and_simulation(taxi):
    # A looping policy never delivers: with the 200-step limit it is worth exactly -200.
    assert expected_return(taxi, np.zeros(500, dtype=int)) == pytest.approx(-200.0)
    with pytest.raises(ValueError, match="never terminates"):
        policy_evaluation(taxi, np.zeros(500, dtype=int), horizon=None)
    # Stochastic policy: V must satisfy the Bellman expectation equation with discount 0.9.
    m = tabular_model(taxi)
    pi = np.full((500, 6), 1 / 6)
    V = policy_evaluation(taxi, pi, gamma=0.9, horizon=None)
    assert np.allclose(V, (pi * (m.R + 0.9 * m.T @ V)).sum(1))


def test_frozen_lake_time_limit_matters():
    lake = gym.make("FrozenLake-v1")
    _, Q = value_iteration(lake)
    pi = greedy_from_q(Q)
    assert 0.70 < expected_return(lake, pi) < expected_return(lake, pi, horizon=None) < 0.85


def test_non_tabular_env_raises_type_error():
    with pytest.raises(TypeError, match="no tabular model"):
        value_iteration(gym.make("CartPole-v1"))
    with pytest.raises(TypeError, match="gymnasium.Env"):
        tabular_model("Taxi-v4")


def test_bad_arguments(taxi):
    with pytest.raises(ValueError, match="gamma must be in"):
        check_gamma(1.5)
    with pytest.raises(TypeError, match="gamma"):
        check_gamma("0.9")
    with pytest.raises(ValueError, match="policy must have shape"):
        policy_evaluation(taxi, np.zeros(10, dtype=int))
    with pytest.raises(ValueError, match="integer actions"):
        policy_evaluation(taxi, np.full(500, 7))
    with pytest.raises(ValueError, match="sum to 1"):
        policy_evaluation(taxi, np.ones((500, 6)))
    with pytest.raises(ValueError, match="horizon"):
        policy_evaluation(taxi, np.zeros(500, dtype=int), horizon=0)
    with pytest.raises(ValueError, match="tol"):
        value_iteration(taxi, tol=0)
    with pytest.raises(RuntimeError, match="did not converge"):
        value_iteration(taxi, max_iter=2)
    with pytest.raises(ValueError, match="NaN"):
        greedy_from_q(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="shape"):
        greedy_from_q(np.zeros(3))
