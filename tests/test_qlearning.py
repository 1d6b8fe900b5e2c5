"""Unit tests of the sample-based tabular methods in genrl_lib.tabular (Q-learning, SARSA, Monte Carlo)."""

import gymnasium as gym
import numpy as np
import pytest

import genrl_lib  # noqa: F401  (registers JumpChain)
from genrl_lib.tabular import (
    QLearningResult,
    TabularSimulator,
    epsilon_schedule,
    expected_return,
    greedy_from_q,
    greedy_policy,
    load_q_table,
    monte_carlo_control,
    q_learning,
    sarsa,
    save_q_table,
    value_iteration,
)

METHODS = [q_learning, sarsa, monte_carlo_control]


@pytest.mark.parametrize("env_id", ["Taxi-v4", "FrozenLake-v1", "CliffWalking-v1", "genrl_lib/JumpChain-v0"])
def test_simulator_reproduces_env_step_exactly(env_id):
    """Same seed, same actions -> the same states, rewards and flags as gym.step (incl. the time limit)."""
    env, sim = gym.make(env_id), TabularSimulator(gym.make(env_id))
    rng = np.random.default_rng(0)
    s_env, _ = env.reset(seed=7)
    s_sim = sim.reset(seed=7)
    n_done = 0
    for _ in range(3000):
        assert s_env == s_sim
        a = int(rng.integers(env.action_space.n))
        s_env, r, term, trunc, _ = env.step(a)
        s_sim, r2, term2, trunc2 = sim.step(a)
        assert (s_env, float(r), term, trunc) == (s_sim, r2, term2, trunc2)
        if term or trunc:
            n_done += 1
            s_env, _ = env.reset()
            s_sim = sim.reset()
    assert n_done > 0 or env_id == "CliffWalking-v1"   # a random walker rarely crosses the cliff in 3000 steps


def test_simulator_transition_distribution_matches_model():
    """FrozenLake slippery: empirical next-state frequencies match P[s][a] (1/3 each) and the start is fixed."""
    sim = TabularSimulator(gym.make("FrozenLake-v1"))
    sim.reset(seed=0)
    counts = {}
    n = 6000
    for _ in range(n):
        sim.s, sim.t = 4, 0  # state 4, action 2 (right): slips to 0, 5 or 8
        s2, *_ = sim.step(2)
        counts[s2] = counts.get(s2, 0) + 1
    P = gym.make("FrozenLake-v1").unwrapped.P[4][2]
    expected = {s2: p for p, s2, _, _ in P}
    assert set(counts) == set(expected)
    for s2, p in expected.items():
        assert abs(counts[s2] / n - p) < 4 * np.sqrt(p * (1 - p) / n)
    assert {sim.reset() for _ in range(50)} == {0}


def test_taxi_horizon_truncates_at_200():
    sim = TabularSimulator(gym.make("Taxi-v4"))
    sim.reset(seed=0)
    flags = [sim.step(4)[3] for _ in range(200)]   # action 4 = pick-up: never terminates
    assert flags[-1] and not any(flags[:-1])


@pytest.mark.parametrize("method", METHODS)
def test_fast_and_env_step_paths_learn_the_same_table(method):
    env = gym.make("FrozenLake-v1")
    a = method(env, 200, seed=3, progress_bar=False)
    b = method(env, 200, seed=3, fast=False, progress_bar=False)
    np.testing.assert_array_equal(a.q_table, b.q_table)
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)


@pytest.mark.parametrize("method", METHODS)
def test_result_shapes_and_determinism(method):
    env = gym.make("Taxi-v4")
    r1 = method(env, 300, seed=1, progress_bar=False)
    r2 = method(env, 300, seed=1, progress_bar=False)
    r3 = method(env, 300, seed=2, progress_bar=False)
    assert isinstance(r1, QLearningResult)
    assert r1.q_table.shape == (500, 6) and r1.episode_returns.shape == (300,) and r1.epsilons.shape == (300,)
    np.testing.assert_array_equal(r1.q_table, r2.q_table)
    assert not np.array_equal(r1.q_table, r3.q_table)
    assert r1.policy.shape == (500,) and r1.policy.dtype == np.int64


