#!/usr/bin/env python
"""Our DQN against stable-baselines3's DQN on CartPole-v1, same budget, side by side in one run.

    OMP_NUM_THREADS=1 python benchmarks/dqn_cartpole.py --seeds 5 --out _build/benchmarks/dqn_cartpole

Per seed and agent: training wall time for ``--steps`` environment steps (default 50,000) and the mean
return of 20 deterministic evaluation episodes (``genrl_lib.evaluate_policy``, evaluation seeds
``1000 * (seed + 1) + i``, never used in training). Ours uses ``genrl_lib.dqn.DQNConfig()`` defaults; SB3 uses
the rl-baselines3-zoo CartPole-v1 hyperparameters. Both run with one torch thread, one after the other,
in the same process. Both return their best checkpoint (``--select-every``, default 2,500): at the end of a
training episode, once 2,500 steps have passed since the last check, ``genrl_lib.evaluation.BestCheckpoint``
evaluates the greedy network on 50 episodes (one vector env, reset seed 7,000,000, apart from the final
evaluation's) and keeps it if it scores at least the best so far; the final network is checked too. The
evaluations are part of the training wall time of both agents. ``eval_mean`` is the returned agent's score,
``eval_mean_last`` the last network's (the figure before selection). Writes ``DIR/result.json`` (per-seed
figures, learning curves, selection histories, ratios, command, versions) and ``DIR/dqn_seed<k>.pt`` (the returned
agent, loadable with ``genrl_lib.dqn.DQN.load``).
Goal (issue 4): >= 475 on 5 of 5 seeds within 50k steps, wall time <= 0.5x SB3's.

Tuning history of the defaults (``genrl_lib.dqn.DQNConfig``), CartPole-v1, 50k steps, on tuning seeds only
(100-118, then 200-209, then 300-309), never on the benchmark seeds 0-4. What makes the *final* policy robust
(tuning seeds 200-209): with a hard target copy every 500 steps and γ = 0.99, 2-3 of 5 runs solved CartPole and
then drifted off the track late in training (the greedy policy let the cart run off the edge while its Q-values
there were grossly overestimated, ~390 for a state worth ~1). Three changes fixed it: a soft (Polyak) target
averaged over ~1/τ = 200 steps, a learning rate decaying to 1 % so the last updates cannot undo what was learned,
and γ = 0.98 (a 50-step horizon instead of 100, which is plenty for balancing and halves the scale of the
bootstrapped values). With all three, 7 of 7 runs on seeds 203-209 (including the two that failed before) scored
>= 495, but the benchmark seeds 0-4 then gave 3/5, two runs again letting the cart drift off near the end of the
episode. On fresh tuning seeds 300-309, a 128×128 network (same 3-step Double DQN, same targets) still missed 475
on 2 of 9 runs (450, 458: the same late drift); adding a fourth gradient step per round (4 every 8 env steps: a
third more replay of every stored transition, the rare edge-of-track ones included) gave 9 of 10 runs >= 475 (the
tenth 313) at ~40 s per run.

Under an emulated other CPU (issue 16; benchmarks/numeric_envs.py, genrl_lib/data/numeric_env_goals.json) the
defaults give 5/5 here but 2/5 as another CPU computes (415.7, 367.9, 458.1, 500, 500: not yet settled at
50k steps, training episodes still between 250 and 500). Tried on tuning seeds 400-404, each natively and
under ``other-cpu`` (20 evaluation episodes, stopped at the first clear failure): ε decaying over 10 % of
training to 0.01 (465.7 and 256.6 on seeds 400, 401 natively; 454.6 on 400 emulated); γ = 0.99 (177.4 on seed
400 natively); batch 256 with 2 gradient steps per round instead of 128 with 4 (8 of 10: seeds 400-403 reach
500 in both environments, seed 404 ends at 469.1 natively and 336.1 emulated). None held on all its tuning
seeds in both environments, so the defaults stay (the defaults themselves were not rerun on seeds 400-404:
one run, seed 400 natively, gave 500); the goal is reported as measured.

On a real Intel Xeon with AVX-512 (torch kernels AVX512; the machine issue 16 was reported from) the benchmark
seeds 0-4 give 3/5 (500, 183.0, 291.7, 500, 500). There, on fresh tuning seeds 500-507, natively and under
``other-cpu``, 20 evaluation episodes each (runs >= 475): the defaults 6/8 and 5/8 (worst 356 and 188); a learning
rate of 1e-3 5/8 and 5/8 (worst 278, 233); a 256×256 network 7/8 natively (worst 441) and 4/6 emulated (224, 429;
seeds 506-507 not run), at two to three times the time; one-step targets (``n_steps=1``) 2/8 natively (worst 114).
None holds on every tuning seed of either environment, so the defaults stay: at this 50k-step budget the final
greedy policy of about one run in four falls short of 475, whichever preset, and which runs fall short depends on
the processor.

Best-checkpoint selection (issue 16, on the Intel Xeon, fresh tuning seeds 600-609, natively and under
``other-cpu``). The runs above fail in one way: the network balances the pole for 500 steps at some point (every
run of every preset did) and the last one of 50k steps happens to be a worse one; between evaluations 2,500 steps
apart the greedy score swings between about 100 and 500 until the end. So the fix is in what training returns,
not in how it learns: keep the best network by a periodic greedy evaluation, the model selection of the DQN
papers and of rl-baselines3-zoo's ``best_model``. The evaluation only reads the network, so the training runs are
the ones without it (a unit test checks this). With 10 evaluation episodes one by one, the last network that
scored 500 on all ten was chosen on ties and scored 427.85 on the final evaluation (seed 600, ``other-cpu``): ten
episodes cannot tell a policy that fails one episode in ten from a sound one. With 50 episodes in one vector env
(``genrl_lib.evaluation.evaluate_batched``: a few hundredths of a second per check instead of about a second),
the returned agent scored >= 475 on 10 of 10 tuning seeds natively (all 500; the last network 8 of 10, 325.4 and
356.45 on seeds 601 and 608) and on 10 of 10 under ``other-cpu`` (worst 484.35; the last network 7 of 10, 427.85,
465.85 and 399.0 on seeds 600, 602, 608). SB3 gets the same selection, so the ratio compares like with like.
Then the benchmark seeds 0-4 (genrl_lib/data/numeric_env_goals.json, goals ``dqn_cartpole`` and
``dqn_cartpole_last``): natively 5 of 5 (the last networks 3 of 5), under ``other-cpu`` 4 of 5 (the last networks
2 of 5). The miss is seed 1 under ``other-cpu``, 394.35: no check of that run scored above 451.6 (step 5,123), so
there was no sound network to keep. Checking every 1,000 steps instead of 2,500 (tuning seeds 610-619 under
``other-cpu``, both selections on the same runs) chose networks that scored the same as every 2,500 on all ten
(all >= 475; the last networks 8 of 10), so the schedule stays; the goal is reported as measured.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

from _cli import parse, positive_int  # standard library only: benchmarks/_cli.py

SELECT_EVERY, SELECT_EPISODES, SELECT_SEED = 2_500, 50, 7_000_000


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked (usage error, exit status 2) before torch and genrl_lib are imported."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=positive_int, default=5, help="seeds 0..N-1")
    p.add_argument("--steps", type=positive_int, default=50_000)
    p.add_argument("--out", type=Path, default=Path("_build/benchmarks/dqn_cartpole"))
    p.add_argument("--no-peer", action="store_true", help="skip stable-baselines3")
    p.add_argument("--select-every", type=int, default=SELECT_EVERY, metavar="N",
                   help="best-checkpoint selection: evaluate the greedy network every N env steps and return the best "
                        f"(default {SELECT_EVERY}; 0 = return the last network)")
    a = parse(p, argv)
    if a.select_every < 0:
        p.error(f"--select-every must be >= 0 (0 = no selection), got {a.select_every}")
    return a


if __name__ == "__main__":
    parse_args()   # a bad argument stops here, in a fraction of a second, before the heavy imports below

import gymnasium as gym
import numpy as np
import torch

import genrl_lib
from genrl_lib.dqn import DQN, DQNConfig
from genrl_lib.evaluation import BestCheckpoint, evaluate_policy
from genrl_lib.io import save_json
from genrl_lib.numerics import describe as describe_numerics

GOAL_RETURN, GOAL_RATIO = 475.0, 0.5
# rl-baselines3-zoo, hyperparams/dqn.yml, CartPole-v1 ("Almost Tuned"), n_timesteps 5e4
SB3_ZOO = dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000, gamma=0.99,
               target_update_interval=10, train_freq=256, gradient_steps=128, exploration_fraction=0.16,
               exploration_final_eps=0.04, policy_kwargs=dict(net_arch=[256, 256]))


def final_eval(agent, seed: int):
    """The benchmark's figure: mean return of 20 deterministic episodes, reset seeds ``1000 * (seed + 1) + i``."""
    return evaluate_policy(agent, gym.make("CartPole-v1"), n_episodes=20, seed=1000 * (seed + 1))


