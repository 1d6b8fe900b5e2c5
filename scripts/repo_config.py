#!/usr/bin/env python
"""The book's repository lives in ONE place, ``repository:`` in ``_config.yml``; everything derives from it.

    python scripts/repo_config.py          # show the derived values and rewrite every place that repeats them
    python scripts/repo_config.py --check  # exit 1 and name each file that disagrees with _config.yml

``make repo`` runs this and then ``make twins`` (the Colab notebooks' setup cells and links come from it too).
Derived from ``repository.url`` and ``repository.branch``:

- the launch buttons (Jupyter Book reads ``repository`` itself; ``_ext/colab_link.py`` points them at
  ``notebooks/``);
- the install spec of the Colab setup cells, ``genrl_lib[extra] @ git+URL@BRANCH`` (generated notebooks), and
  the URL in the chapters' own setup cells (``book/*.md``);
- the README's "Open in Colab" links, the ``url`` of the citation in ``book/intro.md``;
- the published site (GitHub Pages: ``https://OWNER.github.io/NAME/``), which the notebooks' citations link to.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "genrl_lib"
_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9][A-Za-z0-9-]{0,38})/(?P<name>[A-Za-z0-9._-]+)$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")


class RepoConfigError(ValueError):
    """``repository:`` in ``_config.yml`` is missing or malformed (the message names the key and the fix)."""


@dataclass(frozen=True)
class Repo:
    url: str  # https://github.com/OWNER/NAME
    branch: str
    owner: str
    name: str

    def install_spec(self, extras: str = "") -> str:
        """What ``pip install`` gets in Colab: ``genrl_lib[extras] @ git+URL@BRANCH``."""
        extra = f"[{extras}]" if extras else ""
        return f"{PACKAGE}{extra} @ git+{self.url}@{self.branch}"

    def colab_url(self, stem: str) -> str:
        return f"https://colab.research.google.com/github/{self.owner}/{self.name}/blob/{self.branch}/notebooks/{stem}.ipynb"

    @property
    def site_url(self) -> str:
        """The GitHub Pages address of the built book (``.github/workflows/pages.yml`` publishes it)."""
        if self.name.lower() == f"{self.owner.lower()}.github.io":
            return f"https://{self.owner.lower()}.github.io/"
        return f"https://{self.owner.lower()}.github.io/{self.name}/"

    def page_url(self, page: str) -> str:
        """``page_url("references")`` -> the site's ``book/references.html``."""
        return f"{self.site_url}book/{page}.html"


def parse(repository: object, where: str = "_config.yml") -> Repo:
    """Validate the ``repository:`` mapping of ``_config.yml`` and return it as a :class:`Repo`."""
    if not isinstance(repository, dict) or "url" not in repository:
        raise RepoConfigError(f"{where}: no 'repository: url:' entry. Fix: add\n"
                              "repository:\n  url: https://github.com/OWNER/NAME\n  branch: main")
    url = repository["url"]
    url = url.rstrip("/") if isinstance(url, str) else url
    m = _GITHUB.match(url) if isinstance(url, str) else None
    if not m or m["name"].endswith(".git"):
        raise RepoConfigError(f"{where}: repository.url = {repository['url']!r} is not a GitHub repository URL. "
                              "Fix: write it as https://github.com/OWNER/NAME (no .git, no trailing path); "
                              "Colab opens notebooks only from GitHub.")
    branch = repository.get("branch", "main")
    if not isinstance(branch, str) or not _BRANCH.match(branch) or ".." in branch:
        raise RepoConfigError(f"{where}: repository.branch = {branch!r} is not a branch name. Fix: e.g. 'branch: main'.")
    return Repo(url=url, branch=branch, owner=m["owner"], name=m["name"])


def load(root: Path = ROOT) -> Repo:
    cfg = root / "_config.yml"
    return parse(yaml.safe_load(cfg.read_text(encoding="utf-8")).get("repository"), str(cfg.relative_to(root)))


# ---- the places that repeat the repository, each a pure text -> text rewrite ----------------------------------

_SETUP_SPEC = re.compile(r"(?P<pkg>genrl_lib(?:\[[\w,-]+\])?) @ git\+https://[^\"'\s@]+(?:@[\w./-]+)?(?=[\"'])")
_COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^/\s]+/[^/\s]+/blob/[^/\s]+/notebooks/"
                         r"(?P<stem>[\w-]+)\.ipynb")
_CITE_URL = re.compile(r"(?m)^(?P<lead>\s*url\s*=\s*\{)https://github\.com/[^}]*(?P<tail>\})")


def rewrite_setup_cell(text: str, repo: Repo) -> str:
    """A chapter's source: the setup cell installs ``genrl_lib[...] @ git+URL`` (no branch: the book builds locally)."""
    return _SETUP_SPEC.sub(lambda m: f"{m['pkg']} @ git+{repo.url}", text)


def rewrite_readme(text: str, repo: Repo) -> str:
    return _COLAB_LINK.sub(lambda m: repo.colab_url(m["stem"]), text)


def rewrite_citation(text: str, repo: Repo) -> str:
    return _CITE_URL.sub(lambda m: f"{m['lead']}{repo.url}{m['tail']}", text)


def targets(root: Path = ROOT):
    """(path, rewrite) for every file that repeats the repository."""
    out = [(root / "README.md", rewrite_readme), (root / "book" / "intro.md", rewrite_citation)]
    out += [(md, rewrite_setup_cell) for md in sorted((root / "book").glob("*.md"))]
    return out


def sync(root: Path = ROOT, write: bool = True) -> list[str]:
    """Rewrite (or, with ``write=False``, only list) every file that disagrees with ``_config.yml``."""
    repo = load(root)
    changed = []
    for path, rewrite in targets(root):
        if not path.exists():
            continue
        old = path.read_text(encoding="utf-8")
        new = rewrite(old, repo)
        if new != old:
            changed.append(str(path.relative_to(root)))
            if write:
                tmp = path.with_suffix(path.suffix + ".tmp")
                tmp.write_text(new, encoding="utf-8")
                tmp.replace(path)
    return changed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if a file disagrees with _config.yml")
    args = ap.parse_args(argv)
    try:
        repo = load()
        changed = sync(write=not args.check)
    except RepoConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.check:
        for c in changed:
            print(f"{c} disagrees with repository: in _config.yml ({repo.url}, branch {repo.branch})")
        if changed:
            print("Fix: make repo")
        return 1 if changed else 0
    print(f"repository {repo.url} (branch {repo.branch}); site {repo.site_url}; Colab installs '{repo.install_spec()}'")
    for c in changed:
        print(f"rewrote {c}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
