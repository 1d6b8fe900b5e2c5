import gymnasium as gym
import numpy as np
import pytest

from genrl_lib.evaluation import EvalResult, as_action_fn, check_positive_int, evaluate_policy
from genrl_lib.tabular import greedy_from_q, value_iteration


def test_callable_policy_on_jump_chain_is_exact():
    res = evaluate_policy(lambda s: 0, "genrl_lib/JumpChain-v0", n_episodes=3)
    assert isinstance(res, EvalResult)
    assert res.returns.tolist() == [-8.0, -8.0, -8.0] and res.lengths.tolist() == [3, 3, 3]
    assert res.mean == -8.0 and res.std == 0.0 and res.stderr == 0.0


def test_array_policy_and_seeding_are_reproducible():
    taxi = gym.make("Taxi-v4")
    pi = greedy_from_q(value_iteration(taxi)[1])
    a = evaluate_policy(pi, taxi, n_episodes=50, seed=3)
    b = evaluate_policy(pi, taxi, n_episodes=50, seed=3)
    assert np.array_equal(a.returns, b.returns)
    assert 5 < a.mean < 11


class _PredictOnly:
    """Mimics an SB3 model: predict(obs, deterministic) -> (action, state)."""

    def __init__(self):
        self.calls = []

    def predict(self, obs, deterministic=True):
        self.calls.append(deterministic)
        return np.array(1), None


def test_sb3_style_predict_is_used():
    model = _PredictOnly()
    res = evaluate_policy(model, gym.make("CartPole-v1"), n_episodes=2, seed=0)
    assert model.calls and all(model.calls) and res.mean < 50  # always pushing right fails fast


def test_sb3_model_works():
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, seed=0, device="cpu")
    res = evaluate_policy(model, "CartPole-v1", n_episodes=2, seed=0)
    assert res.returns.shape == (2,) and res.mean > 0


def test_max_steps_caps_episode():
    res = evaluate_policy(lambda o: 0, "Taxi-v4", n_episodes=2, max_steps=5)
    assert res.lengths.tolist() == [5, 5]


def test_bad_inputs():
    with pytest.raises(ValueError, match="n_episodes must be a positive int"):
        evaluate_policy(lambda o: 0, "CartPole-v1", n_episodes=0)
    with pytest.raises(ValueError, match="not in the env's action space"):
        evaluate_policy(lambda o: 5, "CartPole-v1", n_episodes=1)
    with pytest.raises(ValueError, match="env_id"):
        evaluate_policy(lambda o: 0, "CartPol-v1", n_episodes=1)
    with pytest.raises(TypeError, match="policy must be"):
        as_action_fn(42)
    with pytest.raises(ValueError, match="array policy"):
        as_action_fn(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="steps must be a positive int"):
        check_positive_int(-1, "steps")


def test_check_number_and_check_bool():
    from genrl_lib.evaluation import check_bool, check_number
    assert check_number(3, "lr", low=0, low_open=True) == 3.0 and check_number(None, "kl", allow_none=True) is None
    for bad in (float("nan"), float("inf"), 0.0, 2.0):
        with pytest.raises(ValueError, match=r"lr must be a finite number in \(0, 1\]"):
            check_number(bad, "lr", low=0, high=1, low_open=True)
    for bad in ("0.1", True, None, [0.1]):
        with pytest.raises(TypeError, match="lr must be a finite number"):
            check_number(bad, "lr")
    assert check_bool(np.bool_(True), "flag") is True
    with pytest.raises(TypeError, match="flag must be True or False, got str 'no'"):
        check_bool("no", "flag")


def test_binned_mean_is_the_one_learning_curve_binner():
    from genrl_lib.evaluation import binned_mean
    assert binned_mean([1, 2, 9], [1.0, 3.0, 5.0], 10, 5) == [2.0, 5.0]
    assert binned_mean([1], [1.0], 10, 5) == [1.0, None]          # an empty bin is None
    assert binned_mean([5, 6], [1.0, 2.0], 10, 5) == [1.0, 2.0]    # bins are (lo, lo + width]
    assert binned_mean([3], [1 / 3], 4, 4, decimals=2) == [0.33]
    with pytest.raises(ValueError, match="same shape"):
        binned_mean([1, 2], [1.0], 10, 5)
    with pytest.raises(ValueError, match="width"):
        binned_mean([1], [1.0], 10, 0)


