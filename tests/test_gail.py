import gymnasium as gym
import numpy as np
import pytest
import torch

from genrl_lib.demonstrations import FIELDS, Demonstrations, collect_demonstrations
from genrl_lib.gail import GAIL, GAILConfig, ObsEncoder, check_demonstrations, disc_reward
from genrl_lib.io import save_arrays
from genrl_lib.tabular import greedy_from_q, value_iteration

SMALL = dict(n_envs=2, n_steps=64, batch_size=64, n_epochs=2)


def heuristic(obs):
    """A decent CartPole controller: push towards the side the pole leans to."""
    return int(obs[2] + 0.5 * obs[3] > 0)


@pytest.fixture(scope="module")
def cart_demos():
    return collect_demonstrations("CartPole-v1", heuristic, n_episodes=3, seed=0)


@pytest.fixture(scope="module")
def taxi_demos():
    taxi = gym.make("Taxi-v4")
    return collect_demonstrations(taxi, greedy_from_q(value_iteration(taxi)[1]), n_episodes=4, seed=0)


def test_learn_records_history_and_true_returns(cart_demos):
    g = GAIL("CartPole-v1", cart_demos, seed=0, **SMALL)
    g.learn(512, progress_bar=False)
    h = g.history
    assert g.num_timesteps == 512 and h["timesteps"] == [128, 256, 384, 512]
    assert len(h["disc_acc_expert"]) == len(h["disc_acc_policy"]) == len(h["disc_loss"]) == 4
    assert all(0 <= a <= 1 for a in h["disc_acc_expert"] + h["disc_acc_policy"])
    # true env returns (CartPole pays 1 per step), not the learned reward
    assert h["episode_returns"] and h["episode_returns"] == [float(n) for n in h["episode_lengths"]]
    g.close()


def test_deterministic_given_seed(cart_demos):
    runs = []
    for _ in range(2):
        g = GAIL("CartPole-v1", cart_demos, seed=3, **SMALL).learn(256, progress_bar=False)
        runs.append((g.history["disc_loss"], g.history["episode_returns"], g.predict(np.zeros(4))[0]))
        g.close()
    assert runs[0] == runs[1]


def test_predict_single_and_batch_and_save_load(tmp_path, cart_demos):
    g = GAIL("CartPole-v1", cart_demos, seed=0, **SMALL).learn(256, progress_bar=False)
    obs = cart_demos.observations[:7]
    a, state = g.predict(obs[0])
    assert isinstance(a, int) and state is None
    batch = g.predict(obs)[0]
    assert batch.shape == (7,) and batch[0] == a
    g.save(tmp_path / "g.pt")
    g2 = GAIL.load(tmp_path / "g.pt")
    assert np.array_equal(g2.predict(obs)[0], batch)
    assert np.allclose(g2.discriminate(obs, cart_demos.actions[:7]), g.discriminate(obs, cart_demos.actions[:7]))
    with pytest.raises(ValueError, match="loaded without an env"):
        g2.learn(64, progress_bar=False)
    g2.save(tmp_path / "g2.pt")                       # an agent loaded only to act saves too (no demonstrations)
    assert np.array_equal(GAIL.load(tmp_path / "g2.pt").predict(obs)[0], batch)
    g3 = GAIL.load(tmp_path / "g.pt", env="CartPole-v1", demonstrations=cart_demos)   # keep training
    g3.learn(128, progress_bar=False)
    assert g3.num_timesteps == 256 + 128
    for x in (g, g3):
        x.close()


def test_taxi_one_hot_observations_and_actions(taxi_demos):
    g = GAIL("Taxi-v4", taxi_demos, seed=0, **SMALL)
    assert g.ppo.observation_space.shape == (500,)                 # the policy sees one-hot states
    assert g.discriminator[0].in_features == 500 + 6 + 1           # one-hot s, one-hot a, absorbing flag
    g.learn(128, progress_bar=False)
    table = g.predict(np.arange(500))[0]
    assert table.shape == (500,) and set(np.unique(table)) <= set(range(6))
    assert isinstance(g.predict(3)[0], int)
    # expert absorbing samples: Taxi's expert always terminates (drop-off)
    assert len(g._expert_x) == len(taxi_demos) + int(taxi_demos.terminations.sum())
    g.close()


