#!/usr/bin/env python
"""Q-learning on Taxi-v4 against the exact optimum (7.930), per seed.

    python benchmarks/qlearning_taxi.py --seeds 5 --out _build/benchmarks/qlearning_taxi

For every seed: training wall time, episodes, environment steps, and the **exact** expected return of
the learned greedy policy (policy evaluation on the env's model ``P``, 200-step limit included), next to
the optimum from value iteration. The peer is the same algorithm stepping through ``env.step``
(``fast=False``): it must learn the identical table (checked), only slower; its wall time is reported.
Writes ``DIR/result.json`` and ``DIR/q_table_seed<k>.npz`` (load with ``genrl_lib.tabular.load_q_table``).
Goal (issue 4): every seed >= 7.85 with <= 3 s of training.
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
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=positive_int, default=5, help="seeds 0..N-1")
    p.add_argument("--out", type=Path, default=Path("_build/benchmarks/qlearning_taxi"))
    p.add_argument("--episodes", type=positive_int, default=10_000)
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--gamma", type=float, default=1.0)
    p.add_argument("--eps-start", type=float, default=1.0)
    p.add_argument("--eps-end", type=float, default=0.05)
    p.add_argument("--exploration-fraction", type=float, default=0.5)
    p.add_argument("--no-peer", action="store_true", help="skip the env.step (fast=False) runs")
    args = parse(p, argv)
    for name, lo, lo_open in (("alpha", 0.0, True), ("gamma", 0.0, False), ("eps_start", 0.0, False),
                              ("eps_end", 0.0, False), ("exploration_fraction", 0.0, True)):
        v = getattr(args, name)
        if not (lo < v <= 1.0 if lo_open else lo <= v <= 1.0):
            p.error(f"--{name.replace('_', '-')} must lie in {'(' if lo_open else '['}0, 1], got {v}")
    return args


if __name__ == "__main__":
    parse_args()   # a bad argument stops here, in a fraction of a second, before the heavy imports below

import gymnasium as gym
import numpy as np

import genrl_lib
from genrl_lib.io import save_json
from genrl_lib.numerics import describe as describe_numerics
from genrl_lib.tabular import expected_return, greedy_policy, q_learning, value_iteration

GOAL_RETURN, GOAL_SECONDS = 7.85, 3.0


def main(argv=None) -> dict:
    args = parse_args(argv)

    env = gym.make("Taxi-v4")
    optimum = expected_return(env, greedy_policy(value_iteration(env, gamma=1.0)[1]))
    kwargs = dict(alpha=args.alpha, gamma=args.gamma, epsilon=(args.eps_start, args.eps_end),
                  exploration_fraction=args.exploration_fraction, progress_bar=False)
    rows = []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        res = q_learning(env, args.episodes, seed=seed, **kwargs)
        secs = time.perf_counter() - t0
        ret = expected_return(env, res.policy)
        res.save(args.out / f"q_table_seed{seed}.npz")
        row = {"seed": seed, "train_seconds": secs, "episodes": args.episodes,
               "env_steps": int(res.episode_lengths.sum()), "exact_return": ret, "optimum": optimum,
               "gap": optimum - ret, "meets_goal": bool(ret >= GOAL_RETURN and secs <= GOAL_SECONDS)}
        if not args.no_peer:
            t0 = time.perf_counter()
            peer = q_learning(env, args.episodes, seed=seed, fast=False, **kwargs)
            row["peer_env_step_seconds"] = time.perf_counter() - t0
            row["peer_identical_q_table"] = bool(np.array_equal(peer.q_table, res.q_table))
            row["ratio_seconds_ours_over_peer"] = secs / row["peer_env_step_seconds"]
        rows.append(row)
        print(f"seed {seed}: {secs:5.2f} s, exact return {ret:.3f} (optimum {optimum:.3f})"
              + ("" if args.no_peer else f", env.step loop {row['peer_env_step_seconds']:.2f} s, "
                                          f"identical table: {row['peer_identical_q_table']}"), flush=True)

    rets = np.array([r["exact_return"] for r in rows])
    secs = np.array([r["train_seconds"] for r in rows])
    summary = {"exact_return_mean": float(rets.mean()), "exact_return_std": float(rets.std()),
               "exact_return_min": float(rets.min()), "train_seconds_mean": float(secs.mean()),
               "train_seconds_max": float(secs.max()), "optimum": optimum,
               "seeds_meeting_goal": int(sum(r["meets_goal"] for r in rows)), "n_seeds": len(rows)}
    if not args.no_peer:
        peer = np.array([r["peer_env_step_seconds"] for r in rows])
        summary.update(peer_seconds_mean=float(peer.mean()), ratio_seconds_mean=float(secs.mean() / peer.mean()))
    print("\n| seed | train s | exact return | optimum |" + ("" if args.no_peer else " env.step s |"))
    print("|---:|---:|---:|---:|" + ("" if args.no_peer else "---:|"))
    for r in rows:
        print(f"| {r['seed']} | {r['train_seconds']:.2f} | {r['exact_return']:.3f} | {r['optimum']:.3f} |"
              + ("" if args.no_peer else f" {r['peer_env_step_seconds']:.2f} |"))
    print(f"\nexact return {summary['exact_return_mean']:.3f} ± {summary['exact_return_std']:.3f} (min "
          f"{summary['exact_return_min']:.3f}) over {len(rows)} seeds; training {summary['train_seconds_mean']:.2f} s "
          f"mean, {summary['train_seconds_max']:.2f} s max; goal (>= {GOAL_RETURN}, <= {GOAL_SECONDS} s) met on "
          f"{summary['seeds_meeting_goal']}/{len(rows)} seeds")
    result = {"benchmark": "qlearning_taxi", "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
              "config": {"env_id": "Taxi-v4", "episodes": args.episodes, **{k: v for k, v in kwargs.items()
                                                                            if k != "progress_bar"}},
              "goal": {"exact_return_at_least": GOAL_RETURN, "train_seconds_at_most": GOAL_SECONDS},
              "per_seed": rows, "summary": summary,
              "numeric_env": describe_numerics(), "versions": {"python": platform.python_version(), "genrl_lib": genrl_lib.__version__,
                           "gymnasium": gym.__version__, "numpy": np.__version__}, "machine": platform.platform()}
    save_json(args.out / "result.json", result)
    print(f"wrote {args.out / 'result.json'}")
    return result


if __name__ == "__main__":
    main()
