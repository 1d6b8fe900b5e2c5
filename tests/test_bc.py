import gymnasium as gym
import numpy as np
import pytest

from genrl_lib.bc import BCConfig, BehaviourCloning
from genrl_lib.demonstrations import collect_demonstrations
from genrl_lib.gail import GAIL
from genrl_lib.policies import ActorCriticPolicy
from genrl_lib.tabular import greedy_from_q, value_iteration


@pytest.fixture(scope="module")
def taxi():
    env = gym.make("Taxi-v4")
    pi = greedy_from_q(value_iteration(env)[1])
    return env, pi, collect_demonstrations(env, pi, n_episodes=6, seed=0)


def test_bc_fits_the_expert_on_its_states(taxi):
    env, pi, demos = taxi
    bc = BehaviourCloning(env, demos, seed=0).learn(progress_bar=False)
    assert bc.history["loss"][-1] < bc.history["loss"][0]
    assert bc.history["accuracy"][-1] == 1.0                      # one-hot states: it memorizes the data
    seen = np.unique(demos.observations)
    assert np.array_equal(bc.predict(seen)[0], pi[seen])
    assert isinstance(bc.predict(int(seen[0]))[0], int)


def test_bc_shares_gails_policy_class_and_saves(tmp_path, taxi):
    env, pi, demos = taxi
    bc = BehaviourCloning("Taxi-v4", demos, n_epochs=3, seed=1).learn(progress_bar=False)
    gail = GAIL("Taxi-v4", demos, seed=1, n_envs=1)
    assert isinstance(bc.policy, ActorCriticPolicy) and type(gail.ppo.policy) is type(bc.policy)
    gail.ppo.policy.load_nested_state(bc.policy.nested_state())     # a BC policy can start a GAIL/PPO run
    assert np.array_equal(gail.predict(np.arange(500))[0], bc.predict(np.arange(500))[0])
    gail.close()
    bc.save(tmp_path / "bc.pt")
    loaded = BehaviourCloning.load(tmp_path / "bc.pt")
    assert np.array_equal(loaded.predict(np.arange(500))[0], bc.predict(np.arange(500))[0])
    with pytest.raises(ValueError, match="loaded without demonstrations"):
        loaded.learn(progress_bar=False)
    with pytest.raises(ValueError, match="'bc'"):
        GAIL.load(tmp_path / "bc.pt")                                  # a file of another kind


def test_bc_deterministic_and_box_actions():
    demos = collect_demonstrations("Pendulum-v1", lambda o: np.clip([-0.5 * o[2]], -2, 2).astype(np.float32), 1, seed=0)
    runs = [BehaviourCloning("Pendulum-v1", demos, n_epochs=2, seed=4).learn(progress_bar=False) for _ in range(2)]
    assert runs[0].history["loss"] == runs[1].history["loss"]
    a = runs[0].predict(demos.observations[0])[0]
    assert a.shape == (1,) and runs[0].history["accuracy"] == []


def test_bc_bad_input(taxi):
    env, pi, demos = taxi
    with pytest.raises(ValueError, match="n_epochs"):
        BCConfig(n_epochs=0).validate()
    with pytest.raises(ValueError, match="observation_space"):
        BehaviourCloning("CartPole-v1", demos)
    with pytest.raises(TypeError, match="unknown BC hyperparameter"):
        BehaviourCloning(env, demos, epochs=3)


def test_bc_with_factored_taxi_observations(taxi):
    from genrl_lib.nets import TAXI_FACTORS
    env, pi, demos = taxi
    bc = BehaviourCloning("Taxi-v4", demos, seed=0, obs_encoding="factored", obs_factors=TAXI_FACTORS).learn(progress_bar=False)
    assert bc.policy.observation_space.shape == (19,) and bc.encoder.dim == 19
    assert bc.history["accuracy"][-1] > 0.9
    bc.close()