def selected(agent, best: BestCheckpoint | None, seed: int) -> dict:
    """Evaluate the last network, then (with selection) load the best checkpoint and evaluate it: the agent as
    returned. ``eval_mean`` is the returned agent's figure, ``eval_mean_last`` the last network's."""
    last = final_eval(agent, seed)
    if best is None:
        return {"eval_mean": last.mean, "eval_std": last.std, "eval_mean_last": last.mean, "selection": None}
    best.restore(agent)
    ev = final_eval(agent, seed)
    return {"eval_mean": ev.mean, "eval_std": ev.std, "eval_mean_last": last.mean,
            "selection": {"every": best.every, "episodes": best.n_episodes, "seed": best.seed,
                          "best_step": best.best_step, "best_return": best.best_return,
                          "history": [[int(s), float(m)] for s, m in best.history]}}


def selector(select_every: int, module: str) -> BestCheckpoint | None:
    """The benchmark's selection (``None`` for ``--select-every 0``); ``module`` names the agent's network."""
    return BestCheckpoint("CartPole-v1", every=select_every, n_episodes=SELECT_EPISODES, seed=SELECT_SEED,
                          module=module) if select_every else None


def run_ours(seed: int, steps: int, out: Path, select_every: int) -> dict:
    agent = DQN(gym.make("CartPole-v1"), seed=seed)
    best = selector(select_every, "q_net")
    agent.learn(steps, progress_bar=False, callback=best)
    row = {"seed": seed, "train_seconds": agent.train_seconds, **selected(agent, best, seed),
           "episode_returns": list(map(float, agent.episode_returns)),
           "episode_end_steps": list(map(int, agent.episode_end_steps))}
    agent.save(out / f"dqn_seed{seed}.pt")
    return row


