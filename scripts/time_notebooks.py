#!/usr/bin/env python
"""Measure how long each chapter's notebook runs, for the lecturer's guide (book/lecturers_guide.md).

    python scripts/time_notebooks.py                    # every notebooks/*.ipynb, one after the other
    python scripts/time_notebooks.py q_learning dqn     # some chapters (merged into the existing file)

Each notebook is executed top to bottom (nbclient, one BLAS/torch thread, MPLBACKEND=Agg) in a fresh child
process, and two figures are recorded in ``book/_data/notebook_times.json``:

- ``cpu_seconds``: user + system CPU time of the child and its kernel (``getrusage`` of the reaped child). The
  chapters compute on one thread, so this is what the notebook takes on an idle core: the figure the guide uses.
- ``wall_seconds``: the elapsed time, which also depends on how busy the machine was (``load_1min`` before the
  run is recorded beside it).

With the date, the CPU model and the core count, so the guide can say when and where it was measured.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "_data" / "notebook_times.json"

_RUN = """
import sys, nbformat, nbclient
nb = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def cpu_model() -> str:
    """The processor's model name (from /proc/cpuinfo), or the platform's description."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def time_notebook(path: Path) -> dict:
    """Execute ``path`` in a child process; its CPU and wall seconds (raises if a cell fails)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "TQDM_DISABLE": "1"}
    load = os.getloadavg()[0]
    import tempfile

    with tempfile.TemporaryFile(mode="w+") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", _RUN, str(path), str(path.parent)], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
        _, status, usage = os.wait4(proc.pid, 0)   # the rusage includes the kernel, reaped by the child
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            log.seek(0)
            raise RuntimeError(f"{path.name} failed (exit {proc.returncode}):\n{log.read()[-3000:]}")
    return {"cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1), "wall_seconds": round(wall, 1),
            "load_1min": round(load, 2), "measured": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def main(argv=None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    data["machine"] = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                       "threads": 1, "how": "scripts/time_notebooks.py (nbclient, fresh process per notebook)"}
    chapters = data.setdefault("chapters", {})
    for name in names:
        path = ROOT / "notebooks" / f"{name}.ipynb"
        if not path.exists():
            print(f"error: no notebooks/{name}.ipynb; name chapters by their file stem, e.g. q_learning",
                  file=sys.stderr)
            return 2
        try:
            chapters[name] = time_notebook(path)
        except RuntimeError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(f"{name}: {chapters[name]}", flush=True)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        tmp = OUT.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        tmp.replace(OUT)   # after every notebook, so an interrupted run keeps what it measured
    return 0


if __name__ == "__main__":
    sys.exit(main())
