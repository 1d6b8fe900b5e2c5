"""Saving and loading without pickle, atomically.

Two formats, both tagged with a ``kind`` (e.g. ``"q_table"``, ``"dqn"``) so that loading a file of
another kind, a corrupt file or a foreign file fails with a clear ``ValueError``:

* arrays: ``.npz`` (``numpy.savez``, loaded with ``allow_pickle=False``) plus a JSON header;
* torch models: ``torch.save`` of ``{"genrl": header, "state": {name: state_dict}}``, loaded with
  ``torch.load(..., weights_only=True)`` (tensors and plain containers only: no code runs on load).

Every save writes a temporary file in the target folder and renames it over the target, so an
interrupted save never leaves a half-written file and never destroys the previous one.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["atomic_path", "save_arrays", "load_arrays", "save_torch", "load_torch", "save_json", "load_json",
           "space_to_json", "space_from_json", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_HEADER = "__genrl_header__"


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path next to ``path``; on success rename it to ``path`` (atomic on POSIX).

    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix + ".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _header(kind: str, meta: dict | None) -> dict:
    return {"genrl_kind": kind, "format_version": FORMAT_VERSION, "meta": meta or {}}


def _check_header(header, kind: str, path) -> dict:
    if not isinstance(header, dict) or "genrl_kind" not in header:
        raise ValueError(f"{path} is not a genrl_lib file (no genrl header); was it written by another program?")
    if header["genrl_kind"] != kind:
        raise ValueError(f"{path} holds a {header['genrl_kind']!r}, not a {kind!r}: load it with the matching class")
    if header.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer genrl_lib (format {header['format_version']}); upgrade genrl_lib")
    return header.get("meta", {})


def save_arrays(path: str | os.PathLike, kind: str, arrays: dict[str, np.ndarray], meta: dict | None = None) -> Path:
    """Save named arrays and JSON-able ``meta`` to an ``.npz`` file, atomically. Returns the path."""
    path = Path(path)
    if _HEADER in arrays:
        raise ValueError(f"array name {_HEADER!r} is reserved")
    header = np.frombuffer(json.dumps(_header(kind, meta)).encode(), dtype=np.uint8)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{_HEADER: header}, **{k: np.asarray(v) for k, v in arrays.items()})
    return path


def load_arrays(path: str | os.PathLike, kind: str) -> tuple[dict[str, np.ndarray], dict]:
    """Load what :func:`save_arrays` wrote: ``(arrays, meta)``. Never unpickles.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not an npz, no genrl header, or a different ``kind``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):  # a bare .npy array: not one of our files
            raise ValueError(f"{path} holds a bare array, not a genrl_lib .npz file")
        with z:
            files = z.files
            header = json.loads(z[_HEADER].tobytes().decode()) if _HEADER in files else None
            arrays = {k: z[k] for k in files if k != _HEADER}
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is corrupt or not an .npz file ({type(e).__name__}: {e})") from None
    if header is None:
        raise ValueError(f"{path} is not a genrl_lib file (no genrl header); was it written by another program?")
    meta = _check_header(header, kind, path)
    return arrays, meta


def save_torch(path: str | os.PathLike, kind: str, state: dict, meta: dict | None = None) -> Path:
    """Save ``{name: state_dict or tensor}`` plus JSON-able ``meta`` with ``torch.save``, atomically."""
    import torch

    path = Path(path)
    payload = {"genrl": json.dumps(_header(kind, meta)), "state": state}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_torch(path: str | os.PathLike, kind: str) -> tuple[dict, dict]:
    """Load what :func:`save_torch` wrote with ``weights_only=True``: ``(state, meta)``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: corrupt, foreign (not ours, or not loadable with ``weights_only=True``) or another ``kind``.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, OSError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path} is corrupt or not a genrl_lib model file ({type(e).__name__})") from None
    if not isinstance(payload, dict) or "genrl" not in payload or "state" not in payload:
        raise ValueError(f"{path} is not a genrl_lib model file (no genrl header)")
    meta = _check_header(json.loads(payload["genrl"]), kind, path)
    return payload["state"], meta


def save_json(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented JSON, atomically (results files, caches)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def load_json(path: str | os.PathLike):
    """Read a JSON file, with a clear error for a corrupt one."""
    path = Path(path)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e})") from None


def space_to_json(space) -> dict:
    """A ``Discrete`` or ``Box`` gymnasium space as a JSON-able dict (for file headers)."""
    import gymnasium as gym

    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.Box):
        return {"type": "Box", "low": space.low.tolist(), "high": space.high.tolist(), "dtype": str(space.dtype)}
    raise TypeError(f"only Discrete and Box spaces can be saved, got {space}")


def space_from_json(d: dict):
    """Inverse of :func:`space_to_json`."""
    import gymnasium as gym

    if not isinstance(d, dict) or d.get("type") not in ("Discrete", "Box"):
        raise ValueError(f"not a saved space: {d!r}")
    if d["type"] == "Discrete":
        return gym.spaces.Discrete(d["n"], start=d.get("start", 0))
    return gym.spaces.Box(np.array(d["low"], dtype=d["dtype"]), np.array(d["high"], dtype=d["dtype"]),
                          dtype=np.dtype(d["dtype"]))
