"""Tests that pin the DIRECTION of learning, not only the plumbing: a flipped sign, a swapped label, a doubled
clip range or a switched-off Double DQN must fail here, in seconds. Each test computes what the update must do
by hand (or on data whose answer is known), independently of the library's code paths it checks."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from genrl_lib.demonstrations import collect_demonstrations
from genrl_lib.dqn import DQN
from genrl_lib.gail import GAIL, discriminator_loss
from genrl_lib.nets import mlp
from genrl_lib.ppo import PPO

SMALL = dict(n_envs=2, n_steps=64, batch_size=64, n_epochs=2)


# ---------------------------------------------------------------- GAIL's discriminator: D = P(learner)
@pytest.mark.parametrize("grad_penalty", [0.0, 10.0])
def test_discriminator_separates_separable_data_the_right_way_round(grad_penalty):
    """Learner pairs around +2, expert pairs around -2: descending the loss must make D(learner) -> 1 and
    D(expert) -> 0 (labels swapped would do the opposite)."""
    torch.manual_seed(0)
    d = mlp(3, 1, (16,), "tanh")
    opt = torch.optim.Adam(d.parameters(), lr=1e-2)
    pol, exp = torch.randn(64, 3) * 0.3 + 2.0, torch.randn(64, 3) * 0.3 - 2.0
    for _ in range(150):
        loss, _, _ = discriminator_loss(d, pol, exp, grad_penalty)
        opt.zero_grad()
        loss.backward()
        opt.step()
    margin = 0.3 if grad_penalty == 0 else 0.05     # the penalty keeps D smooth: it separates, less sharply
    with torch.no_grad():
        assert torch.sigmoid(d(pol)).min() > 0.5 + margin and torch.sigmoid(d(exp)).max() < 0.5 - margin


def test_discriminator_loss_is_the_binary_cross_entropy_by_hand():
    d = torch.nn.Linear(2, 1)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[1.0, 0.0]]))
        d.bias.zero_()
    pol, exp = torch.tensor([[2.0, 0.0]]), torch.tensor([[-1.0, 0.0]])     # z = 2 on the learner, -1 on the expert
    loss, z_p, z_e = discriminator_loss(d, pol, exp)
    expected = -np.log(1 / (1 + np.exp(-2.0))) - np.log(1 - 1 / (1 + np.exp(1.0)))   # −log σ(2) − log(1 − σ(−1))
    assert abs(loss.item() - expected) < 1e-6 and z_p.item() == 2.0 and z_e.item() == -1.0


@pytest.fixture(scope="module")
def cart_demos():
    return collect_demonstrations("CartPole-v1", lambda o: int(o[2] + 0.5 * o[3] > 0), n_episodes=3, seed=0)


def test_gail_discriminator_tells_the_learner_from_the_expert_and_rewards_the_expert(cart_demos):
    """Through GAIL's own training loop: after a few iterations D is right on both sides more often than not,
    and the learned reward is higher on the expert's pairs than on the untrained learner's."""
    g = GAIL("CartPole-v1", cart_demos, seed=0, disc_steps=50, disc_learning_rate=3e-3, grad_penalty=0.0, **SMALL)
    learner = collect_demonstrations("CartPole-v1", g, n_episodes=3, seed=1, deterministic=False)
    g.learn(256, progress_bar=False)     # seeds 0, 1, 2 gave accuracies >= 0.60 and reward gaps >= 2.8
    assert g.history["disc_acc_expert"][-1] > 0.55 and g.history["disc_acc_policy"][-1] > 0.55
    r_expert = g.reward(cart_demos.observations, cart_demos.actions).mean()
    r_learner = g.reward(learner.observations, learner.actions).mean()
    assert r_expert > r_learner + 1.0
    g.close()


# ---------------------------------------------------------------- PPO's clipped surrogate, both backends
def _ppo_batch(agent: PPO, ratio: float, n: int = 32):
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(n, 4)).astype(np.float32)
    acts = rng.integers(2, size=n).astype(np.int64)
    with torch.no_grad():
        logp = agent.policy.log_prob_entropy(torch.from_numpy(obs), torch.from_numpy(acts))[0].numpy()
    old = (logp - np.log(ratio)).astype(np.float32)          # π_θ / π_θold = ratio exactly, at the current θ
    adv = np.ones(n, np.float32)                             # Â > 0 everywhere
    return obs, acts, old, adv, np.zeros(n, np.float32)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_ppo_clipped_loss_and_its_gradient_by_hand(backend):
    """With Â > 0 and ρ = 1.3 > 1 + ε (ε = 0.2), min(ρÂ, clip(ρ, 1−ε, 1+ε)Â) = 1.2·Â: the loss is −1.2 and its
    gradient is 0, so the actor does not move (vf_coef = ent_coef = 0). With ρ = 0.9 (inside the clip range)
    the loss is −0.9 and the actor moves. A clip range doubled anywhere in the step gives −1.3 and a move."""
    for ratio, loss, moves in ((1.3, -1.2, False), (0.9, -0.9, True), (0.7, -0.7, True)):
        agent = PPO("CartPole-v1", seed=0, backend=backend, vf_coef=0.0, normalize_advantage=False, **SMALL)
        before = [p.detach().clone() for p in agent.actor.parameters()]
        stats = agent.minibatch_step(*_ppo_batch(agent, ratio), clip_range=0.2, learning_rate=1e-3)
        assert stats[0] == pytest.approx(loss, abs=1e-5), (ratio, stats)
        moved = any(not torch.equal(p, q) for p, q in zip(before, agent.actor.parameters()))
        assert moved == moves, (ratio, moved)
        assert stats[4] == (1.0 if abs(ratio - 1) > 0.2 else 0.0)           # clip fraction
        agent.close()


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_ppo_step_raises_the_probability_of_advantaged_actions(backend):
    """A positive advantage on an action must raise its probability after a step (a flipped sign lowers it)."""
    agent = PPO("CartPole-v1", seed=0, backend=backend, vf_coef=0.0, normalize_advantage=False, **SMALL)
    obs, acts, old, adv, ret = _ppo_batch(agent, 1.0)
    x, a = torch.from_numpy(obs), torch.from_numpy(acts)
    with torch.no_grad():
        before = agent.policy.log_prob_entropy(x, a)[0].mean()
    agent.minibatch_step(obs, acts, old, adv, ret, clip_range=0.2, learning_rate=1e-2)
    with torch.no_grad():
        assert agent.policy.log_prob_entropy(x, a)[0].mean() > before
    agent.close()


# ---------------------------------------------------------------- Double DQN's target on a two-state toy
def test_double_dqn_target_by_hand():
    """Linear Q-nets (no hidden layer) on two states s, s'. At s' the online net prefers action 0, the target
    net values action 1 more: Double DQN's target is r + γ Q⁻(s', argmax_a Q(s', a)) = r + γ Q⁻(s', 0) = 1 + 0.5·2,
    plain DQN's would be r + γ max_a Q⁻(s', a) = 1 + 0.5·10. The TD gradient (MSE) is checked against that target
    on both backward passes, with the library's default Config (Double DQN on)."""
    agent = DQN(gym.make("CartPole-v1"), net_arch=(), loss="mse", gamma=0.5, seed=0)
    assert agent.config.double_dqn
    s, s2 = torch.tensor([[1.0, 0.0, 0.0, 0.0]]), torch.tensor([[0.0, 1.0, 0.0, 0.0]])
    with torch.no_grad():
        for net, w in ((agent.q_net, [[0.0, 3.0, 0, 0], [0.0, 1.0, 0, 0]]),          # Q(s', ·) = (3, 1)
                       (agent.target_net, [[0.0, 2.0, 0, 0], [0.0, 10.0, 0, 0]])):   # Q⁻(s', ·) = (2, 10)
            net[0].weight.copy_(torch.tensor(w))
            net[0].bias.zero_()
    a, r, discount = torch.tensor([0]), torch.tensor([1.0]), torch.tensor([0.5])
    y = 1.0 + 0.5 * 2.0                                           # the Double DQN target
    q_sa = 0.0                                                    # Q(s, 0) = w_0 · s = 0
    expected_w = torch.zeros(2, 4)
    expected_w[0] = 2 * (q_sa - y) * s[0]                         # d/dW (Q(s,a) − y)² for a linear Q
    for use_autograd in (False, True):
        grads = agent._td_gradients(s, a, r, s2, discount, use_autograd=use_autograd)
        torch.testing.assert_close(grads[0], expected_w)
        torch.testing.assert_close(grads[1], torch.tensor([2 * (q_sa - y), 0.0]))


