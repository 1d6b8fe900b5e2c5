"""Benchmark: genrl_lib's PPO against stable-baselines3's PPO, same hyperparameters, same budget, same run.

    OMP_NUM_THREADS=1 python benchmarks/ppo_cartpole.py --seeds 5 --out /tmp/ppo_cartpole
    OMP_NUM_THREADS=1 python benchmarks/ppo_cartpole.py --env Acrobot-v1 --seeds 5 --out /tmp/ppo_acrobot
    OMP_NUM_THREADS=1 python benchmarks/ppo_cartpole.py --env LunarLander-v3 --seeds 3 --out /tmp/ppo_lunarlander
    OMP_NUM_THREADS=1 python benchmarks/ppo_cartpole.py --env Pendulum-v1 --seeds 5 --out /tmp/ppo_pendulum

CartPole-v1 uses rl-zoo's tuned hyperparameters (8 envs, n_steps 32, batch 256, 20 epochs, γ 0.98,
λ 0.8, linear lr 1e-3, linear clip 0.2, no entropy bonus); Acrobot-v1 uses a smaller setting of ours;
LunarLander-v3 (discrete, 1M steps by default; needs the ``box2d`` extra) and Pendulum-v1 (continuous torques,
a Gaussian policy, 100k steps) use rl-zoo's settings, Pendulum's without gSDE (see HYPERPARAMETERS in
``genrl_lib.protocols.rl_zoo``). For every seed, ours and SB3's are trained one after the other (so the machine's
load hits both alike), each with one torch thread, then evaluated on the same 20 deterministic episodes
with ``genrl_lib.evaluate_policy``. Prints a table; writes ``OUT/result.json`` (per-seed figures,
wall seconds, ratios, learning curves, our diagnostics, command line, versions) and our agents
``OUT/ppo_<env>_seed<k>.pt`` (load with ``genrl_lib.ppo.PPO.load``). After every seed it also writes
``OUT/partial.json``; ``--resume`` continues an interrupted run from the seeds it holds.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ENV_IDS = ["Acrobot-v1", "CartPole-v1", "LunarLander-v3", "Pendulum-v1"]   # = sorted(HYPERPARAMETERS) below
# default budgets (env steps): rl-zoo's n_timesteps where it has one
DEFAULT_STEPS = {"Acrobot-v1": 100_000, "CartPole-v1": 100_000, "LunarLander-v3": 1_000_000, "Pendulum-v1": 100_000}

from _cli import parse, positive_int  # standard library only: benchmarks/_cli.py


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked (usage error, exit status 2) before torch and genrl_lib are imported."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--env", default="CartPole-v1", choices=ENV_IDS)
    p.add_argument("--seeds", type=positive_int, default=5)
    p.add_argument("--steps", type=positive_int, default=None, help="env steps (default: DEFAULT_STEPS[env])")
    p.add_argument("--eval-episodes", type=positive_int, default=20)
    p.add_argument("--no-sb3", action="store_true", help="skip the stable-baselines3 peer")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--resume", action="store_true",
                   help="reuse the seeds already finished in OUT/partial.json (written after every seed)")
    return parse(p, argv)


if __name__ == "__main__":
    parse_args()   # a bad argument stops here, in a fraction of a second, before the heavy imports below

import numpy as np
import torch

import genrl_lib
from genrl_lib.evaluation import binned_mean
from genrl_lib.io import load_json, save_json
from genrl_lib.numerics import describe as describe_numerics
from genrl_lib.ppo import PPO
from genrl_lib.protocols.rl_zoo import PPO_HYPERPARAMETERS

HYPERPARAMETERS = PPO_HYPERPARAMETERS   # rl-zoo's settings, defined once in genrl_lib.protocols.rl_zoo
BIN = 5_000   # learning curves: mean return of the episodes that ended in each bin of env steps


def binned_curve(ends: np.ndarray, returns: np.ndarray, total: int) -> list[float | None]:
    """Mean return of episodes ending in each ``BIN``-step bin (None where no episode ended), 2 decimals."""
    return binned_mean(ends, returns, total, BIN, decimals=2)


def run_ours(env_id: str, seed: int, steps: int, eval_episodes: int, out: Path) -> dict:
    genrl_lib.set_seed(seed)
    t0 = time.perf_counter()
    agent = PPO(env_id, seed=seed, **HYPERPARAMETERS[env_id])
    agent.learn(steps, progress_bar=False)
    wall = time.perf_counter() - t0
    ev = genrl_lib.evaluate_policy(agent, env_id, n_episodes=eval_episodes, seed=10_000 + seed)
    agent.save(out / f"ppo_{env_id.split('-')[0].lower()}_seed{seed}.pt")
    h = agent.history
    diag = {k: [round(float(x), 6) for x in h[k]] for k in
            ("timesteps", "approx_kl", "clip_fraction", "entropy", "explained_variance", "value_loss", "policy_loss")}
    curve = binned_curve(np.array(h["episode_timesteps"]), np.array(h["episode_returns"]), steps)
    agent.close()
    return {"eval_mean": ev.mean, "eval_std": ev.std, "wall_s": round(wall, 3), "timesteps": agent.num_timesteps,
            "curve": curve, "diagnostics": diag}


def run_sb3(env_id: str, seed: int, steps: int, eval_episodes: int) -> dict:
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.env_util import make_vec_env

    hp = dict(HYPERPARAMETERS[env_id])
    lr, clip = hp.pop("learning_rate"), hp.pop("clip_range")
    lr_s, clip_s, n_envs = hp.pop("lr_schedule"), hp.pop("clip_schedule"), hp.pop("n_envs")
    genrl_lib.set_seed(seed)
    t0 = time.perf_counter()
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    model = SB3PPO("MlpPolicy", env, seed=seed, device="cpu", verbose=0,
                   learning_rate=(lambda p: p * lr) if lr_s == "linear" else lr,
                   clip_range=(lambda p: p * clip) if clip_s == "linear" else clip, **hp)
    model.learn(steps)
    wall = time.perf_counter() - t0
    ev = genrl_lib.evaluate_policy(model, env_id, n_episodes=eval_episodes, seed=10_000 + seed)
    ends, rets = [], []
    for mon in env.envs:   # lock-step envs: global steps = n_envs * the env's own steps
        ends += list(n_envs * np.cumsum(mon.get_episode_lengths()))
        rets += list(mon.get_episode_rewards())
    return {"eval_mean": ev.mean, "eval_std": ev.std, "wall_s": round(wall, 3), "timesteps": model.num_timesteps,
            "curve": binned_curve(np.array(ends), np.array(rets), steps)}


def main(argv=None) -> dict:
    a = parse_args(argv)
    a.steps = a.steps or DEFAULT_STEPS[a.env]
    assert ENV_IDS == sorted(HYPERPARAMETERS), "ENV_IDS must list HYPERPARAMETERS' envs"
    torch.set_num_threads(1)
    a.out.mkdir(parents=True, exist_ok=True)
    rows = []
    load_before = os.getloadavg()
    partial = a.out / "partial.json"   # every finished seed, so a long run interrupted loses at most one seed
    run_key = {"env": a.env, "steps": a.steps, "eval_episodes": a.eval_episodes, "peer": not a.no_sb3,
               "hyperparameters": HYPERPARAMETERS[a.env]}
    if a.resume and partial.exists():
        saved = load_json(partial)
        if saved["run"] != run_key:
            sys.exit(f"--resume: {partial} is from another run ({saved['run']}); use another --out or drop --resume")
        rows = saved["per_seed"][:a.seeds]
        print(f"resuming: seeds {[r['seed'] for r in rows]} reused from {partial}")
    for seed in range(len(rows), a.seeds):
        row = {"seed": seed, "ours": run_ours(a.env, seed, a.steps, a.eval_episodes, a.out)}
        if not a.no_sb3:
            row["sb3"] = run_sb3(a.env, seed, a.steps, a.eval_episodes)
            row["wall_ratio"] = round(row["ours"]["wall_s"] / row["sb3"]["wall_s"], 4)
        rows.append(row)
        save_json(partial, {"run": run_key, "per_seed": rows})
        print(f"seed {seed}: ours {row['ours']['eval_mean']:.1f} in {row['ours']['wall_s']:.1f} s"
              + (f" | SB3 {row['sb3']['eval_mean']:.1f} in {row['sb3']['wall_s']:.1f} s | ratio {row['wall_ratio']:.3f}"
                 if "sb3" in row else ""), flush=True)

    def stats(who, key):
        x = np.array([r[who][key] for r in rows], dtype=float)
        return {"mean": float(x.mean()), "std": float(x.std()), "min": float(x.min()), "max": float(x.max())}

    summary = {"ours_eval": stats("ours", "eval_mean"), "ours_wall_s": stats("ours", "wall_s")}
    if not a.no_sb3:
        summary |= {"sb3_eval": stats("sb3", "eval_mean"), "sb3_wall_s": stats("sb3", "wall_s"),
                    "wall_ratio_mean": float(np.mean([r["wall_ratio"] for r in rows])),
                    "wall_ratio_of_totals": float(sum(r["ours"]["wall_s"] for r in rows)
                                                  / sum(r["sb3"]["wall_s"] for r in rows))}
    import gymnasium
    versions = {"python": platform.python_version(), "torch": torch.__version__, "gymnasium": gymnasium.__version__,
                "numpy": np.__version__, "genrl_lib": genrl_lib.__version__}
    try:
        import stable_baselines3
        versions["stable_baselines3"] = stable_baselines3.__version__
    except ImportError:
        pass
    result = {"benchmark": "ppo_cartpole", "env": a.env, "steps": a.steps, "eval_episodes": a.eval_episodes,
              "hyperparameters": HYPERPARAMETERS[a.env], "curve_bin_steps": BIN,
              "command": "OMP_NUM_THREADS=1 python benchmarks/ppo_cartpole.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "numeric_env": describe_numerics(), "versions": versions, "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before,
                                                "loadavg_after": os.getloadavg()},
              "summary": summary, "per_seed": rows}
    save_json(a.out / "result.json", result)
    print(f"\n{a.env}, {a.steps} steps, {a.seeds} seeds, {a.eval_episodes} deterministic evaluation episodes")
    print(f"{'seed':>4} | {'ours return':>11} | {'ours s':>7} | {'SB3 return':>10} | {'SB3 s':>7} | {'ratio':>6}")
    for r in rows:
        sb = r.get("sb3", {})
        print(f"{r['seed']:>4} | {r['ours']['eval_mean']:>11.1f} | {r['ours']['wall_s']:>7.1f} | "
              f"{sb.get('eval_mean', float('nan')):>10.1f} | {sb.get('wall_s', float('nan')):>7.1f} | "
              f"{r.get('wall_ratio', float('nan')):>6.3f}")
    s = summary
    print(f"mean | {s['ours_eval']['mean']:.1f} ± {s['ours_eval']['std']:.1f} | {s['ours_wall_s']['mean']:.1f} ± "
          f"{s['ours_wall_s']['std']:.1f}" + (f" | {s['sb3_eval']['mean']:.1f} ± {s['sb3_eval']['std']:.1f} | "
                                             f"{s['sb3_wall_s']['mean']:.1f} ± {s['sb3_wall_s']['std']:.1f} | "
                                             f"{s['wall_ratio_mean']:.3f}" if not a.no_sb3 else ""))
    print(f"wrote {a.out / 'result.json'}")
    return result


if __name__ == "__main__":
    main()
