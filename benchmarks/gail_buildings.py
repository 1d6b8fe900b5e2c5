"""Benchmark: GAIL and behaviour cloning imitate a rule-based HVAC controller on three Sinergym buildings.

    OMP_NUM_THREADS=1 python benchmarks/gail_buildings.py --seeds 3 --period week --out /tmp/gail_buildings_week
    OMP_NUM_THREADS=1 python benchmarks/gail_buildings.py --seeds 3 --period month --ppo-steps 60000 --out /tmp/gail_buildings_month

Buildings (``genrl_lib.buildings.make_building_env``, discrete setpoint actions): 5zone-hot, datacenter-mixed
(``datacenter_dx``), warehouse-hot. Expert: ``select_expert`` on the demonstration period, the best of Sinergym's rule-based
controller mapped to the nearest discrete action (``rule_based_expert``) and the 10 constant controllers (in
January the rule-based controllers are constant too, and on the Warehouse another constant beats them). Periods (``genrl_lib.protocols.buildings.IMITATION_PERIODS``): the expert is recorded on the
demonstration period (one episode: the simulation is deterministic, a second one would be identical) and GAIL
trains in that period; every controller is scored on a *different* evaluation period:

* ``week``: demonstrations Jan 1-7, evaluation Jan 8-14;
* ``month``: demonstrations January, evaluation February;
* ``year``: demonstrations January, evaluation the whole year.

For each building and seed: return, HVAC energy (kWh) and comfort-violation hours of a uniformly random controller
(seeded), the expert, GAIL (``genrl_lib.gail.GAIL``, logit reward, absorbing state, gradient penalty 10, PPO with
``n_steps=128``, 5 discriminator steps of 128 pairs per rollout; observations standardized by ``observation_scaler`` of the demonstrations, std floored at 1) and
BC (``genrl_lib.bc.BehaviourCloning``, same network and scaler); GAIL's env steps and wall seconds.
With ``--ppo-steps N > 0`` also a PPO controller trained for N env steps on the TRUE reward in the demonstration
period (``genrl_lib.protocols.buildings.train_ppo_controller``: ``genrl_lib.ppo.PPO`` with ``PPO_CONTROLLER_HP``, the same
observation scaler), scored deterministically on the demonstration period (against the expert there) and on the
evaluation period like the others; the true return of each training episode is recorded too.
With ``--ppo-expert`` the imitated expert is instead such a PPO controller (seed 0, trained with the selected expert's
scaler): a state-dependent expert, unlike January's constant ones. GAIL and BC then imitate its demonstrations
(standardized by their own ``observation_scaler``) and the result's ``expert`` is PPO (``selected_expert_name`` keeps
the rule/constant choice).
``torch.set_num_threads(1)``. Writes ``OUT/result.json`` (per seed, summaries, ratios GAIL/expert, command,
versions) and ``OUT/gail_<building>_seed<k>.pt`` (``GAIL.load``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

BUILDING_NAMES = ("5zone", "datacenter", "warehouse")   # the buildings of BUILDINGS below

from _cli import choice_list, non_negative_int, parse, positive_int  # standard library only: benchmarks/_cli.py


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked (usage error, exit status 2) before torch and genrl_lib are imported."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=positive_int, default=3)
    p.add_argument("--period", choices=("week", "month", "year"), default="week")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="GAIL env-step budget (default: 12k week, 24k month/year)")
    p.add_argument("--buildings", type=choice_list(BUILDING_NAMES), default=",".join(BUILDING_NAMES))
    p.add_argument("--ppo-steps", type=non_negative_int, default=0,
                   help="env steps of a PPO controller trained on the true reward in the demonstration period (0: none)")
    p.add_argument("--ppo-expert", action="store_true",
                   help="imitate a PPO controller (seed 0, --ppo-steps steps) instead of the selected rule/constant")
    p.add_argument("--out", type=Path, required=True)
    args = parse(p, argv)
    if args.ppo_expert and not args.ppo_steps:
        p.error("--ppo-expert needs --ppo-steps > 0 (the steps to train the PPO controller it imitates)")
    return args


if __name__ == "__main__":
    parse_args()   # a bad argument stops here, in a fraction of a second, before the heavy imports below

import numpy as np
import torch

import genrl_lib
from genrl_lib.bc import BehaviourCloning
from genrl_lib.buildings import make_building_env, rule_based_expert, run_episode
from genrl_lib.demonstrations import collect_demonstrations
from genrl_lib.gail import GAIL
from genrl_lib.io import save_json
from genrl_lib.numerics import describe as describe_numerics
from genrl_lib.protocols.buildings import (
    GAIL_HP,
    PPO_CONTROLLER_HP,
    expert_by_name,
    imitation_periods,
    observation_scaler,
    random_policy,
    select_expert,
    train_ppo_controller,
)

BUILDINGS = (("5zone", "hot"), ("datacenter", "mixed"), ("warehouse", "hot"))
STEPS = {"week": 12_000, "month": 24_000, "year": 24_000}


def stats_dict(s) -> dict:
    return {"return": round(s.ret, 3), "energy_kwh": round(s.energy_kwh, 3),
            "comfort_violation_hours": round(s.comfort_violation_hours, 3), "steps": s.steps}


def summary(xs) -> dict:
    xs = np.asarray(xs, float)
    return {"mean": round(float(xs.mean()), 3), "std": round(float(xs.std()), 3), "min": round(float(xs.min()), 3),
            "max": round(float(xs.max()), 3)}


def versions() -> dict:
    import gymnasium
    import sinergym
    return {"python": platform.python_version(), "torch": torch.__version__, "gymnasium": gymnasium.__version__,
            "numpy": np.__version__, "sinergym": getattr(sinergym, "__version__", "?")}


def run_building(building, weather, seeds, period, steps, out: Path | None, ppo_steps: int = 0,
                 ppo_expert: bool = False) -> dict:
    # Sinergym's EnergyPlus callbacks misbehave with two simulations alive in one process (close() then hangs),
    # so the demonstration-period env and the evaluation-period env are never open at the same time.
    demo_period, eval_period = imitation_periods(period)
    t0 = time.perf_counter()
    res = {"building": building, "weather": weather, "seeds": {s: {} for s in seeds}}
    agents = {}
    train_env = make_building_env(building, weather, period=demo_period, seed=0)
    try:
        name, expert_pi, candidates = select_expert(train_env)      # chosen on the demonstration period only
        res["expert_name"], res["expert_candidates_demo_period"] = name, {k: round(v, 3) for k, v in candidates.items()}
        demos = collect_demonstrations(train_env, expert_pi, n_episodes=1, seed=0)
        shift, scale = observation_scaler(demos.observations)
        if ppo_expert:   # a state-dependent expert: PPO (seed 0) trained on the true reward, scaled like the above
            tp = time.perf_counter()
            expert_pi = train_ppo_controller(train_env, shift, scale, ppo_steps, seed=0)
            res["selected_expert_name"], name = name, "ppo"
            res["expert_name"] = name
            candidates["ppo"] = run_episode(train_env, expert_pi).ret
            res["ppo_expert_demo_return"] = round(candidates["ppo"], 3)
            res["ppo_expert_train_wall_s"] = round(time.perf_counter() - tp, 2)
            demos = collect_demonstrations(train_env, expert_pi, n_episodes=1, seed=0)
            shift, scale = observation_scaler(demos.observations)
            ppo_steps = 0          # the PPO controller is the expert: no per-seed PPO controllers
        res["n_demonstrations"] = len(demos)
        res["expert_actions"] = np.bincount(demos.actions.astype(int), minlength=10).tolist()
        for seed in seeds:
            row = res["seeds"][seed]
            genrl_lib.set_seed(seed)
            tb = time.perf_counter()
            bc = BehaviourCloning(train_env, demos, seed=seed, obs_shift=shift, obs_scale=scale,
                                  net_arch=GAIL_HP["net_arch"]).learn(progress_bar=False)
            row["bc_train_wall_s"] = round(time.perf_counter() - tb, 2)
            genrl_lib.set_seed(seed)
            tg = time.perf_counter()
            agent = GAIL(train_env, demos, seed=seed, obs_shift=shift, obs_scale=scale, **GAIL_HP)
            agent.learn(steps, progress_bar=False)
            row["gail_env_steps"] = agent.num_timesteps
            row["gail_train_wall_s"] = round(time.perf_counter() - tg, 2)
            row["gail_disc_acc_expert_last"] = round(float(agent.history["disc_acc_expert"][-1]), 3)
            row["gail_disc_acc_policy_last"] = round(float(agent.history["disc_acc_policy"][-1]), 3)
            if out is not None:
                agent.save(out / f"gail_{building}_seed{seed}.pt")
            ppo = None
            if ppo_steps:
                genrl_lib.set_seed(seed)
                tp = time.perf_counter()
                ppo = train_ppo_controller(train_env, shift, scale, ppo_steps, seed=seed)
                row["ppo_env_steps"] = ppo.agent.num_timesteps
                row["ppo_train_wall_s"] = round(time.perf_counter() - tp, 2)
                row["ppo_train_episode_returns"] = [round(r, 3) for r in ppo.agent.history["episode_returns"]]
                row["ppo_demo"] = stats_dict(run_episode(train_env, ppo))      # deterministic, on the training period
            agents[seed] = (bc, agent, ppo)
            print(f"  {building} seed {seed}: GAIL {row['gail_env_steps']} steps in {row['gail_train_wall_s']:.0f} s"
                  + (f"; PPO {row['ppo_env_steps']} steps in {row['ppo_train_wall_s']:.0f} s, demo-period return "
                     f"{row['ppo_demo']['return']:.1f} (expert {candidates[name]:.1f})" if ppo else ""), flush=True)
    finally:
        train_env.close()
    eval_env = make_building_env(building, weather, period=eval_period, seed=0)
    try:
        expert_eval = expert_pi if name == "ppo" else expert_by_name(eval_env, name)
        expert = stats_dict(run_episode(eval_env, expert_eval))
        res["expert"] = expert
        res["rule_based_eval"] = stats_dict(run_episode(eval_env, rule_based_expert(eval_env)))
        print(f"{building}-{weather}: expert ({name}) {expert}  (actions in demos: {res['expert_actions']})", flush=True)
        for seed in seeds:
            row, (bc, agent, ppo) = res["seeds"][seed], agents[seed]
            row["random"] = stats_dict(run_episode(eval_env, random_policy(eval_env, seed)))
            row["bc"] = stats_dict(run_episode(eval_env, bc))
            gail = run_episode(eval_env, agent)
            row["gail"] = stats_dict(gail)
            row["gail_actions"] = np.bincount(gail.actions.astype(int), minlength=10).tolist()
            if ppo is not None:
                p = run_episode(eval_env, ppo)
                row["ppo"] = stats_dict(p)
                row["ppo_actions"] = np.bincount(p.actions.astype(int), minlength=10).tolist()
            print(f"  seed {seed}: random {row['random']['return']:.1f}  BC {row['bc']['return']:.1f}  "
                  f"GAIL {row['gail']['return']:.1f}  expert {expert['return']:.1f}"
                  + (f"  PPO {row['ppo']['return']:.1f}" if ppo is not None else ""), flush=True)
    finally:
        eval_env.close()
    whos = ("random", "bc", "gail") + (("ppo", "ppo_demo") if ppo_steps else ())
    for who in whos:
        for k in ("return", "energy_kwh", "comfort_violation_hours"):
            res.setdefault("summary", {}).setdefault(who, {})[k] = summary([r[who][k] for r in res["seeds"].values()])
    for who in whos[1:]:   # ratios to the expert on the evaluation period (ppo_demo: to the expert's demo-period return)
        ref = candidates[name] if who == "ppo_demo" else expert["return"]
        res[f"{who}_over_expert"] = summary([r[who]["return"] / ref for r in res["seeds"].values()])
    res["wall_s"] = round(time.perf_counter() - t0, 2)
    return res


def main(argv=None) -> dict:
    args = parse_args(argv)
    assert BUILDING_NAMES == tuple(b for b, _ in BUILDINGS), "BUILDING_NAMES must list BUILDINGS"
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    steps = args.steps or STEPS[args.period]
    demo_period, eval_period = imitation_periods(args.period)
    t0 = time.perf_counter()
    wanted = args.buildings
    results = {b: run_building(b, w, range(args.seeds), args.period, steps, args.out, args.ppo_steps, args.ppo_expert)
               for b, w in BUILDINGS if b in wanted}
    # "within 5%": GAIL's return is at most 5% worse than the expert's (returns are negative: ratio <= 1.05)
    doc = {"command": "gail_buildings.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "period": args.period, "demonstration_period": str(demo_period), "evaluation_period": str(eval_period),
           "gail_steps": steps, "ppo": GAIL_HP, "ppo_steps": args.ppo_steps, "ppo_expert": args.ppo_expert,
           "ppo_controller": {k: list(v) if isinstance(v, tuple) else v for k, v in PPO_CONTROLLER_HP.items()}
           if args.ppo_steps else None, "seeds": list(range(args.seeds)), "torch_threads": 1,
           "buildings": results, "wall_s": round(time.perf_counter() - t0, 2), "numeric_env": describe_numerics(), "versions": versions(),
           "goal_gail_within_5pct": {b: all(r["gail"]["return"] >= 1.05 * res["expert"]["return"]
                                           for r in res["seeds"].values()) for b, res in results.items()}}
    save_json(args.out / "result.json", doc)
    ppo_cols = args.ppo_steps > 0 and not args.ppo_expert
    print(f"\n{'building':<12}{'random':>18}{'expert':>10}{'BC':>18}{'GAIL':>18}{'GAIL/expert':>13}"
          + (f"{'PPO':>18}{'PPO/expert':>12}{'PPO demo/exp':>14}" if ppo_cols else ""))
    for b, res in results.items():
        s = res["summary"]
        f = lambda d: f"{d['return']['mean']:.1f}±{d['return']['std']:.1f}"  # noqa: E731
        print(f"{b:<12}{f(s['random']):>18}{res['expert']['return']:>10.1f}{f(s['bc']):>18}{f(s['gail']):>18}"
              f"{res['gail_over_expert']['mean']:>13.3f}"
              + (f"{f(s['ppo']):>18}{res['ppo_over_expert']['mean']:>12.3f}{res['ppo_demo_over_expert']['mean']:>14.3f}"
                 if ppo_cols else ""))
    print(f"wall {doc['wall_s']:.0f} s; goal (GAIL within 5% of expert, every seed): {doc['goal_gail_within_5pct']}")
    return doc


if __name__ == "__main__":
    main()
