"""Numeric environments: how another machine's arithmetic is emulated on this one, and recorded.

The same seed gives the same numbers on one machine, but not on another: torch picks its CPU kernels by
the processor's features, MKL (torch's BLAS/LAPACK, used by its matrix products and its orthogonal
initialization) picks its code path likewise, and NumPy's matrix products go through OpenBLAS, which picks a
kernel per core type. A long training run amplifies the last-bit differences, so a reader's GAIL run ends
elsewhere than the book's. The settings below make this machine compute as another would, which is how the
book checks that its claims hold in distribution, not only here:

=======================  ==============================================================  ==========================
name                     variables                                                       what changes (measured)
=======================  ==============================================================  ==========================
``native``               none                                                            the reference
``torch-scalar``         ``ATEN_CPU_CAPABILITY=default``                                 every torch op: ``randn``,
                                                                                         init, forward, backward
``mkl-compatible``       ``MKL_CBWR=COMPATIBLE``                                         torch's matrix products and
                                                                                         orthogonal init
``mkl-avx2``             ``MKL_CBWR=AVX2``                                               torch's orthogonal init
``openblas-sandybridge`` ``OPENBLAS_CORETYPE=Sandybridge``                               NumPy's matrix products
``numpy-baseline``       ``NPY_DISABLE_CPU_FEATURES=X86_V3``                             NumPy's ufunc kernels on
                                                                                         AVX2/AVX-512 hosts
``threads-2``            ``OMP_NUM_THREADS=2``, ``MKL_NUM_THREADS=2``                    nothing: training runs in
                                                                                         :func:`~genrl_lib.seeding.single_thread`
``other-cpu``            all of torch-scalar, mkl-compatible, openblas-sandybridge and   everything above at once
                         numpy-baseline
=======================  ==============================================================  ==========================

Where a machine sets ``OPENBLAS_CORETYPE`` or ``OPENBLAS_L2_SIZE`` itself (some processors need it: older
OpenBLAS builds crash or compute wrong results on them), those variables are left as they are: the OpenBLAS
part of an environment is then dropped (:func:`numeric_env_vars` says so in its ``skipped`` list).

These emulate another x86 machine; they do not stand in for ARM or Apple processors.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping

__all__ = ["NUMERIC_ENVS", "MACHINE_OWNED", "numeric_env_vars", "describe", "summary", "NOT_RECORDED",
           "machine_label"]

NUMERIC_ENVS: dict[str, dict[str, str]] = {
    "native": {},
    "torch-scalar": {"ATEN_CPU_CAPABILITY": "default"},
    "mkl-compatible": {"MKL_CBWR": "COMPATIBLE"},
    "mkl-avx2": {"MKL_CBWR": "AVX2"},
    "openblas-sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "numpy-baseline": {"NPY_DISABLE_CPU_FEATURES": "X86_V3"},
    "threads-2": {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"},
    "other-cpu": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE",
                  "OPENBLAS_CORETYPE": "Sandybridge", "NPY_DISABLE_CPU_FEATURES": "X86_V3"},
}

# Variables a machine may set for itself (old OpenBLAS builds misbehave on some processors): never overridden.
MACHINE_OWNED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# The variables that select kernels or threads, recorded by describe().
_RECORDED = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
             "NPY_DISABLE_CPU_FEATURES", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def numeric_env_vars(name: str, environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """The environment variables that emulate the numeric environment ``name``.

    Args:
        name: one of :data:`NUMERIC_ENVS` (``"native"``, ``"torch-scalar"``, ``"other-cpu"``, ...).
        environ: the environment they will be added to (default ``os.environ``), to see which
            machine-owned variables (:data:`MACHINE_OWNED`) it already sets.

    Returns:
        ``(variables, skipped)``: the ``{name: value}`` to set, and the names left out because the
        machine sets them itself.

    Raises:
        ValueError: ``name`` is unknown; the message lists the known names.
    """
    if not isinstance(name, str) or name not in NUMERIC_ENVS:
        raise ValueError(f"unknown numeric environment {name!r}; known: {', '.join(NUMERIC_ENVS)}")
    env: Mapping[str, str] = os.environ if environ is None else environ
    machine = {k for k in MACHINE_OWNED if env.get(k)}
    variables = {k: v for k, v in NUMERIC_ENVS[name].items() if k not in machine}
    skipped = sorted(k for k in NUMERIC_ENVS[name] if k in machine)
    return variables, skipped


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict:
    """Record of this process's numeric environment, for result files.

    Returns:
        A JSON-ready dict: ``cpu`` (model name), ``machine`` (architecture), ``cpu_count``,
        ``torch_cpu_capability`` (the kernel level torch runs, e.g. ``"AVX2"``), ``blas`` (each BLAS library
        loaded, from threadpoolctl: ``internal_api``, ``version``, ``architecture``/core type, threads),
        ``variables`` (the kernel- and thread-selecting variables that are set), ``torch_threads`` and the
        versions of ``python``, ``numpy``, ``torch``, ``gymnasium``.
    """
    out: dict = {"cpu": _cpu_model(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
                 "variables": {k: os.environ[k] for k in _RECORDED if k in os.environ},
                 "versions": {"python": platform.python_version()}}
    import numpy as np

    out["versions"]["numpy"] = np.__version__
    import torch

    out["versions"]["torch"] = torch.__version__
    out["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    out["torch_threads"] = torch.get_num_threads()
    try:
        import gymnasium

        out["versions"]["gymnasium"] = gymnasium.__version__
    except ImportError:  # pragma: no cover
        pass
    try:
        from threadpoolctl import threadpool_info

        out["blas"] = [{k: info.get(k) for k in ("internal_api", "version", "architecture", "threading_layer",
                                                 "num_threads")}
                       for info in threadpool_info() if info.get("user_api") == "blas"]
    except ImportError:  # pragma: no cover
        out["blas"] = []
    return out


def machine_label(record: dict) -> str:
    """A short name for the machine a :func:`describe` record came from: CPU model and torch's kernel level.

    Args:
        record: a :func:`describe` dict (missing fields show as ``"?"``).

    Returns:
        e.g. ``"AMD EPYC, torch AVX2"``.

    Raises:
        TypeError: ``record`` is not a dict.
    """
    if not isinstance(record, dict):
        raise TypeError(f"record must be a dict from genrl_lib.numerics.describe(), got {type(record).__name__}")
    return f"{record.get('cpu', '?')}, torch {record.get('torch_cpu_capability', '?')}"


NOT_RECORDED = {"recorded": False,
                "note": "made before results recorded their numeric environment (genrl_lib.numerics); the CPU "
                        "model, torch's kernel level and the BLAS core type are unknown"}


def summary(result: dict) -> str:
    """One phrase saying which numeric environment a committed result came from, for a chapter's prose.

    Args:
        result: a benchmark or thesis-table result dict; its ``"numeric_env"`` entry is what
            :func:`describe` recorded (or :data:`NOT_RECORDED` for results made before that).

    Returns:
        e.g. ``"an AMD EPYC (torch kernels AVX2, OpenBLAS Haswell, one thread)"``, or
        ``"a machine that was not recorded"``.

    Raises:
        TypeError: ``result`` is not a dict.
    """
    if not isinstance(result, dict):
        raise TypeError(f"result must be a result dict (a loaded benchmark JSON), got {type(result).__name__}")
    rec = result.get("numeric_env")
    if not isinstance(rec, dict) or rec.get("recorded") is False or "cpu" not in rec:
        return "a machine that was not recorded"
    blas = ", ".join(f"{b.get('internal_api')} {b.get('architecture')}" for b in rec.get("blas", []) if b)
    parts = [f"torch kernels {rec.get('torch_cpu_capability', '?')}"] + ([blas] if blas else [])
    emulated = {k: v for k, v in rec.get("variables", {}).items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                                               "OPENBLAS_NUM_THREADS")}
    if emulated:
        parts.append("emulating " + ", ".join(f"{k}={v}" for k, v in emulated.items()))
    return f"an {rec['cpu']} ({'; '.join(parts)})" if rec["cpu"][:1].upper() in "AEIOU" else \
        f"a {rec['cpu']} ({'; '.join(parts)})"


def main(argv: list[str] | None = None) -> int:
    """``python -m genrl_lib.numerics NAME``: print NAME's variables as ``K=V`` words (for ``env``)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m genrl_lib.numerics NAME   (NAME: {', '.join(NUMERIC_ENVS)})", file=sys.stderr)
        return 2
    try:
        variables, skipped = numeric_env_vars(args[0])
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for k in skipped:
        print(f"note: this machine sets {k} itself; left as it is", file=sys.stderr)
    print(" ".join(f"{k}={v}" for k, v in {**variables, "GENRL_NUMERIC_ENV": args[0]}.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