def test_taxi_factored_observations(tmp_path, taxi_demos):
    from genrl_lib.nets import TAXI_FACTORS
    g = GAIL("Taxi-v4", taxi_demos, seed=0, obs_encoding="factored", obs_factors=TAXI_FACTORS, **SMALL)
    assert g.config.obs_factors == (5, 5, 5, 4)
    assert g.ppo.observation_space.shape == (19,)                  # row, col, passenger, destination blocks
    assert g.discriminator[0].in_features == 19 + 6 + 1
    seen, _ = g.ppo.env.envs[0].reset(seed=3)                      # the policy's env encodes too
    raw, _ = gym.make("Taxi-v4").reset(seed=3)
    assert np.array_equal(seen, g.encoder(raw)[0]) and seen.sum() == 4
    g.learn(128, progress_bar=False)
    g.save(tmp_path / "f.pt")
    g2 = GAIL.load(tmp_path / "f.pt")
    assert g2.config.obs_factors == (5, 5, 5, 4)
    assert np.array_equal(g2.predict(np.arange(500))[0], g.predict(np.arange(500))[0])
    g.close()
    both = GAIL("Taxi-v4", taxi_demos, seed=0, obs_encoding="one_hot+factored", obs_factors=TAXI_FACTORS, **SMALL)
    x = both.encoder(np.array([7, 300]))
    assert x.shape == (2, 519) and np.array_equal(x[:, :500], np.eye(500)[[7, 300]])
    assert np.array_equal(x[:, 500:], g.encoder(np.array([7, 300])))
    both.save(tmp_path / "b.pt")
    assert np.array_equal(GAIL.load(tmp_path / "b.pt").predict(np.arange(500))[0], both.predict(np.arange(500))[0])
    both.close()
    with pytest.raises(ValueError, match="obs_factors"):
        GAIL("Taxi-v4", taxi_demos, obs_encoding="factored", obs_factors=(5, 5, 4, 4))   # 400 != 500 states
    with pytest.raises(ValueError, match="obs_factors"):
        GAILConfig(obs_encoding="factored", obs_factors=(5, -1)).validate()
    with pytest.raises(ValueError, match="obs_factors goes with"):
        GAILConfig(obs_factors=(5, 5, 5, 4)).validate()                   # factors without a factored encoding
    with pytest.raises(ValueError, match="obs_factors goes with"):
        GAILConfig(obs_encoding="factored").validate()                     # a factored encoding without factors
    with pytest.raises(ValueError, match="obs_encoding must be one of"):
        GAILConfig(obs_encoding="onehot").validate()
    with pytest.raises(TypeError, match="Discrete"):
        GAIL("CartPole-v1", collect_demonstrations("CartPole-v1", heuristic, 1), obs_encoding="factored",
             obs_factors=(2, 2))


def test_reward_forms_and_their_signs():
    z = torch.linspace(-5, 5, 11)
    assert (disc_reward(z, "positive") > 0).all() and (disc_reward(z, "negative") < 0).all()
    assert torch.allclose(disc_reward(z, "logit"), disc_reward(z, "positive") + disc_reward(z, "negative"))
    assert torch.allclose(disc_reward(z, "positive"), -torch.log(torch.sigmoid(z)), atol=1e-5)
    with pytest.raises(ValueError, match="reward"):
        disc_reward(z, "log")


