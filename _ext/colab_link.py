"""Sphinx extension: point each chapter's Colab button at its committed notebook twin.

Jupyter Book 1 links Colab to the page's source (``book/<chapter>.md``), which Colab cannot open.
This handler runs after sphinx-book-theme's own (priority 501) and rewrites that link to
``notebooks/<chapter>.ipynb``, the generated twin committed for Colab. It also stops the build when
``repository:`` in ``_config.yml`` is not a GitHub repository URL (``scripts/repo_config.py`` says the fix).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

_SRC = re.compile(r"(https://colab\.research\.google\.com/github/[^/]+/[^/]+/blob/[^/]+/)book/(?P<name>[^?#]+?)\.(md|ipynb)$")


def _rewrite(buttons, root: Path) -> int:
    n = 0
    for b in buttons or []:
        if isinstance(b, dict):
            url = b.get("url")
            m = _SRC.match(url) if isinstance(url, str) else None
            if m and (root / "notebooks" / f"{m['name']}.ipynb").exists():
                b["url"] = f"{m.group(1)}notebooks/{m['name']}.ipynb"
                n += 1
            n += _rewrite(b.get("buttons"), root)
    return n


def rewrite_colab_links(app, pagename, templatename, context, doctree):
    """``html-page-context`` handler: replace ``book/x.md`` by ``notebooks/x.ipynb`` in Colab URLs."""
    _rewrite(context.get("header_buttons"), Path(app.srcdir))


def _repo_config(srcdir: Path):
    spec = importlib.util.spec_from_file_location("repo_config", Path(srcdir) / "scripts" / "repo_config.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("repo_config", mod)   # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def validate_repository(app, config):
    """``config-inited``: stop the build if ``repository:`` in ``_config.yml`` is not a GitHub repository URL."""
    opts = config.html_theme_options or {}
    url = opts.get("repository_url")
    if url is None:
        return
    rc = _repo_config(app.srcdir)
    try:
        rc.parse({"url": url, "branch": opts.get("repository_branch", "main")})
    except rc.RepoConfigError as e:
        from sphinx.errors import ConfigError

        raise ConfigError(str(e)) from None


def setup(app):
    app.connect("config-inited", validate_repository)
    app.connect("html-page-context", rewrite_colab_links, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
