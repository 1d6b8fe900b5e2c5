import gymnasium as gym
import numpy as np
import pytest
import torch

from genrl_lib.policies import ActorCriticPolicy

BOX4 = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)


def test_built_from_spaces_with_shapes():
    pi = ActorCriticPolicy(BOX4, gym.spaces.Discrete(3, start=1), (8,), seed=0)
    assert pi.discrete and pi.log_std is None and (pi.obs_dim, pi.act_dim) == (4, 3)
    x = torch.randn(5, 4)
    v, logp, ent = pi.evaluate_actions(x, torch.tensor([0, 1, 2, 0, 1]))
    assert v.shape == logp.shape == ent.shape == (5,)
    box = ActorCriticPolicy(BOX4, gym.spaces.Box(-1, 1, (2,), np.float32), (8,), log_std_init=-1.0, seed=0)
    assert not box.discrete and torch.equal(box.log_std.data, torch.full((2,), -1.0))
    assert len(box.ordered_parameters()) == len(list(box.parameters()))
    assert box.ordered_parameters()[-1] is box.log_std and box.actor_parameters()[-1] is box.log_std


def test_same_seed_same_weights_and_init_kinds():
    a, b = (ActorCriticPolicy(BOX4, gym.spaces.Discrete(2), seed=3) for _ in range(2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert float(a.actor[-1].bias.detach().abs().sum()) == 0.0                     # orthogonal init: zero biases
    c = ActorCriticPolicy(BOX4, gym.spaces.Discrete(2), ortho_init=False, critic=False, seed=3)
    assert c.critic is None and float(c.actor[-1].bias.detach().abs().sum()) > 0   # torch's default init


def test_log_prob_and_entropy_match_torch_distributions():
    x = torch.randn(6, 4)
    pi = ActorCriticPolicy(BOX4, gym.spaces.Discrete(3), seed=1)
    a = torch.tensor([0, 1, 2, 2, 1, 0])
    logp, ent = pi.log_prob_entropy(x, a)
    dist = torch.distributions.Categorical(logits=pi.actor(x))
    torch.testing.assert_close(logp, dist.log_prob(a))
    torch.testing.assert_close(ent, dist.entropy())
    g = ActorCriticPolicy(BOX4, gym.spaces.Box(-1, 1, (2,), np.float32), log_std_init=-0.5, seed=1)
    acts = torch.randn(6, 2)
    logp, ent = g.log_prob_entropy(x, acts)
    normal = torch.distributions.Normal(g.actor(x), g.log_std.exp())
    torch.testing.assert_close(logp, normal.log_prob(acts).sum(1))
    torch.testing.assert_close(ent, normal.entropy().sum(1))


def test_sample_follows_the_softmax_and_predict_takes_the_mode():
    pi = ActorCriticPolicy(BOX4, gym.spaces.Discrete(3), seed=0)
    out = np.array([[0.0, np.log(2.0), np.log(7.0)]])                 # probabilities 0.1, 0.2, 0.7
    draws = pi.sample(np.repeat(out, 20_000, axis=0), np.random.default_rng(0))
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20_000, [0.1, 0.2, 0.7], atol=0.01)
    x = np.random.default_rng(1).normal(size=(7, 4)).astype(np.float32)
    with torch.no_grad():
        mode = pi.actor(torch.from_numpy(x)).argmax(1).numpy()
    assert np.array_equal(pi.predict(x, deterministic=True), mode)
    assert np.array_equal(pi.predict(x), mode)      # deterministic by default, like every agent's predict
    with pytest.raises(ValueError, match="rng"):
        pi.predict(x, deterministic=False)
    g = ActorCriticPolicy(BOX4, gym.spaces.Box(-1, 1, (2,), np.float32), log_std_init=np.log(0.5), seed=0)
    s = g.sample(np.zeros((20_000, 2), np.float32), np.random.default_rng(0))
    np.testing.assert_allclose(s.std(axis=0), [0.5, 0.5], atol=0.01)


def test_numpy_actor_equals_the_torch_actor():
    x = np.random.default_rng(2).normal(size=(9, 4)).astype(np.float32)
    for act in ("tanh", "relu", "gelu"):                  # gelu: the torch fallback
        pi = ActorCriticPolicy(BOX4, gym.spaces.Discrete(3), (16, 16), act, seed=0)
        with torch.no_grad():
            np.testing.assert_allclose(pi.numpy_actor()(x), pi.actor(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_env_action_shifts_and_clips():
    pi = ActorCriticPolicy(BOX4, gym.spaces.Discrete(3, start=-1), seed=0)
    assert np.array_equal(pi.env_action(np.array([0, 2])), [-1, 1])
    g = ActorCriticPolicy(BOX4, gym.spaces.Box(-1, 1, (2,), np.float32), seed=0)
    np.testing.assert_array_equal(g.env_action(np.array([[3.0, -0.5]], np.float32)), [[1.0, -0.5]])


def test_nested_state_round_trip_and_mismatch():
    a = ActorCriticPolicy(BOX4, gym.spaces.Box(-1, 1, (2,), np.float32), seed=0)
    b = ActorCriticPolicy(BOX4, gym.spaces.Box(-1, 1, (2,), np.float32), seed=1)
    b.load_nested_state(a.nested_state())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    state = a.nested_state()
    del state["critic"]
    with pytest.raises(ValueError, match="critic"):
        b.load_nested_state(state)
    nc = ActorCriticPolicy(BOX4, gym.spaces.Discrete(2), critic=False, seed=0)
    assert nc.evaluate_actions(torch.zeros(1, 4), torch.tensor([0]))[0] is None
    with pytest.raises(ValueError, match="no critic"):
        nc.value(torch.zeros(1, 4))


def test_bad_spaces_are_refused_naming_the_argument():
    with pytest.raises(TypeError, match="observation_space"):
        ActorCriticPolicy(gym.spaces.Discrete(5), gym.spaces.Discrete(2))
    with pytest.raises(TypeError, match="action_space"):
        ActorCriticPolicy(BOX4, gym.spaces.MultiBinary(3))
    with pytest.raises(TypeError, match="net_arch"):
        ActorCriticPolicy(BOX4, gym.spaces.Discrete(2), 64)
