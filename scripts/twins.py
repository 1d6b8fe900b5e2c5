#!/usr/bin/env python
"""Generate (or check) the notebooks/*.ipynb Colab twins of the book/*.md chapters.

    python scripts/twins.py          # write every twin (make twins)
    python scripts/twins.py --check  # exit 1 and name each twin that is missing or out of date

A chapter is a book/*.md file with a jupytext header (``kernelspec``); prose-only pages have no twin.
The twin is ``jupytext.read(md)`` converted for Colab by ``scripts/colab.py`` (no MyST syntax left, hidden cells
as collapsed form cells, the setup cell installing what ``_config.yml``'s ``repository:`` says), then written
with ``jupytext.writes(..., fmt="ipynb")``: a function of ``book/*.md``, ``book/references.bib`` and
``_config.yml`` only, so generation is byte-stable. A chapter whose notebook would keep a MyST token stops the
generation with the notebook, the cell and the fix.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext

sys.path.insert(0, str(Path(__file__).resolve().parent))
import colab  # noqa: E402
import repo_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOOK, NOTEBOOKS = ROOT / "book", ROOT / "notebooks"


class MystLeftError(ValueError):
    """A generated notebook would show MyST syntax in Colab."""


def chapters() -> list[Path]:
    """The book/*.md files that are notebooks (they carry a jupytext kernelspec header)."""
    return chapters_in(BOOK)


def chapters_in(book: Path) -> list[Path]:
    out = []
    for md in sorted(book.glob("*.md")):
        head = md.read_text(encoding="utf-8")[:2000]
        if head.startswith("---") and "kernelspec:" in head.split("\n---", 1)[0]:
            out.append(md)
    return out


def twin_path(md: Path) -> Path:
    return NOTEBOOKS / (md.stem + ".ipynb")


def _title(md: Path) -> str:
    for line in md.read_text(encoding="utf-8").split("\n"):
        if line.startswith("# "):
            return line[2:].strip()
    return md.stem.replace("_", " ")


def toc_files(root: Path = ROOT) -> list[str]:
    """The pages of ``_toc.yml`` in reading order (``root`` first), as written there (``book/q_learning``)."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    out = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                out.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [f.removesuffix(".md") for f in out]


def _in_toc_order(root: Path) -> list[Path]:
    """The pages in ``_toc.yml`` order (without a toc, as in some tests' copies: the chapters by name)."""
    if not (root / "_toc.yml").exists():
        return chapters_in(root / "book")
    return [root / f"{f}.md" for f in toc_files(root) if (root / f"{f}.md").exists()]


_CONTEXT: dict[Path, colab.Context] = {}


def context(root: Path = ROOT) -> colab.Context:
    """Citations, chapter titles and links shared by every chapter (read once per process)."""
    if root not in _CONTEXT:
        repo = repo_config.load(root)
        book = root / "book"
        stems = {md.stem for md in chapters_in(book)}
        pages = sorted(book.glob("*.md"))
        _CONTEXT[root] = colab.Context(
            cites=colab.cite_labels((book / "references.bib").read_text(encoding="utf-8")),
            references_url=repo.page_url("references"),
            doc_titles={p.stem: _title(p) for p in pages},
            doc_urls={p.stem: repo.colab_url(p.stem) if p.stem in stems else repo.page_url(p.stem) for p in pages},
            # sphinx-exercise numbers exercises through the whole book in _toc.yml order: the notebooks do too
            book_exercises=colab.number_exercises([p.read_text(encoding="utf-8") for p in _in_toc_order(root)]),
        )
    return _CONTEXT[root]


def convert(md: Path, root: Path = ROOT):
    """The Colab notebook (nbformat) of chapter ``md``; raises MystLeftError if MyST syntax would remain."""
    repo = repo_config.load(root)
    ctx = colab.Context(**{**context(root).__dict__, "where": md.name})
    try:
        nb = colab.convert_notebook(jupytext.read(md), ctx, repo.install_spec)
    except ValueError as e:
        raise MystLeftError(str(e)) from e
    left = [f"notebooks/{md.stem}.ipynb, cell {i}: {kind}: {excerpt}"
            for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
            for kind, excerpt in colab.myst_tokens(c.source)]
    if left:
        raise MystLeftError("MyST syntax would be shown literally in Colab:\n  " + "\n  ".join(left)
                            + f"\nFix: teach scripts/colab.py this syntax, or write it in plain Markdown in {md.name}.")
    return nb


def render(md: Path) -> str:
    """The exact text of the .ipynb twin of ``md``."""
    nb = convert(md)
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
    try:
        return _run(args)
    except (MystLeftError, repo_config.RepoConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _run(args) -> int:
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
