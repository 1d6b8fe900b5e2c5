import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("colab_link", ROOT / "_ext" / "colab_link.py")
colab_link = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(colab_link)


def test_rewrites_only_colab_links_with_a_twin():
    base = "https://colab.research.google.com/github/org/repo/blob/main/"
    buttons = [{"type": "group", "buttons": [
        {"url": base + "book/rl_basics.md"},
        {"url": base + "book/no_such_chapter.md"},
        {"url": "https://mybinder.org/v2/gh/org/repo/main?urlpath=tree/book/rl_basics.md"}]}]
    assert colab_link._rewrite(buttons, ROOT) == 1
    urls = [b["url"] for b in buttons[0]["buttons"]]
    assert urls[0] == base + "notebooks/rl_basics.ipynb"
    assert urls[1].endswith("book/no_such_chapter.md") and "mybinder" in urls[2]


def test_a_repository_that_is_not_a_url_stops_the_build():
    import pytest
    from sphinx.errors import ConfigError

    app = type("App", (), {"srcdir": str(ROOT)})()
    ok = type("Config", (), {"html_theme_options": {"repository_url": "https://github.com/a/b", "repository_branch": "main"}})()
    colab_link.validate_repository(app, ok)
    bad = type("Config", (), {"html_theme_options": {"repository_url": "genrl-book/genrl"}})()
    with pytest.raises(ConfigError, match="_config.yml.*not a GitHub repository URL.*Fix"):
        colab_link.validate_repository(app, bad)
