"""Unit tests of genrl_lib.fast, the NumPy fast path: equal to the torch modules it stands in for, refusing bad
shapes, and really used by PPO, REINFORCE / actor-critic and DQN (fast: tiny networks, a few steps)."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

import genrl_lib.dqn
import genrl_lib.fast
import genrl_lib.ppo
from genrl_lib.dqn import DQN
from genrl_lib.fast import NUMPY_ACTIVATIONS, layer_pairs, linear_layers, mlp_forward, numpy_activation, numpy_forward
from genrl_lib.nets import mlp
from genrl_lib.pg import REINFORCE, ActorCritic
from genrl_lib.ppo import PPO

BOX4 = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
BOX2 = gym.spaces.Box(-2, 2, (2,), np.float32)


def _x(n: int = 9, d: int = 4, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _torch(module: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def test_the_formula_on_a_network_small_enough_to_write_down():
    """h = relu(x W1ᵀ + b1), out = h W2ᵀ + b2, with numbers exact in float32."""
    w1, b1 = np.array([[1.0, -1.0], [2.0, 0.5]], np.float32), np.array([0.5, -4.0], np.float32)
    w2, b2 = np.array([[1.0, 3.0]], np.float32), np.array([-1.0], np.float32)
    x = np.array([[2.0, 1.0], [0.0, 2.0]], np.float32)
    hs = mlp_forward([(w1, b1), (w2, b2)], x, NUMPY_ACTIVATIONS["relu"])
    assert len(hs) == 3 and hs[0] is x
    np.testing.assert_array_equal(hs[1], [[1.5, 0.5], [0.0, 0.0]])   # relu([1.5, 0.5]), relu([-1.5, -3])
    np.testing.assert_array_equal(hs[2], [[2.0], [-1.0]])
    assert all(h.dtype == np.float32 for h in hs)                    # float32 in, float32 out (no promotion)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("hidden", [(), (16,), (16, 8, 5)])
def test_numpy_equals_the_torch_mlp(activation, hidden):
    torch.manual_seed(0)
    net, x = mlp(4, 3, hidden, activation), _x()
    assert numpy_activation(net) == activation or not hidden
    hs = mlp_forward(linear_layers(net), x, NUMPY_ACTIVATIONS[activation])
    assert [h.shape for h in hs] == [(9, 4), *((9, k) for k in hidden), (9, 3)]
    np.testing.assert_allclose(hs[-1], _torch(net, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(numpy_forward(net)(x), hs[-1])


@pytest.mark.parametrize("activation", ["tanh", "relu", "elu"])
def test_on_torch_tensors_it_is_the_module_bit_for_bit(activation):
    """torch.addmm(b, h, Wᵀ) is what nn.Linear computes on a batch: DQN's pass equals q_net exactly."""
    torch.manual_seed(1)
    net = mlp(4, 2, (32, 32), activation)
    layers = [(m.weight, m.bias) for m in net if isinstance(m, nn.Linear)]
    x = torch.from_numpy(_x(17))
    with torch.no_grad():
        hs = mlp_forward(layers, x, net[1])
        assert torch.equal(hs[-1], net(x)) and torch.equal(hs[1], net[:2](x))


