"""Reproduce the thesis's comparison table with one command.

    python -m genrl_lib.experiments thesis-table [--quick] [--seeds N] [--out DIR] [--only COL,COL]

The thesis (Barroso Moreno 2023, last results slide) reports, after training epochs 10, 20, ..., 100, GAIL on
5Zone, Datacenter and Warehouse (Sinergym), CartPole and Taxi (gymnasium), and HQL on Taxi. Each
(column, seed) pair is a **cell**: it runs once, its result is written atomically to
``DIR/cells/<column>__seed<k>.json``, and a rerun skips finished cells, so an interrupted run
(Ctrl-C, crash) resumes without redoing work. ``DIR/config.json`` records the configuration; a
directory holding results of a different configuration is refused rather than mixed.

Outputs: ``DIR/results.json`` (every cell: per-epoch values, mean, spread, seeds, env steps, wall
time, command line, versions), ``DIR/results.csv`` and ``DIR/table.md`` (the thesis's layout, with
the thesis's numbers beside ours).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genrl_lib.checks import check_positive_int, renamed
from genrl_lib.io import load_json, save_json
from genrl_lib.numerics import describe as describe_numerics

__all__ = ["EPOCHS", "THESIS_TABLE", "Column", "COLUMNS", "register_column", "run_table", "render_markdown",
           "main", "versions"]

EPOCHS = tuple(range(10, 101, 10))
# The thesis's last results slide (Barroso Moreno 2023), columns in its order, values at epochs 10..100.
THESIS_TABLE: dict[str, tuple[float, ...]] = {
    "gail-5zone": (-43646.9, -43625.9, -43621.8, -43647.3, -43618.7, -43595.8, -43645.1, -43627.4, -43636.5, -43601.01),
    "gail-datacenter": (-75631.07, -75621.6, -75641.4, -75605.0, -75643.09, -75633.5, -75633.8, -75632.5, -75622.7, -75672.2),
    "gail-warehouse": (-45995.8, -45984.0, -46006.1, -45982.3, -45966.1, -45970.1, -45976.10, -45994.6, -46000.7, -46001.9),
    "gail-cartpole": (20.1, 28.7, 30.5, 25.2, 32.3, 19.7, 31.2, 31.2, 21.4, 28.6),
    "gail-taxi": (-648.0, -745.4, -752.6, -767.0, -759.5, -705.0, -696.5, -731.0, -781.4, -738.2),
    "hql-taxi": (7.88, 7.65, 7.59, 7.82, 7.68, 7.92, 8.24, 7.63, 7.85, 8.46),
}


@dataclass(frozen=True)
class Column:
    """One column of the table.

    Attributes:
        name: e.g. ``"hql-taxi"``.
        title: header in the rendered table, e.g. ``"HQL Taxi"``.
        run: ``run(seed, quick) -> dict`` with ``"values"`` (one float per epoch in :data:`EPOCHS`)
            and optionally ``"env_steps"`` and ``"notes"``.
        seconds: ``(quick, full)`` expected wall seconds per seed, for the duration estimate.
        protocol: one line on how the value is measured (printed in the table's notes).
    """

    name: str
    title: str
    run: Callable[[int, bool], dict]
    seconds: tuple[float, float]
    protocol: str


COLUMNS: dict[str, Column] = {}


def register_column(column: Column) -> Column:
    """Add a column to :data:`COLUMNS` (modules register their experiments on import)."""
    COLUMNS[column.name] = column
    return column


def versions() -> dict[str, str]:
    """Versions of Python and the packages the results depend on."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("genrl_lib", "numpy", "torch", "gymnasium", "sinergym", "pyenergyplus-lbnl"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def _check_args(columns, seeds) -> list[str]:
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds <= 0:
        raise ValueError(f"seeds must be a positive int, got {seeds!r}")
    names = list(COLUMNS) if columns is None else list(columns)
    unknown = [c for c in names if c not in COLUMNS]
    if unknown:
        raise ValueError(f"unknown experiment column(s) {unknown}; valid: {sorted(COLUMNS)}")
    if not names:
        raise ValueError("no columns selected")
    return names


def _cell_path(out: Path, name: str, seed: int) -> Path:
    return out / "cells" / f"{name}__seed{seed}.json"


def _load_cell(out: Path, name: str, seed: int) -> dict | None:
    """A finished cell, or ``None``; refuses a cell made by another protocol of the column."""
    path = _cell_path(out, name, seed)
    if not path.exists():
        return None
    cell = load_json(path)
    if cell.get("protocol") != COLUMNS[name].protocol:
        raise ValueError(f"{path} was produced by another protocol of column {name!r} (the code changed since); "
                         f"delete that file to recompute it, or pick another --out")
    return cell


@renamed(progress="progress_bar")
def run_table(out, seeds: int = 3, quick: bool = False, columns=None, progress_bar: bool = True,
              command: str | None = None) -> dict:
    """Run (or resume) every (column, seed) cell and write the aggregated outputs into ``out``.

    Cells are independent files, so several processes may fill one directory at once with disjoint
    ``columns`` (e.g. one per core); every run aggregates the cells of the columns it was asked for.

    Args:
        out: output directory (created if needed).
        seeds: number of seeds (0..seeds-1).
        quick: the reduced protocol (minutes, for CI and the book).
        columns: names from :data:`COLUMNS`; default all registered.

    Returns:
        The ``results.json`` content.

    Raises:
        ValueError: unknown column, ``seeds <= 0``, or ``out`` holds results of another configuration
            (quick vs full, other epochs) or of another protocol of a column.
    """
    from genrl_lib.progress import progress_bar as tqdm_bar

    names = _check_args(columns, seeds)
    out = Path(out)
    config = {"quick": bool(quick), "epochs": list(EPOCHS)}
    cfg_path = out / "config.json"
    if cfg_path.exists():
        old = load_json(cfg_path)
        if old != config:
            raise ValueError(f"{out} holds results of a different configuration ({old}); to resume it, rerun with "
                             f"those options; to start fresh, pick another --out or delete {out}")
    else:
        save_json(cfg_path, config)
    todo = [(n, s) for n in names for s in range(seeds) if _load_cell(out, n, s) is None]
    est = sum(COLUMNS[n].seconds[0 if quick else 1] for n, _ in todo)
    if progress_bar:
        print(f"{len(todo)} of {len(names) * seeds} cells to run; expected duration about {est / 60:.1f} min "
              f"({'quick' if quick else 'full'} protocol, one core)", flush=True)
    with tqdm_bar(len(todo), "thesis table", enabled=progress_bar, unit="cell") as bar:
        for name, seed in todo:
            bar.set_postfix(cell=f"{name} seed {seed}", refresh=True)
            t0 = time.perf_counter()
            res = dict(COLUMNS[name].run(seed, quick))
            values = [float(v) for v in res.get("values", [])]
            if len(values) != len(EPOCHS):
                raise RuntimeError(f"column {name!r} returned {len(values)} values, expected one per epoch {EPOCHS}")
            res.update(values=values, seed=seed, wall_seconds=time.perf_counter() - t0,
                       protocol=COLUMNS[name].protocol, quick=bool(quick), versions=versions(),
                       numeric_env=describe_numerics())
            save_json(_cell_path(out, name, seed), res)   # atomic: a crash never leaves half a cell
            bar.update(1)
    results = _aggregate(out, names, seeds, {**config, "seeds": int(seeds), "columns": names},
                         command or " ".join(sys.argv))
    save_json(out / "results.json", results)
    _write_csv(out / "results.csv", results)
    (out / "table.md").write_text(render_markdown(results), encoding="utf-8")
    return results


def _aggregate(out: Path, names, seeds, config, command) -> dict:
    cols = {}
    for n in names:
        cells = []
        for s in range(seeds):
            cell = _load_cell(out, n, s)
            if cell is None:   # run_table computes every cell before aggregating
                raise RuntimeError(f"{_cell_path(out, n, s)} is missing: run_table(out) computes it")
            cells.append(cell)
        v = np.array([c["values"] for c in cells])                       # (seeds, epochs)
        cols[n] = {"title": COLUMNS[n].title, "protocol": COLUMNS[n].protocol,
                   "mean": v.mean(0).tolist(), "std": v.std(0).tolist(), "per_seed": v.tolist(),
                   "env_steps": [c.get("env_steps") for c in cells],
                   "wall_seconds": [c["wall_seconds"] for c in cells],
                   "notes": [c.get("notes", "") for c in cells], "extra": [c.get("extra", {}) for c in cells],
                   "thesis": list(THESIS_TABLE.get(n, ()))}
    return {"command": command, "config": config, "epochs": list(EPOCHS), "versions": versions(), "numeric_env": describe_numerics(),
            "wall_seconds_total": float(sum(sum(c["wall_seconds"]) for c in cols.values())), "columns": cols}


def _write_csv(path: Path, results: dict) -> None:
    lines = ["column,epoch,mean,std,n_seeds,thesis"]
    for n, c in results["columns"].items():
        for i, e in enumerate(results["epochs"]):
            th = c["thesis"][i] if c["thesis"] else ""
            lines.append(f"{n},{e},{c['mean'][i]:.6g},{c['std'][i]:.6g},{len(c['per_seed'])},{th}")
    from genrl_lib.io import atomic_path
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")


def render_markdown(results: dict) -> str:
    """The table in the thesis's layout: one row per epoch, per column ``ours (mean ± std)`` and ``thesis``."""
    cols = results["columns"]
    head = "| Epoch | " + " | ".join(f"{c['title']} (ours) | {c['title']} (thesis)" for c in cols.values()) + " |"
    sep = "|---|" + "---|---|" * len(cols)
    rows = []
    for i, e in enumerate(results["epochs"]):
        cells = []
        for c in cols.values():
            digits = 2 if abs(c["mean"][i]) < 100 else 1
            cells.append(f"{c['mean'][i]:.{digits}f} ± {c['std'][i]:.{digits}f}")
            cells.append(f"{c['thesis'][i]:g}" if c["thesis"] else "")
        rows.append(f"| {e} | " + " | ".join(cells) + " |")
    n = len(next(iter(cols.values()))["per_seed"])
    notes = [f"- {c['title']}: {c['protocol']}" for c in cols.values()]
    return "\n".join([head, sep, *rows, "", f"Ours: mean ± standard deviation over {n} seed(s).", *notes]) + "\n"


# ---------------------------------------------------------------- the columns
def _hql_taxi(seed: int, quick: bool) -> dict:
    """HQL on Taxi-v4: a database of Q-learning experts (seeds ``20·seed …``), the vanilla GAN trained
    100 epochs of 10 steps (GAN seed ``seed``); after every 10th epoch, the **exact** mean expected
    return of the greedy policies of ``n_tables`` generated Q-tables (noise seed ``seed``)."""
    import gymnasium as gym

    from genrl_lib.hql import HQL, build_expert_database

    env = gym.make("Taxi-v4")
    n_experts, n_tables = (5, 20) if quick else (20, 100)
    db = build_expert_database(env, n_experts, seed=seed * n_experts, progress_bar=False)
    hql = HQL(env, db.q_tables, seed=seed)
    hist = hql.fit(EPOCHS[-1], progress_bar=False, eval_every=EPOCHS[0], eval_n=n_tables, eval_seed=seed)
    values = [e["exact_mean"] for e in hist["evaluation"]]
    return {"values": values, "env_steps": None,
            "notes": f"{n_experts} experts (best exact {db.exact_returns.max():.3f}), {n_tables} generated tables per epoch"}


def _snapshot_epochs(agent, total_steps: int):
    """A GAIL ``learn`` callback (:func:`genrl_lib.protocols.imitation.epoch_callback`) that keeps a copy of the policy's weights
    at every tenth epoch (epoch = 1/100 of ``total_steps``; taken at the first iteration that reaches it).

    Returns ``(callback, snaps)``: ``snaps`` fills with one ``{"num_timesteps", "actor": state_dict}`` per
    epoch 10, 20, ..., 100; marks reached by the same iteration share one (identical) snapshot object."""
    from genrl_lib.protocols.imitation import epoch_callback

    def snapshot(gail) -> dict:
        if snaps and snaps[-1]["num_timesteps"] == gail.num_timesteps:
            return snaps[-1]                         # the same iteration reached two marks: same weights
        return {"num_timesteps": gail.num_timesteps,
                "actor": {k: v.detach().clone() for k, v in gail.ppo.actor.state_dict().items()}}

    callback, snaps = epoch_callback(total_steps, EPOCHS, snapshot)
    return callback, snaps


# (demonstration period, evaluation period, GAIL env steps): full = January / February / 24k steps (8 Januaries);
# quick = two January days / two other January days / 640 steps.
BUILDING_PROTOCOL = {False: ("january", "february", 24_000), True: (((1, 1), (1, 2)), ((1, 8), (1, 9)), 640)}
_EXPERTS: dict = {}   # (building, weather, quick) -> (name, demonstrations); the simulation is deterministic


def _gail_building(building: str, weather: str):
    """GAIL on a Sinergym building (:mod:`genrl_lib.buildings`, GAIL settings ``protocols.buildings.GAIL_HP``): the expert (:func:`~genrl_lib.protocols.buildings.select_expert`
    on the demonstration period) is recorded for one episode; GAIL (seed ``seed``) trains on that period and its
    deterministic policy, snapshotted after epochs 10..100, is scored on the evaluation period (one episode each)."""

    def run(seed: int, quick: bool) -> dict:
        from genrl_lib.buildings import make_building_env, run_episode
        from genrl_lib.demonstrations import collect_demonstrations
        from genrl_lib.gail import GAIL
        from genrl_lib.protocols.buildings import GAIL_HP, expert_by_name, observation_scaler, select_expert
        from genrl_lib.seeding import set_seed

        demo_period, eval_period, steps = BUILDING_PROTOCOL[quick]
        # one Sinergym simulation open at a time (two in one process hang on close)
        env = make_building_env(building, weather, period=demo_period, seed=0)
        try:
            key = (building, weather, quick)
            if key not in _EXPERTS:
                # quick: the rule-based controller only (each candidate costs a simulation restart)
                name, pi, _ = select_expert(env, constants=() if quick else None)
                _EXPERTS[key] = (name, collect_demonstrations(env, pi, n_episodes=1, seed=0))
            name, demos = _EXPERTS[key]
            shift, scale = observation_scaler(demos.observations)
            set_seed(seed)
            agent = GAIL(env, demos, seed=seed, obs_shift=shift, obs_scale=scale, **GAIL_HP)
            callback, snaps = _snapshot_epochs(agent, steps)
            agent.learn(steps, progress_bar=False, callback=callback)
        finally:
            env.close()
        env = make_building_env(building, weather, period=eval_period, seed=0)
        try:
            scored: dict[int, float] = {}    # the simulation is deterministic: score each distinct snapshot once
            for snap in snaps:
                if id(snap) not in scored:
                    agent.ppo.actor.load_state_dict(snap["actor"])
                    scored[id(snap)] = run_episode(env, agent).ret
            values = [scored[id(snap)] for snap in snaps]
            expert = expert_by_name(env, name)
            expert_ret = run_episode(env, expert).ret
        finally:
            env.close()
        return {"values": values, "env_steps": agent.num_timesteps,
                "extra": {"expert": name, "expert_return": expert_ret, "demonstration_period": str(demo_period),
                          "evaluation_period": str(eval_period)},
                "notes": f"expert {name} (return {expert_ret:.1f} on the evaluation period)"}

    return run


# GAIL on gymnasium envs: the demonstrations of the table's runs (number of expert trajectories, subsampling).
GYM_DEMOS = {"CartPole-v1": (1, 20), "Taxi-v4": (64, 1)}
GYM_QUICK_STEPS = {"CartPole-v1": 12_000, "Taxi-v4": 8_000}
TAXI_PPO_EPOCHS = 8   # = genrl_lib.protocols.imitation.PRESETS["Taxi-v4"]["ppo"]["n_epochs"] (tested)


def _gail_gym(env_id: str):
    """GAIL on a gymnasium env through :func:`genrl_lib.protocols.imitation.run_protocol` (the GAIL benchmark's
    protocol)."""

    def run(seed: int, quick: bool) -> dict:
        from genrl_lib.protocols.imitation import run_protocol

        n, every = GYM_DEMOS[env_id]
        res = run_protocol(env_id, seed, n_trajectories=n, every=every,
                           total_timesteps=GYM_QUICK_STEPS[env_id] if quick else None,
                           n_eval_episodes=3 if quick else 20, progress_bar=False)
        res["agent"].close()
        return {"values": list(res["values"]), "env_steps": int(res["env_steps"]),
                "extra": {"n_trajectories": n, "every": every, "n_transitions": len(res["demonstrations"]),
                          "expert_return": float(res["expert"]), "bc_return": float(res["bc"]["final"])},
                "notes": f"{n} expert trajectories, " + ("full" if every == 1 else f"every {every}th transition")
                         + f" ({len(res['demonstrations'])} pairs)"}

    return run


def _register_all() -> None:
    b = "return of the deterministic GAIL policy after epochs 10..100 (epoch = 1/100 of {steps} env steps), " \
        "one episode on {ev}; demonstrations: one episode of the expert on {dm}"
    full = dict(steps="24,000", ev="February", dm="January")
    for name, title, building, weather, secs in (("gail-5zone", "GAIL 5Zone", "5zone", "hot", (30, 150)),
                                                 ("gail-datacenter", "GAIL Datacenter", "datacenter", "mixed", (40, 300)),
                                                 ("gail-warehouse", "GAIL Warehouse", "warehouse", "hot", (30, 150))):
        register_column(Column(name, title, _gail_building(building, weather), secs,
                               f"Sinergym {building}-{weather}, discrete setpoints; " + b.format(**full)))
    register_column(Column("gail-cartpole", "GAIL CartPole", _gail_gym("CartPole-v1"), (20, 150),
                           "mean return of 20 deterministic episodes after epochs 10..100 (epoch = 1/100 of the "
                           "GAIL benchmark's budget); 1 expert trajectory subsampled every 20th transition; max 500"))
    # the protocol names the PPO epochs, so cells of another preset are refused (TAXI_PPO_EPOCHS is tested equal to
    # genrl_lib.protocols.imitation.PRESETS': importing it here would import torch and make the command line slow to answer)
    register_column(Column("gail-taxi", "GAIL Taxi", _gail_gym("Taxi-v4"), (20, 150),
                           "exact expected return of the greedy GAIL policy after epochs 10..100 (epoch = 1/100 of "
                           "the GAIL benchmark's budget); 64 full expert trajectories; PPO "
                           f"{TAXI_PPO_EPOCHS} epochs per rollout; optimum 7.930"))
    register_column(Column("hql-taxi", "HQL Taxi", _hql_taxi, (10, 120),
                           "exact mean expected return (policy evaluation on the model, 200-step limit) of the greedy "
                           "policies of generated Q-tables; one epoch = 10 GAN steps; optimum 7.930"))


_register_all()


def _positive_int(text: str) -> int:
    try:
        return check_positive_int(int(text), "--seeds")
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None


def _columns(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in names if c not in COLUMNS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown column(s) {unknown or text!r}; valid: {', '.join(sorted(COLUMNS))}")
    return names


def main(argv=None) -> int:
    """``python -m genrl_lib.experiments thesis-table [--quick] [--seeds N] [--out DIR] [--only a,b]``; every argument
    is checked (usage error, exit status 2) before any cell runs. Returns the exit status."""
    ap = argparse.ArgumentParser(prog="python -m genrl_lib.experiments", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("thesis-table", help="run (or resume) the thesis's comparison table")
    t.add_argument("--quick", action="store_true", help="reduced protocol that runs in minutes")
    t.add_argument("--seeds", type=_positive_int, default=3, help="number of seeds (default 3)")
    t.add_argument("--out", default="thesis_results", help="output directory (default ./thesis_results)")
    t.add_argument("--only", type=_columns, default=None,
                   help=f"comma-separated columns; valid: {', '.join(sorted(COLUMNS))}")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        t.error(f"--out {out} is an existing file, not a folder: pick a folder name")
    try:
        res = run_table(args.out, seeds=args.seeds, quick=args.quick, columns=args.only, progress_bar=not args.no_progress,
                        command="python -m genrl_lib.experiments " + " ".join(argv if argv is not None else sys.argv[1:]))
    except ValueError as e:
        ap.error(str(e))
    print(render_markdown(res))
    return 0

if __name__ == "__main__":
    sys.exit(main())
