#!/usr/bin/env python
"""HQL (Hybridization Q-learning) on Taxi-v4 against the exact optimum (7.930) and the best expert, per seed.

    OMP_NUM_THREADS=1 python benchmarks/hql_taxi.py --seeds 5 --out _build/benchmarks/hql_taxi

For every seed k: build an expert database (``--experts`` Q-learning tables, seeds ``k·experts …``), train
HQL's vanilla GAN on it (GAN seed k), generate ``--samples`` tables (noise seed k) and evaluate each greedy
policy **exactly** (policy evaluation on the env's model ``P`` with the 200-step limit). Reported: the
database's exact returns (best, mean, min), wall times of the database and of the GAN, the generated
policies' exact return (mean, min), the fraction within ``--tol`` of the optimum, the ratio to the best
expert, and two references that need no GAN: the best expert and the per-entry mean of the expert tables.
There is no stable-baselines3 peer for HQL: the references are the optimum and the database.
Writes ``DIR/result.json`` and ``DIR/generated_seed<k>.npy`` ``(samples, 500, 6)`` (``numpy.load``, no pickle);
``--save-models`` also writes ``DIR/hql_seed<k>.pt`` (``genrl_lib.hql.HQL.load``).
Goal (issue 8): mean >= 7.85 and >= 95% of generated tables within 0.05 of 7.930, on 5 of 5 seeds.
Ablations (``--ablations``): 1 and 5 experts, under-trained experts, noise dimension 1 and 32, the non-saturating\ngenerator loss, on every seed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from _cli import parse, positive_int  # standard library only: benchmarks/_cli.py


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked (usage error, exit status 2) before torch and genrl_lib are imported."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=positive_int, default=5, help="seeds 0..N-1")
    p.add_argument("--out", type=Path, default=Path("_build/benchmarks/hql_taxi"))
    p.add_argument("--experts", type=positive_int, default=20)
    p.add_argument("--expert-episodes", type=positive_int, default=3000)
    p.add_argument("--epochs", type=positive_int, default=100)
    p.add_argument("--samples", type=positive_int, default=100)
    p.add_argument("--config", type=_json_object, default={},
                   help='HQLConfig overrides as JSON, e.g. \'{"lr_g": 2e-4}\'')
    p.add_argument("--ablations", action="store_true", help="also run the ablations on every seed")
    p.add_argument("--save-models", action="store_true")
    return parse(p, argv)


def _json_object(text: str) -> dict:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON ({e}): {text!r}") from None
    if not isinstance(obj, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object such as {{\"lr_g\": 2e-4}}, got {text!r}")
    return obj


if __name__ == "__main__":
    parse_args()   # a bad argument stops here, in a fraction of a second, before the heavy imports below

import gymnasium as gym
import numpy as np
import torch

import genrl_lib
from genrl_lib.hql import (
    HQL,
    HQLConfig,
    build_expert_database,
    mean_pairwise_distance,
    nearest_expert,
    reachable_states,
)
from genrl_lib.io import save_json
from genrl_lib.numerics import describe as describe_numerics
from genrl_lib.tabular import expected_return, greedy_policy, value_iteration

GOAL_MEAN, GOAL_FRACTION, TOL = 7.85, 0.95, 0.05


def run_one(env, db, cfg: HQLConfig, epochs: int, samples: int, noise_seed: int, optimum: float, reach) -> dict:
    """Train HQL on ``db`` and measure ``samples`` generated tables; returns a JSON-able row (+ the tables)."""
    t0 = time.perf_counter()
    hql = HQL(env, db, cfg)
    hql.fit(epochs, progress_bar=False)
    gan_seconds = time.perf_counter() - t0
    tables = hql.generate(samples, seed=noise_seed)
    rets = hql.evaluate(tables)
    _, d_near = nearest_expert(tables, db.q_tables, reach)
    mean_table = db.q_tables.mean(0, keepdims=True)
    d_mean = nearest_expert(tables, mean_table, reach)[1]
    row = {"gan_seconds": gan_seconds, "generated_mean": float(rets.mean()), "generated_std": float(rets.std()),
           "generated_min": float(rets.min()), "fraction_within_tol": float((rets >= optimum - TOL).mean()),
           "ratio_to_best_expert": float(rets.mean() / db.exact_returns.max()),
           "distance_to_nearest_expert": float(d_near.mean()), "distance_to_expert_mean": float(d_mean.mean()),
           "diversity_generated": mean_pairwise_distance(tables, reach),
           "diversity_experts": mean_pairwise_distance(db.q_tables, reach) if len(db) > 1 else 0.0,
           "final_d_real": float(np.mean(hql.history["d_real"][-10:])),
           "final_d_fake": float(np.mean(hql.history["d_fake"][-10:]))}
    return row, tables, hql


def main(argv=None) -> dict:
    args = parse_args(argv)
    HQLConfig(**args.config)   # unknown or bad overrides are refused here, before any expert is trained
    torch.set_num_threads(1)

    env = gym.make("Taxi-v4")
    optimum = expected_return(env, greedy_policy(value_iteration(env, gamma=1.0)[1]))
    reach = reachable_states(env)
    rows, ablations = [], []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        db = build_expert_database(env, args.experts, args.expert_episodes, seed=seed * args.experts,
                                   progress_bar=False)
        db_seconds = time.perf_counter() - t0
        cfg = HQLConfig(**{**args.config, "seed": seed})
        row, tables, hql = run_one(env, db, cfg, args.epochs, args.samples, seed, optimum, reach)
        mean_table_return = expected_return(env, greedy_policy(db.q_tables.mean(0)))
        row = {"seed": seed, "database_seconds": db_seconds, "experts_best": float(db.exact_returns.max()),
               "experts_mean": float(db.exact_returns.mean()), "experts_min": float(db.exact_returns.min()),
               "experts_fraction_within_tol": float((db.exact_returns >= optimum - TOL).mean()),
               "mean_of_experts_table_return": mean_table_return, **row}
        row["meets_goal"] = bool(row["generated_mean"] >= GOAL_MEAN and row["fraction_within_tol"] >= GOAL_FRACTION)
        rows.append(row)
        args.out.mkdir(parents=True, exist_ok=True)
        np.save(args.out / f"generated_seed{seed}.npy", tables)
        if args.save_models:
            hql.save(args.out / f"hql_seed{seed}.pt")
        print(f"seed {seed}: experts best {row['experts_best']:.3f} mean {row['experts_mean']:.3f} "
              f"({db_seconds:.1f} s); HQL {row['gan_seconds']:.1f} s: generated mean {row['generated_mean']:.3f} "
              f"min {row['generated_min']:.3f}, {100 * row['fraction_within_tol']:.0f}% within {TOL}", flush=True)
        if args.ablations:
            variants = [("experts=1", db.subset([0]), {}), ("experts=5", db.subset(range(5)), {}),
                        ("latent_dim=1", db, {"latent_dim": 1}), ("latent_dim=32", db, {"latent_dim": 32}),
                        ("non-saturating loss", db, {"loss": "non_saturating"})]
            t0 = time.perf_counter()
            weak = build_expert_database(env, args.experts, 1000, seed=seed * args.experts, progress_bar=False)
            variants.append(("under-trained experts (1000 episodes)", weak, {}))
            for name, sub, extra in variants:
                r, _, _ = run_one(env, sub, HQLConfig(**{**args.config, **extra, "seed": seed}), args.epochs,
                                  args.samples, seed, optimum, reach)
                r.update(seed=seed, variant=name, experts_best=float(sub.exact_returns.max()),
                         experts_mean=float(sub.exact_returns.mean()),
                         mean_of_experts_table_return=expected_return(env, greedy_policy(sub.q_tables.mean(0))))
                ablations.append(r)
                print(f"   {name}: experts best {r['experts_best']:.3f} mean {r['experts_mean']:.3f}; generated "
                      f"mean {r['generated_mean']:.3f} min {r['generated_min']:.3f}, "
                      f"{100 * r['fraction_within_tol']:.0f}% within {TOL}", flush=True)

    def stats(key):
        v = np.array([r[key] for r in rows])
        return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()), "max": float(v.max())}

    summary = {k: stats(k) for k in ("generated_mean", "generated_min", "fraction_within_tol", "experts_best",
                                     "ratio_to_best_expert", "database_seconds", "gan_seconds")}
    summary.update(optimum=optimum, seeds_meeting_goal=int(sum(r["meets_goal"] for r in rows)), n_seeds=len(rows))
    print("\n| seed | experts best / mean | DB s | GAN s | generated mean | min | within 0.05 | / best expert |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['seed']} | {r['experts_best']:.3f} / {r['experts_mean']:.3f} | {r['database_seconds']:.1f} | "
              f"{r['gan_seconds']:.1f} | {r['generated_mean']:.3f} | {r['generated_min']:.3f} | "
              f"{100 * r['fraction_within_tol']:.0f}% | {r['ratio_to_best_expert']:.3f} |")
    g = summary["generated_mean"]
    print(f"\ngenerated mean {g['mean']:.3f} ± {g['std']:.3f} over {len(rows)} seeds (optimum {optimum:.3f}); "
          f"goal (mean >= {GOAL_MEAN}, >= {100 * GOAL_FRACTION:.0f}% within {TOL}) met on "
          f"{summary['seeds_meeting_goal']}/{len(rows)} seeds")
    result = {"benchmark": "hql_taxi", "command": " ".join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None
                                                                                      else argv)]),
              "config": {"env_id": "Taxi-v4", "experts": args.experts, "expert_episodes": args.expert_episodes,
                         "epochs": args.epochs, "samples": args.samples,
                         "hql": {k: list(v) if isinstance(v, tuple) else v
                                 for k, v in HQLConfig(**args.config).__dict__.items()}},
              "goal": {"generated_mean_at_least": GOAL_MEAN, "fraction_within_tol_at_least": GOAL_FRACTION,
                       "tol": TOL},
              "per_seed": rows, "ablations": ablations, "summary": summary,
              "numeric_env": describe_numerics(), "versions": {"python": platform.python_version(), "genrl_lib": genrl_lib.__version__,
                           "gymnasium": gym.__version__, "numpy": np.__version__, "torch": torch.__version__},
              "machine": platform.platform()}
    save_json(args.out / "result.json", result)
    print(f"wrote {args.out / 'result.json'}")
    return result


if __name__ == "__main__":
    main()
