"""Unit tests of genrl_lib.pg (REINFORCE, baseline, actor-critic): fast, a few short episodes."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from genrl_lib.pg import (
    REINFORCE,
    ActorCritic,
    EpisodeMemory,
    PGConfig,
    PolicyGradient,
    discounted_returns,
    gradient_estimates,
    standardize,
)


def test_discounted_returns_hand_computed():
    np.testing.assert_allclose(discounted_returns([1, 1, 1], 0.5), [1.75, 1.5, 1.0])
    np.testing.assert_allclose(discounted_returns([1, 0], 0.9, bootstrap=10.0), [1 + 0.81 * 10, 9.0], rtol=1e-6)
    with pytest.raises(ValueError, match="gamma"):
        discounted_returns([1.0], 1.5)


def test_standardize_is_torchs_sample_std_and_leaves_one_step_alone():
    w = torch.tensor([1.0, 2.0, 4.0])
    out = standardize(w)
    assert out.mean().item() == pytest.approx(0.0, abs=1e-6) and out.std().item() == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(out.numpy(), (w.numpy() - 7 / 3) / np.std(w.numpy(), ddof=1), rtol=1e-6)
    assert standardize(torch.tensor([3.0])).tolist() == [3.0]          # one step: no spread to divide by
    assert standardize(torch.ones(4)).tolist() == [0.0] * 4             # equal weights: all zero, no NaN


def test_episode_memory():
    m = EpisodeMemory()
    m.push(np.zeros(4), 1, 1.0)
    m.push(np.ones(4), 0, 0.5)
    s, a, r = m.arrays()
    assert s.shape == (2, 4) and a.dtype == np.int64 and r.tolist() == [1.0, 0.5] and len(m) == 2
    m.reset()
    assert len(m) == 0


def test_reinforce_learns_deterministically_and_logs():
    runs = [REINFORCE("CartPole-v1", seed=1).learn(5, progress_bar=False) for _ in range(2)]
    assert runs[0].history["episode_returns"] == runs[1].history["episode_returns"]
    assert len(runs[0].history["loss"]) == 5 and runs[0].critic is None
    for p, q in zip(runs[0].policy.parameters(), runs[1].policy.parameters()):
        assert torch.equal(p, q)


def test_baseline_uses_value_and_weights_are_advantages():
    agent = REINFORCE("CartPole-v1", baseline=True, normalize=False, seed=0)
    agent.learn(2, progress_bar=False)
    assert agent.critic is not None
    m = agent._collect_segment(agent.policy.numpy_actor())
    G, w = agent.segment_targets(m)
    with torch.no_grad():
        v = agent.critic(torch.from_numpy(m.arrays()[0])).squeeze(1)
    torch.testing.assert_close(w, G - v)
    torch.testing.assert_close(G, torch.from_numpy(discounted_returns(m.arrays()[2], agent.config.gamma)))


def test_actor_critic_segments_bootstrap():
    agent = ActorCritic("CartPole-v1", n_steps=4, seed=0)
    m = agent._collect_segment(agent.policy.numpy_actor())
    assert len(m) == 4 and not m.terminated                # cut after 4 steps, mid-episode
    G, _ = agent.segment_targets(m)
    with torch.no_grad():
        boot = float(agent.critic(torch.from_numpy(m.next_state[None]))[0, 0])
    np.testing.assert_allclose(G.numpy(), discounted_returns(m.arrays()[2], 0.99, boot), rtol=1e-5)
    agent.learn(2, progress_bar=False)
    assert len(agent.history["episode_returns"]) == 2 and len(agent.history["loss"]) > 2


def test_box_actions_and_save_load(tmp_path):
    agent = REINFORCE("Pendulum-v1", baseline=True, seed=0).learn(1, progress_bar=False)
    a, _ = agent.predict(np.zeros(3), deterministic=True)
    assert a.shape == (1,) and -2 <= a[0] <= 2
    agent.save(tmp_path / "pg.pt")
    loaded = REINFORCE.load(tmp_path / "pg.pt")
    np.testing.assert_allclose(loaded.predict(np.zeros(3), deterministic=True)[0], a)
    with pytest.raises(ValueError, match="no env"):
        loaded.learn(1)


def test_gradient_estimates_shapes_and_baseline_effect():
    agent = REINFORCE("CartPole-v1", baseline=True, seed=0).learn(3, progress_bar=False)
    n_params = sum(p.numel() for p in agent.policy.actor_parameters())
    g_ret = gradient_estimates(agent, 6, "return", seed=1)
    g_mean = gradient_estimates(agent, 6, "mean_baseline", seed=1)
    assert g_ret.shape == (6, n_params)
    assert np.isfinite(g_ret).all() and not np.allclose(g_ret, g_mean)
    assert agent.history["episode_returns"][:3] == agent.history["episode_returns"]   # history untouched
    with pytest.raises(ValueError, match="critic"):
        gradient_estimates(REINFORCE("CartPole-v1"), 2, "value")
    with pytest.raises(ValueError, match="weighting"):
        gradient_estimates(agent, 2, "median")


def test_episodes_to_reach():
    agent = REINFORCE("CartPole-v1")
    agent.history["episode_returns"] = [0.0] * 5 + [10.0] * 5
    assert agent.episodes_to_reach(10.0, window=3) == 8
    assert agent.episodes_to_reach(11.0, window=3) is None


def test_bad_input():
    with pytest.raises(TypeError, match="unknown hyperparameter"):
        REINFORCE("CartPole-v1", lr=1.0)
    with pytest.raises(ValueError, match="n_steps"):
        REINFORCE("CartPole-v1", n_steps=5)
    with pytest.raises(ValueError, match="n_steps"):
        ActorCritic("CartPole-v1", n_steps=0)
    with pytest.raises(ValueError, match="gamma"):
        PolicyGradient("CartPole-v1", PGConfig(gamma=-1))
    with pytest.raises(TypeError, match="action_space"):
        REINFORCE(_multi_discrete_env())
    with pytest.raises(ValueError, match="total_episodes"):
        REINFORCE("CartPole-v1").learn(0)


def _multi_discrete_env():
    env = gym.make("CartPole-v1")
    env.action_space = gym.spaces.MultiDiscrete([2, 2])
    return env


def test_predict_takes_a_batch_so_sb3_evaluate_policy_works():
    sb3 = pytest.importorskip("stable_baselines3.common.evaluation")
    agent = REINFORCE("CartPole-v1", net_arch=(8,))
    one = agent.predict(np.zeros(4, np.float32), deterministic=True)[0]
    batch = agent.predict(np.zeros((3, 4), np.float32), deterministic=True)[0]
    assert isinstance(one, int) and batch.shape == (3,) and batch.dtype == np.int64 and (batch == one).all()
    mean, _ = sb3.evaluate_policy(agent, gym.make("CartPole-v1"), n_eval_episodes=2)
    assert mean > 0


def test_each_class_refuses_the_other_classes_file(tmp_path):
    REINFORCE("CartPole-v1", net_arch=(8,)).save(tmp_path / "reinforce.pt")
    ActorCritic("CartPole-v1", net_arch=(8,)).save(tmp_path / "ac.pt")
    with pytest.raises(ValueError, match=r"reinforce\.pt holds a REINFORCE, not a ActorCritic"):
        ActorCritic.load(tmp_path / "reinforce.pt")
    with pytest.raises(ValueError, match=r"ac\.pt holds a ActorCritic, not a REINFORCE"):
        REINFORCE.load(tmp_path / "ac.pt")
    assert type(PolicyGradient.load(tmp_path / "ac.pt")) is ActorCritic
