"""Unit tests of genrl_lib.dqn (short runs only: learning quality is measured by benchmarks/dqn_cartpole.py)."""

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch

import genrl_lib  # noqa: F401
from genrl_lib.dqn import DQN, DQNConfig, ReplayBuffer, linear_schedule
from genrl_lib.io import save_torch

torch.set_num_threads(1)  # as the Makefile does (OMP_NUM_THREADS=1): tiny ops are slower with more threads


def small(**kw):
    return dict(net_arch=(16,), learning_starts=50, train_freq=4, gradient_steps=1, batch_size=16,
                buffer_size=500, target_update_interval=20, **kw)


def test_learn_predict_shapes_and_records():
    agent = DQN(gym.make("CartPole-v1"), **small(seed=0)).learn(400, progress_bar=False)
    obs, _ = gym.make("CartPole-v1").reset(seed=0)
    action, state = agent.predict(obs, deterministic=True)
    assert isinstance(action, int) and action in (0, 1) and state is None
    batch, _ = agent.predict(np.stack([obs, obs, obs]))
    assert batch.shape == (3,) and batch.dtype == np.int64
    assert agent.num_timesteps == 400 and len(agent.episode_returns) == len(agent.episode_end_steps) > 0
    assert sum(agent.episode_returns) <= 400 and agent.train_seconds > 0


def test_seeded_runs_are_deterministic():
    def weights(seed):
        agent = DQN(gym.make("CartPole-v1"), **small(seed=seed)).learn(300, progress_bar=False)
        return torch.cat([p.flatten() for p in agent.q_net.parameters()]), agent.episode_returns
    (w1, r1), (w2, r2), (w3, _) = weights(1), weights(1), weights(2)
    assert torch.equal(w1, w2) and r1 == r2
    assert not torch.equal(w1, w3)


def test_gradient_step_fits_a_fixed_target():
    """With γ = 0 the target is r: repeated gradient steps drive Q(s, a) to the stored reward."""
    agent = DQN(gym.make("CartPole-v1"), net_arch=(32,), gamma=0.0, batch_size=8, learning_rate=1e-2, seed=0)
    agent.learn(1, progress_bar=False)   # builds buffer and optimizer
    buf = agent.buffer
    buf.size, buf.pos = 0, 0
    x = np.ones(4, dtype=np.float32)
    buf.add(x, 1, 3.0, x, 0.0)
    for _ in range(300):
        agent._gradient_step()
    q = agent.q_net(torch.from_numpy(x)[None])[0, 1].item()
    assert abs(q - 3.0) < 0.05


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("loss", ["huber", "mse"])
@pytest.mark.parametrize("double_dqn", [True, False])
def test_hand_written_td_gradient_equals_autograd(activation, loss, double_dqn):
    """The written-out backward pass gives autograd's gradient, for every parameter (weights and biases)."""
    agent = DQN(gym.make("CartPole-v1"), net_arch=(16, 8), activation=activation, loss=loss, double_dqn=double_dqn,
                batch_size=32, learning_starts=0, seed=0).learn(300, progress_bar=False)
    batch = agent.buffer.sample(32)
    ours, ref = agent._td_gradients(*batch), agent._td_gradients(*batch, use_autograd=True)
    assert [g.shape for g in ours] == [p.shape for p in agent.q_net.parameters()]
    for g, g_ref in zip(ours, ref):
        torch.testing.assert_close(g, g_ref, rtol=1e-5, atol=1e-7)
    assert any(g.abs().max() > 0 for g in ours)