def test_ppo_loss_by_hand():
    """L = −mean(min(ρÂ, clip(ρ)Â)) + c_v mean((V − R̂)²) − c_e mean(H), on two transitions computed by hand."""
    from genrl_lib.policies import ActorCriticPolicy
    from genrl_lib.ppo import ppo_loss

    pi = ActorCriticPolicy(gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(2), (4,), seed=0)
    obs, acts = torch.tensor([[0.1, -0.2], [0.3, 0.4]]), torch.tensor([0, 1])
    with torch.no_grad():
        logp, ent = pi.log_prob_entropy(obs, acts)
        v = pi.value(obs)
    ratio = torch.tensor([1.5, 0.5])
    adv, ret = torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0])
    loss, parts = ppo_loss(pi, obs, acts, logp - ratio.log(), adv, ret, 0.2, vf_coef=0.5, ent_coef=0.1,
                           normalize_advantage=False)
    surrogate = (min(1.5, 1.2) * 1.0 + min(0.5, 0.8) * 1.0) / 2          # = (1.2 + 0.5) / 2
    expected = -surrogate + 0.5 * float(((v - ret) ** 2).mean()) - 0.1 * float(ent.mean())
    assert loss.item() == pytest.approx(expected, abs=1e-5)
    assert parts["policy_loss"].item() == pytest.approx(-0.85, abs=1e-5)


