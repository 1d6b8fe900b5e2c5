#!/usr/bin/env python
"""Reflow the chapter code cells that are too wide to at most 88 columns (make format / make check-format).

    python scripts/format_chapters.py                 # rewrite book/*.md in place (code cells only)
    python scripts/format_chapters.py --check         # exit 1 naming every chapter and cell that would change
    python scripts/format_chapters.py book/dqn.md     # only these chapters

Only a visible code cell with a line longer than 88 columns changes, and in it only the lines that are too long:
each is broken inside its brackets, at a ``;`` or inside a long string (``scripts/wrap_code.py``), and the cell
must parse to the same syntax tree as before. Every other line and cell stays byte for byte as written (a
formatter such as ruff would re-lay out whole cells, one argument per line, and chapters must stay short), and
so do hidden cells (``remove-cell``, ``remove-input``: the reader never sees their code) and the Colab setup
cell. The new sources replace the old ones inside the chapter's ```` ```{code-cell} ```` blocks; prose, cell
options and the jupytext header are not touched. Run ``make twins`` afterwards (``make format`` does). Lines
that cannot be broken (a long comment, a name or URL without a break point) are reported by
``tests/test_format.py``; shorten those by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext

sys.path.insert(0, str(Path(__file__).resolve().parent))
import colab  # noqa: E402
import twins  # noqa: E402
from wrap_code import wrap_source  # noqa: E402

LINE_LENGTH = 88


def visible(cell) -> bool:
    """Whether the reader sees the cell's code (the book hides ``remove-cell`` and ``remove-input`` cells)."""
    tags = cell.metadata.get("tags", [])
    return "remove-cell" not in tags and "remove-input" not in tags


def too_long(source: str, limit: int = LINE_LENGTH) -> bool:
    return any(len(line) > limit for line in source.split("\n"))


def selected(cell) -> bool:
    """Whether ``make format`` reformats the code cell: visible, not the Colab setup cell, a line too long."""
    return visible(cell) and not colab.is_setup_cell(cell) and too_long(cell.source)


def formatted_sources(md: Path) -> list[tuple[str, str]]:
    """``(old, new)`` source of every code cell of ``md``, in order: ``new`` has its long lines broken
    (:func:`wrap_code.wrap_source`) for a selected cell, and is ``old`` again for every other cell."""
    code = [c for c in jupytext.read(md).cells if c.cell_type == "code"]
    # only selected cells change; the Colab setup cell stays exactly as CONTRIBUTING.md gives it
    # (make repo rewrites its URL)
    return [(c.source, wrap_source(c.source, LINE_LENGTH) if selected(c) else c.source) for c in code]


def apply(text: str, pairs: list[tuple[str, str]]) -> str:
    """Replace each old code-cell source by its new one, in order, inside the ```{code-cell} blocks of ``text``."""
    pos = 0
    for old, new in pairs:
        start = text.index("```{code-cell}", pos)
        body = text.index("\n", start) + 1
        at = text.index(old, body) if old else body
        text = text[:at] + new + text[at + len(old):]
        pos = text.index("\n```", at + len(new) - 1) + 4
    return text


def format_chapter(md: Path, write: bool) -> list[int]:
    """Indices of the code cells that change; rewrites ``md`` when ``write``."""
    pairs = formatted_sources(md)
    changed = [i for i, (o, n) in enumerate(pairs) if o != n]
    if changed and write:
        text = md.read_text(encoding="utf-8")
        new = apply(text, pairs)
        check = [c.source for c in jupytext.reads(new, fmt="md:myst").cells if c.cell_type == "code"]
        if check != [n for _, n in pairs]:
            raise RuntimeError(f"{md}: the formatted chapter does not read back as formatted; not written")
        md.write_text(new, encoding="utf-8")
    return changed


def long_lines(md: Path, limit: int = LINE_LENGTH) -> list[str]:
    """``"cell N, line M (L columns): ..."`` for every visible code line longer than ``limit``."""
    out = []
    cells = [c for c in jupytext.read(md).cells if c.cell_type == "code"]
    for i, c in enumerate(cells):
        if not visible(c):
            continue
        for j, line in enumerate(c.source.split("\n"), 1):
            if len(line) > limit:
                out.append(f"code cell {i}, line {j} ({len(line)} columns): {line.strip()[:60]}")
    return out


def _show(path: Path) -> str:
    return str(path.relative_to(twins.ROOT)) if path.is_relative_to(twins.ROOT) else str(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("chapters", nargs="*", type=Path)
    ap.add_argument("--check", action="store_true",
                    help="only report; exit 1 if a cell with a line > 88 columns would change")
    args = ap.parse_args(argv)
    mds = [p.resolve() for p in args.chapters] or twins.chapters()
    dirty = 0
    for md in mds:
        changed = format_chapter(md, write=not args.check)
        if changed:
            dirty += 1
            verb = "would reformat" if args.check else "reformatted"
            print(f"{verb} {_show(md)}: code cells {', '.join(map(str, changed))}")
        for line in long_lines(md):
            print(f"  {md.name}: still too long, shorten by hand: {line}")
    if args.check and dirty:
        print("Fix: make format   (then review the diff of book/*.md)")
    return 1 if (args.check and dirty) else 0


if __name__ == "__main__":
    sys.exit(main())
