#!/usr/bin/env python
"""The book's tight benchmark goals, re-checked under several numeric environments (emulated CPUs).

    python benchmarks/numeric_envs.py --envs native,other-cpu --seeds 5 --out DIR
    python benchmarks/numeric_envs.py --envs native,other-cpu --seeds 5 --out DIR --reuse   # aggregate only

For each numeric environment of ``genrl_lib.numerics`` it runs, in a subprocess with that environment's
variables (one thread, as the Makefile does):

* ``gail.py --env CartPole-v1 --trajectories 1``: GAIL from one subsampled trajectory, goal 5/5 seeds >= 475;
* ``dqn_cartpole.py --no-peer``: DQN on CartPole, 50k steps, goal 5/5 seeds >= 475 for the agent as returned
  (best-checkpoint selection; goal ``dqn_cartpole``) and, from the same runs, the last network (``dqn_cartpole_last``);
* ``gail.py --env Taxi-v4 --trajectories '' --full 64``: GAIL on Taxi from 64 full trajectories, goal 5/5 >= 7.0;

and writes ``DIR/result.json``: per goal and environment, the per-seed values, how many seeds meet the goal,
the wall time and the numeric environment each run recorded. ``DIR/<goal>_<env>/`` keeps each benchmark's own
output. ``--reuse`` skips runs whose ``result.json`` already exists. The committed copy is
``genrl_lib/data/numeric_env_goals.json``; the DQN and GAIL chapters quote it. ``--merge-into`` that file adds
this run to it: on the file's own machine the environments run replace its entries, on another real machine
they are kept apart under each goal's ``machines`` (keyed by CPU model and torch kernel level).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _cli import choice_list, parse, positive_int  # standard library only: benchmarks/_cli.py

ROOT = Path(__file__).resolve().parents[1]
# literals, checked against genrl_lib.numerics.NUMERIC_ENVS in main (a bad name is refused before any import)
ENV_NAMES = ("native", "torch-scalar", "mkl-compatible", "mkl-avx2", "openblas-sandybridge", "numpy-baseline",
             "threads-2", "other-cpu")
GOALS = {
    "gail_cartpole_1traj": {"script": "gail.py", "args": ["--env", "CartPole-v1", "--trajectories", "1"],
                            "threshold": 475.0, "what": "GAIL, CartPole, 1 subsampled trajectory: final return"},
    "dqn_cartpole": {"script": "dqn_cartpole.py", "args": ["--no-peer"], "threshold": 475.0,
                     "what": "DQN, CartPole, 50k steps, the agent as returned (best checkpoint of a greedy evaluation "
                             "every 2,500 steps): deterministic evaluation"},
    # the same runs (one run serves both goals), the last network's figure: what the goal was before selection
    "dqn_cartpole_last": {"script": "dqn_cartpole.py", "args": ["--no-peer"], "threshold": 475.0, "run": "dqn_cartpole",
                          "what": "DQN, CartPole, 50k steps, the last network: deterministic evaluation"},
    "gail_taxi_64full": {"script": "gail.py", "args": ["--env", "Taxi-v4", "--trajectories", "", "--full", "64"],
                         "threshold": 7.0, "what": "GAIL, Taxi, 64 full trajectories: exact expected return"},
}


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked (usage error, exit status 2) before genrl_lib is imported."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envs", type=choice_list(ENV_NAMES), default=["native", "other-cpu"],
                    help=f"comma-separated numeric environments: {', '.join(ENV_NAMES)}")
    ap.add_argument("--seeds", type=positive_int, default=5)
    ap.add_argument("--goals", type=choice_list(tuple(GOALS)), default=list(GOALS),
                    help=f"comma-separated: {', '.join(GOALS)}")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--reuse", action="store_true", help="keep runs whose result.json exists")
    ap.add_argument("--merge-into", type=Path, default=None, metavar="JSON",
                    help="also add this run to a committed result (genrl_lib/data/numeric_env_goals.json): made on "
                         "the same machine, its environments replace the file's; on another machine they go under "
                         "each goal's \"machines\", keyed by the machine's CPU and torch kernel level")
    a = parse(ap, argv)
    if a.merge_into is not None and not a.merge_into.is_file():
        ap.error(f"--merge-into {a.merge_into}: no such file; give the committed result to add this run to "
                 "(genrl_lib/data/numeric_env_goals.json)")
    return a


def values(goal: str, result: dict) -> list[float]:
    """The per-seed figure a goal is about, from that benchmark's result.json."""
    if goal == "dqn_cartpole":
        return [float(r["eval_mean"]) for r in result["ours"]]
    if goal == "dqn_cartpole_last":    # files from before selection have no eval_mean_last: their eval_mean was it
        return [float(r.get("eval_mean_last", r["eval_mean"])) for r in result["ours"]]
    key = "1" if goal == "gail_cartpole_1traj" else "64full"
    return [float(s["gail"]["final"]) for s in result["runs"][key]["seeds"]]