@pytest.mark.parametrize("action_space", [gym.spaces.Discrete(3), BOX2], ids=["Discrete", "Box"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_the_actors_each_algorithm_builds(action_space, activation):
    """PPO's actor and critic (views of its flat buffer), REINFORCE's and the actor-critic's actor, DQN's Q-network."""
    x = _x()
    ppo = PPO(None, observation_space=BOX4, action_space=action_space, activation=activation, net_arch=(16, 16))
    act = NUMPY_ACTIVATIONS[activation]
    for net, layers in ((ppo.actor, ppo._np_actor), (ppo.critic, ppo._np_critic)):
        assert all(np.shares_memory(w, ppo._flat) and np.shares_memory(b, ppo._flat) for w, b in layers)
        np.testing.assert_allclose(mlp_forward(layers, x, act)[-1], _torch(net, x), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(ppo._np_forward(layers, x)[-1], mlp_forward(layers, x, act)[-1])
    for cls in (REINFORCE, ActorCritic):
        agent = cls(None, net_arch=(16,), activation=activation)
        agent._build(BOX4, action_space)
        np.testing.assert_allclose(agent.policy.numpy_actor()(x), _torch(agent.policy.actor, x), rtol=1e-5, atol=1e-6)
    if isinstance(action_space, gym.spaces.Discrete):
        dqn = DQN(gym.make("CartPole-v1"), net_arch=(16, 16), activation=activation, seed=0)
        np.testing.assert_allclose(numpy_forward(dqn.q_net)(x), _torch(dqn.q_net, x), rtol=1e-5, atol=1e-6)
        with torch.no_grad():
            assert torch.equal(dqn._q_values(torch.from_numpy(x)), dqn.q_net(torch.from_numpy(x)))


def test_views_follow_in_place_updates_and_other_activations_fall_back_to_torch():
    torch.manual_seed(0)
    net, x = mlp(4, 3, (8,), "tanh"), _x()
    layers, forward = linear_layers(net), numpy_forward(net)
    assert np.shares_memory(layers[0][0], net[0].weight.detach().numpy())
    with torch.no_grad():
        net[0].weight.mul_(2.0)                           # what an optimizer step does: in place
    np.testing.assert_allclose(forward(x), _torch(net, x), rtol=1e-5, atol=1e-6)
    for other in (mlp(4, 3, (8,), "gelu"), nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(),
                                                         nn.Linear(8, 3)), nn.Sequential(nn.Linear(4, 3), nn.Tanh())):
        assert numpy_activation(other) is None
        np.testing.assert_array_equal(numpy_forward(other)(x), _torch(other, x))


def test_bad_shapes_are_refused_with_a_message_that_names_them():
    torch.manual_seed(0)
    layers, f = linear_layers(mlp(4, 3, (8,), "tanh")), NUMPY_ACTIVATIONS["tanh"]
    with pytest.raises(ValueError, match=r"x must be a batch \(B, 4\).*got shape \(4,\).*x\[None\]"):
        mlp_forward(layers, np.zeros(4, np.float32), f)
    with pytest.raises(ValueError, match=r"\(B, 4\).*got shape \(2, 5\)"):
        mlp_forward(layers, np.zeros((2, 5), np.float32), f)
    with pytest.raises(ValueError, match=r"\(B, 4\).*got shape \(2, 5\)"):      # torch tensors alike
        mlp_forward([(torch.from_numpy(w), torch.from_numpy(b)) for w, b in layers], torch.zeros(2, 5), torch.tanh)
    with pytest.raises(ValueError, match="at least one"):
        mlp_forward([], np.zeros((2, 4), np.float32), f)
    unchained = [layers[0], (np.zeros((3, 5), np.float32), layers[1][1])]      # layer 1 takes 5 inputs, gets 8
    with pytest.raises(ValueError, match="layer 1 takes 5 inputs but layer 0 gives 8"):
        mlp_forward(unchained, np.zeros((2, 4), np.float32), f)
    with pytest.raises(ValueError, match="layer 1 takes 5 inputs but layer 0 gives 8"):
        layer_pairs([a for pair in unchained for a in pair])
    with pytest.raises(ValueError, match="even number"):
        layer_pairs([layers[0][0], layers[0][1], layers[1][0]])
    with pytest.raises(ValueError, match=r"layer 0: weight must be \(out, in\) and bias \(out,\)"):
        layer_pairs([layers[0][1], layers[0][0]])


def test_the_callers_import_the_one_fast_path():
    assert genrl_lib.ppo.mlp_forward is genrl_lib.fast.mlp_forward
    assert genrl_lib.dqn.mlp_forward is genrl_lib.fast.mlp_forward


def _favour(action: int):
    """A stand-in for mlp_forward whose outputs with two columns (logits, Q-values) prefer ``action`` by far."""
    def forward(layers, x, activation):
        hs = mlp_forward(layers, x, activation)
        if hs[-1].shape[1] == 2:
            bias = [1e3, -1e3] if action == 0 else [-1e3, 1e3]
            hs[-1] = hs[-1] + (torch.tensor(bias) if isinstance(hs[-1], torch.Tensor) else np.float32(bias))
        return hs
    return forward


@pytest.mark.parametrize("action", [0, 1])
def test_ppo_acts_through_it(monkeypatch, action):
    monkeypatch.setattr(genrl_lib.ppo, "mlp_forward", _favour(action))
    seen = []
    agent = PPO("CartPole-v1", n_envs=2, n_steps=16, batch_size=32, seed=0,
                callback=lambda ro: seen.append(ro.actions.copy()) or False)   # stop before the update
    agent.learn(32, progress_bar=False)
    assert (seen[0] == action).all()


@pytest.mark.parametrize("cls", [REINFORCE, ActorCritic])
@pytest.mark.parametrize("action", [0, 1])
def test_policy_gradients_act_through_it(monkeypatch, cls, action):
    monkeypatch.setattr(genrl_lib.fast, "mlp_forward", _favour(action))
    agent = cls("CartPole-v1", seed=0)
    agent.learn(1, progress_bar=False)
    assert len(agent.memory) and (agent.memory.arrays()[1] == action).all()


@pytest.mark.parametrize("action", [0, 1])
def test_dqn_acts_through_it(monkeypatch, action):
    monkeypatch.setattr(genrl_lib.dqn, "mlp_forward", _favour(action))
    agent = DQN("CartPole-v1", exploration_initial_eps=0.0, exploration_final_eps=0.0, learning_starts=10_000,
                net_arch=(16,), seed=0)                                      # greedy, no gradient step
    agent.learn(40, progress_bar=False)
    assert agent.buffer.size and (agent.buffer.action[:agent.buffer.size] == action).all()
