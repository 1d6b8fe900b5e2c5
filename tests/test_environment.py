"""The lock is the environment: ``pip freeze`` of the running venv equals ``requirements.lock``, no two installed
packages write the same file, and the package ships its ``py.typed`` marker.

A venv made before a change of the lock fails here (pip install never removes a package the lock dropped):
rebuild it with ``make distclean env``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines) -> set[tuple[str, str]]:
    """``{(canonical name, version)}`` of the ``name==version`` lines (comments, editables and URLs skipped)."""
    out = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-e"):
            name, version = line.split("==", 1)
            out.add((_canonical(name), version.strip()))
    return out


def test_pip_freeze_equals_the_lock():
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    installed = {(n, v) for n, v in _pins(freeze.splitlines()) if n != "genrl-lib"}
    locked = _pins((ROOT / "requirements.lock").read_text().splitlines())
    assert installed == locked, (f"installed but not locked: {sorted(installed - locked)}; "
                                 f"locked but not installed: {sorted(locked - installed)} (rebuild: make distclean env)")


def test_no_two_packages_write_the_same_file():
    owners = defaultdict(set)
    for dist in distributions():
        name = dist.metadata["Name"]     # read once: parsing METADATA per file took a minute
        for f in dist.files or []:
            path = str(f)
            if ".dist-info/" in path or path.startswith("..") or path.endswith(".pyc"):
                continue
            owners[path].add(name)
    clashes = {p: sorted(n) for p, n in owners.items() if len(n) > 1}
    pairs = sorted({tuple(n) for n in clashes.values()})
    assert not clashes, f"{len(clashes)} files are written by more than one package: {pairs}"


def test_py_typed_marker_is_shipped():
    assert (ROOT / "genrl_lib" / "py.typed").exists()
    assert '"py.typed"' in (ROOT / "pyproject.toml").read_text()
