"""Sphinx extension: the bibliography lists its entries with author-year labels, as the text cites them.

The chapters cite with ``{cite}`` and ``bibtex_reference_style: author_year`` ("Ho and Ermon, 2016"), but
pybtex's built-in label styles are ``alpha`` ("HE16") and ``number`` ("1"): the text and the references page
spoke two styles. This registers a pybtex label style ``author_year`` and a formatting style
``author_year`` (pybtex's ``plain``, sorted by author, year, title, labelled "Ho and Ermon, 2016");
``_config.yml`` selects it with ``bibtex_default_style: author_year``. Two entries that would get the same
label get "2016a", "2016b".
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _plain(text: str) -> str:
    """A name as a reader sees it: LaTeX accents decoded, braces dropped."""
    try:
        import codecs

        import latexcodec  # noqa: F401  (registers the 'ulatex' codec)
        text = codecs.decode(text, "ulatex")
    except (ImportError, ValueError):
        pass
    return text.replace("{", "").replace("}", "").strip()


def author_year_label(entry) -> str:
    """``"Sutton and Barto, 2018"``, ``"Ho and Ermon, 2016"``, ``"Mnih et al., 2015"`` for a pybtex entry."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_plain(" ".join(p.prelast_names + p.last_names) or " ".join(p.first_names)) for p in people]
    if not names:
        who = _plain(entry.fields.get("organization", entry.fields.get("title", entry.key)))
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2 and str(people[1]) != "others":
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    who = who[:1].upper() + who[1:]          # "van Hasselt" opens a label as "Van Hasselt"
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabelStyle(BaseLabelStyle):
    """pybtex label style: author-year labels, made unique with a/b/... suffixes."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year_label(e) for e in entries]
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                yield f"{label}{chr(ord('a') + seen[label] - 1)}"
            else:
                yield label


class AuthorYearStyle(PlainStyle):
    """pybtex's ``plain`` formatting (sorted by author, year, title) with author-year labels."""

    default_label_style = "author_year"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "author_year", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)


def setup(app):
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
