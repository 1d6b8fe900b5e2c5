"""The built site in a real headless browser (make check-site), when a build and a browser are there."""

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "scripts"))
_spec = importlib.util.spec_from_file_location("check_site", ROOT / "scripts" / "check_site.py")
check_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_site)


def test_every_toc_page_is_checked_with_the_colab_url_of_its_notebook(tmp_path):
    for page in check_site.toc_pages():
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f"{page}.html").write_text("<html></html>")
    plan = {p["page"]: p["colab_expected"] for p in check_site.plan(tmp_path)}
    assert plan["book/intro"] is None and plan["book/references"] is None
    assert plan["book/rl_basics"].endswith("/blob/main/notebooks/rl_basics.ipynb")


def test_problems_name_the_page_and_the_fix():
    page = {"path": "book/x.html", "mathjax": "3.2.2", "math_unrendered": 1, "raw_tex": 2, "math_errors": 0,
            "formulas_clipped": ["ψ"], "images_broken": ["a.png"], "myst_visible": ["{cite}`k`"], "tables_cut": 1,
            "blocked": ["https://cdn/x.js"], "failed": [], "colab": [], "colab_expected": "https://colab/x.ipynb"}
    out = "\n".join(check_site.problems({"pages": [page]}))
    for needle in ["1 formulas not rendered, 2 raw", "clipped", "image a.png does not load", "{cite}`k`",
                   "tables cut", "needs the network: https://cdn/x.js", "Colab button missing"]:
        assert needle in out and "book/x.html" in out


def test_built_site_in_a_headless_browser():
    if not (HTML / "index.html").exists():
        pytest.skip("no built site: run `make book` (then this test, or `make check-site`, opens it in Chromium)")
    if shutil.which("node") is None:
        pytest.skip(check_site.NODE_HINT)
    if not (ROOT / "site" / "node_modules" / "puppeteer-core").exists():
        pytest.skip("the browser is not installed: run `make site-tools` (npm ci in site/)")
    report = check_site.run(HTML)
    bad = check_site.problems(report)
    assert not bad, check_site.table(report) + "\n" + "\n".join(bad)


def _recipe(target):
    return (ROOT / "Makefile").read_text().split(f"\n{target}:")[1].split("\n\n")[0]


def test_math_is_served_with_the_site_and_pinned():
    import json

    import yaml

    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert not cfg["mathjax_path"].startswith(("http:", "https:", "//")), "MathJax must not come from a CDN"
    assert cfg["mathjax_path"] == "mathjax/tex-chtml.js" and "site/static" in cfg["html_static_path"]
    assert (ROOT / "site" / "static" / "genrl.css").exists() and "genrl.css" in cfg["html_css_files"]
    pkg = json.loads((ROOT / "site" / "package.json").read_text())["dependencies"]
    assert pkg["mathjax"].startswith("3.") and pkg["mathjax"][0].isdigit(), "pin an exact MathJax 3 version"
    lock = json.loads((ROOT / "site" / "package-lock.json").read_text())["packages"]["node_modules/mathjax"]
    assert lock["version"] == pkg["mathjax"] and lock["license"] == "Apache-2.0"
    widgets = cfg["nb_ipywidgets_js"]
    assert list(widgets) == ["widgets/require.js", "widgets-path.js", "widgets/embed-amd.js"], \
        "the widgets' JS must be served locally, its asset path set between RequireJS and the manager"
    assert "es5/tex-chtml.js" in _recipe("$(MATHJAX)") and "$(MATHJAX)" in (ROOT / "Makefile").read_text().split(
        "\nbook:")[1].split("\n")[0]


def test_rebuilds_use_the_execution_cache_and_a_target_forces_them():
    import yaml

    assert yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]["execute_notebooks"] == "cache"
    assert "rm -rf $(BOOK_CACHE)" in _recipe("book-force")
    assert "BOOK_CACHE = $(BOOK_OUT)/_build/.jupyter_cache" in (ROOT / "Makefile").read_text()
    assert "genrl-lib.sha256" in _recipe("book")      # a library change drops the cache: never stale
    # the chapters are executed into that cache in parallel, then the build only renders them
    assert "scripts/execute_book.py --cache $(BOOK_CACHE)" in _recipe("book")


def test_execute_book_finds_every_chapter_in_the_toc():
    spec = importlib.util.spec_from_file_location("execute_book", ROOT / "scripts" / "execute_book.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    found = {p.stem for p in mod.chapters(ROOT / "_toc.yml")}
    notebooks = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert found == notebooks, f"chapters in _toc.yml {sorted(found)} != notebooks/ {sorted(notebooks)}"
    toc = {p.stem for p in mod.toc_files(ROOT / "_toc.yml")}
    assert {"intro", "glossary", "references"} <= toc and not {"intro", "glossary", "references"} & found


def test_make_test_builds_the_emulated_book_and_checks_the_site():
    recipe = _recipe("test-emulated")
    assert "book BOOK_NUMERIC_ENV=$(NUMERIC_ENV) BOOK_OUT=_build/emulated" in recipe
    assert "check-site BOOK_OUT=_build/emulated" in recipe
    assert "SKIPPED" in recipe and "test-nbval-emulated" in recipe    # no Node: say so, still run the notebooks
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("exec make test")


def test_the_site_is_published_and_checked_in_ci():
    import yaml

    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    steps = [s.get("run", "") + s.get("uses", "") for s in wf["jobs"]["build"]["steps"]]
    assert any("make book" in s for s in steps) and any("make check-site" in s for s in steps)
    assert any(s.startswith("actions/upload-pages-artifact") for s in steps)
    assert wf["jobs"]["build"]["steps"][-1]["with"]["path"] == "_build/html"
    assert "make check-site" in (ROOT / ".ci" / "site").read_text()


def test_cdn_links_of_matplotlib_animations_are_removed():
    spec = importlib.util.spec_from_file_location("offline_assets", ROOT / "_ext" / "offline_assets.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    html = ('<p>a</p><link rel="stylesheet"\n href="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/'
            'font-awesome.min.css">\n<div class="anim">')
    assert mod.strip_cdn_links(html) == '<p>a</p><div class="anim">'
