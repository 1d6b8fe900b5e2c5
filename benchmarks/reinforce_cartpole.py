"""Benchmark: REINFORCE with and without a learned baseline (and the A2C-style actor-critic) on CartPole-v1.

    OMP_NUM_THREADS=1 python benchmarks/reinforce_cartpole.py --seeds 5 --out /tmp/reinforce_cartpole

For every variant and seed: train until the 100-episode moving average of the training return first
reaches 350 (the Hugging Face deep-RL course's certification bar for CartPole), or for at most
``--episodes`` episodes; report the number of episodes it took (None: not reached within the budget),
the mean of 20 deterministic evaluation episodes of the policy at that point
(``genrl_lib.evaluate_policy``), and the wall time. stable-baselines3 has no REINFORCE, so there is no
peer run here. Prints a table; writes ``OUT/result.json`` (per-seed figures, returns per episode,
command, versions) and the agents ``OUT/<variant>_seed<k>.pt`` (``genrl_lib.pg.REINFORCE.load``/``ActorCritic.load``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

VARIANT_NAMES = ["reinforce", "reinforce_baseline", "actor_critic"]   # the keys of VARIANTS below

from _cli import parse, positive_int  # standard library only: benchmarks/_cli.py


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked (usage error, exit status 2) before torch and genrl_lib are imported."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=positive_int, default=5)
    p.add_argument("--episodes", type=positive_int, default=2000)
    p.add_argument("--eval-episodes", type=positive_int, default=20)
    p.add_argument("--variants", nargs="+", default=list(VARIANT_NAMES), choices=VARIANT_NAMES)
    p.add_argument("--out", type=Path, required=True)
    return parse(p, argv)


if __name__ == "__main__":
    parse_args()   # a bad argument stops here, in a fraction of a second, before the heavy imports below

import numpy as np
import torch

import genrl_lib
from genrl_lib.io import save_json
from genrl_lib.numerics import describe as describe_numerics
from genrl_lib.pg import REINFORCE, ActorCritic

VARIANTS = {
    "reinforce": lambda seed: REINFORCE("CartPole-v1", seed=seed),
    "reinforce_baseline": lambda seed: REINFORCE("CartPole-v1", baseline=True, seed=seed),
    "actor_critic": lambda seed: ActorCritic("CartPole-v1", seed=seed),
}
THRESHOLD, WINDOW = 350.0, 100


def run(variant: str, seed: int, episodes: int, eval_episodes: int, out: Path) -> dict:
    genrl_lib.set_seed(seed)
    t0 = time.perf_counter()
    agent = VARIANTS[variant](seed).learn(episodes, progress_bar=False, stop_at=THRESHOLD, window=WINDOW)
    wall = time.perf_counter() - t0
    ev = genrl_lib.evaluate_policy(agent, "CartPole-v1", n_episodes=eval_episodes, seed=10_000 + seed)
    agent.save(out / f"{variant}_seed{seed}.pt")
    returns = agent.history["episode_returns"]
    return {"episodes_to_350": agent.episodes_to_reach(THRESHOLD, WINDOW), "eval_mean": ev.mean, "eval_std": ev.std,
            "wall_s": round(wall, 3), "env_steps": int(sum(agent.history["episode_lengths"])),
            "episode_returns": [round(float(r), 1) for r in returns], "config": vars(agent.config) | {}}


def main(argv=None) -> dict:
    a = parse_args(argv)
    assert VARIANT_NAMES == list(VARIANTS), "VARIANT_NAMES must list VARIANTS"
    torch.set_num_threads(1)
    a.out.mkdir(parents=True, exist_ok=True)
    results = {v: [] for v in a.variants}
    load_before = os.getloadavg()
    for seed in range(a.seeds):
        for v in a.variants:
            r = run(v, seed, a.episodes, a.eval_episodes, a.out)
            r["seed"] = seed
            results[v].append(r)
            print(f"{v:>18} seed {seed}: episodes to MA{WINDOW} >= {THRESHOLD:.0f}: {r['episodes_to_350']}, "
                  f"eval {r['eval_mean']:.1f}, {r['wall_s']:.1f} s", flush=True)
    summary = {}
    for v, rows in results.items():
        reached = [r["episodes_to_350"] for r in rows if r["episodes_to_350"] is not None]
        ev = np.array([r["eval_mean"] for r in rows])
        wall = np.array([r["wall_s"] for r in rows])
        summary[v] = {"seeds_reaching_350": len(reached), "seeds": len(rows),
                      "episodes_to_350_mean_of_reached": float(np.mean(reached)) if reached else None,
                      "episodes_to_350_std_of_reached": float(np.std(reached)) if reached else None,
                      "eval_mean": float(ev.mean()), "eval_std_over_seeds": float(ev.std()),
                      "wall_s_mean": float(wall.mean()), "wall_s_std": float(wall.std())}
    import gymnasium
    result = {"benchmark": "reinforce_cartpole", "env": "CartPole-v1", "episodes": a.episodes,
              "threshold": THRESHOLD, "window": WINDOW, "eval_episodes": a.eval_episodes,
              "command": "OMP_NUM_THREADS=1 python benchmarks/reinforce_cartpole.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "numeric_env": describe_numerics(), "versions": {"python": platform.python_version(), "torch": torch.__version__,
                           "gymnasium": gymnasium.__version__, "numpy": np.__version__, "genrl_lib": genrl_lib.__version__},
              "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
              "summary": summary, "per_seed": results}
    save_json(a.out / "result.json", result)
    print(f"\nCartPole-v1, at most {a.episodes} training episodes, {a.seeds} seeds; "
          f"'reach' = episodes until the {WINDOW}-episode moving average first reaches {THRESHOLD:.0f}")
    print(f"{'variant':>18} | {'seeds reaching':>14} | {'episodes (mean ± sd)':>20} | {'final eval':>14} | {'wall s':>11}")
    for v, s in summary.items():
        eps = (f"{s['episodes_to_350_mean_of_reached']:.0f} ± {s['episodes_to_350_std_of_reached']:.0f}"
               if s["seeds_reaching_350"] else "never")
        print(f"{v:>18} | {s['seeds_reaching_350']:>8} of {s['seeds']:<3} | {eps:>20} | "
              f"{s['eval_mean']:>6.1f} ± {s['eval_std_over_seeds']:<5.1f} | {s['wall_s_mean']:>5.1f} ± {s['wall_s_std']:<4.1f}")
    print(f"wrote {a.out / 'result.json'}")
    return result


if __name__ == "__main__":
    main()
