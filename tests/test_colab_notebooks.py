"""The Colab notebooks (notebooks/*.ipynb) are derived from book/*.md by scripts/colab.py: no MyST left."""

import importlib.util
import json
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
_spec = importlib.util.spec_from_file_location("twins", ROOT / "scripts" / "twins.py")
twins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(twins)
import colab  # noqa: E402  (scripts/ is on the path through twins)

CHAPTERS = twins.chapters()
CTX = colab.Context(cites={"sutton2018": "Sutton and Barto (2018)", "ho2016": "Ho and Ermon (2016)"},
                    references_url="https://x.github.io/r/book/references.html",
                    doc_titles={"rl_basics": "Reinforcement learning basics"},
                    doc_urls={"rl_basics": "https://colab.example/rl_basics.ipynb"},
                    equations={"eq-a": 1, "eq-b": 2}, where="test.md")


def md(text, glued=None):
    return colab.convert_markdown(text, CTX, glued)


# ---- the pure conversion, on small inputs ------------------------------------------------------------------

def test_dropdown_becomes_details():
    out = md(":::{dropdown} Solution 1\n:open:\nThe answer is $-8$.\n\n```python\nx = 1\n```\n:::")
    assert out == "<details><summary>Solution 1</summary>\n\nThe answer is $-8$.\n\n```python\nx = 1\n```\n\n</details>"


def test_admonition_becomes_a_block_quote_and_nested_directives_convert():
    out = md("::::{admonition} Objectives\n:class: tip\nYou can\n\n- act\n\n:::{note}\ninner\n:::\n::::\nafter")
    assert out.startswith("> **Objectives**\n>\n> You can\n>\n> - act\n>\n> > **Note**")
    assert out.endswith("after") and ":::" not in out and ":class:" not in out


def test_citations_become_author_year_links():
    out = md("as shown {cite}`sutton2018` and {cite:p}`sutton2018,ho2016`.")
    link = "(https://x.github.io/r/book/references.html)"
    assert out == f"as shown [Sutton and Barto (2018)]{link} and [Sutton and Barto (2018); Ho and Ermon (2016)]{link}."


def test_unknown_citation_names_the_file_and_the_fix():
    with pytest.raises(ValueError, match=r"test\.md.*nokey.*references\.bib"):
        md("{cite}`nokey`")


def test_cross_references_become_plain_text():
    assert md("see {doc}`rl_basics`") == "see [Reinforcement learning basics](https://colab.example/rl_basics.ipynb)"
    assert md("see {doc}`the basics <rl_basics>`") == "see [the basics](https://colab.example/rl_basics.ipynb)"
    assert md("by {eq}`eq-b`, {numref}`Figure %s <fig-x>` and {ref}`sec-intro`") == \
        "by (2), Figure %s and sec intro"


def test_labelled_equations_get_a_tag_and_targets_go():
    assert md("(sec-x)=\n## Title\n$$\nx = 1\n$$ (eq-a)") == "## Title\n$$\nx = 1\n\\tag{1} $$"
    assert colab.number_equations(["$$ a $$ (p)", "$$\nb\n$$ (q)\n$$ c $$ (p)"]) == {"p": 1, "q": 2}


def test_glue_becomes_the_name_and_is_reported():
    glued = []
    assert md("reaches {glue:text}`ret:.1f` in {glue:text}`steps` steps", glued) == "reaches `ret` in `steps` steps"
    assert glued == ["ret", "steps"]
    assert colab.glue_formats(["{glue:text}`ret:.1f` {glue:text}`ret:.3f` {glue:text}`n`"]) == {"ret": ".1f", "n": ""}


def test_code_is_left_alone():
    src = "write `{cite}` like this:\n\n```md\n{cite}`key` and :::{note}\n```\nand ``{glue:text}`x` ``"
    assert md(src) == src
    assert colab.myst_tokens(src) == []


@pytest.mark.parametrize("text, kind", [
    ("a {cite}`k` b", "role"), (":::{note}\nx\n:::", "colon-fence directive"),
    ("```{figure} a.png\n```", "backtick directive"), ("(my-label)=\n# T", "target (label)="),
    ("$$ x $$ (eq-1)", "equation label $$ (label)"), ("{{ title }}", "substitution {{ }}"),
    ("> :::{dropdown} x", "colon-fence directive"),
])
def test_myst_tokens_are_found(text, kind):
    assert kind in [k for k, _ in colab.myst_tokens(text)]


def test_bibliography_labels():
    bib = r"""@book{a, author = {Sutton, Richard S. and Barto, Andrew G.}, title = {RL}, year = {2018}}
@misc{b, author = {{Departamento de Sistemas Inform{\'a}ticos, UPV}}, title = {Notes}, year = {2023}}
@article{c, author = {Ross, St{\'e}phane and Gordon, Geoffrey and Bagnell, Drew}, title = {X}, year = {2011}}
@misc{d, author = {Towers, Mark and others}, title = {Gymnasium}, year = {2024}}"""
    assert colab.cite_labels(bib) == {"a": "Sutton and Barto (2018)", "b": "Departamento de Sistemas Informáticos, UPV (2023)",
                                      "c": "Ross et al. (2011)", "d": "Towers et al. (2024)"}