def test_absorbing_adds_discounted_value_at_terminal_steps(cart_demos):
    g = GAIL("CartPole-v1", cart_demos, seed=0, gamma=0.9, **SMALL)
    obs, acts = np.zeros((3, 2, 4), np.float32), np.zeros((3, 2), np.int64)
    terminated = np.zeros((3, 2), bool)
    base = g.rollout_reward(obs, acts, terminated)
    terminated[1, 0] = True
    r = g.rollout_reward(obs, acts, terminated)
    with torch.no_grad():
        r_abs = float(disc_reward(g.discriminator(torch.eye(4 + 2 + 1)[-1:]), "logit"))   # s_∅: only the flag set
    assert np.allclose(r[1, 0] - base[1, 0], r_abs * 0.9 / 0.1, atol=1e-4)
    assert np.allclose(np.delete(r.ravel(), 2), np.delete(base.ravel(), 2))
    g.close()


def test_rollout_reward_is_a_pure_function_of_the_rollout(cart_demos):
    """The reward depends on (obs, actions, terminations) and D only: same input, same output, nothing changed,
    whatever ran before; and it is -logit D(s, a) where no episode ended (the default 'logit' form)."""
    g = GAIL("CartPole-v1", cart_demos, seed=0, **SMALL).learn(128, progress_bar=False)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(4, 2, 4)).astype(np.float32)
    acts, term = rng.integers(2, size=(4, 2)), np.zeros((4, 2), bool)
    before = {k: v.clone() for k, v in g.discriminator.state_dict().items()}
    n_hist = len(g.history["reward_mean"])
    r1 = g.rollout_reward(obs, acts, term)
    g.rollout_reward(rng.normal(size=(4, 2, 4)), acts, ~term)        # another rollout in between
    r2 = g.rollout_reward(obs, acts, term)
    assert np.array_equal(r1, r2) and r1.shape == (4, 2)
    assert len(g.history["reward_mean"]) == n_hist
    assert all(torch.equal(v, g.discriminator.state_dict()[k]) for k, v in before.items())
    d = g.discriminate(obs.reshape(8, 4), acts.reshape(8)).reshape(4, 2)
    np.testing.assert_allclose(r1, np.log((1 - d) / d), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="n_steps, n_envs"):
        g.rollout_reward(obs[:3], acts, term)
    g.close()


def test_ppo_trains_on_the_learned_reward_of_each_rollout(cart_demos):
    """Through the hooks: the rewards PPO's update uses are GAIL's reward of that rollout, with D as it was
    after that rollout's discriminator step (not zeros, not the env's reward)."""
    g = GAIL("CartPole-v1", cart_demos, seed=0, **SMALL)
    seen, update = [], g.ppo.update

    def spy(ro, progress_remaining=1.0):
        expected = g.rollout_reward(ro.obs, ro.actions, ro.terminated & ro.valid)
        seen.append((ro.train_rewards.copy(), expected, ro.rewards.copy()))
        return update(ro, progress_remaining)

    g.ppo.update = spy
    g.learn(256, progress_bar=False)
    assert len(seen) == 2
    for used, expected, env_reward in seen:
        np.testing.assert_allclose(used, expected, rtol=1e-6)
        assert np.abs(used).max() > 1e-3 and not np.allclose(used, env_reward)
    g.close()


def test_frozen_discriminator_never_changes(cart_demos):
    g = GAIL("CartPole-v1", cart_demos, seed=0, freeze_discriminator=True, **SMALL)
    before = [p.detach().clone() for p in g.discriminator.parameters()]
    g.learn(256, progress_bar=False)
    assert all(torch.equal(a, b) for a, b in zip(before, g.discriminator.parameters()))
    g.close()


def test_obs_normalization_from_demonstrations(cart_demos):
    g = GAIL("CartPole-v1", cart_demos, seed=0, normalize_obs=True, **SMALL)
    x = g.encoder(cart_demos.observations)
    assert np.allclose(x.mean(0), 0, atol=1e-4) and np.allclose(x.std(0), 1, atol=1e-3)
    raw, _ = gym.make("CartPole-v1").reset(seed=5)
    seen, _ = g.ppo.env.envs[0].reset(seed=5)                     # the policy sees scaled observations too
    assert np.allclose(seen, g.encoder(raw)[0])
    g.close()
    with pytest.raises(ValueError, match="Box observations only"):
        ObsEncoder(gym.spaces.Discrete(5), shift=np.zeros(5))
    with pytest.raises(ValueError, match="obs_scale must be positive"):
        ObsEncoder(gym.spaces.Box(-1, 1, (2,)), scale=np.array([1.0, 0.0]))