def merge_result(committed: dict, new: dict) -> dict:
    """``committed`` with the goals of ``new`` (another run of this script) added; neither is modified.

    Runs made on the committed file's machine (same CPU model and torch kernel level) replace its entries in
    ``goals[g]["envs"]``; runs made on another machine go to ``goals[g]["machines"][label][env]`` and the
    machine's record to ``machines[label]``, so the file says which real processor each figure came from.
    """
    import copy

    from genrl_lib.numerics import machine_label

    out = copy.deepcopy(committed)
    label = machine_label(new["machine"])
    same = label == machine_label(committed.get("machine", {}))
    if not same:
        out.setdefault("machines", {})[label] = {"machine": new["machine"], "command": new["command"],
                                                "seeds": new["seeds"]}
    for g, gr in new["goals"].items():
        goal = out["goals"].setdefault(g, {"what": gr["what"], "threshold": gr["threshold"], "envs": {}})
        target = goal["envs"] if same else goal.setdefault("machines", {}).setdefault(label, {})
        target.update(copy.deepcopy(gr["envs"]))
    return out


def main(argv=None) -> int:
    a = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from genrl_lib.io import save_json
    from genrl_lib.numerics import NUMERIC_ENVS, describe, numeric_env_vars

    if set(ENV_NAMES) != set(NUMERIC_ENVS):
        raise RuntimeError("benchmarks/numeric_envs.py: ENV_NAMES is out of date with genrl_lib.numerics.NUMERIC_ENVS")
    envs, goals = a.envs, a.goals
    a.out.mkdir(parents=True, exist_ok=True)
    res = {"command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
           "seeds": a.seeds, "machine": describe(), "goals": {}}
    ran: set[Path] = set()
    for g in goals:
        spec = GOALS[g]
        res["goals"][g] = {"what": spec["what"], "threshold": spec["threshold"], "envs": {}}
        for e in envs:
            out = a.out / f"{spec.get('run', g)}_{e}"
            if out not in ran and not (a.reuse and (out / "result.json").exists()):
                ran.add(out)
                variables, skipped = numeric_env_vars(e)
                env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **variables}
                cmd = [sys.executable, str(ROOT / "benchmarks" / spec["script"]), *spec["args"],
                       "--seeds", str(a.seeds), "--out", str(out)]
                print(f"== {g} under {e}" + (f" (machine sets {skipped})" if skipped else ""), flush=True)
                t0 = time.perf_counter()
                subprocess.run(cmd, env=env, check=True)
                print(f"   {time.perf_counter() - t0:.0f} s", flush=True)
            r = json.loads((out / "result.json").read_text(encoding="utf-8"))
            v = values(g, r)
            res["goals"][g]["envs"][e] = {"values": v, "n_meeting": int(sum(x >= spec["threshold"] for x in v)),
                                          "n_seeds": len(v), "mean": sum(v) / len(v),
                                          "numeric_env": r.get("numeric_env"), "command": r.get("command")}
    save_json(a.out / "result.json", res)   # atomic, like every result file of the library
    if a.merge_into is not None:
        save_json(a.merge_into, merge_result(json.loads(a.merge_into.read_text(encoding="utf-8")), res))
        print(f"merged into {a.merge_into}")
    for g, gr in res["goals"].items():
        for e, er in gr["envs"].items():
            print(f"{g:<22} {e:<14} {er['n_meeting']}/{er['n_seeds']} >= {gr['threshold']}: "
                  + ", ".join(f"{x:.2f}" for x in er["values"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
