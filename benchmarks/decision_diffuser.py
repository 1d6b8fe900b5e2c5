#!/usr/bin/env python
"""The Decision Diffuser on a mixed Pendulum Minari dataset, beside d3rlpy's Decision Transformer, IQL and BC.

    make peer-d3rlpy    # d3rlpy beside the lock, in _build/peer-d3rlpy (see below); the script finds it there
    OMP_NUM_THREADS=1 python benchmarks/decision_diffuser.py --seeds 5 --jobs 2 --out _build/benchmarks/decision_diffuser

One dataset (``genrl_lib.offline.make_mixed_dataset(30, 30, 30, seed=0)``: random, medium and expert episodes of
Pendulum-v1), written as a Minari dataset under ``--out`` and read back from it; every algorithm trains on that
copy. Per seed ``k``: ours (Decision Diffuser; BC on all data; BC on the top 10 % of episodes) and the peer's
(d3rlpy 2.8.1: DecisionTransformer, IQL, BC), each trained with seed ``k`` and evaluated on the same fresh episodes
(reset seeds ``5000 + i``, never in the dataset). Scores are D4RL's normalized scores
(0 = the random policy, 100 = the expert, both measured on fresh episodes and stored in the Minari metadata).
Return conditioning: the Decision Diffuser asked for low, middle and high returns (0.1, 0.5, 0.9).
Training wall time is measured per algorithm (one torch thread); the ratio is ours / the peer's DT.

d3rlpy 2.8.1 pins gymnasium==1.0.0, the book pins 1.4.0: pip cannot install both in one environment (and
``pip check`` fails if forced), so d3rlpy lives outside the lock, in a folder put first on ``PYTHONPATH``
(``make peer-d3rlpy``: ``pip install --no-deps --target _build/peer-d3rlpy`` d3rlpy and its pure-Python
dependencies). It imports and trains beside gymnasium 1.4.0 (it only uses gymnasium for its own evaluation helpers,
which this script does not call). Tuning was done on seeds 100+, never on the benchmark's seeds.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

from _cli import parse, positive_int  # standard library only: benchmarks/_cli.py


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked (usage error, exit status 2) before torch and genrl_lib are imported."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=positive_int, default=5)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--jobs", type=positive_int, default=1, help="seeds run in this many processes")
    p.add_argument("--episodes", type=positive_int, default=10, help="evaluation episodes per algorithm and seed")
    p.add_argument("--no-peer", action="store_true", help="skip d3rlpy (ours only)")
    p.add_argument("--smoke", action="store_true", help="tiny budgets (a minute): checks the script runs, no figures")
    p.add_argument("--out", type=Path, default=Path("_build/benchmarks/decision_diffuser"))
    return parse(p, argv)


if __name__ == "__main__":
    parse_args()   # a bad argument stops here, before the heavy imports below

import numpy as np
import torch

import genrl_lib
from genrl_lib.decision_diffuser import DDConfig, DecisionDiffuser
from genrl_lib.io import save_json
from genrl_lib.numerics import describe as describe_numerics
from genrl_lib.offline import (
    BCRegressorConfig,
    ContinuousBC,
    load_minari,
    make_mixed_dataset,
    minari_reference_scores,
    rollout_returns,
    save_minari,
    top_episodes,
)
from genrl_lib.seeding import single_thread

DATASET_ID = "genrl/pendulum/mixed-v0"
DATASET = dict(n_random=30, n_medium=30, n_expert=30, seed=0)
DD = dict(horizon=8, steps=2500)                    # the rest: DDConfig's defaults (inverse_span 3, guidance 3)
BC = dict(net_arch=(256, 256), steps=1500)
TARGETS = {"low": 0.1, "middle": 0.5, "high": 0.9}
EVAL_SEED = 5000
# d3rlpy: small networks and budgets of the same order as ours (a CPU with one thread)
DT = dict(batch_size=64, context_size=10, num_layers=1, learning_rate=1e-4, max_timestep=201, steps=1000, hidden=64)
IQL = dict(batch_size=256, steps=1000)
D3BC = dict(batch_size=256, steps=1500)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def ours(seed: int, data, ref, episodes: int) -> dict:
    from genrl_lib.offline import normalized_score
    out = {}
    dd = DecisionDiffuser("Pendulum-v1", DDConfig(seed=seed, **DD))
    _, secs = _timed(lambda: dd.learn(data, progress_bar=False))
    t0 = time.perf_counter()
    cond = {name: rollout_returns(dd, episodes, seed=EVAL_SEED, target=y) for name, y in TARGETS.items()}
    out["decision_diffuser"] = {"train_seconds": secs, "eval_seconds": time.perf_counter() - t0,
                                "returns": cond["high"].tolist(), "score": normalized_score(cond["high"].mean(), *ref),
                                "conditioning": {k: {"target": TARGETS[k], "mean_return": float(v.mean()),
                                                     "score": normalized_score(v.mean(), *ref)}
                                                 for k, v in cond.items()}}
    for name, subset in (("bc_all", data), ("bc_top10", top_episodes(data, 0.1))):
        bc = ContinuousBC("Pendulum-v1", BCRegressorConfig(seed=seed, **BC))
        _, secs = _timed(lambda bc=bc, subset=subset: bc.learn(subset, progress_bar=False))
        r = rollout_returns(bc, episodes, seed=EVAL_SEED)
        out[name] = {"train_seconds": secs, "returns": r.tolist(), "score": normalized_score(r.mean(), *ref)}
    return out


def peer(seed: int, data, ref, episodes: int) -> dict:
    import d3rlpy
    import gymnasium as gym

    from genrl_lib.offline import normalized_score
    mdp = d3rlpy.dataset.MDPDataset(observations=data.observations, actions=data.actions, rewards=data.rewards,
                                    terminals=data.terminations.astype(np.float32),
                                    timeouts=data.truncations.astype(np.float32),
                                    action_space=d3rlpy.constants.ActionSpace.CONTINUOUS)
    fit = dict(logger_adapter=d3rlpy.logging.NoopAdapterFactory(), show_progress=False, save_interval=10 ** 9)
    out = {}
    d3rlpy.seed(seed)
    dt_cfg = {k: v for k, v in DT.items() if k not in ("steps", "hidden")}
    dt = d3rlpy.algos.DecisionTransformerConfig(**dt_cfg, encoder_factory=d3rlpy.models.VectorEncoderFactory(
        [DT["hidden"]])).create(device="cpu:0")
    _, secs = _timed(lambda: dt.fit(mdp, n_steps=DT["steps"], n_steps_per_epoch=DT["steps"], **fit))
    r = []
    for i in range(episodes):           # DT conditions on the expert's return-to-go, as in the paper
        env, w = gym.make("Pendulum-v1"), dt.as_stateful_wrapper(target_return=float(ref[1]))
        o, _ = env.reset(seed=EVAL_SEED + i)
        rew, done, ret = 0.0, False, 0.0
        while not done:
            o, rew, term, trunc, _ = env.step(w.predict(o, rew))
            ret, done = ret + float(rew), term or trunc
        r.append(ret)
    out["d3rlpy_dt"] = {"train_seconds": secs, "returns": r, "score": normalized_score(np.mean(r), *ref)}
    for name, cfg, make in (("d3rlpy_iql", IQL, d3rlpy.algos.IQLConfig), ("d3rlpy_bc", D3BC, d3rlpy.algos.BCConfig)):
        d3rlpy.seed(seed)
        algo = make(batch_size=cfg["batch_size"]).create(device="cpu:0")
        _, secs = _timed(lambda algo=algo, n=cfg["steps"]: algo.fit(mdp, n_steps=n, n_steps_per_epoch=n, **fit))

        class _P:
            def __init__(self, algo):
                self.algo = algo

            def predict(self, observation, **_):
                return self.algo.predict(np.asarray(observation, np.float32)), None
        r = rollout_returns(_P(algo), episodes, seed=EVAL_SEED)
        out[name] = {"train_seconds": secs, "returns": r.tolist(), "score": normalized_score(r.mean(), *ref)}
    return out


def _smoke() -> None:
    """Shrink every budget (``--smoke``): the script's plumbing in about a minute."""
    DD["steps"], BC["steps"] = 30, 30
    for cfg in (DT, IQL, D3BC):
        cfg["steps"] = 10


