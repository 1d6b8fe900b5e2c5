"""Helpers for the book's notebooks: gluing numbers into the prose, checking claims, Colab detection.

``glue`` wraps ``myst_nb.glue`` so a chapter runs unchanged where myst-nb is not installed
(e.g. Colab): there the value is simply kept in :data:`GLUED` and nothing is displayed.

``claim`` is how a chapter checks what its prose says about a result: it states the claim, and when the
claim fails it raises :class:`ClaimError` saying what was claimed, what this run obtained, the bound, and
what that means for a reader whose machine computes other numbers than the book's.

``chapter_seed`` is the seed of a chapter's live runs: 0, unless the environment variable
``GENRL_BOOK_SEED`` says otherwise (``scripts/numeric_spread.py`` runs a chapter under several seeds and
numeric environments that way). With ``GENRL_GLUE_DUMP=<file>`` every glued number and every checked claim
is also appended to that file as a JSON line, which is how that script collects them.
"""

from __future__ import annotations

import json
import os
import sys

__all__ = ["goal_runs", "glue", "GLUED", "in_colab", "check_answer", "claim", "ClaimError", "chapter_seed", "SPREAD_NOTE",
           "spread_of", "spread_machines"]

# What a failed claim tells the reader (the chapters' bounds are set from these measurements).
SPREAD_NOTE = ("The same seed gives other numbers on another processor (torch, MKL and OpenBLAS pick their "
               "kernels by CPU features), and a training run amplifies the difference. The book's bounds are "
               "set from the spread measured over seeds, real and emulated CPUs (scripts/numeric_spread.py); a "
               "value outside them means this run is unusual or the claim no longer holds: rerun with another "
               "GENRL_BOOK_SEED and compare with the multi-seed figures the chapter loads from genrl_lib/data.")

GLUED: dict[str, object] = {}


def in_colab() -> bool:
    """``True`` when running inside Google Colab."""
    return "google.colab" in sys.modules