class _Constant:
    """A policy with SB3's predict that always pushes left: CartPole ends in about ten steps."""

    def predict(self, obs, deterministic=True):
        return np.zeros(len(obs), dtype=np.int64), None


def test_evaluate_batched_counts_first_episodes_only():
    from genrl_lib.evaluation import evaluate_batched

    res = evaluate_batched(_Constant(), "CartPole-v1", n_episodes=7, seed=3)
    assert res.returns.shape == (7,) and res.lengths.shape == (7,)
    np.testing.assert_array_equal(res.returns, res.lengths)          # CartPole pays 1 per step
    assert 5 <= res.lengths.min() and res.lengths.max() < 20          # pushing left topples the pole fast
    again = evaluate_batched(_Constant(), "CartPole-v1", n_episodes=7, seed=3)
    np.testing.assert_array_equal(res.returns, again.returns)         # same seed, same episodes
    # an env without a native vector version runs one copy per episode (FrozenLake: action 0 never reaches the goal)
    frozen = evaluate_batched(_Constant(), "FrozenLake-v1", n_episodes=3, seed=0)
    np.testing.assert_array_equal(frozen.returns, 0.0)
    assert (frozen.lengths >= 1).all()


def test_evaluate_batched_bad_inputs():
    from genrl_lib.evaluation import evaluate_batched

    with pytest.raises(ValueError, match="n_episodes"):
        evaluate_batched(_Constant(), "CartPole-v1", n_episodes=0)
    with pytest.raises(TypeError, match="predict"):
        evaluate_batched(lambda obs: 0, "CartPole-v1")
    with pytest.raises(TypeError, match="env_id"):
        evaluate_batched(_Constant(), gym.make("CartPole-v1"))


def test_best_checkpoint_keeps_the_best_network_and_leaves_training_alone():
    import torch

    from genrl_lib.dqn import DQN
    from genrl_lib.evaluation import BestCheckpoint, evaluate_batched

    plain = DQN("CartPole-v1", seed=3, learning_starts=100).learn(1500, progress_bar=False)
    best = BestCheckpoint("CartPole-v1", every=300, n_episodes=5, seed=11)
    agent = DQN("CartPole-v1", seed=3, learning_starts=100).learn(1500, progress_bar=False, callback=best)
    for p, q in zip(plain.q_net.parameters(), agent.q_net.parameters()):
        assert torch.equal(p, q)                      # evaluating only reads the network
    assert len(best.history) >= 3
    steps = [s for s, _ in best.history]
    assert all(b - a >= 300 for a, b in zip(steps, steps[1:]))
    best.restore(agent)
    assert best.history[-1][0] == agent.num_timesteps                # the final network was evaluated too
    scores = [m for _, m in best.history]
    assert best.best_return == max(scores)
    assert best.best_step == max(s for s, m in best.history if m == max(scores))     # ties: the later one
    assert evaluate_batched(agent, "CartPole-v1", n_episodes=5, seed=11).mean == best.best_return


def test_best_checkpoint_bad_inputs_and_stop():
    from genrl_lib.dqn import DQN
    from genrl_lib.evaluation import BestCheckpoint

    with pytest.raises(ValueError, match="every"):
        BestCheckpoint("CartPole-v1", every=0)
    with pytest.raises(ValueError, match="n_episodes"):
        BestCheckpoint("CartPole-v1", every=10, n_episodes=-1)
    with pytest.raises(TypeError, match="env_id"):
        BestCheckpoint(gym.make("CartPole-v1"), every=10)
    agent = DQN("CartPole-v1", seed=0)
    with pytest.raises(AttributeError, match="module='policy'"):
        BestCheckpoint("CartPole-v1", every=1, module="policy").evaluate(agent)
    with pytest.raises(TypeError, match="callback"):
        agent.learn(10, progress_bar=False, callback=3)
    agent.learn(2000, progress_bar=False, callback=lambda dqn: False)    # stops after the first episode
    assert agent.num_timesteps == agent.episode_end_steps[0] < 2000
