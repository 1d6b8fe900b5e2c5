"""Sinergym buildings: the pure-Python checks are instant; the EnergyPlus ones simulate two days."""

import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from genrl_lib.buildings import (
    PERIODS,
    comfort_violation,
    constant_policy,
    discrete_setpoints,
    linear_reward,
    make_building_env,
    parse_period,
    rule_based_expert,
    run_episode,
    sinergym_id,
)

TWO_DAYS = ((1, 1), (1, 2))


def test_ids_and_periods():
    assert sinergym_id("5zone") == "Eplus-5zone-hot-discrete-v1"
    assert sinergym_id("datacenter", "mixed", discrete=False) == "Eplus-datacenter_dx-mixed-continuous-v1"
    assert parse_period("week") == (1, 1, 1991, 7, 1, 1991)
    assert parse_period("july") == (1, 7, 1991, 31, 7, 1991)
    assert parse_period(((2, 1), (2, 28))) == (1, 2, 1991, 28, 2, 1991)
    assert len(PERIODS) == 15


def test_comfort_violation_and_linear_reward():
    assert comfort_violation([21.0], (20.0, 23.5)) == 0.0
    assert comfort_violation([20.0, 23.5], (20.0, 23.5)) == 0.0                   # the edges are comfortable
    assert comfort_violation([19.0, 24.5, 22.0], (20.0, 23.5)) == pytest.approx(2.0)
    assert comfort_violation(27.0, (23.0, 26.0)) == pytest.approx(1.0)
    assert linear_reward(4000.0, [19.4], (20.0, 23.5)) == pytest.approx(-0.2 - 0.3)
    assert linear_reward([1000.0, 3000.0], [19.4], (20.0, 23.5)) == pytest.approx(-0.5)   # meters are summed
    assert linear_reward(0.0, [22.0], (20.0, 23.5)) == 0.0
    assert linear_reward(2000.0, [18.0], (20.0, 23.5), energy_weight=1.0) == pytest.approx(-0.2)
    with pytest.raises(ValueError, match="low <= high"):
        comfort_violation([21.0], (23.5, 20.0))
    with pytest.raises(ValueError, match="energy_weight must be in"):
        linear_reward(1.0, [21.0], (20.0, 23.5), energy_weight=1.5)


def test_linear_reward_is_sinergyms():
    rewards = pytest.importorskip("sinergym.utils.rewards")
    rf = rewards.LinearReward(["t1", "t2"], ["p"], (20.0, 23.5), (23.0, 26.0), energy_weight=0.5,
                              lambda_energy=1e-4, lambda_temperature=1.0)
    for month, day, t1, t2, p in [(1, 5, 19.2, 24.0, 4000.0), (7, 1, 22.0, 26.5, 1200.0), (6, 1, 23.0, 26.0, 0.0),
                                  (12, 31, 21.0, 22.0, 2500.0)]:
        band = (23.0, 26.0) if (6, 1) <= (month, day) <= (9, 30) else (20.0, 23.5)
        expected = rf({"month": month, "day_of_month": day, "t1": t1, "t2": t2, "p": p})[0]
        assert linear_reward(p, [t1, t2], band) == pytest.approx(expected, abs=1e-12)


def test_bad_inputs_name_the_fix():
    with pytest.raises(ValueError, match=r"building must be one of \['5zone', 'datacenter', 'warehouse'\]"):
        sinergym_id("office")
    with pytest.raises(ValueError, match=r"weather for 'warehouse' must be one of \['cool', 'hot', 'mixed'\]"):
        sinergym_id("warehouse", "chicago")
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_period(((3, 1), (2, 1)))
    with pytest.raises(ValueError, match="impossible date"):
        parse_period(((2, 30), (3, 1)))
    with pytest.raises(ValueError, match="period must be one of"):
        parse_period("fortnight")
    with pytest.raises(ValueError, match="period must be a name"):
        parse_period((1, 2, 3))


@pytest.fixture(scope="module")
def zone_env(tmp_path_factory):
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))  # anything Sinergym leaves behind would land here
    env = make_building_env("5zone", "hot", period=TWO_DAYS, seed=0)
    yield env
    env.close()
    os.chdir(cwd)


def test_env_skips_dummy_step_and_reports_energy(zone_env):
    assert isinstance(zone_env.action_space, gym.spaces.Discrete) and zone_env.action_space.n == 10
    assert zone_env.timesteps_per_hour == 4
    stats = run_episode(zone_env, constant_policy(8))
    assert stats.steps == 2 * 24 * 4 - 1                    # 192 steps, minus the dummy last one
    assert stats.energy_kwh > 0 and stats.temperatures.shape == (stats.steps,)
    assert stats.ret < 0 and 0 <= stats.comfort_violation_hours <= 48


def test_expert_and_action_checks(zone_env):
    table = discrete_setpoints(zone_env)
    assert table.shape == (10, 2) and np.allclose(table[8], [20, 23.25])
    expert = rule_based_expert(zone_env)
    obs, _ = zone_env.reset(seed=0)
    assert expert(obs) == 8                                  # winter band 20-23.5 -> nearest pair (20, 23.25)
    with pytest.raises(ValueError, match=r"action must be an int in \[0, 10\)"):
        zone_env.step(10)
    with pytest.raises(ValueError, match="action must be an int"):
        zone_env.step(1.5)


def test_close_removes_output_and_leaves_cwd_clean(tmp_path):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        env = make_building_env("datacenter", "mixed", period=((1, 1), (1, 1)))
        out = env.output_dir
        assert env.timesteps_per_hour == 6                    # the registered 6 steps/hour survived the merge
        assert env.unwrapped.model.timestep_per_episode == 24 * 6
        assert out.exists()
        env.close()
        assert not out.exists()
        assert list(Path(tmp_path).iterdir()) == []
    finally:
        os.chdir(cwd)


