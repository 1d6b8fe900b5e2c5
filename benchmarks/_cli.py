"""Argument checks shared by the benchmark scripts (standard library only, so a bad argument is refused in a
fraction of a second, before torch and genrl_lib are imported).

Each ``*_type`` function is an ``argparse`` ``type=``: it returns the parsed value or raises
``argparse.ArgumentTypeError``, which argparse turns into a usage error (exit status 2).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["positive_int", "non_negative_int", "int_list", "choice_list", "check_out", "parse"]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def positive_int(text: str) -> int:
    """``"5"`` -> ``5``; refuses ``0``, negatives and non-integers (``--seeds 0`` would run nothing)."""
    n = _int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {n}")
    return n


def non_negative_int(text: str) -> int:
    """``"0"`` -> ``0``; refuses negatives and non-integers."""
    n = _int(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {n}")
    return n


def int_list(allow_empty: bool = True):
    """A ``type=`` for comma-separated positive integers: ``"1,4,16"`` -> ``[1, 4, 16]`` (``""`` -> ``[]`` if allowed)."""
    def parse(text: str) -> list[int]:
        items = [x.strip() for x in text.split(",") if x.strip()]
        if not items and not allow_empty:
            raise argparse.ArgumentTypeError("expected comma-separated positive integers, e.g. 1,4,16")
        return [positive_int(x) for x in items]
    return parse


def choice_list(choices):
    """A ``type=`` for a non-empty comma-separated subset of ``choices``: ``"5zone,warehouse"`` -> that list."""
    def parse(text: str) -> list[str]:
        items = [x.strip() for x in text.split(",") if x.strip()]
        bad = [x for x in items if x not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(choices)}; "
                                             f"got {text!r}" + (f" (unknown: {', '.join(bad)})" if bad else ""))
        return items
    return parse


def check_out(parser: argparse.ArgumentParser, out: Path, option: str = "--out") -> Path:
    """Refuse (usage error) an output folder that is an existing file or lies in a folder this user cannot write,
    before any training; returns ``out``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        parser.error(f"{option} {out} is an existing file, not a folder: pick a folder name")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        parser.error(f"{option} {out}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        parser.error(f"{option} {out}: no permission to write in {parent}")
    return out


def parse(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """``parser.parse_args(argv)``, then :func:`check_out` on ``args.out``: every benchmark's command line."""
    args = parser.parse_args(argv)
    check_out(parser, args.out)
    return args
