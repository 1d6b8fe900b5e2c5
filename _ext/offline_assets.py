"""Sphinx extension: no page of the book needs the network.

matplotlib's HTML animations (``animate_frames``, ``to_jshtml``) put a ``<link>`` to Font Awesome 4.4 on
maxcdn into the cell output, for the icons of their play/pause buttons. The theme already ships Font Awesome
(with the v4 names ``fa fa-play`` ...), so once the page is written the CDN link is removed
(``build-finished``). ``make check-site`` fails on any request that leaves the site.
"""

from __future__ import annotations

import re
from pathlib import Path

CDN_LINKS = re.compile(r'<link[^>]+href="https://maxcdn\.bootstrapcdn\.com/font-awesome/[^"]+"[^>]*>\s*')


def strip_cdn_links(html: str) -> str:
    return CDN_LINKS.sub("", html)


def build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = strip_cdn_links(text)
        if new != text:
            page.write_text(new, encoding="utf-8")


def setup(app):
    app.connect("build-finished", build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
