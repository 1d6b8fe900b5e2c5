#!/usr/bin/env python
"""Execute the book's chapters into jupyter-cache in parallel, before ``jupyter-book build`` renders them.

    python scripts/execute_book.py --cache _build/.jupyter_cache --jobs 2

jupyter-book (``execute_notebooks: cache``) executes the chapters that are not in its cache one after the
other while Sphinx reads them. This script fills the same cache first, ``--jobs`` chapters at a time, with
jupyter-cache's own parallel executor and the same reader as myst-nb (``myst_nb_md``), so the build that
follows finds every chapter cached and only renders: on 2 cores the cold build takes about half the time.

A chapter whose code cells did not change since its cached run is not executed again. A chapter that raises
is reported with its traceback and the script exits 1 (the build would fail on it too). The chapters are the
MyST notebooks listed in ``_toc.yml``. Kernels inherit this process's environment, so the numeric
environment (``genrl_lib.numerics``) set around this command applies to every chapter.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def toc_files(toc: Path) -> list[Path]:
    """The files listed in ``_toc.yml`` (root first), as paths with suffix, found in the toc's own folder (the
    repository, or the student edition's copy). The toc is read by ``scripts/twins.py``, the one reader."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import twins

    out = []
    for n in twins.toc_files(toc.parent):
        p = toc.parent / n
        matches = [p] if p.suffix else sorted(p.parent.glob(p.name + ".*"))
        out += [m for m in matches if m.suffix in (".md", ".ipynb")]
    return out


def expected_seconds(path: Path) -> float:
    """How long a chapter took to execute, from ``book/_data/notebook_times.json`` (``scripts/time_notebooks.py``);
    a chapter never measured counts as its size in kB (a rough stand-in, also used to order new chapters)."""
    import json

    times = ROOT / "book" / "_data" / "notebook_times.json"
    measured = json.loads(times.read_text(encoding="utf-8"))["chapters"] if times.exists() else {}
    entry = measured.get(path.stem, {})
    return float(entry.get("cpu_seconds", path.stat().st_size / 1000))


def chapters(toc: Path) -> list[Path]:
    """The MyST-notebook chapters of the book (pages with code to execute), in toc order."""
    from myst_nb.core.read import is_myst_markdown_notebook

    return [p for p in toc_files(toc)
            if p.suffix == ".md" and is_myst_markdown_notebook(p.read_text(encoding="utf-8"))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, required=True, help="the jupyter-cache folder the build will use")
    ap.add_argument("--jobs", type=int, default=2, help="chapters executed at once (default 2)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    ap.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    a = ap.parse_args(argv)
    if a.jobs < 1:
        ap.error(f"--jobs must be a positive integer, got {a.jobs}")
    if a.timeout < 1:
        ap.error(f"--timeout must be a positive number of seconds, got {a.timeout}")
    if not a.toc.is_file():
        ap.error(f"--toc {a.toc} does not exist")

    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log = logging.getLogger("execute_book")
    cache = get_cache(str(a.cache.resolve()))
    paths = chapters(a.toc)
    # the reader myst-nb uses for MyST notebooks, so the cached notebook matches the build's exactly
    records = [cache.add_nb_to_project(str(p), read_data={"type": "plugin", "name": "myst_nb_md"}) for p in paths]
    pks = [r.pk for r in records]
    todo = [nb.uri for nb in cache.list_unexecuted() if nb.pk in pks]
    log.info(f"{len(paths)} chapters; {len(paths) - len(todo)} cached, {len(todo)} to execute "
             f"({a.jobs} at a time)")
    t0 = time.perf_counter()
    if todo:
        from concurrent.futures import ProcessPoolExecutor

        from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

        executor = load_executor("local-parallel", cache, logger=log)
        records = executor.get_records(None, pks, clear_tracebacks=True)
        # longest chapters first (their measured run times), so the last one to start is a short one
        records.sort(key=lambda r: -expected_seconds(Path(r.uri)))
        jobs = [ProcessData(r.pk, r.uri, cache, a.timeout, False) for r in records]
        log.info("executing: " + ", ".join(Path(r.uri).stem for r in records))
        # a terminated build (make interrupted, a CI time limit) ends its workers and their kernels too
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            with ProcessPoolExecutor(max_workers=a.jobs) as pool:   # the worker runs in the chapter's folder
                results = list(pool.map(ExecutionWorkerLocalMProc(), jobs))
        except BaseException:
            import psutil

            for child in psutil.Process().children(recursive=True):
                child.kill()
            raise
        failed = [uri for code, uri in results if code != 0]
        for uri in failed:
            rec = next((r for r in cache.list_project_records() if r.uri == uri), None)
            tb = rec.traceback if rec is not None and rec.traceback else "(no traceback recorded)"
            print(f"\n== {Path(uri).relative_to(ROOT)} failed:\n{tb}", file=sys.stderr)
        log.info(f"executed {len(results) - len(failed)} chapters in {time.perf_counter() - t0:.0f} s"
                 + (f"; {len(failed)} failed: {', '.join(Path(u).name for u in failed)}" if failed else ""))
        if failed:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