def test_imitation_helpers():
    from genrl_lib.protocols.buildings import imitation_periods, observation_scaler, random_policy

    demo, ev = imitation_periods("week")
    assert parse_period(demo) == (1, 1, 1991, 7, 1, 1991) and parse_period(ev) == (8, 1, 1991, 14, 1, 1991)
    assert imitation_periods("month") == ("january", "february")
    with pytest.raises(ValueError, match=r"period must be one of \['week', 'month', 'year'\]"):
        imitation_periods("decade")
    x = np.array([[1.0, 10.0, 100.0], [1.0, 30.0, 300.0]])
    shift, scale = observation_scaler(x)
    assert shift.shape == scale.shape == (3,) and shift.dtype == np.float32
    assert np.allclose(shift, [1, 20, 200]) and np.allclose(scale, [1, 10, 100])   # constant column: floor 1
    with pytest.raises(ValueError, match=r"observations must be a non-empty \(N, d\) array"):
        observation_scaler(np.zeros(3))
    with pytest.raises(ValueError, match="floor must be positive"):
        observation_scaler(x, floor=0)
    env = gym.make("CartPole-v1")
    a, b = random_policy(env, seed=3), random_policy(env, seed=3)
    draws = [a(None) for _ in range(50)]
    assert draws == [b(None) for _ in range(50)] and set(draws) == {0, 1}
    with pytest.raises(TypeError, match="discrete=True"):
        random_policy(gym.make("Pendulum-v1"))


def test_select_expert_picks_the_best_candidate_on_its_period(zone_env):
    from genrl_lib.protocols.buildings import select_expert

    name, policy, returns = select_expert(zone_env, constants=(2, 8))
    assert set(returns) == {"rule-based", "constant 2", "constant 8"}
    assert returns[name] == max(returns.values())
    assert run_episode(zone_env, policy).ret == pytest.approx(returns[name])   # deterministic simulation
    with pytest.raises(ValueError, match=r"constants must be ints in \[0, 10\)"):
        select_expert(zone_env, constants=[10])


def test_standardize_observations_and_policy():
    from genrl_lib.protocols.buildings import StandardizedPolicy, standardize_observations

    env = gym.make("CartPole-v1")
    shift, scale = np.array([1, 0, 0, 0], np.float32), np.array([2, 1, 1, 4], np.float32)
    wrapped = standardize_observations(env, shift, scale)
    raw, _ = env.reset(seed=0)
    obs, _ = wrapped.reset(seed=0)
    assert obs.dtype == np.float32 and np.allclose(obs, (raw - shift) / scale)
    assert wrapped.observation_space.shape == (4,) and np.isinf(wrapped.observation_space.high).all()
    with pytest.raises(ValueError, match="must have 4 entries"):
        standardize_observations(env, shift[:3], scale)
    with pytest.raises(ValueError, match="obs_scale must be positive"):
        standardize_observations(env, shift, np.zeros(4))

    class Echo:                                    # predict returns the standardized observation it was given
        def predict(self, x, deterministic=True):
            return x, None

    pi = StandardizedPolicy(Echo(), shift, scale)
    assert np.allclose(pi.predict(raw)[0], (raw - shift) / scale)
    batch = np.stack([raw, raw + 1])
    assert pi.predict(batch)[0].shape == (2, 4)


def test_train_ppo_controller_on_two_days(zone_env):
    from genrl_lib.protocols.buildings import PPO_CONTROLLER_HP, train_ppo_controller

    obs, _ = zone_env.reset(seed=0)
    shift, scale = obs.astype(np.float32), np.ones_like(obs, dtype=np.float32)
    pi = train_ppo_controller(zone_env, shift, scale, 256, seed=0, n_steps=128)
    assert pi.agent.num_timesteps == 256 and pi.agent.config.n_epochs == PPO_CONTROLLER_HP["n_epochs"]
    assert len(pi.agent.history["episode_returns"]) == 1      # a 191-step episode ended inside the 256 steps
    stats = run_episode(zone_env, pi)                          # acts on raw observations
    assert stats.steps == 191 and set(np.unique(stats.actions)) <= set(range(10))
    again = train_ppo_controller(zone_env, shift, scale, 256, seed=0, n_steps=128)
    assert run_episode(zone_env, again).ret == pytest.approx(stats.ret)   # seeded: the same controller
    with pytest.raises(ValueError, match="observation_scaler"):
        train_ppo_controller(zone_env, shift[:3], scale[:3], 256)


def test_gail_settings_are_valid_gail_and_ppo_fields():
    from genrl_lib.gail import Config as GAILConfig
    from genrl_lib.gail import _split_hyperparameters
    from genrl_lib.ppo import Config as PPOConfig
    from genrl_lib.protocols.buildings import GAIL_HP

    gail_kw, ppo_kw = _split_hyperparameters(dict(GAIL_HP))
    assert GAILConfig(**gail_kw).validate().disc_steps == 5
    assert PPOConfig(**ppo_kw).validate().n_steps == 128


def test_expert_by_name_rebuilds_select_experts_choice(zone_env):
    from genrl_lib.buildings import rule_based_expert
    from genrl_lib.protocols.buildings import expert_by_name

    obs, _ = zone_env.reset(seed=0)
    assert expert_by_name(zone_env, "constant 7")(obs) == 7
    assert expert_by_name(zone_env, "rule-based")(obs) == rule_based_expert(zone_env)(obs)
    for bad in ("constant", "constant x", "ppo"):
        with pytest.raises(ValueError, match="'rule-based' or 'constant <action>'"):
            expert_by_name(zone_env, bad)