# ---------------------------------------------------------------- REINFORCE's loss
def test_policy_gradient_loss_by_hand_and_its_direction():
    """L = −mean(w log π(a|s)) − c_e mean(H); a step on it raises log π of positively weighted actions and lowers
    it for negatively weighted ones (a flipped sign would do the opposite)."""
    from genrl_lib.pg import policy_gradient_loss
    from genrl_lib.policies import ActorCriticPolicy

    pi = ActorCriticPolicy(gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(3), (8,), ortho_init=False, critic=False,
                           seed=0)
    s, a = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 2])
    w = torch.tensor([2.0, -1.0])
    with torch.no_grad():
        logp, ent = pi.log_prob_entropy(s, a)
    loss = policy_gradient_loss(pi, s, a, w, ent_coef=0.1)
    assert loss.item() == pytest.approx(float(-(w * logp).mean() - 0.1 * ent.mean()), abs=1e-6)
    opt = torch.optim.SGD(pi.actor_parameters(), lr=0.1)
    for i, (si, ai, wi) in enumerate(zip(s, a, w)):
        before = logp[i].item()
        opt.zero_grad()
        policy_gradient_loss(pi, si[None], ai[None], wi[None]).backward()
        opt.step()
        with torch.no_grad():
            after = pi.log_prob_entropy(si[None], ai[None])[0].item()
        assert (after > before) == (wi > 0), (i, before, after)
        with torch.no_grad():
            logp, _ = pi.log_prob_entropy(s, a)


