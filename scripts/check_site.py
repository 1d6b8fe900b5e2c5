#!/usr/bin/env python
"""Open every page of the built book in a real headless browser and check what a reader sees (make check-site).

    python scripts/check_site.py [_build/html]

For every page of ``_toc.yml`` it serves ``_build/html`` on 127.0.0.1, blocks every other request (the site must
work offline) and reports: formulas rendered by MathJax, raw TeX left (``\\(``, ``$$``), formulas clipped at the
column edge, images loaded and broken, MyST syntax visible in the text, wide tables cut, and, for chapters, the
Colab button's URL (it must open ``notebooks/<chapter>.ipynb`` of the repository in ``_config.yml``); it also
counts NumPy scalar reprs (``np.float64(0.705)``) in printed outputs, reported as a note, not a failure.
Exit 1 with one line per problem (page, what, fix). Needs Node.js >= 20 and ``make site-tools`` (npm).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import repo_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NODE_HINT = ("the browser check needs Node.js >= 20 and npm: install them (Debian/Ubuntu: apt-get install nodejs "
             "npm; or https://nodejs.org), then run: make check-site")


class SiteError(RuntimeError):
    pass


def toc_pages(root: Path = ROOT) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [c["file"] for c in part["chapters"]]
    return pages


def plan(html: Path, root: Path = ROOT) -> list[dict]:
    """The pages to open, each with the Colab URL its button must have (None for prose-only pages)."""
    repo = repo_config.load(root)
    out = []
    for page in toc_pages(root):
        stem = page.rsplit("/", 1)[-1]
        has_nb = (root / "notebooks" / f"{stem}.ipynb").exists()
        path = html / f"{page}.html"
        if not path.exists():
            raise SiteError(f"{path} is missing: build the book first (make book)")
        out.append({"page": page, "path": f"{page}.html", "colab_expected": repo.colab_url(stem) if has_nb else None})
    return out


def problems(report: dict) -> list[str]:
    """One line per problem in the browser's report (empty when every page is right)."""
    out = []
    for p in report["pages"]:
        where = p["path"]
        if "error" in p:
            out.append(f"{where}: the page did not load: {p['error']}")
            continue
        if not p.get("mathjax") and p.get("math_spans", 1):   # pages without math do not load MathJax
            out.append(f"{where}: MathJax did not start (is site/static/mathjax there? make mathjax)")
        if p["math_unrendered"] or p["raw_tex"]:
            out.append(f"{where}: {p['math_unrendered']} formulas not rendered, {p['raw_tex']} raw \\( \\[ $$ left "
                       "(fix: the TeX, or MathJax's files: make mathjax)")
        if p["math_errors"]:
            out.append(f"{where}: {p['math_errors']} MathJax errors (fix the TeX)")
        for f in p["formulas_clipped"]:
            out.append(f"{where}: a formula is clipped at the column edge: {f!r} (fix: site/static/genrl.css)")
        for src in p["images_broken"]:
            out.append(f"{where}: image {src} does not load (fix: the figure's path or the cell that makes it)")
        for m in p["myst_visible"]:
            out.append(f"{where}: MyST syntax shown to the reader: {m!r} (fix the role or directive in the source)")
        if p["tables_cut"]:
            out.append(f"{where}: {p['tables_cut']} tables cut at the column edge (fix: site/static/genrl.css)")
        for url in p["blocked"]:
            out.append(f"{where}: needs the network: {url} (fix: serve it with the site)")
        for url in p["failed"]:
            out.append(f"{where}: failed to load {url}")
        if p["colab_expected"] and p["colab_expected"] not in p["colab"]:
            out.append(f"{where}: Colab button {p['colab'] or 'missing'}, expected {p['colab_expected']} "
                       "(fix: _ext/colab_link.py or repository: in _config.yml)")
    return out


def table(report: dict) -> str:
    rows = [f"{'page':34} {'formulas':>8} {'raw':>4} {'wide':>4} {'imgs':>5} {'broken':>6} {'myst':>4} {'tables':>6}"
            f" {'np.float64(':>11}  colab"]
    for p in report["pages"]:
        if "error" in p:
            rows.append(f"{p['path']:34} ERROR {p['error'][:80]}")
            continue
        colab = "-" if not p["colab_expected"] else ("ok" if p["colab_expected"] in p["colab"] else "WRONG")
        rows.append(f"{p['path']:34} {p['formulas']:8d} {p['raw_tex'] + p['math_unrendered']:4d} "
                    f"{p['formulas_scrolling']:4d} {p['images']:5d} {len(p['images_broken']):6d} "
                    f"{len(p['myst_visible']):4d} {p['tables']:6d} {p.get('np_reprs', 0):11d}  {colab}")
    return "\n".join(rows)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def run(html: Path, root: Path = ROOT) -> dict:
    """Serve ``html`` locally, drive the browser, return its JSON report."""
    node = shutil.which("node")
    if node is None:
        raise SiteError(NODE_HINT)
    if not (root / "site" / "node_modules" / "puppeteer-core").exists():
        raise SiteError("site/node_modules is missing: run make site-tools (npm ci in site/)")
    pages = plan(html, root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"base": f"http://127.0.0.1:{server.server_address[1]}/", "pages": pages, "width": 1280}, f)
        proc = subprocess.run([node, str(root / "site" / "check_site.mjs"), f.name], capture_output=True,
                              text=True, cwd=root / "site", timeout=1800)
    finally:
        server.shutdown()
        Path(f.name).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise SiteError(f"the browser check failed to run:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("html", nargs="?", default=str(ROOT / "_build" / "html"))
    ap.add_argument("--json", help="also write the full report here")
    args = ap.parse_args(argv)
    try:
        report = run(Path(args.html).resolve())
    except SiteError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    print(f"{report['browser']}, offline (requests outside the site blocked)")
    print(table(report))
    bad = problems(report)
    for b in bad:
        print(b)
    reprs = sum(p.get("np_reprs", 0) for p in report["pages"])
    if reprs:   # reported, not (yet) a failure: the chapters print plain numbers once their author fixes them
        print(f"note: {reprs} NumPy scalar reprs such as np.float64(0.705) in printed outputs (column np.float64(); "
              "print float(x) or format the number)")
    print(f"{len(report['pages'])} pages checked: " + (f"{len(bad)} problems" if bad else "all good"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