def test_gradient_step_is_clipped_adam():
    """One _gradient_step = clip_grad_norm_(max_grad_norm) + torch.optim.Adam(fused) on the same minibatch."""
    agent = DQN(gym.make("CartPole-v1"), net_arch=(16,), learning_starts=0, batch_size=16, max_grad_norm=0.1,
                learning_rate=1e-2, seed=0).learn(100, progress_bar=False)
    ref = copy.deepcopy(agent.q_net)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=agent.current_learning_rate, fused=True)
    for p, m, v, t in zip(ref.parameters(), *agent._adam_state):
        ref_opt.state[p] = {"exp_avg": m.clone(), "exp_avg_sq": v.clone(), "step": t.clone()}
    state = agent.buffer.rng.bit_generator.state
    agent._gradient_step()
    agent.buffer.rng.bit_generator.state = state   # the reference sees the same minibatch
    batch = agent.buffer.sample(16)
    q_sa = ref(batch[0]).gather(1, batch[1][:, None]).squeeze(1)
    with torch.no_grad():
        q_next = agent.target_net(batch[3]).gather(1, ref(batch[3]).argmax(1, keepdim=True)).squeeze(1)
        y = batch[2] + batch[4] * q_next
    torch.nn.functional.smooth_l1_loss(q_sa, y).backward()
    assert torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.1) > 0.1   # the clip is active
    ref_opt.step()
    for p, p_ref in zip(agent.q_net.parameters(), ref.parameters()):
        torch.testing.assert_close(p, p_ref, rtol=1e-5, atol=1e-6)


def test_other_activations_train_through_autograd():
    agent = DQN(gym.make("CartPole-v1"), net_arch=(8,), activation="elu", learning_starts=0, batch_size=8, seed=0)
    before = [p.clone() for p in agent.q_net.parameters()]
    agent.learn(50, progress_bar=False)
    assert all(not torch.equal(b, p) for b, p in zip(before, agent.q_net.parameters()))
    x = torch.zeros(3, 4)
    torch.testing.assert_close(agent._q_values(x), agent.q_net(x))


def test_terminal_transitions_do_not_bootstrap():
    """terminated -> stored discount 0 -> y = r whatever the target network says."""
    agent = DQN(gym.make("CartPole-v1"), net_arch=(8,), gamma=0.99, batch_size=4, learning_rate=1e-2, loss="mse", seed=0)
    agent.learn(1, progress_bar=False)
    with torch.no_grad():
        for p in agent.target_net.parameters():
            p.fill_(5.0)   # a huge bootstrap value if it were used
    buf = agent.buffer
    buf.size, buf.pos = 0, 0
    x = np.zeros(4, dtype=np.float32)
    agent._store([(x, 0, 1.0)], x, terminated=True, flush=True)
    assert buf.size == 1 and buf.discount[0] == 0.0
    for _ in range(300):
        agent._gradient_step()
    assert abs(agent.q_net(torch.from_numpy(x)[None])[0, 0].item() - 1.0) < 0.05


@pytest.mark.parametrize("terminated", [False, True])
def test_n_step_transitions(terminated):
    """n = 3: r_1 + γ r_2 + γ² r_3 with bootstrap factor γ³; at the episode end the tail is flushed."""
    agent = DQN(gym.make("CartPole-v1"), net_arch=(8,), gamma=0.5, n_steps=3, seed=0)
    agent.learn(1, progress_bar=False)
    buf = agent.buffer
    buf.size, buf.pos = 0, 0
    xs = [np.full(4, i, dtype=np.float32) for i in range(4)]
    pending = [(xs[0], 0, 1.0), (xs[1], 1, 2.0), (xs[2], 0, 4.0)]
    agent._store(pending, xs[3], terminated=False, flush=False)        # a full window: one transition
    assert buf.size == 1 and len(pending) == 2
    assert np.isclose(buf.reward[0], 1 + 0.5 * 2 + 0.25 * 4) and np.isclose(buf.discount[0], 0.125)
    agent._store(pending, xs[3], terminated=terminated, flush=True)     # episode over: flush the rest
    assert buf.size == 3 and not pending
    np.testing.assert_allclose(buf.reward[1:3], [2 + 0.5 * 4, 4])
    np.testing.assert_allclose(buf.discount[1:3], [0, 0] if terminated else [0.25, 0.5])
    np.testing.assert_array_equal(buf.next_obs[:3], np.stack([xs[3]] * 3))