def test_bad_input_errors(tmp_path, cart_demos, taxi_demos):
    with pytest.raises(ValueError, match="observation_space"):
        GAIL("CartPole-v1", taxi_demos)                          # spaces do not match
    with pytest.raises(TypeError, match="Demonstrations"):
        GAIL("CartPole-v1", {"observations": np.zeros((3, 4))})
    with pytest.raises(ValueError, match="empty"):
        cart_demos.select(np.zeros(len(cart_demos), bool))      # empty demonstrations
    arrays = {f: getattr(cart_demos, f) for f in FIELDS if f != "actions"}
    save_arrays(tmp_path / "bad.npz", "demonstrations", arrays, {"env_id": "CartPole-v1"})
    with pytest.raises(ValueError, match="actions"):
        Demonstrations.load(tmp_path / "bad.npz")               # missing field named
    with pytest.raises(TypeError, match="unknown GAIL/PPO hyperparameter"):
        GAIL("CartPole-v1", cart_demos, disc_momentum=0.9)
    with pytest.raises(ValueError, match="reward must be one of"):
        GAIL("CartPole-v1", cart_demos, reward="log D")
    with pytest.raises(ValueError, match="disc_steps"):
        GAILConfig(disc_steps=0).validate()
    assert check_demonstrations(cart_demos, gym.make("CartPole-v1")) is cart_demos


def test_pretrain_initializes_the_policy_by_behaviour_cloning(taxi_demos):
    g = GAIL("Taxi-v4", taxi_demos, seed=0, **SMALL).pretrain(n_updates=300)
    seen = np.unique(taxi_demos.observations)
    expert = {int(s): int(a) for s, a in zip(taxi_demos.observations, taxi_demos.actions)}
    assert g.history["bc_pretrain"]["accuracy"][-1] > 0.9
    assert np.mean(g.predict(seen)[0] == np.array([expert[int(s)] for s in seen])) > 0.9
    g.close()


# ---------------------------------------------------------------- the benchmark protocol (genrl_lib.protocols.imitation)
from genrl_lib.protocols.imitation import (  # noqa: E402
    PRESETS,
    binned_mean,
    expert_policy,
    protocol_demonstrations,
    run_protocol,
    true_return,
)


def test_presets_and_experts():
    assert set(PRESETS) == {"CartPole-v1", "Taxi-v4"}
    for p in PRESETS.values():
        assert {"ppo", "gail", "total_timesteps", "pretrain", "bc"} <= set(p)
        GAILConfig(**p["gail"]).validate()
    assert abs(true_return("Taxi-v4", expert_policy("Taxi-v4")) - 7.93) < 1e-6
    assert true_return("CartPole-v1", expert_policy("CartPole-v1"), n_eval_episodes=2) == 500.0
    assert binned_mean([1, 2, 9], [1.0, 3.0, 5.0], 10, 5) == [2.0, 5.0]
    assert binned_mean([1], [1.0], 10, 5) == [1.0, None]


