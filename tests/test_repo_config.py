"""One place for the repository (_config.yml's repository:), everything derived from it by `make repo`."""

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import repo_config  # noqa: E402

_spec = importlib.util.spec_from_file_location("twins", ROOT / "scripts" / "twins.py")
twins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(twins)


def test_the_repository_is_valid_and_everything_agrees_with_it():
    repo = repo_config.load()
    assert repo.url == yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert repo_config.sync(write=False) == [], "Fix: make repo"


def test_derived_values():
    repo = repo_config.parse({"url": "https://github.com/Org/Book/", "branch": "dev"})
    assert repo.url == "https://github.com/Org/Book"
    assert repo.install_spec("buildings") == "genrl_lib[buildings] @ git+https://github.com/Org/Book@dev"
    assert repo.colab_url("dqn") == "https://colab.research.google.com/github/Org/Book/blob/dev/notebooks/dqn.ipynb"
    assert repo.page_url("references") == "https://org.github.io/Book/book/references.html"


@pytest.mark.parametrize("bad, match", [
    ({"url": "genrl-book/genrl"}, "not a GitHub repository URL"),
    ({"url": "http://github.com/a/b"}, "not a GitHub repository URL"),
    ({"url": "https://github.com/a/b.git"}, "no .git"),
    ({"url": "https://gitlab.com/a/b"}, "https://github.com/OWNER/NAME"),
    ({"url": 3}, "not a GitHub repository URL"),
    ({"url": "https://github.com/a/b", "branch": "a b"}, "not a branch name"),
    (None, "no 'repository: url:'"),
])
def test_a_bad_repository_setting_stops_with_the_fix(bad, match):
    with pytest.raises(repo_config.RepoConfigError, match=match):
        repo_config.parse(bad)


def test_changing_the_url_and_running_one_command_updates_everything(tmp_path):
    for name in ["_config.yml", "README.md"]:
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book")
    cfg = (tmp_path / "_config.yml").read_text()
    old = repo_config.load().url
    (tmp_path / "_config.yml").write_text(cfg.replace(old, "https://github.com/someone/newbook").replace(
        "branch: main", "branch: stable"))
    changed = repo_config.sync(tmp_path)
    assert "README.md" in changed and "book/intro.md" in changed and "book/rl_basics.md" in changed
    assert repo_config.sync(tmp_path, write=False) == []            # idempotent
    everything = (tmp_path / "README.md").read_text() + "".join(p.read_text() for p in (tmp_path / "book").glob("*.md"))
    assert old not in everything
    assert "colab.research.google.com/github/someone/newbook/blob/stable/notebooks/rl_basics.ipynb" in everything
    # the Colab notebook (make twins, the second half of `make repo`) installs from the new place
    nb = twins.convert(tmp_path / "book" / "rl_basics.md", root=tmp_path)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert "genrl_lib @ git+https://github.com/someone/newbook@stable" in setup.source
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "https://someone.github.io/newbook/book/references.html" in md and "genrl-book" not in json.dumps(nb)


def test_launch_buttons_come_from_the_same_setting():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["html"]["use_repository_button"] and cfg["launch_buttons"]["colab_url"]
    assert "repository" in cfg and set(cfg["repository"]) >= {"url", "branch"}


def test_make_repo_runs_the_sync_and_the_twins():
    recipe = (ROOT / "Makefile").read_text().split("\nrepo:")[1].split("\n\n")[0]
    assert "scripts/repo_config.py" in recipe and "scripts/twins.py" in recipe
