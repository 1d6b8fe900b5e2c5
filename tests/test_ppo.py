"""Unit tests of genrl_lib.ppo and genrl_lib.gae (fast: tiny rollouts)."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

from genrl_lib.gae import gae
from genrl_lib.ppo import PPO, PPOConfig, Rollout, linear_schedule_value, make_vec_env

SMALL = dict(n_envs=2, n_steps=16, batch_size=8, n_epochs=2)


# ------------------------------------------------------------------ GAE
def test_gae_hand_computed():
    # 3 steps, γ = 0.5, λ = 0.5; the episode terminates at t = 2.
    r, v, nv = [1.0, 2.0, 3.0], [0.5, 1.0, 1.5], [1.0, 1.5, 9.0]
    adv, ret = gae(r, v, nv, [False, False, True], gamma=0.5, lam=0.5)
    d0, d1, d2 = 1 + 0.5 * 1.0 - 0.5, 2 + 0.5 * 1.5 - 1.0, 3 + 0 - 1.5     # δ_t, no bootstrap after termination
    a2 = d2
    a1 = d1 + 0.25 * a2
    a0 = d0 + 0.25 * a1
    np.testing.assert_allclose(adv, [a0, a1, a2], rtol=1e-6)
    np.testing.assert_allclose(ret, np.array([a0, a1, a2]) + v, rtol=1e-6)


def test_gae_truncation_bootstraps_but_does_not_leak():
    # t = 0 is truncated: δ_0 bootstraps from V(final obs) = 4, and Â_0 does not see t = 1.
    adv, _ = gae([1.0, 1.0], [0.0, 0.0], [4.0, 2.0], [False, False], [True, False], gamma=0.9, lam=1.0)
    np.testing.assert_allclose(adv, [1 + 0.9 * 4, 1 + 0.9 * 2], rtol=1e-6)


def test_gae_lambda_one_is_monte_carlo_minus_value():
    r = np.array([1.0, 1.0, 1.0])
    adv, ret = gae(r, np.zeros(3), np.zeros(3), [False, False, True], gamma=0.9, lam=1.0)
    np.testing.assert_allclose(ret, [1 + 0.9 + 0.81, 1.9, 1.0], rtol=1e-6)


def test_gae_batched_and_bad_input():
    adv, _ = gae(np.ones((4, 3)), np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 3), bool))
    assert adv.shape == (4, 3) and adv.dtype == np.float32
    with pytest.raises(ValueError, match="values"):
        gae(np.ones(3), np.zeros(2), np.zeros(3), np.zeros(3, bool))
    with pytest.raises(ValueError, match="gamma"):
        gae(np.ones(3), np.zeros(3), np.zeros(3), np.zeros(3, bool), gamma=1.5)


# ------------------------------------------------------------------ configuration errors
@pytest.mark.parametrize("kw, match", [
    (dict(n_steps=0), "n_steps"), (dict(batch_size=-4), "batch_size"), (dict(batch_size=7), "divide"),
    (dict(gamma=2.0), "gamma"), (dict(lr_schedule="cosine"), "lr_schedule"), (dict(backend="jax"), "backend"),
    (dict(torch_threads=0), "torch_threads"), (dict(ent_schedule="exp"), "ent_schedule"),
])
def test_bad_hyperparameters(kw, match):
    with pytest.raises(ValueError, match=match):
        PPO("CartPole-v1", **{**SMALL, **kw})


def test_unknown_hyperparameter_and_spaces():
    with pytest.raises(TypeError, match="unknown PPO hyperparameter"):
        PPO("CartPole-v1", n_step=3)
    dict_env = gym.make("CartPole-v1")
    dict_env = gym.wrappers.TransformObservation(dict_env, lambda o: {"x": o},
                                                 gym.spaces.Dict({"x": dict_env.observation_space}))
    with pytest.raises(TypeError, match="observation_space"):
        PPO(dict_env)
    with pytest.raises(ValueError, match="n_envs"):
        PPO(gym.make("CartPole-v1"), n_envs=4)
    with pytest.raises(TypeError, match="env must be"):
        PPO(42)
    with pytest.raises(ValueError, match="num_envs"):
        PPO(make_vec_env("CartPole-v1", 2), n_envs=3)


def test_linear_schedule():
    assert linear_schedule_value(1e-3, 0.25, "linear") == pytest.approx(2.5e-4)
    assert linear_schedule_value(1e-3, 0.25, "constant") == 1e-3


# ------------------------------------------------------------------ learning machinery
def test_numpy_backend_matches_torch_autograd():
    for env_id in ("CartPole-v1", "Pendulum-v1"):
        kw = dict(SMALL, ent_coef=0.01, seed=3)
        collector = PPO(env_id, **kw).learn(32, progress_bar=False)
        ro = collector._collect()                # a real rollout from a partly trained policy
        a2, b = PPO(env_id, backend="numpy", **kw), PPO(env_id, backend="torch", **kw)
        assert np.array_equal(a2._flat, b._flat)
        for agent in (a2, b):
            agent._rng = np.random.default_rng(7)
            agent.update(ro, 1.0)
        np.testing.assert_allclose(a2._flat, b._flat, atol=1e-5)
        for k in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"):
            assert a2.history[k][-1] == pytest.approx(b.history[k][-1], rel=1e-4, abs=1e-6), k


def test_entropy_schedule_decays_and_backends_agree():
    """ent_schedule="linear": c_e(progress) = ent_coef * progress_remaining, in both backends' gradients."""
    agent = PPO("CartPole-v1", seed=2, ent_coef=0.05, ent_schedule="linear", lr_schedule="linear",
                **SMALL).learn(4 * 32, progress_bar=False)
    # progress is measured after each rollout, as for the step size: 3/4, 2/4, 1/4, 0 of the budget remains
    assert agent.history["ent_coef"] == pytest.approx([0.0375, 0.025, 0.0125, 0.0])
    lr0 = agent.config.learning_rate
    assert np.array(agent.history["ent_coef"]) / 0.05 == pytest.approx(np.array(agent.history["learning_rate"]) / lr0)
    const = PPO("CartPole-v1", seed=2, ent_coef=0.05, **SMALL).learn(2 * 32, progress_bar=False)
    assert const.history["ent_coef"] == [0.05, 0.05]
    kw = dict(SMALL, ent_coef=0.05, ent_schedule="linear", seed=3)
    ro = PPO("CartPole-v1", **kw).learn(32, progress_bar=False)._collect()
    runs = {}
    for backend in ("numpy", "torch"):
        a = PPO("CartPole-v1", backend=backend, **kw)
        a._rng = np.random.default_rng(7)
        runs[backend] = a.update(ro, 0.5) or a
    np.testing.assert_allclose(runs["numpy"]._flat, runs["torch"]._flat, atol=1e-5)
    full = PPO("CartPole-v1", backend="numpy", **dict(kw, ent_schedule="constant"))
    full._rng = np.random.default_rng(7)
    full.update(ro, 0.5)
    assert not np.allclose(full._flat, runs["numpy"]._flat, atol=1e-7)   # the schedule changed the update