def test_soft_target_update():
    agent = DQN(gym.make("CartPole-v1"), net_arch=(8,), tau=0.5, seed=0)
    with torch.no_grad():
        for p in agent.q_net.parameters():
            p.fill_(2.0)
        for p in agent.target_net.parameters():
            p.fill_(0.0)
    agent._update_target()
    assert all(torch.allclose(p, torch.full_like(p, 1.0)) for p in agent.target_net.parameters())


def test_learning_rate_decays_to_end_fraction():
    """lr_t = learning_rate * (1 - (1 - lr_end_fraction) * t / T): the last gradient rounds take ~1 % steps."""
    agent = DQN(gym.make("CartPole-v1"), **small(seed=0, learning_rate=1e-3, lr_end_fraction=0.01))
    agent.learn(400, progress_bar=False)
    last_round = 396                                      # the last step with step % train_freq == 0
    expected = 1e-3 * linear_schedule(1.0, 0.01, 1.0, last_round / 400)
    assert np.isclose(agent.current_learning_rate, expected) and expected < 0.03 * 1e-3


def test_default_target_update_is_polyak_every_step():
    """The defaults average the target over ~1/τ steps instead of copying it (θ⁻ <- τ θ + (1 − τ) θ⁻)."""
    c = DQNConfig()
    assert c.target_update_interval == 1 and 0 < c.tau < 0.05
    agent = DQN(gym.make("CartPole-v1"), net_arch=(8,), seed=0)
    before = [p.clone() for p in agent.target_net.parameters()]
    with torch.no_grad():
        for p in agent.q_net.parameters():
            p.add_(1.0)
    agent._update_target()
    for b, p_t in zip(before, agent.target_net.parameters()):
        torch.testing.assert_close(p_t, b + c.tau)


def test_default_network_and_update_schedule(monkeypatch):
    """Defaults: a 128x128 Q-network and 4 gradient steps every 8 env steps once learning has started."""
    c = DQNConfig()
    assert c.net_arch == (128, 128) and (c.gradient_steps, c.train_freq) == (4, 8)
    agent = DQN(gym.make("CartPole-v1"), seed=0, learning_starts=100, batch_size=8)
    widths = [m.out_features for m in agent.q_net if isinstance(m, torch.nn.Linear)]
    assert widths == [128, 128, 2]
    calls = []
    monkeypatch.setattr(agent, "_gradient_step", lambda: calls.append(1))
    agent.learn(200, progress_bar=False)
    rounds = sum(1 for step in range(200) if step + 1 > 100 and step % 8 == 0)   # num_timesteps = step + 1
    assert len(calls) == 4 * rounds


def test_replay_buffer_ring_and_sample():
    buf = ReplayBuffer(3, 2, np.random.default_rng(0))
    for i in range(5):
        buf.add(np.full(2, i), i % 2, float(i), np.full(2, i + 1), 0.0 if i == 4 else 0.99)
    assert buf.size == 3 and sorted(buf.reward.tolist()) == [2.0, 3.0, 4.0]
    s, a, r, s2, disc = buf.sample(10)
    assert s.shape == (10, 2) and a.dtype == torch.int64 and r.shape == (10,) and disc.shape == (10,)
    assert set(r.tolist()) <= {2.0, 3.0, 4.0}


def test_linear_schedule():
    assert linear_schedule(1.0, 0.1, 0.5, 0.0) == 1.0
    assert np.isclose(linear_schedule(1.0, 0.1, 0.5, 0.25), 0.55)
    assert linear_schedule(1.0, 0.1, 0.5, 0.9) == 0.1


