"""Break the long lines of Python code where the chapters break them: after a comma inside brackets (the
continuation aligned with the bracket), before ``for``/``if``/``else``/``and``/``or``/``+`` inside brackets, at a
``;`` between two statements, or by splitting a long string literal into two adjacent ones (f-strings outside
their ``{}``). A line is broken at the rightmost such point that fits; the result must parse to the same syntax
tree as before (adjacent literals are one constant to Python), or the line is left as it was.

Unlike a formatter (ruff, black), nothing else changes: a line that fits stays as written, so a chapter grows
by one line per break instead of being re-laid out one argument per line. Used by ``scripts/format_chapters.py``.
"""
from __future__ import annotations

import ast
import io
import tokenize

OPEN, CLOSE = "([{", ")]}"
BEFORE_WORDS = {"for", "if", "else", "and", "or"}


def _tokens(src: str):
    return list(tokenize.generate_tokens(io.StringIO(src).readline))


def _candidates(src: str, row: int, limit: int):
    """Break points on physical line ``row`` (1-based): (kind, col, indent) with col <= limit."""
    lines = src.split("\n")
    line = lines[row - 1]
    stack: list[tuple[int, int]] = []        # open brackets: (row, col)
    out = []
    toks = _tokens(src)
    fdepth = 0
    fstart = None
    in_target: dict[int, bool] = {}
    for tok in toks:
        (sr, sc), (er, ec) = tok.start, tok.end
        if sr > row:
            break
        if tok.type == tokenize.FSTRING_START:
            if fdepth == 0:
                fstart = tok
            fdepth += 1
            continue
        if tok.type == tokenize.FSTRING_END:
            fdepth -= 1
            if fdepth == 0 and sr == row and fstart is not None and fstart.start[0] == row and stack:
                out.append(("string", fstart.start[1], ec, fstart.start[1]))
            continue
        if fdepth:
            continue
        if tok.type == tokenize.OP and tok.string in OPEN:
            if sr == row and ec < len(line.rstrip()):
                ind = len(line) - len(line.lstrip())
                out.append(("open", ec, None, ind + 4))
            stack.append((sr, sc))
            continue
        if tok.type == tokenize.OP and tok.string in CLOSE:
            if stack:
                stack.pop()
            continue
        if tok.type == tokenize.OP and tok.string == ";" and sr == row and not stack and ec < len(line.rstrip()):
            out.append(("semi", sc, ec, len(line) - len(line.lstrip())))
            continue
        if sr != row or not stack:
            continue
        inner = stack[-1]
        vis = inner[1] + 1                   # visual indent: under the first character inside the bracket
        if tok.type == tokenize.NAME and tok.string in ("for", "in"):
            in_target[len(stack)] = tok.string == "for"
        if tok.type == tokenize.OP and tok.string == "," and ec < len(line.rstrip()) \
                and not in_target.get(len(stack)):         # never inside a comprehension's `for a, b in`
            out.append(("comma", ec, len(stack), vis))
        elif (tok.type == tokenize.NAME and tok.string in BEFORE_WORDS) or (tok.type == tokenize.OP and tok.string == "+"):
            if line[:sc].strip() and not line[:sc].rstrip().endswith(tuple(OPEN)):
                out.append(("before", sc, None, vis))
        elif tok.type == tokenize.STRING and er == sr:
            out.append(("string", sc, ec, sc))
    return out


def _split_string(text: str, limit: int) -> tuple[str, str] | None:
    """Split one single-line string literal into two adjacent ones at a space (outside {} for f-strings) so the
    first piece (with its closing quote) ends by column ``limit`` of its line; ``text`` starts at column 0 here."""
    i = 0
    while i < len(text) and text[i].isalpha():
        i += 1
    prefix, q = text[:i], text[i:i + 1]
    if q not in "'\"" or text[i:i + 3] in ('"""', "'''") or not text.endswith(q):
        return None
    body = text[i + 1:-1]
    is_f = "f" in prefix.lower()
    best = None
    depth = 0
    j = 0
    while j < len(body):
        ch = body[j]
        if is_f and ch in "{}" and body[j:j + 2] in ("{{", "}}"):
            j += 2
            continue
        if is_f and ch == "{":
            depth += 1
        elif is_f and ch == "}":
            depth -= 1
        elif ch == "\\":
            j += 2
            continue
        elif ch == " " and depth == 0 and 0 < j < len(body) - 1:
            if i + 1 + j + 1 + 1 <= limit:      # prefix, quote, body[:j+1], closing quote
                best = j
        j += 1
    if best is None:
        return None
    a, b = body[:best + 1], body[best + 1:]

    def lit(s):
        p = prefix if ("{" in s or not is_f) else prefix.replace("f", "").replace("F", "")
        return f"{p}{q}{s}{q}"
    return lit(a), lit(b)


