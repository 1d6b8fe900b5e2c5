"""Benchmark: GAIL against behaviour cloning, the expert and a random policy, over seeds and demonstration sizes.

    OMP_NUM_THREADS=1 python benchmarks/gail.py --env CartPole-v1 --seeds 5 --out /tmp/gail_cartpole
    OMP_NUM_THREADS=1 python benchmarks/gail.py --env Taxi-v4 --seeds 5 --out /tmp/gail_taxi

Experts: CartPole-v1, a PPO agent trained with ``genrl_lib.ppo`` (rl-zoo settings, seed 0, 100k steps; cached in
``genrl_lib/data/gail_cartpole_expert.pt``, remade with ``--make-expert``); Taxi-v4, the optimal policy of value
iteration. For every seed ``k`` and every number of expert trajectories ``n`` (``--trajectories``, default 1,4,16):
``n`` expert episodes (reset seeds ``1000·k + i``) subsampled every ``--every`` (20) transitions from a random offset
(the GAIL paper's protocol); BC and GAIL are trained on the same transitions.

GAIL: ``genrl_lib.gail.GAIL`` with its defaults (logit reward, absorbing states, gradient penalty 10; on Taxi
no gradient penalty, see ``GAIL_HP``); on Taxi its policy is first initialized by
behaviour cloning (``GAIL.pretrain``), because PPO from scratch on one-hot Taxi states does not find the drop-off in
the budget. An *epoch* is 1/100 of the env-step budget; the true return is evaluated at epochs 10, 20, ..., 100
(the thesis's table). Evaluation: CartPole, 20 deterministic episodes (``evaluate_policy``, seeds 10000+); Taxi,
the exact expected return of the greedy policy (``tabular.expected_return``, 200-step limit included).

``--controls`` (CartPole) adds the reward-bias runs on the first trajectory setting: GAIL with a frozen, untrained
discriminator for each reward form, and naive GAIL (no absorbing state) with the ``negative`` (log(1−D)) and
``positive`` (−log D) rewards.

Writes ``OUT/result.json`` (per seed: figures, env steps, wall seconds, epoch table, learning curves of the true
return, discriminator accuracy; command line; versions) and ``OUT/gail_<env>_n<n>_seed<k>.pt`` (``GAIL.load``).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import genrl_lib
from genrl_lib.bc import BehaviourCloning
from genrl_lib.demonstrations import collect_demonstrations
from genrl_lib.gail import GAIL
from genrl_lib.gail import Config as GAILConfig
from genrl_lib.io import save_json
from genrl_lib.ppo import PPO
from genrl_lib.tabular import expected_return, greedy_from_q, value_iteration

DATA = Path(genrl_lib.__file__).parent / "data"
EXPERT_PATH = DATA / "gail_cartpole_expert.pt"
# rl-zoo's CartPole PPO settings (as in benchmarks/ppo_cartpole.py); Taxi: a setting of ours.
PPO_HP = {
    "CartPole-v1": dict(n_envs=8, n_steps=32, batch_size=256, n_epochs=20, gamma=0.98, gae_lambda=0.8,
                        learning_rate=1e-3, lr_schedule="linear", clip_range=0.2, clip_schedule="linear", ent_coef=0.0),
    "Taxi-v4": dict(n_envs=8, n_steps=128, batch_size=256, n_epochs=4, gamma=0.99, gae_lambda=0.95,
                    learning_rate=3e-4, lr_schedule="linear", ent_coef=0.01),
}
# GAIL's own settings per env (on top of genrl_lib.gail.Config's defaults). On one-hot Taxi states the gradient
# penalty slowed the discriminator without helping (trial: 64 full trajectories, seed 0: -21 with it, 7.1 without).
GAIL_HP = {"CartPole-v1": {}, "Taxi-v4": dict(grad_penalty=0.0)}
STEPS = {"CartPole-v1": 300_000, "Taxi-v4": 200_000}
PRETRAIN = {"CartPole-v1": False, "Taxi-v4": True}
EPOCHS = tuple(range(10, 101, 10))
BIN = {"CartPole-v1": 5_000, "Taxi-v4": 5_000}


def make_expert(seed: int = 0, steps: int = 100_000, path: Path = EXPERT_PATH) -> PPO:
    """Train the CartPole PPO expert (rl-zoo settings) and save it to ``path``."""
    genrl_lib.set_seed(seed)
    agent = PPO("CartPole-v1", seed=seed, **PPO_HP["CartPole-v1"])
    agent.learn(steps, progress_bar=False)
    agent.save(path)
    agent.close()
    return agent


def load_cartpole_expert(path: Path = EXPERT_PATH):
    """The cached CartPole expert as a policy usable by ``collect_demonstrations``/``evaluate_policy``."""
    return PPO.load(path)


def expert_policy(env_id: str):
    if env_id == "Taxi-v4":
        return greedy_from_q(value_iteration(gym.make("Taxi-v4"))[1])
    return load_cartpole_expert()


def score(env_id: str, policy) -> float:
    """CartPole: mean of 20 deterministic episodes; Taxi: exact expected return of the greedy policy."""
    if env_id == "Taxi-v4":
        table = policy if isinstance(policy, np.ndarray) else np.asarray(policy.predict(np.arange(500))[0])
        return expected_return(gym.make("Taxi-v4"), table)
    return genrl_lib.evaluate_policy(policy, env_id, n_episodes=20, seed=10_000).mean


def random_score(env_id: str) -> float:
    if env_id == "Taxi-v4":   # uniform random policy, exactly
        return expected_return(gym.make("Taxi-v4"), np.full((500, 6), 1 / 6))
    rng = np.random.default_rng(0)
    return genrl_lib.evaluate_policy(lambda o: int(rng.integers(2)), env_id, n_episodes=20, seed=10_000).mean


def binned(ends, values, total: int, width: int) -> list[float | None]:
    ends, values = np.asarray(ends), np.asarray(values, float)
    edges = np.arange(0, total + width, width)
    return [round(float(values[(ends > lo) & (ends <= hi)].mean()), 3) if ((ends > lo) & (ends <= hi)).any() else None
            for lo, hi in zip(edges[:-1], edges[1:])]


def run_gail(env_id, demos, seed, steps, out: Path | None, tag: str, pretrain: bool, **hp) -> dict:
    genrl_lib.set_seed(seed)
    t0 = time.perf_counter()
    agent = GAIL(env_id, demos, seed=seed, **{**PPO_HP[env_id], **GAIL_HP[env_id], **hp})
    if pretrain:
        agent.pretrain()
    epoch_steps = steps // 100
    table, eval_s = {}, 0.0

    def on_iteration(g):   # evaluate at epochs 10, 20, ..., 100 (an epoch = steps / 100 env steps)
        nonlocal eval_s
        k = len(table)
        if k < len(EPOCHS) and g.num_timesteps >= EPOCHS[k] * epoch_steps:
            te = time.perf_counter()
            table[EPOCHS[k]] = round(float(score(env_id, g)), 3)
            eval_s += time.perf_counter() - te

    agent.learn(steps, progress_bar=False, callback=on_iteration)
    final = float(score(env_id, agent))
    wall = time.perf_counter() - t0 - eval_s
    if out is not None:
        agent.save(out / f"gail_{tag}_seed{seed}.pt")
    h = agent.history
    every = max(1, len(h["timesteps"]) // 100)
    res = {"final": round(final, 3), "epochs": [table.get(e) for e in EPOCHS], "env_steps": agent.num_timesteps,
           "wall_s": round(wall, 2),
           "curve": binned(h["episode_timesteps"], h["episode_returns"], steps, BIN[env_id]),
           "disc_timesteps": h["timesteps"][::every],
           "disc_acc_expert": [round(x, 3) for x in h["disc_acc_expert"][::every]],
           "disc_acc_policy": [round(x, 3) for x in h["disc_acc_policy"][::every]]}
    agent.close()
    return res


def run_bc(env_id, demos, seed) -> dict:
    genrl_lib.set_seed(seed)
    t0 = time.perf_counter()
    bc = BehaviourCloning(env_id, demos, seed=seed, net_arch=(64, 64)).learn(progress_bar=False)
    wall = time.perf_counter() - t0
    return {"final": round(float(score(env_id, bc)), 3), "wall_s": round(wall, 2)}


def versions() -> dict:
    import gymnasium
    return {"python": platform.python_version(), "torch": torch.__version__, "gymnasium": gymnasium.__version__,
            "numpy": np.__version__}


def summary(xs) -> dict:
    xs = np.asarray(xs, float)
    return {"mean": round(float(xs.mean()), 3), "std": round(float(xs.std()), 3), "min": round(float(xs.min()), 3),
            "max": round(float(xs.max()), 3)}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--env", choices=sorted(PPO_HP), default="CartPole-v1")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int, default=None, help="GAIL env-step budget (default: 300k CartPole, 200k Taxi)")
    p.add_argument("--trajectories", default="1,4,16")
    p.add_argument("--every", type=int, default=20)
    p.add_argument("--full", default="", help="extra settings with FULL (not subsampled) trajectories, e.g. 64")
    p.add_argument("--controls", action="store_true", help="CartPole: reward-bias control runs")
    p.add_argument("--control-steps", type=int, default=100_000)
    p.add_argument("--control-seeds", type=int, default=3)
    p.add_argument("--make-expert", action="store_true", help="retrain and overwrite the cached CartPole expert")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.make_expert:
        make_expert()
    env_id, steps = a.env, a.steps or STEPS[a.env]
    settings = [(int(x), a.every) for x in a.trajectories.split(",")] + [(int(x), 1) for x in a.full.split(",") if x]
    ns = [n for n, _ in settings]
    expert = expert_policy(env_id)
    res = {"command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
           "env": env_id, "steps": steps, "every": a.every, "trajectories": ns, "settings": settings, "seeds": list(range(a.seeds)),
           "epoch_steps": steps // 100, "epochs": list(EPOCHS), "bin": BIN[env_id], "ppo": PPO_HP[env_id],
           "pretrain_bc": PRETRAIN[env_id], "expert": round(float(score(env_id, expert)), 3),
           "random": round(float(random_score(env_id)), 3), "versions": versions(),
           "gail_config": dataclasses.asdict(GAILConfig(**GAIL_HP[env_id])), "runs": {}}
    print(f"{env_id}: expert {res['expert']:.2f}, random {res['random']:.2f}; GAIL budget {steps} steps")
    for n, every in settings:
        rows, key = [], f"{n}" if every > 1 else f"{n}full"
        for seed in range(a.seeds):
            full = collect_demonstrations(env_id, expert, n, seed=1000 * seed)
            demos = full.subsample(every, seed=seed) if every > 1 else full
            g = run_gail(env_id, demos, seed, steps, a.out, f"{env_id.split('-')[0].lower()}_n{key}", PRETRAIN[env_id])
            b = run_bc(env_id, demos, seed)
            rows.append({"seed": seed, "n_transitions": len(demos), "gail": g, "bc": b})
            print(f"  n={key:>6} seed {seed}: {len(demos):>4} transitions | GAIL {g['final']:8.2f} "
                  f"({g['env_steps']} steps, {g['wall_s']:.0f} s) | BC {b['final']:8.2f} ({b['wall_s']:.1f} s)", flush=True)
        res["runs"][key] = {"every": every, "n_trajectories": n, "seeds": rows, "gail": summary([r["gail"]["final"] for r in rows]),
                               "bc": summary([r["bc"]["final"] for r in rows])}
        save_json(a.out / "result.json", res)
    if a.controls:
        n = ns[0]
        variants = {"frozen_positive": dict(freeze_discriminator=True, reward="positive", absorbing=False),
                    "frozen_logit_absorbing": dict(freeze_discriminator=True),
                    "naive_negative": dict(reward="negative", absorbing=False),
                    "naive_positive": dict(reward="positive", absorbing=False)}
        res["controls"] = {"trajectories": n, "steps": a.control_steps, "runs": {}}
        for name, hp in variants.items():
            finals = []
            for seed in range(a.control_seeds):
                demos = collect_demonstrations(env_id, expert, n, seed=1000 * seed).subsample(a.every, seed=seed)
                r = run_gail(env_id, demos, seed, a.control_steps, None, name, False, **hp)
                finals.append(r["final"])
                res["controls"]["runs"].setdefault(name, {"hp": hp, "seeds": []})["seeds"].append(
                    {"seed": seed, "final": r["final"], "curve": r["curve"], "wall_s": r["wall_s"]})
            res["controls"]["runs"][name]["summary"] = summary(finals)
            print(f"  control {name:24s}: {summary(finals)}", flush=True)
            save_json(a.out / "result.json", res)
    print("\nsummary (mean ± std over seeds, final true return)")
    for n, r in res["runs"].items():
        g, b = r["gail"], r["bc"]
        print(f"  {n:>6} traj.: GAIL {g['mean']:8.2f} ± {g['std']:6.2f}  BC {b['mean']:8.2f} ± {b['std']:6.2f}  "
              f"expert {res['expert']:.2f}  random {res['random']:.2f}")
    save_json(a.out / "result.json", res)
    return res


if __name__ == "__main__":
    main()