def test_save_load_roundtrip(tmp_path):
    env = gym.make("CartPole-v1")
    agent = DQN(env, **small(seed=3)).learn(200, progress_bar=False)
    path = agent.save(tmp_path / "dqn.pt")
    loaded = DQN.load(path)
    obs = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    np.testing.assert_array_equal(agent.predict(obs)[0], loaded.predict(obs)[0])
    assert loaded.config == agent.config and loaded.episode_returns == agent.episode_returns
    DQN.load(path, env=env).learn(50, progress_bar=False)   # can continue training with an env


def test_save_load_continue_equals_an_uninterrupted_run(tmp_path):
    """Resuming from a file gives the same weights, bit for bit, as continuing in memory: the file holds the
    replay buffer, Adam's moments, the step count, the learning rate and the generator (the env is copied as it was)."""
    straight = DQN(gym.make("CartPole-v1"), **small(seed=4)).learn(300, progress_bar=False)
    env_then = copy.deepcopy(straight.env)
    resumed = DQN.load(straight.save(tmp_path / "dqn.pt"), env=env_then)
    assert resumed.num_timesteps == 300 and resumed.buffer.size == straight.buffer.size
    straight.learn(300, progress_bar=False)
    resumed.learn(300, progress_bar=False)
    for a, b in zip([*straight.q_net.parameters(), *straight.target_net.parameters()],
                    [*resumed.q_net.parameters(), *resumed.target_net.parameters()]):
        assert torch.equal(a, b)
    assert straight.episode_returns == resumed.episode_returns


def test_discrete_observations_are_one_hot():
    agent = DQN(gym.make("FrozenLake-v1"), **small(seed=0)).learn(200, progress_bar=False)
    assert agent.q_net[0].in_features == 16
    assert agent.predict(5)[0] in range(4)


def test_bad_input(tmp_path):
    with pytest.raises(TypeError, match="Discrete action_space"):
        DQN(gym.make("Pendulum-v1"))
    with pytest.raises(TypeError, match="unknown DQN hyperparameter"):
        DQN(gym.make("CartPole-v1"), learning_rat=1e-3)
    with pytest.raises(TypeError, match="either config"):
        DQN(gym.make("CartPole-v1"), config=DQNConfig(), seed=1)
    with pytest.raises(ValueError, match="gamma"):
        DQNConfig(gamma=1.5)
    with pytest.raises(ValueError, match="tau"):
        DQNConfig(tau=0.0)
    with pytest.raises(ValueError, match="batch_size"):
        DQNConfig(batch_size=0)
    with pytest.raises(ValueError, match="n_steps"):
        DQNConfig(n_steps=0)
    with pytest.raises(ValueError, match="loss"):
        DQNConfig(loss="l1")
    with pytest.raises(ValueError, match="total_timesteps"):
        DQN(gym.make("CartPole-v1")).learn(0)
    other = save_torch(tmp_path / "other.pt", "ppo", {"w": torch.zeros(2)})
    with pytest.raises(ValueError, match="not a 'dqn'"):
        DQN.load(other)
    foreign = tmp_path / "foreign.pt"
    torch.save({"q_net": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match="not a genrl_lib model file"):
        DQN.load(foreign)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt"):
        DQN.load(junk)
    agent = DQN(gym.make("CartPole-v1"), **small(seed=0))
    path = agent.save(tmp_path / "ok.pt")
    with pytest.raises(ValueError, match="trained on"):
        DQN.load(path, env=gym.make("Acrobot-v1"))
    with pytest.raises(ValueError, match="no env"):
        DQN.load(path).learn(10)


def test_returns_at_steps():
    from genrl_lib.dqn import returns_at_steps
    out = returns_at_steps([10, 20, 30], [10, 30, 60], grid=[5, 10, 29, 30, 100], window=2)
    np.testing.assert_allclose(out, [np.nan, 10, 10, 15, 25])
    with pytest.raises(ValueError, match="equal length"):
        returns_at_steps([1, 2], [1], grid=[1])
