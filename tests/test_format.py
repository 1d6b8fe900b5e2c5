"""Chapter code fits the page (<= 88 columns), and make format gets it there by breaking only the long lines."""

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


def test_format_rewrites_only_code_and_keeps_magics_and_semicolons(tmp_path):
    md = tmp_path / "t.md"
    md.write_text(CHAPTER)
    assert fmt.format_chapter(md, write=False) == [1] and md.read_text() == CHAPTER      # --check: no write
    assert fmt.format_chapter(md, write=True) == [1]
    text = md.read_text()
    assert "Prose with a very long line" in text and ":tags: [remove-cell]" in text
    cells = [c.source for c in jupytext.read(md).cells if c.cell_type == "code"]
    assert all(len(line) <= 88 for line in cells[1].split("\n"))
    # one break, inside the brackets, continuation under the first element; the magic and the `;` kept
    assert cells[1] == ("%matplotlib inline\n"
                        "y = [x['alpha'],x['beta'],x['gamma'],x['delta'],x['epsilon'],x['zeta'],x['eta'],\n"
                        "     x['theta']]\ny;")
    assert fmt.format_chapter(md, write=True) == []                                       # idempotent
    assert fmt.main(["--check", str(md)]) == 0


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


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_visible_code_fits_88_columns(md):
    long = fmt.long_lines(md)
    assert not long, f"{md.name}: {len(long)} visible code lines > 88 columns:\n" + "\n".join(long[:15]) + \
        "\nFix: make format (breaks long lines at 88 columns), then shorten by hand what it cannot"


def test_wrap_keeps_the_code_and_breaks_where_a_reader_would():
    from wrap_code import wrap_source

    src = ("for key, label in ((\"disc_acc_expert\", \"expert pairs (D < 1/2)\"), "
           "(\"disc_acc_policy\", \"policy pairs (D > 1/2)\")):\n"
           "    glue(\"a_rather_long_name\", value_number_one); glue(\"another_long_name\", value_number_two)\n"
           "x = f(aaaa)                                                        # a comment pushed far right\n"
           "print(f\"seed {s}: {st.covered}/8 modes covered, {st.high_quality:.1%} high-quality, per mode {st.c}\")\n"
           "d = {k: [f\"step {t}\" for t in range(len(frames_of_the_episode))] for k, frames_of_the_episode in p}")
    out = wrap_source(src)
    assert all(len(line) <= 88 for line in out.split("\n"))
    import ast
    assert ast.dump(ast.parse(out)) == ast.dump(ast.parse(src))      # the same program
    lines = out.split("\n")
    assert lines[1].lstrip().startswith('("disc_acc_policy"')        # the outermost comma, not inside a tuple
    assert 'glue("another_long_name"' in lines[3] and ";" not in out.split("\n")[2]   # `;` became two lines
    assert "x = f(aaaa)  # a comment pushed far right" in lines  # only the padding went
    assert lines[5].startswith('print(f"seed') and lines[6] == '      f"per mode {st.c}")'  # a string split in two
    assert "for k, frames_of_the_episode in p" in out               # never between a comprehension's targets
    assert wrap_source(out) == out                                   # idempotent
    assert wrap_source("x = 1\n") == "x = 1\n" and wrap_source("def (:\n") == "def (:\n"   # short / unparsable