def test_learn_is_deterministic_and_logs_diagnostics():
    runs = [PPO("CartPole-v1", seed=5, **SMALL).learn(96, progress_bar=False) for _ in range(2)]
    assert np.array_equal(runs[0]._flat, runs[1]._flat)
    h = runs[0].history
    assert len(h["timesteps"]) == 3 and h["timesteps"][-1] == 96
    for k in ("approx_kl", "clip_fraction", "entropy", "explained_variance", "value_loss", "policy_loss"):
        assert len(h[k]) == 3 and all(np.isfinite(h[k])), k
    assert 0 < h["entropy"][0] <= np.log(2) + 1e-6


def test_reward_fn_and_callback_hooks():
    seen = {}

    def reward_fn(ro: Rollout):
        seen["shapes"] = (ro.obs.shape, ro.actions.shape, ro.next_obs.shape, ro.terminated.shape)
        return torch.zeros(ro.obs.shape[:2])       # a tensor is accepted

    def callback(ro: Rollout):
        seen["n"] = seen.get("n", 0) + 1
        return seen["n"] < 2                       # stop before the 2nd update

    agent = PPO("CartPole-v1", reward_fn=reward_fn, callback=callback, **SMALL)
    agent.learn(320, progress_bar=False)
    assert seen["shapes"] == ((16, 2, 4), (16, 2), (16, 2, 4), (16, 2))
    assert seen["n"] == 2 and len(agent.history["timesteps"]) == 1
    # zero learned reward: returns are pure bootstraps, the value loss is tiny compared to env rewards
    bad = PPO("CartPole-v1", reward_fn=lambda ro: np.zeros(3), **SMALL)
    with pytest.raises(ValueError, match="reward_fn returned shape"):
        bad.learn(32, progress_bar=False)
    nan = PPO("CartPole-v1", reward_fn=lambda ro: np.full(ro.obs.shape[:2], np.nan), **SMALL)
    with pytest.raises(FloatingPointError, match="reward_fn"):
        nan.learn(32, progress_bar=False)