def test_run_protocol_taxi_tiny_budget_is_deterministic():
    runs = [run_protocol("Taxi-v4", 1, n_trajectories=2, every=1, total_timesteps=2048, eval_epochs=(50, 100))
            for _ in range(2)]
    r = runs[0]
    assert r["epochs"] == [50, 100] and len(r["values"]) == 2 and all(isinstance(v, float) for v in r["values"])
    assert r["env_steps"] >= 2048 and r["wall_seconds"] > 0 and isinstance(r["agent"], GAIL)
    d = r["demonstrations"]
    assert d.n_episodes == 2 and d.subsample_every == 1 and len(d) == r["n_transitions"]
    assert np.array_equal(d.observations, protocol_demonstrations("Taxi-v4", 1, n_trajectories=2, every=1).observations)
    assert r["expert"] == 7.93 and -200.0 <= r["final"] <= 7.93 and -200.0 <= r["bc"]["final"] <= 7.93
    assert r["final"] == round(true_return("Taxi-v4", r["agent"]), 3)
    keys = ("values", "final", "env_steps", "curve", "disc_acc_expert", "disc_acc_policy")
    assert all(runs[0][k] == runs[1][k] for k in keys) and runs[0]["bc"]["final"] == runs[1]["bc"]["final"]
    for x in runs:
        x["agent"].close()


def test_run_protocol_subsamples_and_rejects_bad_input():
    d = protocol_demonstrations("CartPole-v1", 0, n_trajectories=1, every=20)
    assert d.subsample_every == 20 and len(d) == 25        # the expert balances 500 steps
    with pytest.raises(ValueError, match="env_id must be one of"):
        run_protocol("Pendulum-v1", 0, n_trajectories=1)
    with pytest.raises(ValueError, match="n_trajectories"):
        run_protocol("Taxi-v4", 0, n_trajectories=0)
    with pytest.raises(ValueError, match="every"):
        run_protocol("Taxi-v4", 0, n_trajectories=1, every=0)
    with pytest.raises(ValueError, match="total_timesteps"):
        run_protocol("Taxi-v4", 0, n_trajectories=1, total_timesteps=50)
    with pytest.raises(ValueError, match="eval_epochs"):
        run_protocol("Taxi-v4", 0, n_trajectories=1, eval_epochs=(20, 10))
    with pytest.raises(ValueError, match="eval_epochs"):
        run_protocol("Taxi-v4", 0, n_trajectories=1, eval_epochs=(0, 150))
    with pytest.raises(ValueError, match="n_eval_episodes"):
        run_protocol("CartPole-v1", 0, n_trajectories=1, n_eval_episodes=0)
    with pytest.raises(ValueError, match="seed"):
        run_protocol("Taxi-v4", -1, n_trajectories=1)
    with pytest.raises(ValueError, match="overrides"):
        run_protocol("Taxi-v4", 0, n_trajectories=1, overrides={"total_timesteps": 100})
    with pytest.raises(ValueError, match="overrides.*ppo.*n_epoch"):
        run_protocol("Taxi-v4", 0, n_trajectories=1, overrides={"ppo": {"n_epoch": 1}})


def test_run_protocol_ppo_overrides_update_the_preset_only_for_the_run():
    before = {k: dict(v) if isinstance(v, dict) else v for k, v in PRESETS["Taxi-v4"].items()}
    r = run_protocol("Taxi-v4", 1, n_trajectories=1, every=1, total_timesteps=1024, eval_epochs=(100,),
                     overrides={"ppo": {"ent_coef": 0.05, "n_epochs": 1}, "gail": {"grad_penalty": 0.5}})
    c, g = r["agent"].ppo.config, r["agent"].config
    assert c.ent_coef == 0.05 and c.n_epochs == 1 and g.grad_penalty == 0.5
    assert c.n_steps == PRESETS["Taxi-v4"]["ppo"]["n_steps"] and c.learning_rate == PRESETS["Taxi-v4"]["ppo"]["learning_rate"]
    assert PRESETS["Taxi-v4"] == before          # the preset itself is unchanged
    r["agent"].close()


def test_epoch_callback_records_once_per_epoch_reached():
    from types import SimpleNamespace

    from genrl_lib.protocols.imitation import epoch_callback

    cb, out = epoch_callback(1000, [10, 20, 50, 100], lambda g: g.num_timesteps)
    for t in (64, 128, 192, 640, 1024):          # iterations; epoch = 10 steps
        cb(SimpleNamespace(num_timesteps=t))
    assert out == [128, 640, 640, 1024]   # marks 100, 200, 500, 1000: t=640 reaches two of them
