"""Turn a MyST chapter (read by jupytext) into a notebook that reads cleanly in Colab and plain Jupyter.

Pure functions on strings and notebooks; ``scripts/twins.py`` writes the result to ``notebooks/``.

- Markdown: no MyST syntax is left. ``:::{dropdown}`` -> ``<details><summary>``; admonitions -> block quotes;
  ``{cite}`` -> "Author (Year)" linked to the site's references page; ``{doc}`` -> the chapter's title linked to
  its Colab notebook; ``{eq}``/``{numref}``/``{ref}`` -> plain text ("(2)"; labelled display equations get a
  ``\\tag``); ``(label)=`` targets dropped; ``{glue:text}`name:fmt``` -> ``name`` in code font plus a sentence
  saying which cells print it (never a stale number).
- Code: the book's hidden cells (``remove-cell``) become Colab form cells (``#@title`` + ``cellView: form``),
  collapsed but still run; a cell that glues numbers also prints them, formatted as the book prints them.
  The Colab setup cell installs the spec derived from ``_config.yml`` (``scripts/repo_config.py``).
- ``{literalinclude}`` of a library file with ``:pyobject: name`` (a function, class or ``Class.method``), the
  way a chapter shows the library's core beside its equation: the object's source, read from the file at
  generation time, becomes a fenced ``python`` block (the twin-sync test then fails whenever the library's
  source and a committed notebook differ). Paths are relative to ``book/``, as Sphinx reads them.
"""

from __future__ import annotations

import ast
import copy
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

BOOK_DIR = Path(__file__).resolve().parents[1] / "book"

# ---- what counts as MyST left in a notebook (the test and the generator share it) ------------------------------

MYST_TOKENS = [
    ("role", re.compile(r"\{[A-Za-z][\w:+-]*\}`")),
    ("colon-fence directive", re.compile(r"(?m)^\s*(?:>\s*)*:{3,}\s*\{")),
    ("backtick directive", re.compile(r"(?m)^\s*(?:>\s*)*`{3,}\s*\{")),
    ("target (label)=", re.compile(r"(?m)^\s*\([\w:.-]+\)=\s*$")),
    ("equation label $$ (label)", re.compile(r"\$\$\s*\([\w:.-]+\)")),
    ("directive option", re.compile(r"(?m)^:(?:class|name|open|label|tags|align|width):")),
    ("substitution {{ }}", re.compile(r"\{\{\s*[\w.]+\s*\}\}")),
]


def myst_tokens(markdown: str) -> list[tuple[str, str]]:
    """Every MyST token in ``markdown`` outside code (``(kind, excerpt)``); empty when it reads as plain Markdown."""
    text = _strip_code(markdown)
    found = []
    for kind, rx in MYST_TOKENS:
        for m in rx.finditer(text):
            line = text[text.rfind("\n", 0, m.start()) + 1: text.find("\n", m.end()) if "\n" in text[m.end():] else None]
            found.append((kind, line.strip()[:120]))
    return found


def _strip_code(markdown: str) -> str:
    """``markdown`` with fenced code blocks (```python ...) and inline code spans blanked out."""
    out, fence = [], None
    for line in markdown.split("\n"):
        s = line.lstrip("> \t")
        m = re.match(r"(`{3,}|~{3,})(.*)$", s)
        if fence is None and m and not m.group(2).lstrip().startswith("{"):
            fence = m.group(1)
            out.append("")
            continue
        if fence is not None:
            if s.startswith(fence) and s.strip() == fence[0] * len(s.strip()):
                fence = None
            out.append("")
            continue
        out.append(_ROLE_OR_CODE.sub(lambda r: "" if r["code"] else r[0], line))
    return "\n".join(out)


# ---- bibliography --------------------------------------------------------------------------------------------

def cite_labels(bib_text: str) -> dict[str, str]:
    """``{key: "Sutton and Barto (2018)"}`` from a BibTeX file's text (pybtex, LaTeX accents decoded)."""
    import latexcodec  # noqa: F401  (registers the 'ulatex' codec)
    from pybtex.database import parse_string

    db = parse_string(bib_text, "bibtex")
    out = {}
    for key, entry in db.entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_latex(" ".join(p.last_names) or " ".join(p.first_names)) for p in people]
        if not names:
            who = _latex(entry.fields.get("organization", entry.fields.get("title", key)))
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        if len(people) == 2 and str(people[1]) == "others":
            who = f"{names[0]} et al."
        out[key] = f"{who} ({entry.fields.get('year', 'n.d.')})"
    return out


def _latex(s: str) -> str:
    import codecs

    s = codecs.decode(s, "ulatex")
    return s.replace("{", "").replace("}", "").strip()


# ---- markdown ------------------------------------------------------------------------------------------------

