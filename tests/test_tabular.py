import gymnasium as gym
import numpy as np
import pytest

from genrl_lib.tabular import (
    TabularSimulator,
    check_gamma,
    expected_return,
    greedy_from_q,
    policy_evaluation,
    return_std,
    tabular_model,
    termination_probability,
    value_iteration,
)


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


def test_return_std_taxi_is_the_spread_of_start_values(taxi):
    """Taxi is deterministic: under a deterministic policy the return's spread is that of V over μ0."""
    _, Q = value_iteration(taxi)
    pi = greedy_from_q(Q)
    V, mu0 = policy_evaluation(taxi, pi), tabular_model(taxi).mu0
    expected = np.sqrt(mu0 @ (V - mu0 @ V) ** 2)
    assert return_std(taxi, pi) == pytest.approx(expected, rel=1e-9) and 2.5 < expected < 2.7
    assert return_std(taxi, pi, horizon=None) == pytest.approx(expected, rel=1e-9)
    assert return_std(taxi, np.zeros(500, dtype=int)) == pytest.approx(0.0, abs=1e-9)   # always exactly -200


def test_return_std_matches_simulation_on_slippery_lake():
    """A stochastic env and policy, discounted: the exact std agrees with 20,000 simulated episodes."""
    lake = gym.make("FrozenLake-v1")
    _, Q = value_iteration(lake)
    pi = np.full((16, 4), 0.25 / 4)
    pi[np.arange(16), greedy_from_q(Q)] += 0.75  # mostly the optimal action, some of everything
    gamma = 0.95
    exact = return_std(lake, pi, gamma=gamma)
    rng = np.random.default_rng(0)
    sim = TabularSimulator(lake)
    sim.seed(0)
    actions = rng.random((20_000, 100))           # inverse-CDF draws of π's actions, one row per episode
    cum = np.cumsum(pi, axis=1)
    returns = []
    for u in actions:
        s, g, disc = sim.reset(), 0.0, 1.0
        for t in range(100):                      # FrozenLake-v1's time limit (sim stops there too)
            s, r, done, truncated = sim.step(int(np.searchsorted(cum[s], u[t], side="right")))
            g += disc * r
            disc *= gamma
            if done or truncated:
                break
        returns.append(g)
    assert 0.05 < exact and np.std(returns) == pytest.approx(exact, rel=0.03)
    assert np.mean(returns) == pytest.approx(expected_return(lake, pi, gamma=gamma), abs=0.01)
    # the infinite horizon is the limit of long horizons
    assert return_std(lake, pi, gamma=gamma, horizon=None) == pytest.approx(
        return_std(lake, pi, gamma=gamma, horizon=2000), rel=1e-6)
    with pytest.raises(ValueError, match="horizon must be"):
        return_std(lake, pi, horizon=0)


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
    with pytest.raises(ValueError, match="gamma must be a finite number in"):
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


def test_termination_probability_taxi_and_lake():
    """Taxi's optimal taxi delivers from every state; one that only drives south never does; on the slippery
    lake the exact probability agrees with simulated episodes."""
    taxi = gym.make("Taxi-v4")
    _, Q = value_iteration(taxi)
    mu0 = tabular_model(taxi).mu0
    p_opt = termination_probability(taxi, greedy_from_q(Q))
    assert p_opt.shape == (500,) and np.all(p_opt[mu0 > 0] == 1.0)
    assert np.all(termination_probability(taxi, np.zeros(500, dtype=int)) == 0.0)
    with pytest.raises(ValueError, match="horizon"):
        termination_probability(taxi, greedy_from_q(Q), horizon=0)
    lake = gym.make("FrozenLake-v1")
    pi = np.full((16, 4), 0.25)
    p = termination_probability(lake, pi, horizon=20)[0]        # terminal: the goal or a hole, within 20 steps
    assert 0.0 < p < 1.0
    assert termination_probability(lake, pi, horizon=None)[0] == pytest.approx(1.0)   # eventually always
    sim, rng = TabularSimulator(lake), np.random.default_rng(1)
    sim.seed(1)
    ended = 0
    for _ in range(4000):
        s = sim.reset()
        for _ in range(20):
            s, _, term, _ = sim.step(int(rng.integers(4)))
            if term:
                ended += 1
                break
    assert ended / 4000 == pytest.approx(p, abs=0.025)
