"""Saving and loading without pickle, atomically, with a checksum.

Two formats, both tagged with a ``kind`` (e.g. ``"q_table"``, ``"dqn"``) so that loading a file of
another kind, a corrupt file or a foreign file fails with a clear ``ValueError`` naming the file:

* arrays: ``.npz`` (``numpy.savez``, loaded with ``allow_pickle=False``) plus a JSON header;
* torch models: ``torch.save`` of ``{"genrl": header, "state": {name: state_dict}, "checksum": sha256}``, loaded
  with ``torch.load(..., weights_only=True)`` (tensors and plain containers only: no code runs on load).

Both headers carry a SHA-256 of the payload (every array's or tensor's name, dtype, shape and bytes, plus the
header's ``meta``), checked on load: a flipped bit anywhere in the numbers or the metadata is an error, not a
silently different model (format 2; files of format 1 had no checksum and are refused: re-save them).

Every save writes a temporary file ``.<name>.<pid>.<random>.tmp`` in the target folder, with the permissions the
umask gives a new file, and renames it over the target: an interrupted save never leaves a half-written file and
never destroys the previous one. A process killed mid-save cannot remove its temporary file; the next save to the
same target removes such leftovers of processes that no longer run (on this machine).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_path", "save_arrays", "load_arrays", "save_torch", "load_torch", "save_json", "load_json",
           "space_to_json", "space_from_json", "FORMAT_VERSION", "checksum"]

FORMAT_VERSION = 2
_HEADER = "__genrl_header__"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_stale_temps(path: Path) -> None:
    """Remove ``.<name>.<pid>.*.tmp`` files next to ``path`` left by saves whose process is gone (killed)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 2:].split(".")
        if len(parts) == 3 and parts[0].isdigit() and int(parts[0]) != os.getpid() and not _pid_alive(int(parts[0])):
            tmp.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path next to ``path``; on success rename it to ``path`` (atomic on POSIX).

    The temporary file exists (empty) when the body starts, with mode ``0o666`` minus the umask, like any new
    file. On an exception it is removed and ``path`` is left untouched; an ``OSError`` names ``path`` (not the
    temporary file). Leftovers of killed saves to ``path`` are removed first.

    Raises:
        OSError: the folder cannot be created or written, or ``path`` is a directory (the message names ``path``).
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a directory; give a file name inside it")
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(path)
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as e:
        raise type(e)(e.errno, f"cannot save {path}: {e.strerror}") from None
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError) and e.errno is not None:
            raise type(e)(e.errno, f"cannot save {path}: {e.strerror}") from None
        raise