def _comment_col(src: str, row: int) -> int | None:
    """Column of the comment that ends physical line ``row``, if the line has code before it."""
    try:
        for tok in _tokens(src):
            if tok.type == tokenize.COMMENT and tok.start[0] == row:
                return tok.start[1] if src.split("\n")[row - 1][:tok.start[1]].strip() else None
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    return None


def wrap_line(src: str, row: int, limit: int) -> str | None:
    """``src`` with physical line ``row`` broken once (the rightmost break that fits), or None."""
    lines = src.split("\n")
    line = lines[row - 1]
    indent = len(line) - len(line.lstrip())
    # a trailing comment that makes the line too long: less padding before it, or a line of its own above
    col = _comment_col(src, row)
    if col is not None:
        code, comment = line[:col].rstrip(), line[col:]
        if len(code) + 2 + len(comment) <= limit:      # only the alignment padding was too much
            return "\n".join(lines[:row - 1] + [f"{code}  {comment}"] + lines[row:])
        pad = " " * indent
        return "\n".join(lines[:row - 1] + [pad + comment, code] + lines[row:])
    # `from m import a, b, c` has no brackets to break in: give it some
    stripped = line.strip()
    if stripped.startswith("from ") and " import " in stripped and "(" not in stripped and not stripped.endswith("\\"):
        head, names = line.split(" import ", 1)
        return "\n".join(lines[:row - 1] + [f"{head} import ({names.rstrip()})"] + lines[row:])
    try:
        cands = _candidates(src, row, limit)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    semis = [c for c in cands if c[0] == "semi" and c[1] < limit]
    if semis:
        kind, col, end, indent = max(semis, key=lambda c: c[1])
        new = [line[:col].rstrip(), " " * indent + line[end:].lstrip()]
        return "\n".join(lines[:row - 1] + new + lines[row:])
    commas = [c for c in cands if c[0] == "comma" and c[1] <= limit]
    befores = [c for c in cands if c[0] == "before" and c[1] <= limit]
    structural = []
    if commas:                               # the outermost bracket level first (as black does), then the rightmost
        shallow = min(c[2] for c in commas)
        structural = [max((c for c in commas if c[2] == shallow), key=lambda c: c[1])]
    structural += befores
    if structural:
        kind, col, end, indent = max(structural, key=lambda c: (c[1], c[0] == "comma"))
        head, tail = line[:col].rstrip(), line[col:].lstrip()
        if tail and not tail.startswith("#") and len(" " * indent + tail) < len(line):
            return "\n".join(lines[:row - 1] + [head, " " * indent + tail] + lines[row:])
    strings = [c for c in cands if c[0] == "string" and c[1] < limit - 3 and c[2] - c[1] > 10]
    for _kind, col, end, indent in sorted(strings, key=lambda c: -c[1]):
        parts = _split_string(line[col:end], limit - col)
        if parts is None:
            continue
        a, b = parts
        new = [line[:col] + a, " " * indent + b + line[end:]]
        return "\n".join(lines[:row - 1] + new + lines[row:])
    opens = [c for c in cands if c[0] == "open" and c[1] <= limit]
    if opens:
        kind, col, end, indent = max(opens, key=lambda c: c[1])
        head, tail = line[:col].rstrip(), line[col:].lstrip()
        if tail and not tail.startswith("#") and len(" " * indent + tail) < len(line):
            return "\n".join(lines[:row - 1] + [head, " " * indent + tail] + lines[row:])
    return None


def wrap_source(src: str, limit: int = 88) -> str:
    """``src`` with every line longer than ``limit`` broken inside its brackets where possible; the code's syntax
    tree is unchanged (checked), or ``src`` is returned as it was."""
    # IPython magics and shell escapes (%matplotlib, !pip) are not Python: stand-ins while breaking, put back after
    magics = {}
    lines = src.split("\n")
    for i, ln in enumerate(lines):
        if ln.lstrip().startswith(("%", "!")):
            marker = f"__genrl_magic_{i}__"
            magics[marker] = ln
            lines[i] = ln[:len(ln) - len(ln.lstrip())] + marker
    masked = "\n".join(lines)
    try:
        tree = ast.dump(ast.parse(masked))
    except SyntaxError:
        return src          # not Python we can parse: left alone
    out = masked
    for _ in range(200):
        lines = out.split("\n")
        rows = [i + 1 for i, ln in enumerate(lines) if len(ln) > limit]
        progressed = False
        for row in rows:
            new = wrap_line(out, row, limit)
            if new is not None:
                try:
                    if ast.dump(ast.parse(new)) != tree:
                        continue
                except SyntaxError:
                    continue
                out = new
                progressed = True
                break
        if not progressed:
            break
    return "\n".join(magics.get(ln.strip(), ln) for ln in out.split("\n"))
