"""Unit tests of genrl_lib.hql (fast: tiny databases, a few GAN steps)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from genrl_lib.hql import (
    HQL,
    BatchEvaluator,
    ExpertDatabase,
    HQLConfig,
    build_expert_database,
    check_discrete_env,
    check_q_tables,
    exact_returns,
    greedy_agreement,
    mean_pairwise_distance,
    nearest_expert,
    optimal_actions,
    reachable_states,
    table_distances,
)
from genrl_lib.tabular import expected_return, greedy_policy, value_iteration

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def taxi():
    return gym.make("Taxi-v4")


@pytest.fixture(scope="module")
def db(taxi):
    return build_expert_database(taxi, n_experts=3, n_episodes=[800, 800, 200], seed=0, progress_bar=False)


def test_database_contents_and_exact_returns(taxi, db):
    assert db.q_tables.shape == (3, 500, 6) and len(db) == 3
    assert db.n_episodes.tolist() == [800, 800, 200] and db.seeds.tolist() == [0, 1, 2]
    for q, r in zip(db.q_tables, db.exact_returns):
        assert r == pytest.approx(expected_return(taxi, greedy_policy(q)))
    assert db.exact_returns[db.best] == db.exact_returns.max()
    assert db.meta["env_id"] == "Taxi-v4"
    sub = db.subset([0, 2])
    assert len(sub) == 2 and sub.seeds.tolist() == [0, 2]


def test_database_is_deterministic(taxi, db):
    again = build_expert_database(taxi, n_experts=1, n_episodes=800, seed=0, progress_bar=False)
    np.testing.assert_array_equal(again.q_tables[0], db.q_tables[0])


def test_database_save_load_roundtrip_without_pickle(db, tmp_path):
    path = db.save(tmp_path / "experts.npz")
    back = ExpertDatabase.load(path)
    np.testing.assert_array_equal(back.q_tables, db.q_tables)
    np.testing.assert_array_equal(back.exact_returns, db.exact_returns)
    assert back.meta == db.meta
    with np.load(path, allow_pickle=False) as z:          # the documented format, readable with plain NumPy
        assert z["q_tables"].shape == (3, 500, 6)
    np.savez(tmp_path / "foreign.npz", q_tables=np.zeros((1, 2, 2)))   # no genrl header
    with pytest.raises(ValueError, match="not a genrl_lib file"):
        ExpertDatabase.load(tmp_path / "foreign.npz")


def test_batch_evaluator_equals_tabular_expected_return(taxi, db):
    rng = np.random.default_rng(0)
    pols = np.concatenate([np.stack([greedy_policy(q) for q in db.q_tables]), rng.integers(0, 6, (2, 500))])
    got = exact_returns(taxi, pols)
    want = [expected_return(taxi, p) for p in pols]
    np.testing.assert_allclose(got, want, atol=1e-9)
    lake = gym.make("FrozenLake-v1")                        # stochastic transitions (3 successors)
    _, Q = value_iteration(lake)
    p = greedy_policy(Q)
    assert BatchEvaluator(lake)(p)[0] == pytest.approx(expected_return(lake, p))
    assert BatchEvaluator(lake, gamma=0.9, horizon=None)(p)[0] == pytest.approx(
        expected_return(lake, p, gamma=0.9, horizon=None))


def test_reachable_and_optimal_actions(taxi):
    reach = reachable_states(taxi)
    assert reach.shape == (500,) and 0 < reach.sum() < 500
    opt = optimal_actions(taxi)
    assert opt.shape == (500, 6) and opt.any(axis=1).all()
    _, Q = value_iteration(taxi)
    assert opt[np.arange(500), greedy_policy(Q)].all()


def test_metrics_shapes_and_values(db):
    pols = np.stack([greedy_policy(q) for q in db.q_tables])
    agree = greedy_agreement(pols, pols)
    assert agree.shape == (3, 3) and np.allclose(np.diag(agree), 1.0)
    d = table_distances(db.q_tables, db.q_tables)
    assert d.shape == (3, 3) and np.allclose(np.diag(d), 0.0, atol=1e-5)
    idx, dist = nearest_expert(db.q_tables[:2] + 0.1, db.q_tables)
    assert idx.tolist() == [0, 1] and np.allclose(dist, 0.1, atol=1e-6)
    assert mean_pairwise_distance(np.stack([np.zeros((2, 2)), np.ones((2, 2))])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 2"):
        mean_pairwise_distance(np.zeros((1, 2, 2)))


def test_hql_fit_generate_evaluate_deterministic(taxi, db):
    def run():
        hql = HQL(taxi, db, g_hidden=(32,), d_hidden=(32,), steps_per_epoch=2, batch_size=4, seed=3)
        hist = hql.fit(4, progress_bar=False, eval_every=2, eval_n=3,
                       callback=lambda h, epoch: {"called_at": epoch})
        return hql, hist
    hql, hist = run()
    assert len(hist["d_loss"]) == 8 and len(hist["evaluation"]) == 2
    assert hist["evaluation"][1]["epoch"] == 4 and hist["evaluation"][1]["called_at"] == 4
    tables = hql.generate(5, seed=0)
    assert tables.shape == (5, 500, 6) and np.isfinite(tables).all()
    pols = hql.greedy_policies(tables)
    assert pols.shape == (5, 500) and pols.dtype == np.int64
    rets = hql.evaluate(tables)
    np.testing.assert_allclose(rets, hql.evaluate(pols))
    np.testing.assert_allclose(rets[:1], expected_return(taxi, pols[0]))
    hql2, _ = run()
    np.testing.assert_array_equal(hql2.generate(5, seed=0), tables)


def test_hql_save_load_roundtrip(taxi, db, tmp_path):
    hql = HQL(taxi, db.q_tables, HQLConfig(g_hidden=(16,), d_hidden=(16,), steps_per_epoch=1, latent_dim=2))
    hql.fit(2, progress_bar=False)
    back = HQL.load(hql.save(tmp_path / "hql.pt"))
    np.testing.assert_array_equal(back.generate(3, seed=1), hql.generate(3, seed=1))
    np.testing.assert_array_equal(back.experts, hql.experts)
    assert back.config == hql.config and back.epochs_done == 2 and back.history["g_loss"] == hql.history["g_loss"]
    back.fit(1, progress_bar=False)                                 # training continues after loading
    with pytest.raises(ValueError):
        HQL.load(db.save(tmp_path / "experts.npz"))


def test_bad_input_errors_name_the_argument(taxi, db):
    with pytest.raises(ValueError, match="expert_q_tables.*mismatched shapes"):
        HQL(taxi, [np.zeros((500, 6)), np.zeros((500, 5))])
    bad = db.q_tables.copy()
    bad[1, 7, 2] = np.nan
    with pytest.raises(ValueError, match="expert_q_tables.*NaN"):
        HQL(taxi, bad)
    with pytest.raises(ValueError, match="expert_q_tables.*needs"):
        HQL(taxi, np.zeros((2, 16, 4)))
    with pytest.raises(ValueError, match="empty"):
        check_q_tables([])
    with pytest.raises(TypeError, match="observation_space must be Discrete"):
        HQL(gym.make("CartPole-v1"), db)
    with pytest.raises(TypeError, match="action_space must be Discrete"):
        check_discrete_env(_box_action_env())
    with pytest.raises(TypeError, match="unknown HQL hyperparameters"):
        HQL(taxi, db, hiden=3)
    with pytest.raises(ValueError, match="latent_dim"):
        HQL(taxi, db, latent_dim=0)
    with pytest.raises(ValueError, match="n_episodes"):
        build_expert_database(taxi, n_experts=2, n_episodes=[10, 10, 10], progress_bar=False)
    with pytest.raises(RuntimeError, match="fit"):
        HQL(taxi, db).generate(2)
    with pytest.raises(ValueError, match="policies"):
        exact_returns(taxi, np.full((2, 500), 7))


def _box_action_env():
    class BoxActions(gym.Env):
        observation_space = gym.spaces.Discrete(3)
        action_space = gym.spaces.Box(-1.0, 1.0, (1,))
    return BoxActions()