def _digest_into(h, obj) -> None:
    """Feed ``obj`` (nested dicts/lists of tensors, arrays and JSON scalars) into the hash ``h`` deterministically."""
    if isinstance(obj, dict):
        h.update(b"{")
        for k in sorted(obj, key=str):
            h.update(repr(k).encode() + b":")
            _digest_into(h, obj[k])
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for v in obj:
            _digest_into(h, v)
        h.update(b"]")
    elif isinstance(obj, np.ndarray):
        h.update(f"a{obj.dtype.str}{obj.shape}".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif type(obj).__module__.startswith("torch"):   # a tensor (torch imported only by the torch format)
        t = obj.detach().cpu().contiguous()
        h.update(f"t{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(__import__("torch").uint8).numpy().tobytes() if t.numel() else b"")
    else:
        h.update(repr(obj).encode())


def checksum(payload, meta: dict | None = None) -> str:
    """SHA-256 hex digest of ``payload`` (nested dicts/lists of arrays or tensors and scalars) and JSON ``meta``.

    Depends on names, dtypes, shapes and the bytes of every array or tensor, and on ``meta``; not on dict order.
    """
    h = hashlib.sha256()
    h.update(json.dumps(meta or {}, sort_keys=True).encode())
    _digest_into(h, payload)
    return h.hexdigest()


def _header(kind: str, meta: dict | None) -> dict:
    # meta as it will read back (tuples -> lists, keys -> str), so the checksum of save and load agree
    return {"genrl_kind": kind, "format_version": FORMAT_VERSION, "meta": json.loads(json.dumps(meta or {}))}


def _check_header(header, kind: str, path) -> dict:
    if not isinstance(header, dict) or "genrl_kind" not in header:
        raise ValueError(f"{path} is not a genrl_lib file (no genrl header); was it written by another program?")
    if header["genrl_kind"] != kind:
        raise ValueError(f"{path} holds a {header['genrl_kind']!r}, not a {kind!r}: load it with the matching class")
    version = header.get("format_version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer genrl_lib (format {version}); upgrade genrl_lib")
    if version < FORMAT_VERSION:
        raise ValueError(f"{path} has format {version}, which had no checksum; load it with the genrl_lib that wrote "
                         "it and save it again")
    return header.get("meta", {})


def _verify(path, expected, payload, meta) -> None:
    if not isinstance(expected, str) or checksum(payload, meta) != expected:
        raise ValueError(f"{path} is corrupt: its checksum does not match its contents (a damaged copy or an "
                         "edited file); save or download it again")


def save_arrays(path: str | os.PathLike, kind: str, arrays: dict[str, np.ndarray], meta: dict | None = None) -> Path:
    """Save named arrays and JSON-able ``meta`` to an ``.npz`` file with a checksum, atomically. Returns the path."""
    path = Path(path)
    if _HEADER in arrays:
        raise ValueError(f"array name {_HEADER!r} is reserved")
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    header = _header(kind, meta)
    header["checksum"] = checksum(arrays, header["meta"])
    raw = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            payload: dict[str, Any] = {_HEADER: raw, **arrays}   # the header first, as before
            np.savez(f, **payload)
    return path


def load_arrays(path: str | os.PathLike, kind: str) -> tuple[dict[str, np.ndarray], dict]:
    """Load what :func:`save_arrays` wrote: ``(arrays, meta)``. Never unpickles; verifies the checksum.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not an npz, no genrl header, a different ``kind``, or corrupt (checksum mismatch).
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
    except Exception as e:  # noqa: BLE001 - whatever numpy or zipfile raise on a damaged file
        raise ValueError(f"{path} is corrupt or not an .npz file ({type(e).__name__}: {e})") from None
    if header is None:
        raise ValueError(f"{path} is not a genrl_lib file (no genrl header); was it written by another program?")
    meta = _check_header(header, kind, path)
    _verify(path, header.get("checksum"), arrays, meta)
    return arrays, meta


def save_torch(path: str | os.PathLike, kind: str, state: dict, meta: dict | None = None) -> Path:
    """Save ``{name: state_dict or tensor}`` plus JSON-able ``meta`` with ``torch.save`` and a checksum, atomically."""
    import torch

    path = Path(path)
    header = _header(kind, meta)
    payload = {"genrl": json.dumps(header), "state": state, "checksum": checksum(state, header["meta"])}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_torch(path: str | os.PathLike, kind: str) -> tuple[dict, dict]:
    """Load what :func:`save_torch` wrote with ``weights_only=True``: ``(state, meta)``; verifies the checksum.

    Raises:
        FileNotFoundError: no such file.
        ValueError: corrupt (checksum mismatch or unreadable), foreign (not ours, or not loadable with
            ``weights_only=True``) or another ``kind``; always naming the file.
    """
    import torch

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch's unpickler raises KeyError, RuntimeError, UnpicklingError...
        raise ValueError(f"{path} is corrupt or not a genrl_lib model file ({type(e).__name__})") from None
    if not isinstance(payload, dict) or "genrl" not in payload or "state" not in payload:
        raise ValueError(f"{path} is not a genrl_lib model file (no genrl header)")
    try:
        header = json.loads(payload["genrl"])
    except (TypeError, ValueError):
        raise ValueError(f"{path} is corrupt: its genrl header is not valid JSON") from None
    meta = _check_header(header, kind, path)
    _verify(path, payload.get("checksum"), payload["state"], meta)
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
