import gymnasium as gym
import numpy as np
import pytest

from genrl_lib.demonstrations import FIELDS, Demonstrations, collect_demonstrations
from genrl_lib.io import save_arrays
from genrl_lib.tabular import greedy_from_q, value_iteration


@pytest.fixture(scope="module")
def taxi_demos():
    taxi = gym.make("Taxi-v4")
    return collect_demonstrations(taxi, greedy_from_q(value_iteration(taxi)[1]), n_episodes=8, seed=0)


def test_collect_records_consistent_transitions(taxi_demos):
    d = taxi_demos
    assert d.n_episodes == 8 and len(d) == len(d.observations) == len(d.next_observations)
    assert d.env_id == "Taxi-v4" and d.observation_space == gym.spaces.Discrete(500)
    # consecutive transitions chain: next_obs of step t is obs of step t+1 within an episode
    same_ep = d.episode_ids[1:] == d.episode_ids[:-1]
    assert np.array_equal(d.next_observations[:-1][same_ep], d.observations[1:][same_ep])
    # optimal taxi: every episode ends with a successful drop-off (terminated, +20)
    last = np.r_[~same_ep, True]
    assert d.terminations[last].all() and (d.rewards[last] == 20).all()
    assert np.all(d.episode_returns() > 0)


def test_deterministic_given_seed(taxi_demos):
    taxi = gym.make("Taxi-v4")
    again = collect_demonstrations(taxi, greedy_from_q(value_iteration(taxi)[1]), n_episodes=8, seed=0)
    assert all(np.array_equal(getattr(again, f), getattr(taxi_demos, f)) for f in FIELDS)


def test_subsample_and_take(taxi_demos):
    s = taxi_demos.subsample(every=5, seed=1)
    assert s.subsample_every == 5 and s.n_episodes == 8
    for ep in range(8):
        n_full = int((taxi_demos.episode_ids == ep).sum())
        assert int((s.episode_ids == ep).sum()) in (n_full // 5, n_full // 5 + 1)
    one = taxi_demos.take_episodes(1)
    assert one.n_episodes == 1 and set(one.episode_ids) == {0}
    with pytest.raises(ValueError, match="only 8 are stored"):
        taxi_demos.take_episodes(9)


def test_save_load_round_trip_and_errors(taxi_demos, tmp_path):
    p = taxi_demos.save(tmp_path / "d.npz")
    back = Demonstrations.load(p)
    assert all(np.array_equal(getattr(back, f), getattr(taxi_demos, f)) for f in FIELDS)
    assert back.action_space == taxi_demos.action_space and back.env_id == "Taxi-v4"
    save_arrays(tmp_path / "bad.npz", "demonstrations", {"observations": np.zeros(3)},
                {"observation_space": {"type": "Discrete", "n": 2}, "action_space": {"type": "Discrete", "n": 2}})
    with pytest.raises(ValueError, match=r"lacks the demonstration field\(s\) \['actions'"):
        Demonstrations.load(tmp_path / "bad.npz")
    save_arrays(tmp_path / "q.npz", "q_table", {"q": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="holds a 'q_table', not a 'demonstrations'"):
        Demonstrations.load(tmp_path / "q.npz")


def test_space_mismatch_and_empty(taxi_demos):
    with pytest.raises(ValueError, match="recorded with observation_space Discrete\\(500\\)"):
        taxi_demos.check_env(gym.make("CartPole-v1"))
    taxi_demos.check_env(gym.make("Taxi-v4"))
    with pytest.raises(ValueError, match="empty"):
        taxi_demos.select(np.zeros(len(taxi_demos), dtype=bool))


def test_box_env_and_bad_policy():
    d = collect_demonstrations("CartPole-v1", lambda o: int(o[2] > 0), n_episodes=2, seed=0)
    assert d.observations.shape[1:] == (4,) and d.actions.dtype.kind == "i"
    with pytest.raises(ValueError, match="not in the env's action space"):
        collect_demonstrations("CartPole-v1", lambda o: 3, n_episodes=1)
    with pytest.raises(ValueError, match="n_episodes"):
        collect_demonstrations("CartPole-v1", lambda o: 0, n_episodes=0)