@single_thread()
def run_seed(task) -> dict:
    seed, root, episodes, with_peer, smoke = task
    if smoke:
        _smoke()
    data = load_minari(DATASET_ID, root, env="Pendulum-v1")
    ref = minari_reference_scores(DATASET_ID, root)
    row = {"seed": seed, **ours(seed, data, ref, episodes)}
    if with_peer:
        row.update(peer(seed, data, ref, episodes))
    return row


def _ms(x) -> str:
    x = np.asarray(x, float)
    return f"{x.mean():7.1f} ± {x.std():5.1f}"


PEER_DIR = Path(__file__).resolve().parents[1] / "_build" / "peer-d3rlpy"


def _peer_path() -> None:
    """Put ``_build/peer-d3rlpy`` (``make peer-d3rlpy``) on the import path, here and in worker processes."""
    import os
    if PEER_DIR.is_dir() and str(PEER_DIR) not in sys.path:
        sys.path.insert(0, str(PEER_DIR))
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PEER_DIR), os.environ.get("PYTHONPATH")]))


def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.no_peer:
        _peer_path()
        try:
            import d3rlpy  # noqa: F401
        except ImportError:
            sys.exit("error: d3rlpy is not importable: run `make peer-d3rlpy` first (it installs d3rlpy into "
                     f"{PEER_DIR}), or pass --no-peer to run ours only")
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    root = args.out / "minari"
    ds = make_mixed_dataset(**DATASET)
    save_minari(ds.data, DATASET_ID, root, ref_min_score=ds.ref_min_score, ref_max_score=ds.ref_max_score,
                description="Pendulum-v1: 30 random, 30 medium (expert with 50% random actions), 30 expert episodes")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    if args.smoke:
        _smoke()
    tasks = [(s, str(root), args.episodes, not args.no_peer, args.smoke) for s in seeds]
    t0 = time.perf_counter()
    if args.jobs > 1:
        import multiprocessing as mp
        with mp.get_context("spawn").Pool(args.jobs) as pool:
            rows = pool.map(run_seed, tasks, chunksize=1)
    else:
        rows = [run_seed(t) for t in tasks]
    wall = time.perf_counter() - t0
    algos = [k for k in rows[0] if k != "seed"]
    print(f"{'algorithm':>18} {'normalized score':>17} {'train s':>15}")
    summary = {}
    for a in algos:
        sc = np.array([r[a]["score"] for r in rows])
        ts = np.array([r[a]["train_seconds"] for r in rows])
        summary[a] = {"score_mean": float(sc.mean()), "score_std": float(sc.std()), "score_min": float(sc.min()),
                      "score_max": float(sc.max()), "train_seconds_mean": float(ts.mean()),
                      "train_seconds_std": float(ts.std())}
        print(f"{a:>18} {_ms(sc):>17} {_ms(ts):>15}")
    dd = np.array([r["decision_diffuser"]["score"] for r in rows])
    bc = np.array([r["bc_all"]["score"] for r in rows])
    cond = np.array([[r["decision_diffuser"]["conditioning"][k]["mean_return"] for k in TARGETS] for r in rows])
    goals = {"dd_score_ge_80_mean": bool(dd.mean() >= 80), "dd_score_ge_80_seeds": int((dd >= 80).sum()),
             "dd_ge_bc_all_mean": bool(dd.mean() >= bc.mean()), "dd_ge_bc_all_seeds": int((dd >= bc).sum()),
             "monotone_conditioning_seeds": int(((cond[:, 0] < cond[:, 1]) & (cond[:, 1] < cond[:, 2])).sum()),
             "n_seeds": len(rows)}
    if "d3rlpy_dt" in summary:
        s_dt = summary["d3rlpy_dt"]
        goals["dd_score_above_dt_mean"] = bool(summary["decision_diffuser"]["score_mean"] > s_dt["score_mean"])
        goals["train_time_ratio_dd_over_dt"] = summary["decision_diffuser"]["train_seconds_mean"] / \
            s_dt["train_seconds_mean"]
    print("goals:", goals)
    import importlib.metadata as md
    versions = {"genrl_lib": genrl_lib.__version__, "torch": torch.__version__, "numpy": np.__version__,
                "python": platform.python_version()}
    for pkg in ("gymnasium", "minari", "h5py", "d3rlpy"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    save_json(args.out / "result.json", {
        "command": " ".join([Path(sys.executable).name, *sys.argv]), "seeds": seeds, "wall_seconds": wall,
        "jobs": args.jobs, "episodes": args.episodes,
        "dataset": {"id": DATASET_ID, **DATASET, "ref_min_score": ds.ref_min_score, "ref_max_score": ds.ref_max_score,
                    "transitions": len(ds.data),
                    "tier_scores": {t: float(ds.normalized(ds.data.episode_returns()[ds.tiers == t]).mean())
                                    for t in ("random", "medium", "expert")}},
        "config": {"decision_diffuser": {**DDConfig(**DD).__dict__}, "dd_overrides": DD, "bc": BC, "targets": TARGETS,
                   "d3rlpy_dt": DT, "d3rlpy_iql": IQL, "d3rlpy_bc": D3BC},
        "summary": summary, "goals": goals, "per_seed": rows, "numeric_env": describe_numerics(),
        "versions": versions})


if __name__ == "__main__":
    main()