def test_nan_in_loss_names_the_quantity():
    agent = PPO("CartPole-v1", **SMALL)
    agent.learn(32, progress_bar=False)
    ro = agent._collect()
    ro.train_rewards = np.full_like(ro.rewards, np.inf)
    with pytest.raises(FloatingPointError, match="rewards"):
        agent.update(ro)
    ro.train_rewards, ro.obs[:] = None, np.nan           # NaN observations -> NaN values -> NaN advantages
    with pytest.raises(FloatingPointError, match="non-finite advantages"):
        agent.update(ro)


def test_truncation_uses_final_observation():
    # With SAME_STEP autoreset the rollout's next_obs at an episode end is the final obs, not the reset one.
    agent = PPO(gym.wrappers.TimeLimit(gym.make("CartPole-v1").unwrapped, 5), n_envs=1, n_steps=20, batch_size=20)
    agent.learn(20, progress_bar=False)
    ro = agent._collect()
    ends = np.flatnonzero(ro.truncated[:, 0])
    assert len(ends) >= 3
    for t in ends[:-1]:
        assert not np.allclose(ro.next_obs[t, 0], ro.obs[t + 1, 0])   # final obs differs from the reset obs


def test_next_step_autoreset_masks_reset_steps():
    env = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync",
                       vector_kwargs={"autoreset_mode": AutoresetMode.NEXT_STEP})
    agent = PPO(env, n_steps=64, batch_size=32, n_epochs=1)
    agent.learn(128, progress_bar=False)
    ro = agent._collect()
    done = ro.terminated | ro.truncated
    assert (~ro.valid).sum() > 0
    assert np.array_equal(~ro.valid[1:], done[:-1])        # the step after an episode end is skipped
    assert all(np.isfinite(agent.history["policy_loss"]))


def test_box_actions_predict_save_load(tmp_path):
    agent = PPO("Pendulum-v1", **SMALL).learn(64, progress_bar=False)
    obs = np.zeros(3, dtype=np.float32)
    a, state = agent.predict(obs, deterministic=True)
    assert state is None and a.shape == (1,) and -2 <= a[0] <= 2
    batch, _ = agent.predict(np.zeros((5, 3), np.float32), deterministic=True)
    assert batch.shape == (5, 1)
    agent.save(tmp_path / "ppo.pt")
    loaded = PPO.load(tmp_path / "ppo.pt")
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], a)
    with pytest.raises(ValueError, match="no env"):
        loaded.learn(10)
    cont = PPO.load(tmp_path / "ppo.pt", env="Pendulum-v1")
    cont.learn(32, progress_bar=False)


def test_discrete_predict_and_load_rejects_other_kinds(tmp_path):
    agent = PPO("CartPole-v1", **SMALL)
    a, _ = agent.predict(np.zeros(4), deterministic=True)
    assert isinstance(a, int) and a in (0, 1)
    from genrl_lib.io import save_torch
    save_torch(tmp_path / "other.pt", "dqn", {})
    with pytest.raises(ValueError, match="dqn"):
        PPO.load(tmp_path / "other.pt")


def test_config_defaults_are_sb3s():
    c = PPOConfig()
    assert (c.n_steps, c.batch_size, c.n_epochs, c.gamma, c.gae_lambda, c.clip_range) == (2048, 64, 10, 0.99, 0.95, 0.2)


@pytest.mark.parametrize("backend, env_id", [("numpy", "CartPole-v1"), ("torch", "Pendulum-v1")])
def test_save_load_continue_equals_an_uninterrupted_run(tmp_path, backend, env_id):
    """Adam's state, the generator and the episodes in progress are in the file: resuming gives the same weights,
    bit for bit, as continuing in memory (the env is copied in the state it had at save time)."""
    import copy

    straight = PPO(env_id, **SMALL, backend=backend, seed=2).learn(64, progress_bar=False)
    env_then = copy.deepcopy(straight.env)
    straight.save(tmp_path / "ppo.pt")
    resumed = PPO.load(tmp_path / "ppo.pt", env=env_then, continue_episodes=True)
    straight.learn(64, progress_bar=False)
    resumed.learn(64, progress_bar=False)
    for a, b in zip(straight._params, resumed._params):
        assert torch.equal(a, b)
    assert resumed.num_timesteps == straight.num_timesteps == 128
    with pytest.raises(ValueError, match="continue_episodes=True needs an env"):
        PPO.load(tmp_path / "ppo.pt", continue_episodes=True)
