"""Item 5's tooling: chapter code fits the page (<= 88 columns), and make format gets it there."""

import importlib.util
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
_spec = importlib.util.spec_from_file_location("format_chapters", ROOT / "scripts" / "format_chapters.py")
fmt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fmt)
CHAPTERS = fmt.twins.chapters()
HAS_RUFF = importlib.util.find_spec("ruff") is not None

CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# T

Prose with a very long line that is not code and must stay exactly as it is, however long it happens to be, yes.

```{code-cell} ipython3
:tags: [remove-cell]

x = dict(alpha=1, beta=2, gamma=3, delta=4, epsilon=5, zeta=6, eta=7, theta=8, iota=9, kappa=10)
```

```{code-cell} ipython3
%matplotlib inline
y = [x['alpha'],x['beta'],x['gamma'],x['delta'],x['epsilon'],x['zeta'],x['eta'],x['theta']]
y;
```

```{code-cell} ipython3
z = [x['alpha'],x['beta']]
```
"""


@pytest.mark.skipif(not HAS_RUFF, reason="ruff is not installed: make env (requirements.lock pins it)")
def test_format_rewrites_only_code_and_keeps_magics_and_semicolons(tmp_path):
    md = tmp_path / "t.md"
    md.write_text(CHAPTER)
    assert fmt.format_chapter(md, write=False) == [1] and md.read_text() == CHAPTER      # --check: no write
    assert fmt.format_chapter(md, write=True) == [1]
    text = md.read_text()
    assert "Prose with a very long line" in text and ":tags: [remove-cell]" in text
    cells = [c.source for c in jupytext.read(md).cells if c.cell_type == "code"]
    assert all(len(line) <= 88 for line in cells[1].split("\n"))
    assert cells[1] == ('%matplotlib inline\ny = [\n    x["alpha"],\n    x["beta"],\n    x["gamma"],\n'
                        '    x["delta"],\n    x["epsilon"],\n    x["zeta"],\n    x["eta"],\n    x["theta"],\n]\ny;')
    assert fmt.format_chapter(md, write=True) == []                                       # idempotent
    assert fmt.main(["--check", str(md)]) == 0


@pytest.mark.skipif(not HAS_RUFF, reason="ruff is not installed: make env (requirements.lock pins it)")
def test_format_leaves_short_hidden_and_setup_cells_alone(tmp_path):
    md = tmp_path / "t.md"
    setup = ("```{code-cell} ipython3\nimport sys\nif 'google.colab' in sys.modules:\n"
             "    %pip install -q 'genrl_lib @ git+https://example.org/" + "x" * 60 + "'\n```\n\n")
    md.write_text(CHAPTER.replace("```{code-cell} ipython3\n:tags: [remove-cell]", setup + "```{code-cell} ipython3\n"
                                  ":tags: [remove-cell]"))
    before = [c.source for c in jupytext.read(md).cells if c.cell_type == "code"]
    assert fmt.main(["--check", str(md)]) == 1                                           # cell 2 would change
    assert fmt.format_chapter(md, write=True) == [2]
    after = [c.source for c in jupytext.read(md).cells if c.cell_type == "code"]
    # a visible setup cell and a hidden cell, both with a line > 88 columns, and a short unformatted cell
    # stay byte for byte as they were
    assert [after[i] for i in (0, 1, 3)] == [before[i] for i in (0, 1, 3)] and after[2] != before[2]
    assert after[3] == "z = [x['alpha'],x['beta']]" and "z = [x['alpha'],x['beta']]\n```" in md.read_text()


def test_long_lines_counts_only_visible_code(tmp_path):
    md = tmp_path / "t.md"
    md.write_text(CHAPTER)
    assert [s.split(" (")[0] for s in fmt.long_lines(md)] == ["code cell 1, line 2"]


@pytest.mark.xfail(strict=False, reason="chapter code is reflowed by the chapters' author with `make format` "
                                        "(issue 18, item 5); remove this mark once applied")
@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_visible_code_fits_88_columns(md):
    long = fmt.long_lines(md)
    assert not long, f"{md.name}: {len(long)} visible code lines > 88 columns:\n" + "\n".join(long[:15]) + \
        "\nFix: make format (ruff format, 88 columns), then shorten by hand what it cannot"
