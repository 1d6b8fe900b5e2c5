"""pytest configuration of the whole suite (``tests/`` and ``notebooks/``).

nbval waits a hard-coded 5 s for a cell's output messages once the kernel reports the cell finished
(``IPyNbCell.output_timeout``; computationalmodelling/nbval issues #136 and #231). On a busy 2-core machine the
kernel's output thread can be starved that long after a long training cell, and the cell then fails with
"Timeout of 5 seconds exceeded waiting for output" although it ran correctly. The cell's own time limit stays
``--nbval-cell-timeout``; only this wait for already-produced output is lengthened.

The notebooks are collected first, the longest first (their run times measured by ``scripts/time_notebooks.py``
in ``book/_data/notebook_times.json``), then the unit tests: with ``-n 2 --dist loadfile`` the short files fill
the gaps at the end instead of one long notebook running alone after everything else.
"""

import json
from pathlib import Path

NBVAL_OUTPUT_TIMEOUT = 120   # seconds
TIMES = Path(__file__).resolve().parent / "book" / "_data" / "notebook_times.json"


def _expected_seconds() -> dict[str, float]:
    try:
        return {k: float(v["cpu_seconds"]) for k, v in json.loads(TIMES.read_text())["chapters"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def pytest_collection_modifyitems(items):
    for item in items:
        if type(item).__name__ == "IPyNbCell" and hasattr(item, "output_timeout"):
            item.output_timeout = max(item.output_timeout, NBVAL_OUTPUT_TIMEOUT)
    seconds = _expected_seconds()

    def order(indexed):
        i, item = indexed
        path = Path(str(getattr(item, "path", getattr(item, "fspath", ""))))
        if path.suffix == ".ipynb":   # a never-measured notebook: about a minute
            return (0, -seconds.get(path.stem, 60.0), path.name, i)
        return (1, 0.0, "", i)        # unit tests keep their order, after the notebooks

    items[:] = [item for _, item in sorted(enumerate(items), key=order)]
