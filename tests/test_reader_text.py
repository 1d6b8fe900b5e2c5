"""Reader-facing pages speak the reader's language: no words from how the book was written.

The course's sources were handed to the authors as numbered files ("seed 000" is the thesis, "seed 002" the
Spanish REINFORCE chapter, ...). A reader knows them by their titles and authors, so a chapter, a notebook or
the README that says "seed 000", "the seed chapter" or "Later chapters add their terms here" fails this test,
naming the file, the line and the fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "notebooks").glob("*.ipynb")) + [ROOT / "README.md"]

# (pattern, what to write instead)
INTERNAL = [
    (re.compile(r"\bseeds?[- ]0\d\d\b", re.I), "name the source by its title and author (e.g. 'the thesis', "
                                               "'Huijse's policy-gradients chapter')"),
    (re.compile(r"\bseed(?:-| )?(?:chapter|lecture|slides?|file|material)s?\b", re.I),
     "name the source by its title and author"),
    (re.compile(r"\bthe seed's\b", re.I), "name the source by its title and author"),
    (re.compile(r"\bshared/seeds\b|\bseeds/0\d\d", re.I), "cite the source (book/references.bib), not a file"),
    (re.compile(r"\b(?:later chapters add their terms|authoring note|TODO|FIXME)\b", re.I),
     "remove the note to authors"),
    (re.compile(r"\b(?:issue|brief) #?\d+\b", re.I), "say what changed, not which ticket asked for it"),
]


def _lines(path: Path):
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            for k, line in enumerate(src.splitlines(), 1):
                yield f"cell {i}, line {k}", line
    else:
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield f"line {k}", line


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_internal_words_on_reader_pages(path):
    found = [f"{path.relative_to(ROOT)} {where}: {m.group(0)!r} -> {fix}"
             for where, line in _lines(path) for pat, fix in INTERNAL for m in pat.finditer(line)]
    assert not found, "internal words on a reader-facing page:\n" + "\n".join(found)


@pytest.mark.parametrize("text", ["as seed 000 states it", "the seed chapter's roll-outs", "seed-003 chain",
                                  "Later chapters add their terms here.", "(the seed's saddle point)"])
def test_the_patterns_catch_the_known_cases(text):
    assert any(p.search(text) for p, _ in INTERNAL), text


@pytest.mark.parametrize("text", ["seed 0 of the benchmark", "five seeds (0-4)", "GENRL_BOOK_SEED=1",
                                  "each seed's greedy policy", "seeds 0–19", "seed 100"])
def test_the_patterns_spare_ordinary_uses_of_seed(text):
    assert not any(p.search(text) for p, _ in INTERNAL), text