def test_q_learning_reaches_taxi_optimum():
    env = gym.make("Taxi-v4")
    res = q_learning(env, 4000, alpha=0.5, seed=0, progress_bar=False)
    optimum = expected_return(env, greedy_policy(value_iteration(env)[1]))
    assert expected_return(env, res.policy) > optimum - 0.1
    assert res.episode_returns[-500:].mean() > res.episode_returns[:500].mean() + 100


def test_jump_chain_q_learning_converges_to_value_iteration():
    env = gym.make("genrl_lib/JumpChain-v0")
    res = q_learning(env, 300, alpha=1.0, gamma=1.0, epsilon=1.0, seed=0, snapshot_episodes=[0, 299],
                     progress_bar=False)
    _, Q_star = value_iteration(env, gamma=1.0)
    np.testing.assert_allclose(res.q_table, Q_star)
    assert res.snapshots.shape == (2, 10, 2)
    np.testing.assert_array_equal(res.snapshots[-1], res.q_table)


def test_sarsa_is_safer_than_q_learning_on_the_cliff():
    """The textbook result: with ε = 0.1 kept constant, SARSA's training returns beat Q-learning's."""
    env = gym.make("CliffWalking-v1")
    kw = dict(alpha=0.5, epsilon=0.1, seed=0, progress_bar=False)
    q, s = q_learning(env, 500, **kw), sarsa(env, 500, **kw)
    assert s.episode_returns[100:].mean() > q.episode_returns[100:].mean()


def test_epsilon_schedule():
    e = epsilon_schedule((1.0, 0.1), 10, exploration_fraction=0.5)
    assert e.shape == (10,) and e[0] == 1.0 and np.allclose(e[5:], 0.1) and np.all(np.diff(e) <= 0)
    assert np.all(epsilon_schedule(0.2, 5) == 0.2)


def test_greedy_policy_is_greedy_from_q():
    q = np.array([[0.0, 1.0], [2.0, 2.0], [-1.0, -3.0]])
    np.testing.assert_array_equal(greedy_policy(q), [1, 0, 0])
    assert greedy_policy is greedy_from_q


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha": 0.0}, "alpha"), ({"alpha": 1.5}, "alpha"), ({"gamma": -0.1}, "gamma"), ({"gamma": 1.01}, "gamma"),
    ({"epsilon": 1.2}, "epsilon"), ({"epsilon": (1.0, -0.1)}, "epsilon"), ({"seed": -1}, "seed"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        q_learning(gym.make("Taxi-v4"), 10, progress_bar=False, **kwargs)


def test_bad_spaces_and_episodes():
    with pytest.raises(TypeError, match="observation_space"):
        q_learning(gym.make("CartPole-v1"), 10, progress_bar=False)
    with pytest.raises(ValueError, match="n_episodes"):
        sarsa(gym.make("Taxi-v4"), 0, progress_bar=False)
    with pytest.raises(TypeError, match="gymnasium.Env"):
        monte_carlo_control("Taxi-v4", 10, progress_bar=False)


def test_save_load_roundtrip_and_bad_files(tmp_path):
    res = q_learning(gym.make("FrozenLake-v1"), 50, seed=0, progress_bar=False)
    path = res.save(tmp_path / "q.npz")
    q, meta = load_q_table(path, n_states=16, n_actions=4)
    np.testing.assert_array_equal(q, res.q_table)
    assert meta["method"] == "q_learning" and meta["env_id"] == "FrozenLake-v1" and meta["seed"] == 0
    with pytest.raises(ValueError, match="n_states=500"):
        load_q_table(path, n_states=500)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, q_table=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="not a genrl_lib file"):
        load_q_table(foreign)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="corrupt"):
        load_q_table(junk)
    with pytest.raises(ValueError, match="shape"):
        save_q_table(tmp_path / "x.npz", np.zeros(5))
    with pytest.raises(FileNotFoundError):
        load_q_table(tmp_path / "missing.npz")