def run_sb3(seed: int, steps: int, select_every: int) -> dict:
    from stable_baselines3 import DQN as SB3DQN
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor

    class EpisodeEnd(BaseCallback):
        """The same selection as ours: ``best(model)`` at the end of every training episode."""

        def __init__(self, best: BestCheckpoint):
            super().__init__()
            self.best = best

        def _on_step(self) -> bool:
            if self.locals["dones"].any():
                self.best(self.model)
            return True

    env = Monitor(gym.make("CartPole-v1"))
    model = SB3DQN("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **SB3_ZOO)
    best = selector(select_every, "policy")
    t0 = time.perf_counter()
    model.learn(steps, callback=None if best is None else EpisodeEnd(best))
    secs = time.perf_counter() - t0
    return {"seed": seed, "train_seconds": secs, **selected(model, best, seed),
            "episode_returns": list(map(float, env.get_episode_rewards())),
            "episode_end_steps": list(map(int, np.cumsum(env.get_episode_lengths())))}


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(1)
    ours, peer = [], []
    for seed in range(args.seeds):
        ours.append(run_ours(seed, args.steps, args.out, args.select_every))
        line = (f"seed {seed}: ours {ours[-1]['eval_mean']:6.1f} (last network {ours[-1]['eval_mean_last']:6.1f}) "
                f"in {ours[-1]['train_seconds']:5.1f} s")
        if not args.no_peer:
            peer.append(run_sb3(seed, args.steps, args.select_every))
            line += (f" | SB3 {peer[-1]['eval_mean']:6.1f} (last {peer[-1]['eval_mean_last']:6.1f}) "
                     f"in {peer[-1]['train_seconds']:5.1f} s"
                     f" | time ratio {ours[-1]['train_seconds'] / peer[-1]['train_seconds']:.2f}")
        print(line, flush=True)

    def stats(rows):
        ev, secs = np.array([r["eval_mean"] for r in rows]), np.array([r["train_seconds"] for r in rows])
        last = np.array([r["eval_mean_last"] for r in rows])
        return {"eval_mean": float(ev.mean()), "eval_std_over_seeds": float(ev.std()), "eval_min": float(ev.min()),
                "seeds_at_least_475": int((ev >= GOAL_RETURN).sum()), "train_seconds_mean": float(secs.mean()),
                "train_seconds_total": float(secs.sum()), "last_eval_mean": float(last.mean()),
                "last_eval_min": float(last.min()), "last_seeds_at_least_475": int((last >= GOAL_RETURN).sum())}

    summary = {"ours": stats(ours), "n_seeds": len(ours)}
    print("\n| seed | ours eval | ours s |" + ("" if args.no_peer else " SB3 eval | SB3 s | ratio |"))
    print("|---:|---:|---:|" + ("" if args.no_peer else "---:|---:|---:|"))
    for i, o in enumerate(ours):
        row = f"| {o['seed']} | {o['eval_mean']:.1f} | {o['train_seconds']:.1f} |"
        if not args.no_peer:
            q = peer[i]
            row += f" {q['eval_mean']:.1f} | {q['train_seconds']:.1f} | {o['train_seconds'] / q['train_seconds']:.2f} |"
        print(row)
    s = summary["ours"]
    print(f"\nours: {s['eval_mean']:.1f} ± {s['eval_std_over_seeds']:.1f} over {len(ours)} seeds, "
          f"{s['seeds_at_least_475']}/{len(ours)} seeds >= {GOAL_RETURN:.0f}, {s['train_seconds_mean']:.1f} s per seed")
    if not args.no_peer:
        summary["sb3"] = stats(peer)
        summary["ratio_seconds_ours_over_sb3"] = s["train_seconds_total"] / summary["sb3"]["train_seconds_total"]
        q = summary["sb3"]
        print(f"SB3:  {q['eval_mean']:.1f} ± {q['eval_std_over_seeds']:.1f}, {q['seeds_at_least_475']}/{len(peer)} "
              f"seeds >= {GOAL_RETURN:.0f}, {q['train_seconds_mean']:.1f} s per seed; wall-time ratio ours/SB3 "
              f"{summary['ratio_seconds_ours_over_sb3']:.2f} (goal <= {GOAL_RATIO})")
    sb3_version = None   # the peer is imported only when it runs
    if not args.no_peer:
        import stable_baselines3
        sb3_version = stable_baselines3.__version__
    result = {"benchmark": "dqn_cartpole", "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
              "steps": args.steps, "eval_episodes": 20, "ours_config": asdict(DQNConfig()),
              "selection": ({"every": args.select_every, "episodes": SELECT_EPISODES, "seed": SELECT_SEED}
                            if args.select_every else None),
              "sb3_hyperparameters": SB3_ZOO, "goal": {"eval_at_least": GOAL_RETURN, "ratio_at_most": GOAL_RATIO},
              "ours": ours, "sb3": peer, "summary": summary,
              "numeric_env": describe_numerics(), "versions": {"python": platform.python_version(), "genrl_lib": genrl_lib.__version__,
                           "torch": torch.__version__, "gymnasium": gym.__version__,
                           "stable_baselines3": sb3_version},
              "machine": platform.platform(), "torch_threads": torch.get_num_threads()}
    save_json(args.out / "result.json", result)
    print(f"wrote {args.out / 'result.json'}")
    return result


if __name__ == "__main__":
    main()
