"""pytest configuration of the whole suite (``tests/`` and ``notebooks/``).

nbval waits a hard-coded 5 s for a cell's output messages once the kernel reports the cell finished
(``IPyNbCell.output_timeout``; computationalmodelling/nbval issues #136 and #231). On a busy 2-core machine the
kernel's output thread can be starved that long after a long training cell, and the cell then fails with
"Timeout of 5 seconds exceeded waiting for output" although it ran correctly. The cell's own time limit stays
``--nbval-cell-timeout``; only this wait for already-produced output is lengthened.
"""

NBVAL_OUTPUT_TIMEOUT = 120   # seconds


def pytest_collection_modifyitems(items):
    for item in items:
        if type(item).__name__ == "IPyNbCell" and hasattr(item, "output_timeout"):
            item.output_timeout = max(item.output_timeout, NBVAL_OUTPUT_TIMEOUT)
