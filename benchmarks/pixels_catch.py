"""Benchmark: REINFORCE from pixels on genrl_lib/Catch-v0 (the pixels chapter's multi-seed figures).

    OMP_NUM_THREADS=1 python benchmarks/pixels_catch.py --seeds 5 --out /tmp/pixels_catch

For every seed: REINFORCE (``genrl_lib.pg.REINFORCE`` with ``genrl_lib.pixels.CATCH_REINFORCE``, the chapter's
settings: one hidden layer of 200 ReLU units as in Karpathy's Pong network, raw discounted returns,
``normalize=False``, because with one reward at the end of an episode standardizing the returns within the episode
would punish the early actions of every caught ball) learns from the flattened ``10 × 5`` binary image
(``genrl_lib.pixels.make_catch``: ``gymnasium.wrappers.FlattenObservation``) for ``--episodes`` episodes.
Reported per seed: the episodes until the 100-episode moving average of the training return first reaches 0.8
(None: never), the mean of ``--eval-episodes`` deterministic evaluation episodes (``genrl_lib.evaluate_policy``), the
wall time. The random paddle (uniform actions, 1,000 episodes) is the floor; the optimum is +1 (every ball can be
caught: 9 steps to cover at most 2 columns). stable-baselines3 has no REINFORCE, so there is no peer run. Prints a
table; writes ``OUT/result.json`` (per-seed figures, returns per episode, command, versions, numeric environment).

Tuning: with ``learning_rate=1e-3`` 4 of 5 seeds reached the moving average 0.8 within 2,000 episodes and one seed's
deterministic policy scored 0.58; ``2e-3`` brought every seed's evaluation to 1.0 in the same budget.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from _cli import parse, positive_int  # standard library only: benchmarks/_cli.py


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked (usage error, exit status 2) before torch and genrl_lib are imported."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=positive_int, default=5)
    p.add_argument("--episodes", type=positive_int, default=2000)
    p.add_argument("--eval-episodes", type=positive_int, default=100)
    p.add_argument("--out", type=Path, required=True)
    return parse(p, argv)


if __name__ == "__main__":
    parse_args()   # a bad argument stops here, in a fraction of a second, before the heavy imports below

import gymnasium as gym
import numpy as np
import torch

import genrl_lib
from genrl_lib.envs import CATCH_ID
from genrl_lib.io import save_json
from genrl_lib.numerics import describe as describe_numerics
from genrl_lib.pg import REINFORCE
from genrl_lib.pixels import CATCH_REINFORCE as HYPERPARAMETERS
from genrl_lib.pixels import make_catch as make_env

THRESHOLD, WINDOW = 0.8, 100


def random_paddle(episodes: int = 1000, seed: int = 0) -> float:
    """Mean return of uniformly random actions."""
    rng = np.random.default_rng(seed)
    return float(genrl_lib.evaluate_policy(lambda obs: int(rng.integers(3)), make_env(), n_episodes=episodes,
                                           seed=seed).mean)


def run(seed: int, episodes: int, eval_episodes: int) -> dict:
    genrl_lib.set_seed(seed)
    t0 = time.perf_counter()
    agent = REINFORCE(make_env(), seed=seed, **HYPERPARAMETERS).learn(episodes, progress_bar=False)
    wall = time.perf_counter() - t0
    ev = genrl_lib.evaluate_policy(agent, make_env(), n_episodes=eval_episodes, seed=10_000 + seed)
    returns = agent.history["episode_returns"]
    return {"seed": seed, "episodes_to_0.8": agent.episodes_to_reach(THRESHOLD, WINDOW), "eval_mean": ev.mean,
            "eval_std": ev.std, "last100_mean": float(np.mean(returns[-100:])), "wall_s": round(wall, 3),
            "episode_returns": [int(r) for r in returns]}


def main(argv=None) -> dict:
    a = parse_args(argv)
    torch.set_num_threads(1)
    a.out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    t_all = time.perf_counter()
    rows = []
    for seed in range(a.seeds):
        r = run(seed, a.episodes, a.eval_episodes)
        rows.append(r)
        print(f"seed {seed}: episodes to MA{WINDOW} >= {THRESHOLD}: {r['episodes_to_0.8']}, "
              f"eval {r['eval_mean']:.2f}, {r['wall_s']:.1f} s", flush=True)
    floor = random_paddle()
    ev, wall = np.array([r["eval_mean"] for r in rows]), np.array([r["wall_s"] for r in rows])
    reached = [r["episodes_to_0.8"] for r in rows if r["episodes_to_0.8"] is not None]
    summary = {"seeds": len(rows), "seeds_reaching_0.8": len(reached),
               "episodes_to_0.8_mean_of_reached": float(np.mean(reached)) if reached else None,
               "episodes_to_0.8_std_of_reached": float(np.std(reached)) if reached else None,
               "eval_mean": float(ev.mean()), "eval_std_over_seeds": float(ev.std()), "eval_min": float(ev.min()),
               "random_paddle_mean": floor, "wall_s_mean": float(wall.mean()), "wall_s_std": float(wall.std()),
               "wall_s_total": round(time.perf_counter() - t_all, 1)}
    result = {"benchmark": "pixels_catch", "env": CATCH_ID, "observation": "FlattenObservation of the (10, 5) image",
              "algorithm": "REINFORCE", "hyperparameters": HYPERPARAMETERS, "episodes": a.episodes,
              "threshold": THRESHOLD, "window": WINDOW, "eval_episodes": a.eval_episodes,
              "command": "OMP_NUM_THREADS=1 python benchmarks/pixels_catch.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "numeric_env": describe_numerics(), "versions": {"python": platform.python_version(), "torch": torch.__version__,
                           "gymnasium": gym.__version__, "numpy": np.__version__, "genrl_lib": genrl_lib.__version__},
              "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
              "summary": summary, "per_seed": rows}
    save_json(a.out / "result.json", result)
    s = summary
    print(f"\n{CATCH_ID} from pixels, REINFORCE, {a.episodes} episodes, {a.seeds} seeds "
          f"(random paddle: {floor:.2f}, optimum: 1)")
    print(f"seeds reaching MA{WINDOW} >= {THRESHOLD}: {s['seeds_reaching_0.8']} of {s['seeds']}; "
          f"deterministic evaluation {s['eval_mean']:.2f} ± {s['eval_std_over_seeds']:.2f} (min {s['eval_min']:.2f}); "
          f"wall {s['wall_s_mean']:.1f} ± {s['wall_s_std']:.1f} s per seed, {s['wall_s_total']:.0f} s in all")
    print(f"wrote {a.out / 'result.json'}")
    return result


if __name__ == "__main__":
    main()
