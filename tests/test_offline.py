"""Unit tests for genrl_lib.offline: policies, mixed dataset, Minari round trip, scores, BC, batched rollouts."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from genrl_lib.demonstrations import Demonstrations, collect_demonstrations
from genrl_lib.offline import (
    BCRegressorConfig,
    ContinuousBC,
    EpsilonPolicy,
    PendulumSwingUp,
    RandomPolicy,
    concat_demonstrations,
    load_minari,
    make_mixed_dataset,
    minari_reference_scores,
    minari_root,
    normalized_score,
    rollout_returns,
    save_minari,
    top_episodes,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def small():
    return make_mixed_dataset(2, 2, 2, seed=0, n_reference=3)


def test_policies_shapes_and_expert_beats_random():
    env = gym.make("Pendulum-v1")
    obs, _ = env.reset(seed=0)
    for pol in (PendulumSwingUp(), RandomPolicy(env.action_space, 0), EpsilonPolicy(PendulumSwingUp(), env.action_space)):
        a, st = pol.predict(obs)
        assert a.shape == (1,) and st is None and env.action_space.contains(a.astype(np.float32))
        b, _ = pol.predict(np.stack([obs, obs, obs]))
        assert b.shape == (3, 1)
    r_exp = rollout_returns(PendulumSwingUp(), 4, seed=10)
    r_rnd = rollout_returns(RandomPolicy(env.action_space, 0), 4, seed=10)
    assert r_exp.mean() > -400 > r_rnd.mean()
    with pytest.raises(ValueError, match="observation"):
        PendulumSwingUp().predict(np.zeros(4))


def test_rollout_matches_sequential_evaluation():
    from genrl_lib.evaluation import evaluate_policy
    r = rollout_returns(PendulumSwingUp(), 3, seed=7)
    ev = evaluate_policy(PendulumSwingUp(), "Pendulum-v1", n_episodes=3, seed=7)
    assert np.allclose(r, ev.returns, atol=1e-3)


def test_mixed_dataset_tiers_and_scores(small):
    assert len(small.data) == 6 * 200 and len(small.tiers) == 6
    ret = small.data.episode_returns()
    assert ret[small.tiers == "expert"].mean() > ret[small.tiers == "random"].mean()
    assert small.ref_max_score > small.ref_min_score
    assert normalized_score(small.ref_max_score, small.ref_min_score, small.ref_max_score) == pytest.approx(100)
    assert normalized_score(np.array([-10.0, 0.0]), -10, 0).tolist() == [0.0, 100.0]
    with pytest.raises(ValueError, match="ref_max"):
        normalized_score(1.0, 0.0, 0.0)


def test_top_episodes_and_concat(small):
    top = top_episodes(small.data, 0.5)
    assert top.n_episodes == 3 and top.episode_returns().min() >= np.median(small.data.episode_returns()) - 1e-6
    both = concat_demonstrations([top, top])
    assert both.n_episodes == 6 and len(both) == 2 * len(top)
    with pytest.raises(ValueError, match="fraction"):
        top_episodes(small.data, 0.0)
    with pytest.raises(ValueError, match="empty"):
        concat_demonstrations([])


def test_minari_round_trip_in_an_explicit_folder(small, tmp_path, monkeypatch):
    monkeypatch.delenv("MINARI_DATASETS_PATH", raising=False)
    path = save_minari(small.data, "genrl/pendulum/test-v0", tmp_path, ref_min_score=small.ref_min_score,
                       ref_max_score=small.ref_max_score)
    assert str(path).startswith(str(tmp_path.resolve()))
    import os
    assert "MINARI_DATASETS_PATH" not in os.environ            # restored after the call
    back = load_minari("genrl/pendulum/test-v0", tmp_path, env="Pendulum-v1")
    for f in ("observations", "actions", "rewards", "next_observations", "terminations", "truncations"):
        assert np.allclose(getattr(back, f), getattr(small.data, f)), f
    assert back.env_id == "Pendulum-v1" and back.n_episodes == 6
    lo, hi = minari_reference_scores("genrl/pendulum/test-v0", tmp_path)
    assert (lo, hi) == pytest.approx((small.ref_min_score, small.ref_max_score))
    # the same loader feeds BC / GAIL: Demonstrations.from_minari
    assert len(Demonstrations.from_minari("genrl/pendulum/test-v0", tmp_path)) == len(small.data)


def test_minari_bad_inputs(small, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_minari("genrl/none-v0", tmp_path)
    save_minari(small.data, "genrl/pendulum/test-v0", tmp_path)
    with pytest.raises(ValueError, match="observation_space"):
        load_minari("genrl/pendulum/test-v0", tmp_path, env="MountainCarContinuous-v0")
    with pytest.raises(FileExistsError, match="overwrite"):
        save_minari(small.data, "genrl/pendulum/test-v0", tmp_path, overwrite=False)
    with pytest.raises(ValueError, match="root"):
        with minari_root(None):
            pass
    cart = collect_demonstrations("CartPole-v1", lambda o: 0, 1, seed=0)
    with pytest.raises(ValueError, match="spaces"):
        ContinuousBC("Pendulum-v1").learn(cart.select(np.ones(len(cart), bool)), progress_bar=False) if False else \
            ContinuousBC("Pendulum-v1").learn(small.data.__class__(**{**small.data.__dict__,
                                              "observation_space": gym.spaces.Box(-1, 1, (3,))}), progress_bar=False)


def test_bc_learns_the_expert_action(small):
    """Direction of learning: BC on expert episodes tracks the expert's action on held-out states."""
    expert_only = small.data.select(np.isin(small.data.episode_ids, np.flatnonzero(small.tiers == "expert")))
    bc = ContinuousBC("Pendulum-v1", BCRegressorConfig(net_arch=(64, 64), steps=400, seed=0))
    h = bc.learn(expert_only, progress_bar=False)
    assert h["loss"][-1] < h["loss"][0]
    s = expert_only.observations[::7]
    err = np.abs(bc.predict(s)[0] - PendulumSwingUp().predict(s)[0]).mean()
    assert err < 0.5
    assert bc.predict(s[0])[0].shape == (1,)
