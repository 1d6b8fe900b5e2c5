#!/usr/bin/env python
"""Run chapters under several numeric environments x seeds and print the spread of every glued number.

    python scripts/numeric_spread.py gail --envs native,other-cpu --seeds 0,1,2
    python scripts/numeric_spread.py all --envs native,torch-scalar,mkl-compatible --seeds 0,1 --out _build/spread

Each run executes ``notebooks/<chapter>.ipynb`` in a fresh kernel with ``GENRL_BOOK_SEED=<seed>`` (the seed of
the chapter's live runs, see ``genrl_lib.book.chapter_seed``), the variables of the numeric environment
(``genrl_lib.numerics.NUMERIC_ENVS``: how another CPU's kernels are emulated on this one) and
``GENRL_GLUE_DUMP`` pointing at a file where every ``glue`` and every ``claim`` of the chapter is recorded.
A failing claim does not stop the run: the remaining cells still execute, so every number is collected.

It prints, per chapter, each glued number's min and max over all runs and each claim's worst value against its
bound, and writes ``OUT/<chapter>/<env>_seed<k>.jsonl`` (the raw records) and ``OUT/spread.json`` (the
summary). Exit status 1 if any claim failed in any run. See CONTRIBUTING.md ("A new claim") for how a claim's
bound is chosen from this output.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genrl_lib.io import load_json, save_json  # noqa: E402
from genrl_lib.numerics import NUMERIC_ENVS, numeric_env_vars  # noqa: E402


def chapters() -> list[str]:
    return sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


def parse_list(text: str, what: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"--{what} is empty; give a comma-separated list")
    return items


def parse_seeds(text: str) -> list[int]:
    seeds = []
    for t in parse_list(text, "seeds"):
        if not t.isdigit():
            raise argparse.ArgumentTypeError(f"--seeds takes non-negative integers, got {t!r} (e.g. --seeds 0,1,2)")
        seeds.append(int(t))
    return seeds


def run_one(chapter: str, env_name: str, seed: int, out: Path, timeout: int) -> dict:
    """Execute one chapter in a subprocess; returns {"errors": [...], "wall_s": ...}."""
    dump = out / chapter / f"{env_name}_seed{seed}.jsonl"
    dump.parent.mkdir(parents=True, exist_ok=True)
    dump.unlink(missing_ok=True)
    variables, _ = numeric_env_vars(env_name)
    env = {**os.environ, **variables, "GENRL_BOOK_SEED": str(seed), "GENRL_GLUE_DUMP": str(dump),
           "MPLBACKEND": "Agg", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    code = (
        "import sys, json, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        f"NotebookClient(nb, timeout={timeout}, allow_errors=True, kernel_name='python3').execute()\n"
        "errs = [f\"cell {i}: {o.get('ename')}: {o.get('evalue', '')[:4000]}\" for i, c in enumerate(nb.cells)\n"
        "        if c.cell_type == 'code' for o in c.get('outputs', []) if o.get('output_type') == 'error']\n"
        "print(json.dumps(errs))\n"
    )
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, "-c", code, str(ROOT / "notebooks" / f"{chapter}.ipynb")],
                              cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    try:
        errors = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        errors = [f"the run itself failed (exit {proc.returncode}): {proc.stderr[-2000:]}"]
    return {"chapter": chapter, "env": env_name, "seed": seed, "errors": errors, "wall_s": round(wall, 1)}


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _numbers(v):
    """Flatten a glued/claimed value into floats (bools and strings give none)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return []
    if isinstance(v, (int, float)):
        return [float(v)]
    if isinstance(v, list):
        return [x for item in v for x in _numbers(item)]
    return []


def summarize(chapter: str, out: Path) -> dict:
    """Per glued number: min, max, values per run; per claim: runs failed, worst value.

    Reads every ``OUT/<chapter>/<env>_seed<k>.jsonl``, so runs of several calls into one folder add up."""
    glued: dict[str, dict] = {}
    claims: dict[str, dict] = {}
    for path in sorted((out / chapter).glob("*.jsonl")):      # this call's runs and earlier ones into OUT
        env_name, _, seed = path.stem.rpartition("_seed")
        tag = f"{env_name}/s{seed}"
        for rec in read_records(path):
            nums = _numbers(rec.get("value"))
            if rec["kind"] == "glue":
                if not nums or len(nums) != 1:
                    continue
                g = glued.setdefault(rec["name"], {"values": {}})
                g["values"][tag] = nums[0]
            else:
                key = f"{rec['name']} [{rec.get('op') or 'is true'} {rec.get('bound') if rec.get('bound') is not None else ''}]"
                c = claims.setdefault(key, {"ok": 0, "failed": [], "values": {}})
                if rec["ok"]:
                    c["ok"] += 1
                else:
                    c["failed"].append(tag)
                if nums:
                    c["values"][tag] = [min(nums), max(nums)]
    for g in glued.values():
        vals = list(g["values"].values())
        g["min"], g["max"] = min(vals), max(vals)
    for c in claims.values():
        vals = [v for pair in c["values"].values() for v in pair]
        if vals:
            c["min"], c["max"] = min(vals), max(vals)
    return {"glued": glued, "claims": claims}


