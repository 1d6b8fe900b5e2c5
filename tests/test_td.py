"""genrl_lib.td (the one-step TD pieces) and genrl_lib.exercises (the checkers' handling of bad answers)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import genrl_lib.envs  # noqa: F401  (registers the jump chain)
from genrl_lib import exercises, td
from genrl_lib.tabular import q_learning

# ---- genrl_lib.td ------------------------------------------------------------------------------------------------


def test_q_learning_update_by_hand_and_not_in_place():
    q = np.array([[0.0, 1.0], [2.0, 4.0]])
    new = td.q_learning_update(q, 0, 0, 1.0, 1, False, 0.5, 0.9)
    assert new[0, 0] == pytest.approx(0.5 * (1.0 + 0.9 * 4.0))
    assert q[0, 0] == 0.0                                   # the input is untouched
    assert td.q_learning_update(q, 0, 1, -1.0, 1, True, 1.0, 0.9)[0, 1] == -1.0   # terminal: Y = r


def test_q_learning_update_replays_the_librarys_first_greedy_episode():
    chain = gym.make("genrl_lib/JumpChain-v0")
    run = q_learning(chain, 1, alpha=0.5, gamma=1.0, epsilon=0.0, seed=0, progress_bar=False)
    q = np.zeros_like(run.q_table)
    for s, s2, r, done in [(0, 1, 1.0, False), (1, 2, 1.0, False), (2, 3, -10.0, True)]:   # R, R, R into the trap
        q = td.q_learning_update(q, s, 0, r, s2, done, 0.5, 1.0)
    np.testing.assert_allclose(q, run.q_table)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"q_table": [1.0, 2.0]}, "q_table must have 2 dimension"),
    ({"state": 5}, "state must be an integer in [0, 2)"),
    ({"action": True}, "action must be an integer"),
    ({"alpha": 0.0}, "alpha must be in (0, 1]"),
    ({"gamma": 1.5}, "gamma must be in [0, 1]"),
    ({"reward": float("nan")}, "reward must be finite"),
])
def test_q_learning_update_refuses_bad_input_by_name(kwargs, fragment):
    args = {"q_table": np.zeros((2, 2)), "state": 0, "action": 0, "reward": 1.0, "next_state": 1,
            "terminated": False, "alpha": 0.5, "gamma": 0.9, **kwargs}
    with pytest.raises((ValueError, TypeError)) as e:
        td.q_learning_update(**args)
    assert fragment in str(e.value)


def test_epsilon_greedy_probs():
    np.testing.assert_allclose(td.epsilon_greedy_probs([1.0, 3.0, 3.0], 0.3), [0.1, 0.8, 0.1])  # tie: lowest
    np.testing.assert_allclose(td.epsilon_greedy_probs([0.0, 1.0], 1.0), [0.5, 0.5])
    with pytest.raises(ValueError, match="epsilon must be in"):
        td.epsilon_greedy_probs([0.0, 1.0], -0.1)
    with pytest.raises(ValueError, match="q_values must hold at least one"):
        td.epsilon_greedy_probs([], 0.1)


def test_dqn_target_plain_double_and_terminal():
    r = np.array([1.0, 2.0])
    q_t = np.array([[1.0, 5.0], [3.0, 0.0]])
    q_o = np.array([[9.0, 0.0], [0.0, 9.0]])
    np.testing.assert_allclose(td.dqn_target(r, q_t, [False, False], 0.5), [1 + 2.5, 2 + 1.5])
    np.testing.assert_allclose(td.dqn_target(r, q_t, [False, False], 0.5, q_o), [1 + 0.5, 2 + 0.0])
    np.testing.assert_allclose(td.dqn_target(r, q_t, [True, False], 0.5), [1.0, 3.5])
    with pytest.raises(ValueError, match="terminated must be 2 booleans"):
        td.dqn_target(r, q_t, [False], 0.5)
    with pytest.raises(ValueError, match="next_q_online must have next_q_target's shape"):
        td.dqn_target(r, q_t, [False, False], 0.5, q_o[:, :1])


def test_dqn_target_matches_the_dqn_agents_one_step_double_target():
    from genrl_lib.dqn import DQN

    agent = DQN("CartPole-v1", n_steps=1, seed=0)
    g = torch.Generator().manual_seed(0)
    s2 = torch.randn(8, 4, generator=g)
    r = torch.rand(8, generator=g)
    done = torch.tensor([0, 1, 0, 0, 1, 0, 0, 0], dtype=torch.bool)
    with torch.no_grad():
        last = agent.target_net[-1]                   # make the two networks disagree on the best action
        last.bias.add_(torch.tensor([1.0, -1.0]) * torch.randn(8, generator=g)[:2].abs().sum())
        last.weight.add_(torch.randn(last.weight.shape, generator=g))
        q_t, q_o = agent.target_net(s2).numpy(), agent.q_net(s2).numpy()
    # the agent's TD gradient (its own targets) equals the gradient of the Huber loss towards our targets
    y = td.dqn_target(r.numpy(), q_t, done.numpy(), agent.config.gamma, q_o)
    a = torch.as_tensor(q_o.argmax(axis=1))
    discount = agent.config.gamma * (~done).float()
    grads = agent._td_gradients(s2, a, r, s2, discount, use_autograd=True)
    expected = torch.autograd.grad(
        torch.nn.functional.smooth_l1_loss(agent.q_net(s2).gather(1, a[:, None]).squeeze(1),
                                           torch.as_tensor(y, dtype=torch.float32)), agent._params)
    for g_agent, g_ours in zip(grads, expected):
        torch.testing.assert_close(g_agent, g_ours, rtol=1e-4, atol=1e-5)
    y_plain = td.dqn_target(r.numpy(), q_t, done.numpy(), agent.config.gamma)   # and the non-Double one differs
    assert not np.allclose(y_plain, y)


def test_huber_loss_matches_torch():
    rng = np.random.default_rng(0)
    p, y = rng.normal(size=50) * 3, rng.normal(size=50)
    for delta in (1.0, 0.5):
        ref = torch.nn.functional.smooth_l1_loss(torch.tensor(p), torch.tensor(y), beta=delta).item()
        assert td.huber_loss(p, y, delta) == pytest.approx(ref)
    with pytest.raises(ValueError, match="same shape"):
        td.huber_loss([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="delta must be > 0"):
        td.huber_loss([1.0], [1.0], 0.0)


# ---- genrl_lib.exercises: what a student's wrong function gets -------------------------------------------------

def _right(q_values, epsilon):
    return td.epsilon_greedy_probs(q_values, epsilon)


@pytest.mark.parametrize("fn, fragments", [
    (lambda q, e: 1 / 0, ["raised ZeroDivisionError: division by zero", "the input", "q_values = [1., 3., 2.]",
                          "expected: [0.0333, 0.9333, 0.0333]"]),
    (lambda q, e: None, ["returned None (is a `return` missing?)"]),
    (lambda q, e: np.ones(2), ["returned shape (2,) instead of (3,)", "got:"]),
    (lambda q, e: np.full(len(q), np.nan), ["returned NaN, inf or complex values"]),
    (lambda q, e: "probs", ["returned a str, not a number"]),
    (lambda q, e: _right(q, e)[::-1], ["returned a wrong value", "got:", "expected:"]),
])
def test_checker_reports_bad_answers_without_raising(fn, fragments, capsys):
    result = exercises.check_epsilon_greedy_probs(fn)
    printed = capsys.readouterr().out
    assert result.passed is False and not result
    assert printed.strip() == result.message
    assert "Traceback" not in result.message and "genrl_lib" not in result.message
    for f in fragments:
        assert f in result.message, f"{f!r} not in:\n{result.message}"


def test_checker_accepts_torch_and_hints_integers():
    assert exercises.check_huber_loss(lambda p, y: torch.nn.functional.smooth_l1_loss(
        torch.as_tensor(p), torch.as_tensor(y)), quiet=True)
    result = exercises.check_q_update(lambda q, *a: q.astype(int), quiet=True)
    assert result.passed is False and "int64 values: start from a float table" in result.message


def test_checker_stub_and_non_callable():
    def stub(q_values, epsilon):
        raise NotImplementedError

    result = exercises.check_epsilon_greedy_probs(stub, quiet=True)
    assert result.passed is None and "not answered yet" in result.message
    with pytest.raises(TypeError, match="pass your function itself"):
        exercises.check_epsilon_greedy_probs(np.zeros(3))


def test_checkers_do_not_let_the_student_change_the_cases():
    def mutating(q, s, a, r, s_next, terminated, alpha, gamma):
        q[:] = 0.0
        return q

    exercises.check_q_update(mutating, quiet=True)
    assert exercises.check_q_update(lambda *args: td.q_learning_update(*args), quiet=True)


def test_every_checker_passes_the_library_itself():
    assert exercises.check_q_update(td.q_learning_update, quiet=True)
    assert exercises.check_epsilon_greedy_probs(td.epsilon_greedy_probs, quiet=True)
    assert exercises.check_td_target(lambda r, q, d, g, o=None: td.dqn_target(r, q, d, g, o), quiet=True)
    assert exercises.check_huber_loss(td.huber_loss, quiet=True)
    assert set(exercises.CHECKERS) == {n for n in exercises.__all__ if n.startswith("check_")}