# ---------------------------------------------------------------- DQN's TD target (the function the chapter shows)
def test_td_target_by_hand_and_used_by_the_training_loop(monkeypatch):
    """y = r + discount · Q⁻(s', a*): a* from the online net (Double DQN) or the target net's own max. Two
    transitions, the second terminated (discount 0). A target read from the online net, a max taken where Double
    DQN picks, or a dropped discount would each change a number here."""
    import genrl_lib.dqn as dqn_module
    from genrl_lib.dqn import td_target

    r, discount = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.0])
    next_q_target = torch.tensor([[1.0, 4.0], [3.0, 5.0]])           # Q⁻(s', ·)
    next_q_online = torch.tensor([[2.0, 1.0], [0.0, 9.0]])           # Q(s', ·; θ): picks a* = (0, 1)
    torch.testing.assert_close(td_target(r, discount, next_q_target, next_q_online),
                               torch.tensor([1.0 + 0.5 * 1.0, 2.0]))      # Q⁻(s', 0) = 1; terminated: y = r
    torch.testing.assert_close(td_target(r, discount, next_q_target),
                               torch.tensor([1.0 + 0.5 * 4.0, 2.0]))      # max_a' Q⁻(s', a') = 4
    # the training loop's gradient goes through this very function (the chapter shows its source)
    calls = []
    monkeypatch.setattr(dqn_module, "td_target", lambda *args: calls.append(len(args)) or td_target(*args))
    for double in (True, False):
        agent = DQN(gym.make("CartPole-v1"), net_arch=(8,), double_dqn=double, seed=0)
        s = torch.randn(4, 4)
        agent._td_gradients(s, torch.tensor([0, 1, 0, 1]), torch.ones(4), s, torch.full((4,), 0.5))
    assert calls == [4, 3]


# ---------------------------------------------------------------- the GAN's losses (generative models, HQL)
def _linear_discriminator():
    """D's logit ℓ(x) = x_0: ℓ = 2 on the real row below, −1 on the fake one."""
    d = torch.nn.Linear(2, 1)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[1.0, 0.0]]))
        d.bias.zero_()
    return d, torch.tensor([[2.0, 0.0]]), torch.tensor([[-1.0, 0.0]])


def test_gan_discriminator_loss_by_hand():
    """−log D(x) − log(1 − D(G(z))) with D = σ(ℓ): swapped labels would give −log σ(−2) − log σ(−1) instead."""
    from genrl_lib.generative import gan_discriminator_loss

    d, real, fake = _linear_discriminator()
    loss = gan_discriminator_loss(d(real).squeeze(1), d(fake).squeeze(1))
    expected = -np.log(1 / (1 + np.exp(-2.0))) - np.log(1 - 1 / (1 + np.exp(1.0)))
    assert loss.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("loss", ["vanilla", "non_saturating"])
def test_gan_generator_loss_by_hand_and_its_direction(loss):
    """Vanilla: log(1 − D(G(z))); non-saturating: −log D(G(z)). Descending either must raise D(G(z)), the
    probability that D takes the fake for real (a flipped sign would lower it)."""
    from genrl_lib.generative import gan_generator_loss

    d, _, fake = _linear_discriminator()
    d_fake = 1 / (1 + np.exp(1.0))                                        # D(G(z)) = σ(−1)
    expected = np.log(1 - d_fake) if loss == "vanilla" else -np.log(d_fake)
    assert gan_generator_loss(d(fake).squeeze(1), loss).item() == pytest.approx(expected, abs=1e-6)
    fake = fake.clone().requires_grad_(True)                             # the generator's output
    gan_generator_loss(d(fake).squeeze(1), loss).backward()
    with torch.no_grad():
        moved = fake - 0.5 * fake.grad
        assert torch.sigmoid(d(moved)).item() > d_fake


# ---------------------------------------------------------------- pixels: Karpathy's up/down policy and L_PG
def test_up_down_policy_learns_the_rewarded_move_from_its_own_samples():
    """A one-state bandit: "up" pays +1, "down" −1. Sampling from p(up), weighting log p(a) by the reward and
    descending L_PG must drive p(up) -> 1; a flipped sign or swapped up/down labels would drive it to 0."""
    from genrl_lib.pixels import PongPolicy, up_down_loss

    net = PongPolicy(hidden=8, in_features=4, seed=0)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    x, rng = torch.ones(32, 4), np.random.default_rng(0)
    for _ in range(60):
        p = net(x)
        up = rng.random(32) < p.detach().numpy()
        loss = up_down_loss(p, up, weights=np.where(up, 1.0, -1.0))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert net(x[:1]).item() > 0.9