def record(path: Path, summary: dict, merge: bool = False) -> None:
    """Write each chapter's glued-number ranges (and the runs they came from) into the JSON at ``path``.

    Without ``merge`` a chapter's entry is replaced by this summary. With ``merge`` (runs made on another
    machine) its ranges become the union of the recorded ones and this summary's; a number recorded on one
    side only keeps its own range. Every run is tagged with its machine (``"<cpu>, torch <level>: native/s0"``,
    :func:`genrl_lib.numerics.machine_label`), and ``machines`` holds each machine's ``describe()`` record; a
    file written before runs were tagged (one ``machine``) is converted.
    """
    from genrl_lib.numerics import describe, machine_label

    data = load_json(path) if path.exists() else {}
    machines = data.setdefault("machines", {})
    if "machine" in data:                       # written before runs were tagged with their machine: one machine
        old = data.pop("machine")
        old_label = machine_label(old)
        machines.setdefault(old_label, old)
        for entry in data.get("chapters", {}).values():
            entry["runs"] = [r if ": " in r else f"{old_label}: {r}" for r in entry["runs"]]
    here = describe()
    label = machine_label(here)
    machines[label] = here
    chapters_ = data.setdefault("chapters", {})
    for chapter, s in summary.items():
        tags = sorted(f"{label}: {t}" for t in {t for g in s["glued"].values() for t in g["values"]})
        ranges = {k: [g["min"], g["max"]] for k, g in s["glued"].items()}
        prev = chapters_.get(chapter)
        if merge and prev is not None:
            glued = {k: list(v) for k, v in prev["glued"].items()}
            for k, (lo, hi) in ranges.items():
                glued[k] = [min(lo, glued[k][0]), max(hi, glued[k][1])] if k in glued else [lo, hi]
            chapters_[chapter] = {"runs": prev["runs"] + [t for t in tags if t not in prev["runs"]], "glued": glued}
        else:
            chapters_[chapter] = {"runs": tags, "glued": ranges}
    save_json(path, data)
    print(f"ranges {'merged into' if merge else 'recorded in'} {path}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("chapters", nargs="+", help="chapter names (notebooks/<name>.ipynb) or 'all'")
    ap.add_argument("--envs", type=lambda t: parse_list(t, "envs"), default=["native", "other-cpu"],
                    help=f"comma-separated numeric environments; known: {', '.join(NUMERIC_ENVS)}")
    ap.add_argument("--seeds", type=parse_seeds, default=[0], help="comma-separated seeds (GENRL_BOOK_SEED)")
    ap.add_argument("--out", type=Path, default=ROOT / "_build" / "spread", help="output folder")
    ap.add_argument("--jobs", type=int, default=2, help="runs in parallel (default 2: one per core)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    ap.add_argument("--record", type=Path, default=None, metavar="JSON",
                    help="also merge each chapter's ranges into JSON (genrl_lib/data/numeric_spread.json is the "
                         "committed one the chapters quote with genrl_lib.book.spread_of)")
    ap.add_argument("--merge", action="store_true",
                    help="with --record: widen the recorded ranges by these runs instead of replacing them (runs "
                         "made on another machine), tagging the runs with this machine's CPU")
    ap.add_argument("--summarize-only", action="store_true", help="run nothing; summarize what OUT holds")
    args = ap.parse_args(argv)
    known = chapters()
    names = known if args.chapters == ["all"] else args.chapters
    for n in names:
        if n not in known:
            ap.error(f"unknown chapter {n!r}; known: {', '.join(known)} or 'all'")
    for e in args.envs:
        if e not in NUMERIC_ENVS:
            ap.error(f"unknown numeric environment {e!r}; known: {', '.join(NUMERIC_ENVS)}")
        _, skipped = numeric_env_vars(e)
        if skipped:
            print(f"note: {e}: this machine sets {', '.join(skipped)} itself; left as it is")
    if args.jobs < 1:
        ap.error(f"--jobs must be a positive integer, got {args.jobs}")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    jobs = [] if args.summarize_only else [(c, e, s) for c in names for e in args.envs for s in args.seeds]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(lambda j: run_one(*j, out, args.timeout), jobs))
    summary, failed = {}, False
    for chapter in names:
        mine = [r for r in runs if r["chapter"] == chapter]
        s = summarize(chapter, out)
        s["runs"] = mine
        summary[chapter] = s
        n_all = len(list((out / chapter).glob("*.jsonl")))
        print(f"\n== {chapter}: {len(mine)} runs now ({', '.join(args.envs)} x seeds {args.seeds}), "
              f"{sum(r['wall_s'] for r in mine):.0f} s; {n_all} runs in {out / chapter}")
        for r in mine:
            for e in r["errors"]:
                failed = True
                print(f"  ERROR {r['env']}/s{r['seed']}: {e.splitlines()[0][:300]}")
        print(f"  {'glued number':<34} {'min':>12} {'max':>12}")
        for name, g in s["glued"].items():
            print(f"  {name:<34} {g['min']:>12.4g} {g['max']:>12.4g}")
        for name, c in s["claims"].items():
            if c["failed"]:
                failed = True
            span = f"{c['min']:.4g} .. {c['max']:.4g}" if "min" in c else ""
            flag = f"FAILED in {', '.join(c['failed'])}" if c["failed"] else "ok"
            print(f"  claim {name[:90]:<90} {span:<24} {flag}")
    save_json(out / "spread.json", summary)
    if args.record:
        record(args.record, summary, merge=args.merge)
    print(f"\n{len(runs)} runs in {time.perf_counter() - t0:.0f} s; summary in {out / 'spread.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
