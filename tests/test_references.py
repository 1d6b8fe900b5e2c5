"""One citation style: the text cites author-year and the references page lists author-year labels."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _style():
    spec = importlib.util.spec_from_file_location("bib_author_year", ROOT / "_ext" / "bib_author_year.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    from pybtex.plugin import find_plugin
    return mod, find_plugin("pybtex.style.formatting", "author_year")()


def test_config_selects_author_year_in_text_and_list():
    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]
    assert sphinx["config"]["bibtex_reference_style"] == "author_year"
    assert sphinx["config"]["bibtex_default_style"] == "author_year"
    assert "bib_author_year" in sphinx["local_extensions"]


def test_bibliography_labels_are_author_year_and_unique():
    from pybtex.database import parse_file

    _, style = _style()
    entries = list(style.format_bibliography(parse_file(ROOT / "book" / "references.bib")))
    labels = {e.key: e.label for e in entries}
    assert labels["ho2016generative"] == "Ho and Ermon, 2016"
    assert labels["sutton2018reinforcement"] == "Sutton and Barto, 2018"
    assert labels["mnih2015human"] == "Mnih et al., 2015"
    assert len(set(labels.values())) == len(labels), "two entries share a label"
    assert all(re.search(r", (\d{4}[a-z]?|n\.d\.)$", lab) for lab in labels.values()), labels


def test_duplicate_labels_get_letters():
    from pybtex.database import parse_string

    mod, style = _style()
    bib = parse_string("@misc{a, author={Doe, J.}, title={A}, year={2020}}\n"
                       "@misc{b, author={Doe, J.}, title={B}, year={2020}}", "bibtex")
    assert sorted(e.label for e in style.format_bibliography(bib)) == ["Doe, 2020a", "Doe, 2020b"]


def test_every_cited_key_is_in_the_bibliography():
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    cited = {k.strip() for md in (ROOT / "book").glob("*.md")
             for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", md.read_text(encoding="utf-8"))
             for k in group.split(",")}
    assert cited <= keys, f"cited but not in book/references.bib: {sorted(cited - keys)}"
