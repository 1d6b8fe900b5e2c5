#!/usr/bin/env python
"""Generate (or check) the notebooks/*.ipynb twins of the book/*.md chapters.

    python scripts/twins.py          # write every twin (make twins)
    python scripts/twins.py --check  # exit 1 and name each twin that is missing or out of date

A chapter is a book/*.md file with a jupytext header (``kernelspec``); prose-only pages have no twin.
The twin is exactly ``jupytext.writes(jupytext.read(md), fmt="ipynb")``, so generation is byte-stable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]
BOOK, NOTEBOOKS = ROOT / "book", ROOT / "notebooks"


def chapters() -> list[Path]:
    """The book/*.md files that are notebooks (they carry a jupytext kernelspec header)."""
    out = []
    for md in sorted(BOOK.glob("*.md")):
        head = md.read_text(encoding="utf-8")[:2000]
        if head.startswith("---") and "kernelspec:" in head.split("\n---", 1)[0]:
            out.append(md)
    return out


def twin_path(md: Path) -> Path:
    return NOTEBOOKS / (md.stem + ".ipynb")


def render(md: Path) -> str:
    """The exact text of the .ipynb twin of ``md``."""
    nb = jupytext.read(md)
    nb.metadata.pop("jupytext", None)  # the twin is generated: no pairing metadata that would tempt --sync
    for i, cell in enumerate(nb.cells):  # nbformat 4.5 cell ids are random by default: make them deterministic
        cell["id"] = f"cell-{i:03d}"
    text = jupytext.writes(nb, fmt="ipynb")
    return text if text.endswith("\n") else text + "\n"


def stale() -> list[str]:
    """Messages for every missing, outdated or orphaned twin (empty when all are in sync)."""
    problems = []
    mds = chapters()
    for md in mds:
        tw = twin_path(md)
        if not tw.exists():
            problems.append(f"{tw.relative_to(ROOT)} is missing (twin of {md.relative_to(ROOT)})")
        elif tw.read_text(encoding="utf-8") != render(md):
            problems.append(f"{tw.relative_to(ROOT)} is out of sync with {md.relative_to(ROOT)}")
    names = {twin_path(md).name for md in mds}
    for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
        if nb.name not in names:
            problems.append(f"{nb.relative_to(ROOT)} has no book/{nb.stem}.md source (delete it)")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if any twin is stale")
    args = ap.parse_args(argv)
    if args.check:
        problems = stale()
        for p in problems:
            print(p)
        if problems:
            print("Fix: make twins   (or: python scripts/twins.py)")
        return 1 if problems else 0
    NOTEBOOKS.mkdir(exist_ok=True)
    for md in chapters():
        tw = twin_path(md)
        text = render(md)
        if not tw.exists() or tw.read_text(encoding="utf-8") != text:
            tmp = tw.with_suffix(".ipynb.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(tw)
            print(f"wrote {tw.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