@dataclass
class Context:
    """What a chapter's markdown needs resolved: citations, chapter titles, equation numbers, links."""
    cites: dict[str, str] = field(default_factory=dict)      # key -> "Author (Year)"
    references_url: str = "references.html"
    doc_titles: dict[str, str] = field(default_factory=dict)  # chapter stem -> title
    doc_urls: dict[str, str] = field(default_factory=dict)    # stem -> URL (Colab notebook or site page)
    equations: dict[str, int] = field(default_factory=dict)   # label -> number (filled by number_equations)
    glue_formats: dict[str, str] = field(default_factory=dict)  # name -> format spec of its first use
    where: str = ""                                           # chapter name, for error messages


ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention", "danger", "error", "seealso"}
_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>:{3,}|`{3,})\s*\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*?)\s*$")
_OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*)$")
_ROLE = re.compile(r"\{(?P<name>[A-Za-z][\w:+-]*)\}`(?P<content>[^`]*)`")
# a role, or an inline code span (left alone): the leftmost match wins, so `{x}`y`` is a role, `a {x}` is code
_ROLE_OR_CODE = re.compile(r"\{(?P<name>[A-Za-z][\w:+-]*)\}`(?P<content>[^`]*)`|(?P<code>(?<!`)(?P<tick>`+)(?!`).+?(?<!`)(?P=tick)(?!`))")
_TARGET = re.compile(r"^\s*\([\w:.-]+\)=\s*$")
_EQ_LABEL = re.compile(r"\$\$\s*\((?P<label>[\w:.-]+)\)")
GLUE_NOTE = ("*{names}: numbers this notebook computes (the book prints their values here); the collapsed "
             "cells \"Checks the claims of this section\" print them when they run.*")


def number_equations(markdowns: list[str]) -> dict[str, int]:
    """Labelled display equations (``$$ ... $$ (label)``), numbered 1, 2, ... in page order as the book does."""
    labels: dict[str, int] = {}
    for md in markdowns:
        for m in _EQ_LABEL.finditer(md):
            labels.setdefault(m["label"], len(labels) + 1)
    return labels


def glue_formats(markdowns: list[str]) -> dict[str, str]:
    """``{name: format}`` of every ``{glue:text}`name:format``` (first use wins)."""
    out: dict[str, str] = {}
    for md in markdowns:
        for m in _ROLE.finditer(md):
            if m["name"].startswith("glue"):
                name, _, fmt = m["content"].partition(":")
                out.setdefault(name.strip(), fmt.strip())
    return out


def _split_target(content: str) -> tuple[str | None, str]:
    """``"text <target>"`` -> ``("text", "target")``; ``"target"`` -> ``(None, "target")``."""
    m = re.match(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", content.strip())
    return (m["text"] or None, m["target"]) if m else (None, content.strip())


def convert_role(name: str, content: str, ctx: Context, glued: list[str]) -> str:
    if name.startswith("glue"):
        key = content.partition(":")[0].strip()
        if key not in glued:
            glued.append(key)
        return f"`{key}`"
    if name.startswith("cite"):
        parts = []
        for key in [k.strip() for k in content.split(",") if k.strip()]:
            if key not in ctx.cites:
                raise ValueError(f"{ctx.where}: {{cite}}`{key}` is not in book/references.bib. "
                                 "Fix: add the entry to book/references.bib or correct the key.")
            parts.append(ctx.cites[key])
        return f"[{'; '.join(parts)}]({ctx.references_url})"
    text, target = _split_target(content)
    if name == "doc":
        stem = target.rsplit("/", 1)[-1].removesuffix(".md")
        title = text or ctx.doc_titles.get(stem, stem.replace("_", " "))
        url = ctx.doc_urls.get(stem)
        return f"[{title}]({url})" if url else f"*{title}*"
    if name == "eq":
        n = ctx.equations.get(target)
        return f"({n})" if n else f"({target})"
    if name in ("ref", "numref", "term", "abbr", "download", "any"):
        return text or target.replace("-", " ").replace("_", " ")
    if name == "math":
        return f"${content}$"
    if name in ("sub", "sup"):
        return f"<{name}>{content}</{name}>"
    if name in ("code", "literal", "samp", "file", "kbd", "command", "envvar", "program"):
        return f"`{content}`"
    return text or content  # any other role: its text, without the syntax


def convert_inline(text: str, ctx: Context, glued: list[str]) -> str:
    """Roles and equation labels of a markdown fragment (not inside code spans or code fences)."""
    out, fence = [], None
    for line in text.split("\n"):
        s = line.lstrip("> \t")
        m = re.match(r"(`{3,}|~{3,})", s)
        if fence is not None:
            if s.startswith(fence) and s.strip() == fence[0] * len(s.strip()):
                fence = None
            out.append(line)
            continue
        if m:
            fence = m.group(1)
            out.append(line)
            continue
        if _TARGET.match(line):
            continue
        line = _EQ_LABEL.sub(lambda e: f"\\tag{{{ctx.equations.get(e['label'], e['label'])}}} $$", line)
        line = _ROLE_OR_CODE.sub(lambda r: r[0] if r["code"] else convert_role(r["name"], r["content"], ctx, glued), line)
        out.append(line)
    return "\n".join(out)


def _find_close(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the directive opened at ``lines[start]`` (nested directives and code skipped)."""
    stack, code = [fence], None
    for j in range(start + 1, len(lines)):
        s = lines[j].strip()
        if code is not None:
            if s.startswith(code) and set(s) == {code[0]}:
                code = None
            continue
        m = _OPEN.match(lines[j])
        if m:
            stack.append(m["fence"])
            continue
        if s and set(s) <= {":", "`"} and len(set(s)) == 1 and len(s) >= 3:
            top = stack[-1]
            if s[0] == top[0] and len(s) >= len(top):
                stack.pop()
                if not stack:
                    return j
                continue
        mc = re.match(r"(`{3,}|~{3,})", s)
        if mc and not s.startswith(stack[-1]):
            code = mc.group(1)
    raise ValueError(f"unclosed directive {lines[start].strip()!r}")


def convert_markdown(text: str, ctx: Context, glued: list[str] | None = None) -> str:
    """One markdown cell, MyST -> plain Markdown (see the module docstring)."""
    glued = [] if glued is None else glued
    body = _convert_blocks(text.split("\n"), ctx, glued)
    out = "\n".join(body).strip("\n")
    return out


def _convert_blocks(lines: list[str], ctx: Context, glued: list[str]) -> list[str]:
    out: list[str] = []
    i, plain = 0, []
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            plain.append(lines[i])
            i += 1
            continue
        out += convert_inline("\n".join(plain), ctx, glued).split("\n") if plain else []
        plain = []
        j = _find_close(lines, i, m["fence"])
        inner = lines[i + 1: j]
        options = {}
        while inner and _OPTION.match(inner[0]):
            o = _OPTION.match(inner[0])
            options[o["key"]] = o["value"]
            inner = inner[1:]
        out += _directive(m["name"], convert_inline(m["arg"], ctx, glued), options,
                          _convert_blocks(inner, ctx, glued), ctx)
        i = j + 1
    if plain:
        out += convert_inline("\n".join(plain), ctx, glued).split("\n")
    return out


def _quote(lines: list[str]) -> list[str]:
    return [f"> {ln}" if ln.strip() else ">" for ln in lines]


def _directive(name: str, arg: str, options: dict, body: list[str], ctx: Context) -> list[str]:
    while body and not body[0].strip():
        body = body[1:]
    while body and not body[-1].strip():
        body = body[:-1]
    if name in ("dropdown", "toggle"):
        return [f"<details><summary>{arg or 'Show'}</summary>", ""] + body + ["", "</details>"]
    if name == "admonition" or name in ADMONITIONS:
        title = arg if name == "admonition" else (arg or name.capitalize())
        title = title or "Note"
        return _quote([f"**{title}**", ""] + body)
    if name == "math":
        label = options.get("label")
        tag = f" \\tag{{{ctx.equations.get(label, label)}}}" if label else ""
        return ["$$"] + body + [tag.strip()] * bool(tag) + ["$$"]
    if name in ("code-block", "code", "sourcecode"):
        return [f"```{arg}"] + body + ["```"]
    if name in ("figure", "image"):
        return [f"![{' '.join(body).strip() or options.get('alt', '')}]({arg})"]
    if name in ("epigraph", "pull-quote", "highlights", "topic", "sidebar", "margin"):
        return _quote(([f"**{arg}**", ""] if arg else []) + body)
    if name == "literalinclude":
        if "pyobject" not in options:
            raise ValueError(f"{ctx.where}: literalinclude {arg!r} needs :pyobject: (a function, class or "
                             "Class.method of the file) for the Colab notebook")
        return ["```python"] + pyobject_source(BOOK_DIR / arg, options["pyobject"]) + ["```"]
    if name == "bibliography":
        return [f"See the [references]({ctx.references_url})."]
    if name in ("glue:figure", "glue:any", "glue", "glue:md", "glue:math"):
        return [f"*(The figure `{arg}` is drawn by the code above.)*"]
    # anything else: keep its content, drop the syntax
    return ([f"**{arg}**", ""] if arg else []) + body


def pyobject_source(path: Path, qualname: str) -> list[str]:
    """Source lines of the function, class or ``Class.method`` ``qualname`` defined in the Python file ``path``,
    as Sphinx's ``literalinclude`` with ``:pyobject:`` shows it (decorators included, indentation removed)."""
    text = path.read_text(encoding="utf-8")
    nodes: list = ast.parse(text).body
    node = None
    for part in qualname.split("."):
        node = next((n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            raise ValueError(f"literalinclude: {qualname!r} is not defined in {path}")
        nodes = node.body
    assert node is not None and node.end_lineno is not None
    lines = text.split("\n")
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    return textwrap.dedent("\n".join(lines[start:node.end_lineno])).split("\n")


# ---- code cells ----------------------------------------------------------------------------------------------

SETUP_TITLE = "#@title Colab setup: installs genrl_lib (does nothing outside Colab)"
CHECK_TITLE = "#@title Checks the claims of this section (and prints the numbers quoted in the text)"
HELPER_TITLE = "#@title A helper of the book (hidden in the HTML book)"
_SPEC_IN_SETUP = re.compile(r"genrl_lib(?:\[(?P<extras>[\w,-]+)\])? @ git\+https://[^\"'\s]+(?=[\"'])")
_GLUE_PRE = "from genrl_lib.book import GLUED as _GLUED\n_glued_before = dict(_GLUED)\n"
_GLUE_POST = """
for _name, _value in _GLUED.items():  # print what this cell glued, as the book's text shows it
    if _name in _GLUE_FORMATS and (_name not in _glued_before or _glued_before[_name] is not _value):
        try:
            print(f"{_name} = {format(_value, _GLUE_FORMATS[_name])}")
        except (TypeError, ValueError):
            print(f"{_name} = {_value}")"""


def is_setup_cell(cell) -> bool:
    return cell.cell_type == "code" and "google.colab" in cell.source and "pip" in cell.source


def form_cell(cell, title: str):
    """``cell`` collapsed as a Colab form (``#@title`` first line, ``cellView: form``) and in JupyterLab."""
    cell = copy.deepcopy(cell)
    if cell.source.lstrip().startswith("%%"):  # a cell magic must stay first: leave the cell visible
        return cell
    cell.source = f"{title}\n{cell.source}"
    cell.metadata["cellView"] = "form"
    cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    return cell


def setup_cell(cell, install_spec) -> object:
    """The Colab setup cell with the install spec of ``_config.yml`` (``install_spec(extras)``)."""
    src = _SPEC_IN_SETUP.sub(lambda m: install_spec(m["extras"] or ""), cell.source)
    out = copy.deepcopy(cell)
    out.source = src
    return form_cell(out, SETUP_TITLE)


def glue_format_cell(formats: dict[str, str]):
    """A form cell defining ``_GLUE_FORMATS``, used by the check cells to print the glued numbers."""
    import nbformat

    items = "".join(f"    {k!r}: {v!r},\n" for k, v in formats.items())
    src = ("# How the book's text formats each number this notebook computes (used by the check cells)\n"
           f"_GLUE_FORMATS = {{\n{items}}}")
    cell = nbformat.v4.new_code_cell(src)
    return form_cell(cell, "#@title Formats of the numbers quoted in the text")


def check_cell(cell, prints_glue: bool):
    out = copy.deepcopy(cell)
    if prints_glue and "glue(" in cell.source:
        out.source = _GLUE_PRE + cell.source.rstrip("\n") + "\n" + _GLUE_POST
    title = CHECK_TITLE if ("assert" in cell.source or "glue(" in cell.source) else HELPER_TITLE
    return form_cell(out, title)


def convert_notebook(nb, ctx: Context, install_spec):
    """The Colab notebook of a chapter ``nb`` (jupytext's reading of ``book/x.md``); ``nb`` is not modified."""
    nb = copy.deepcopy(nb)
    mds = [c.source for c in nb.cells if c.cell_type == "markdown"]
    ctx.equations = number_equations(mds)
    ctx.glue_formats = glue_formats(mds)
    cells = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            glued: list[str] = []
            cell.source = convert_markdown(cell.source, ctx, glued)
            if glued:
                cell.source += "\n\n" + GLUE_NOTE.format(names=", ".join(f"`{g}`" for g in glued))
            cells.append(cell)
        elif is_setup_cell(cell):
            cells.append(setup_cell(cell, install_spec))
            if ctx.glue_formats:
                cells.append(glue_format_cell(ctx.glue_formats))
        elif cell.cell_type == "code" and "remove-cell" in tags:
            cells.append(check_cell(cell, prints_glue=bool(ctx.glue_formats)))
        else:
            cells.append(cell)
    if ctx.glue_formats and not any(is_setup_cell(c) for c in nb.cells):
        cells.insert(0, glue_format_cell(ctx.glue_formats))
    nb.cells = cells
    nb.metadata["colab"] = {"provenance": [], "toc_visible": True}
    return nb