def test_every_key_of_the_book_bibliography_has_a_label():
    labels = colab.cite_labels((ROOT / "book" / "references.bib").read_text())
    assert labels and all("(" in v and "{" not in v and "\\" not in v for v in labels.values()), labels


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_hidden_cells_become_forms_that_still_run_and_print_the_glued_numbers():
    setup = nbformat.v4.new_code_cell('import sys\nif "google.colab" in sys.modules:\n    import subprocess\n'
                                      '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", '
                                      '"genrl_lib[buildings] @ git+https://github.com/old/repo"], check=True)',
                                      metadata={"tags": ["remove-cell"]})
    check = nbformat.v4.new_code_cell('glue("x", 2.0)\nassert True', metadata={"tags": ["remove-cell"]})
    prose = nbformat.v4.new_markdown_cell("x is {glue:text}`x:.2f`")
    out = colab.convert_notebook(_nb(setup, check, prose), colab.Context(where="t.md"),
                                 lambda extras: f"genrl_lib[{extras}] @ git+https://github.com/new/repo@dev")
    s, fmt, c, p = out.cells
    assert s.source.startswith(colab.SETUP_TITLE + "\n") and s.metadata["cellView"] == "form"
    assert "genrl_lib[buildings] @ git+https://github.com/new/repo@dev" in s.source and "old/repo" not in s.source
    assert c.source.startswith(colab.CHECK_TITLE + "\n") and c.metadata["cellView"] == "form"
    assert "`x`" in p.source and "Checks the claims of this section" in p.source
    ns = {}
    exec(fmt.source, ns)                         # the formats cell, then the check cell, as the kernel would
    assert ns["_GLUE_FORMATS"] == {"x": ".2f"}
    import contextlib
    import io

    from genrl_lib.book import GLUED, glue
    ns["glue"] = glue
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(c.source, ns)
    assert "x = 2.00" in buf.getvalue() and GLUED["x"] == 2.0


# ---- the book's chapters -------------------------------------------------------------------------------------

def _tokens(nb, name):
    return [f"{name}, cell {i}: {kind}: {excerpt}" for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
            for kind, excerpt in colab.myst_tokens(c.source)]


@pytest.mark.parametrize("md_path", CHAPTERS, ids=lambda p: p.stem)
def test_generated_notebook_has_no_myst(md_path):
    nb = twins.convert(md_path)  # raises MystLeftError naming the cell; check again here anyway
    assert not _tokens(nb, f"notebooks/{md_path.stem}.ipynb")


@pytest.mark.parametrize("nb_path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_committed_notebook_has_no_myst(nb_path):
    nb = nbformat.reads(nb_path.read_text(), as_version=4)
    left = _tokens(nb, f"notebooks/{nb_path.name}")
    assert not left, f"{len(left)} MyST tokens would show in Colab:\n" + "\n".join(left[:20]) + "\nFix: make twins"


@pytest.mark.parametrize("md_path", CHAPTERS, ids=lambda p: p.stem)
def test_generated_notebook_keeps_every_code_cell_and_folds_the_hidden_ones(md_path):
    src = jupytext.read(md_path)
    nb = twins.convert(md_path)
    hidden = [c for c in src.cells if c.cell_type == "code" and "remove-cell" in c.metadata.get("tags", [])]
    forms = [c for c in nb.cells if c.metadata.get("cellView") == "form"]
    assert len(forms) == len(hidden) + (1 if colab.glue_formats([c.source for c in src.cells
                                                                  if c.cell_type == "markdown"]) else 0)
    assert all(c.source.startswith("#@title ") for c in forms)
    visible = [c.source for c in src.cells if c.cell_type == "code" and c not in hidden]
    assert visible == [c.source for c in nb.cells if c.cell_type == "code" and "cellView" not in c.metadata]


def test_generation_is_a_function_of_the_sources():
    md_path = ROOT / "book" / "rl_basics.md"
    first = twins.render(md_path)
    assert first == twins.render(md_path) and json.loads(first)["metadata"]["colab"]["toc_visible"] is True


def test_literalinclude_pyobject_becomes_the_objects_source():
    """A chapter shows a library function from its source; in Colab that is the same source as a code block."""
    import inspect
    import textwrap

    from genrl_lib.gail import discriminator_loss
    from genrl_lib.ppo import PPO, ppo_loss

    for path, name, obj in (("../genrl_lib/ppo.py", "ppo_loss", ppo_loss),
                            ("../genrl_lib/gail.py", "discriminator_loss", discriminator_loss),
                            ("../genrl_lib/ppo.py", "PPO.minibatch_step", PPO.minibatch_step)):
        out = md(f"Before.\n\n```{{literalinclude}} {path}\n:pyobject: {name}\n```\n\nAfter.")
        source = textwrap.dedent(inspect.getsource(obj)).rstrip("\n")
        assert out == f"Before.\n\n```python\n{source}\n```\n\nAfter.", name
    with pytest.raises(ValueError, match="not defined"):
        md("```{literalinclude} ../genrl_lib/ppo.py\n:pyobject: no_such_function\n```")
    with pytest.raises(ValueError, match="pyobject"):
        md("```{literalinclude} ../genrl_lib/ppo.py\n```")