def glue(name: str, value, display: bool = False):
    """Record ``value`` under ``name`` for ``{glue:text}`name:format``` in the chapter's prose.

    Args:
        name: a page-unique key.
        value: a number, string or figure computed by the chapter.
        display: also show the value in the cell's output.

    Returns:
        ``value`` unchanged, so ``x = glue("x", compute())`` reads naturally.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    try:  # NumPy scalars print as 'np.float64(1.0)', which myst-nb cannot format: pass plain Python numbers
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:
        pass
    GLUED[name] = value
    _dump({"kind": "glue", "name": name, "value": value})
    try:
        from myst_nb import glue as _glue
    except ImportError:  # Colab or a plain Jupyter install: the prose is not rendered there anyway
        if display:
            from IPython.display import display as _display
            _display(value)
        return value
    _glue(name, value, display=display)
    return value


def check_answer(answer, expected, *, name: str = "answer", atol: float = 1e-6) -> bool | None:
    """Auto-check an exercise: print a verdict and return ``True``/``False``, or ``None`` if unanswered.

    Args:
        answer: the student's value (``None`` or ``...`` means "not answered yet").
        expected: the correct value (number, array or string).
        name: what is checked, used in the message.
        atol: absolute tolerance for numbers and arrays.

    It never raises for a wrong or missing answer (students iterate); solution cells assert on the
    returned value, so the build fails if a published solution stops being right.
    """
    import numpy as np

    if answer is None or answer is Ellipsis:
        print(f"{name}: not answered yet, replace the ... with your answer and run the cell again.")
        return None
    try:
        ok = bool(np.allclose(np.asarray(answer, dtype=float), np.asarray(expected, dtype=float), atol=atol))
    except (TypeError, ValueError):
        ok = answer == expected
    print(f"{name}: {'correct ✓' if ok else 'not yet ✗, check your reasoning and the hint'}")
    return ok


def _dump(record: dict) -> None:
    """Append ``record`` as a JSON line to ``$GENRL_GLUE_DUMP`` when that variable is set (numbers and
    strings only; figures and other objects are skipped)."""
    path = os.environ.get("GENRL_GLUE_DUMP")
    if not path:
        return
    value = record.get("value")
    try:
        import numpy as np

        if isinstance(value, np.ndarray) and value.size <= 64:
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if not isinstance(value, (bool, int, float, str, list, type(None))):
        return
    record = {**record, "value": value}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, default=str) + "\n")


def chapter_seed(default: int = 0) -> int:
    """The seed of a chapter's live runs: ``default``, or ``$GENRL_BOOK_SEED`` when it is set.

    A reader changes it to see another run; ``scripts/numeric_spread.py`` sets it to measure how much each
    number of a chapter varies over seeds.

    Raises:
        ValueError: ``GENRL_BOOK_SEED`` is set but is not a non-negative integer.
    """
    raw = os.environ.get("GENRL_BOOK_SEED", "").strip()
    if not raw:
        return int(default)
    if not raw.isdigit():
        raise ValueError(f"GENRL_BOOK_SEED must be a non-negative integer, got {raw!r}; unset it or set e.g. 1")
    return int(raw)


class ClaimError(AssertionError):
    """A claim a chapter makes about its results does not hold for this run."""


_OPS = {
    ">": (lambda v, b: v > b, "above"),
    ">=": (lambda v, b: v >= b, "at least"),
    "<": (lambda v, b: v < b, "below"),
    "<=": (lambda v, b: v <= b, "at most"),
    "==": (lambda v, b: v == b, "equal to"),
    "!=": (lambda v, b: v != b, "different from"),
}


def _as_numbers(x, name: str):
    """``x`` as a float ndarray (scalar or array), refusing non-numbers and NaN/inf by name."""
    import numpy as np

    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"claim: {name} must be a number or an array of numbers, got {type(x).__name__} {x!r}")
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"claim: {name} must be a number or an array of numbers, got {type(x).__name__} {x!r}") from None
    if arr.size == 0:
        raise ValueError(f"claim: {name} is empty; pass the value(s) the claim is about")
    if not np.isfinite(arr).all():
        raise ValueError(f"claim: {name} must be finite, got {x!r}: a NaN or inf means the computation "
                         "before the claim went wrong")
    return arr


def _fmt(x) -> str:
    import numpy as np

    arr = np.asarray(x)
    if arr.ndim == 0:
        v = arr.item()
        return f"{v:.6g}" if isinstance(v, float) else str(v)
    return np.array2string(arr, precision=4, separator=", ", threshold=20)


def claim(what: str, value, op: str | None = None, bound=None, *, note: str | None = None):
    """Check a claim the chapter makes about a result; raise :class:`ClaimError` explaining it if it fails.

    Args:
        what: the claim in words, as the prose makes it ("GAIL scores far above BC").
        value: what this run obtained: a number, or an array of numbers (every element must satisfy the
            bound), or, with ``op=None``, a truth value (``bool`` or an array of them, all must be true).
        op: ``">"``, ``">="``, ``"<"``, ``"<="``, ``"=="``, ``"!="``, or ``"in"`` (``bound`` is a closed
            interval ``(low, high)``); ``None`` for a truth value.
        bound: the number (or array of the value's shape) compared with, or ``(low, high)`` for ``"in"``.
        note: what the claim rests on or where the multi-seed figure is, added to the message.

    Returns:
        ``value``, unchanged.

    Raises:
        ClaimError: (an ``AssertionError``) the claim does not hold; the message states the claim, the
            value obtained, the bound, and what it means for the reader.
        ValueError: ``what`` is empty, ``value`` or ``bound`` is NaN/inf or empty, ``op`` is unknown, or an
            interval's low end is above its high end.
        TypeError: ``value`` or ``bound`` is not numeric (or, with ``op=None``, ``value`` is not a truth
            value), or ``bound`` is missing/present against ``op``.
    """
    import numpy as np

    if not isinstance(what, str) or not what.strip():
        raise ValueError("claim: 'what' must be a non-empty string saying what the chapter claims, "
                         "e.g. claim('GAIL scores above BC', gail, '>', bc)")
    if op is None:
        if bound is not None:
            raise TypeError("claim: a bound needs an op, e.g. claim(what, value, '>=', bound)")
        arr = np.asarray(value)
        if arr.size == 0 or arr.dtype != bool:
            raise TypeError(f"claim: without an op, value must be a bool or an array of bools, got "
                            f"{type(value).__name__} {value!r}; for a number pass an op and a bound")
        ok = bool(arr.all())
        shown, expected = (_fmt(arr) if arr.ndim else str(bool(arr))), "true" + (" everywhere" if arr.ndim else "")
    else:
        if op == "in":
            if not isinstance(bound, (tuple, list)) or len(bound) != 2:
                raise TypeError(f"claim: with op 'in', bound must be a (low, high) pair, got {bound!r}")
            lo, hi = (_as_numbers(b, "bound") for b in bound)
            if (lo > hi).any():
                raise ValueError(f"claim: interval bound has low > high: {bound!r}")
            arr = _as_numbers(value, "value")
            ok = bool(((arr >= lo) & (arr <= hi)).all())
            expected = f"in [{_fmt(lo)}, {_fmt(hi)}]"
        elif op in _OPS:
            if bound is None or isinstance(bound, bool):
                raise TypeError(f"claim: op {op!r} needs a numeric bound, got {bound!r}")
            b = _as_numbers(bound, "bound")
            arr = _as_numbers(value, "value")
            fn, words = _OPS[op]
            ok = bool(np.all(fn(arr, b)))
            expected = f"{op} {_fmt(b)} ({words} {_fmt(b)})"
        else:
            raise ValueError(f"claim: unknown op {op!r}; use one of {', '.join([*_OPS, 'in'])} or None")
        shown = _fmt(arr)
    _dump({"kind": "claim", "name": what, "value": value if op is None else arr, "op": op,
           "bound": None if bound is None else (list(bound) if op == "in" else bound), "ok": ok})
    if not ok:
        lines = [f"Claim not confirmed: {what}", f"  obtained: {shown}", f"  expected: {expected}"]
        if note:
            lines.append(f"  about this claim: {note}")
        lines.append(SPREAD_NOTE)
        raise ClaimError("\n".join(lines))
    return value


def spread_of(chapter: str, name: str) -> tuple[float, float, int]:
    """How much a chapter's glued number varied over seeds and emulated CPUs, from the committed measurement.

    ``genrl_lib/data/numeric_spread.json`` is written by ``scripts/numeric_spread.py --record``: each chapter run
    under several numeric environments (``genrl_lib.numerics``) and values of ``GENRL_BOOK_SEED``.

    Args:
        chapter: the chapter's file name without ``.md`` (``"gail"``).
        name: the glue key (``"gail_live"``).

    Returns:
        ``(low, high, runs)``: the smallest and largest value measured, and over how many runs.

    Raises:
        KeyError: the chapter or the key was not measured; the message says how to measure it.
    """
    from importlib.resources import files

    from genrl_lib.io import load_json

    data = load_json(str(files("genrl_lib") / "data" / "numeric_spread.json"))
    fix = (f"measure it: python scripts/numeric_spread.py {chapter} --envs native,other-cpu --seeds 0,1 "
           "--record genrl_lib/data/numeric_spread.json")
    ch = data.get("chapters", {}).get(chapter)
    if ch is None:
        raise KeyError(f"chapter {chapter!r} has no recorded spread; {fix}")
    if name not in ch["glued"]:
        raise KeyError(f"{chapter}: glued number {name!r} has no recorded spread; {fix}")
    low, high = ch["glued"][name]
    return float(low), float(high), len(ch["runs"])


def spread_machines() -> list[str]:
    """The real machines the committed spread (``genrl_lib/data/numeric_spread.json``) was measured on, for prose.

    Returns:
        One phrase per machine, sorted: the CPU model without trademark signs and torch's kernel level, with
        its article, e.g. ``["an AMD EPYC (torch AVX2)", "an Intel Xeon (torch AVX512)"]``. Each machine also
        ran emulated numeric environments where its runs say so (``"...: other-cpu/s0"``).
    """
    from importlib.resources import files

    from genrl_lib.io import load_json
    from genrl_lib.numerics import machine_label

    data = load_json(str(files("genrl_lib") / "data" / "numeric_spread.json"))
    labels = sorted(data["machines"]) if "machines" in data else [machine_label(data.get("machine", {}))]
    out = []
    for label in labels:
        cpu, _, level = label.rpartition(", torch ")
        out.append(f"{_cpu_phrase(cpu)} (torch {level})")
    return out


def _cpu_phrase(cpu: str) -> str:
    """``"Intel(R) Xeon(R) Processor"`` -> ``"an Intel Xeon"``: the model without trademark signs, with its article."""
    import re

    cpu = re.sub(r"\((R|TM)\)|\s+(Processor|CPU)\b", "", cpu).strip()
    return f"{'an' if cpu[:1].upper() in 'AEIOU' else 'a'} {cpu}"


def goal_runs(goal: dict) -> list[dict]:
    """Every run of one goal of ``genrl_lib/data/numeric_env_goals.json`` (``benchmarks/numeric_envs.py``), on
    every machine and numeric environment, for a chapter's table or prose.

    Args:
        goal: one entry of the file's ``"goals"`` (``{"threshold", "envs": {env: run}, "machines": {label: {env:
            run}}}``; a run holds ``values``, ``n_meeting``, ``n_seeds`` and the ``numeric_env`` it recorded).

    Returns:
        One dict per run, the file's own machine first: ``machine`` (e.g. ``"an Intel Xeon"``), ``env``
        (``"native"``, ``"other-cpu"``, ...), ``values`` (list of per-seed figures), ``n_meeting``, ``n_seeds``.

    Raises:
        TypeError: ``goal`` is not a dict; KeyError naming the key if a run lacks one of the fields above.
    """
    if not isinstance(goal, dict):
        raise TypeError(f"goal must be one entry of numeric_env_goals.json's 'goals', got {type(goal).__name__}")
    groups = [goal.get("envs", {})] + [goal["machines"][k] for k in sorted(goal.get("machines", {}))]
    rows = []
    for envs in groups:
        for env, run in envs.items():
            missing = [k for k in ("values", "n_meeting", "n_seeds") if k not in run]
            if missing:
                raise KeyError(f"run {env!r} of this goal lacks {missing}: not a numeric_envs.py result")
            cpu = (run.get("numeric_env") or {}).get("cpu")
            rows.append({"machine": _cpu_phrase(cpu) if cpu else "a machine that was not recorded", "env": env,
                         "values": [float(v) for v in run["values"]], "n_meeting": int(run["n_meeting"]),
                         "n_seeds": int(run["n_seeds"])})
    return rows
