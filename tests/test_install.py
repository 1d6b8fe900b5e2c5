"""Colab's install path (issue 18, item 3): the package as a wheel, in a clean venv that already has torch.

Colab's Python comes with torch, numpy, matplotlib, ... preinstalled, and the setup cell runs
``pip install "genrl_lib @ git+URL@BRANCH"``. Here: build the wheel from a copy of the package's files, make a
venv whose "system" packages are this environment's (torch included, genrl_lib excluded), ask pip what
installing the wheel would do (only genrl_lib: an existing torch is never replaced), install it, and run the
Colab notebook of ``rl_basics`` in that venv from a directory without the checkout. About a minute.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.install
CHAPTER = "rl_basics"


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _system_site(tmp: Path) -> Path:
    """This environment's site-packages as symlinks, without genrl_lib (Colab has everything but the package)."""
    farm = tmp / "colab-system-site"
    farm.mkdir()
    purelib = Path(sysconfig.get_paths()["purelib"])
    for entry in purelib.iterdir():
        n = entry.name.lower()
        if n.startswith(("genrl_lib", "__editable__", "genrl-lib")) or (n.endswith(".pth") and "genrl" in n):
            continue
        (farm / entry.name).symlink_to(entry)
    return farm


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in ["pyproject.toml", "README.md", "LICENSE"]:
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "genrl_lib", src / "genrl_lib", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)])
    (whl,) = out.glob("genrl_lib-*.whl")
    return whl


def test_the_wheel_carries_the_data_the_chapters_load(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [p.name for p in sorted((ROOT / "genrl_lib" / "data").iterdir())
               if p.is_file() and not p.name.startswith(".") and f"genrl_lib/data/{p.name}" not in names]
    assert not missing, (f"the wheel lacks genrl_lib/data/{missing}: Colab would not have them. Fix: add their "
                         "extension to [tool.setuptools.package-data] in pyproject.toml")


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs an environment with torch (make env)")
def test_colab_install_keeps_torch_and_runs_a_chapter(wheel, tmp_path):
    import torch

    sys.path.insert(0, str(ROOT / "scripts"))
    import twins

    farm = _system_site(tmp_path)
    venv = tmp_path / "colab-venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    vpy = venv / "bin" / "python"
    vsite = Path(_run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    (vsite / "_colab_system.pth").write_text(f"import site; site.addsitedir({str(farm)!r})\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(MPLBACKEND="Agg", PIP_DISABLE_PIP_VERSION_CHECK="1", TQDM_DISABLE="1")
    where = {"cwd": tmp_path, "env": env}
    probe = "import torch, json, os; print(json.dumps([torch.__version__, os.path.realpath(torch.__file__)]))"
    before = json.loads(_run([str(vpy), "-c", probe], **where))
    assert before == [torch.__version__, os.path.realpath(torch.__file__)]   # the venv sees this torch

    # what the setup cell's 'pip install' would do: install genrl_lib and nothing else (torch is kept)
    report = tmp_path / "report.json"
    _run([str(vpy), "-m", "pip", "install", "--dry-run", "--quiet", "--report", str(report), str(wheel)], **where)
    planned = [i["metadata"]["name"] for i in json.loads(report.read_text())["install"]]
    assert planned == ["genrl_lib"], f"installing the wheel would also install {planned} (torch must stay Colab's)"
    _run([str(vpy), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], **where)
    assert json.loads(_run([str(vpy), "-c", probe], **where)) == before, "the install replaced torch"
    loc = _run([str(vpy), "-c", "import genrl_lib; print(genrl_lib.__file__)"], **where).strip()
    assert loc.startswith(str(vsite)) and not loc.startswith(str(ROOT)), f"genrl_lib imported from {loc}"

    # the chapter's Colab notebook, run in that venv, from a directory without the checkout
    nb_path = tmp_path / f"{CHAPTER}.ipynb"
    nb_path.write_text(twins.render(ROOT / "book" / f"{CHAPTER}.md"))
    runner = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
              "nb = nbformat.read(sys.argv[1], as_version=4)\n"
              "NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': '.'}}).execute()\n"
              "print('cells run:', sum(c.cell_type == 'code' for c in nb.cells))\n")
    out = _run([str(vpy), "-c", runner, str(nb_path)], timeout=1800, **where)
    assert "cells run:" in out
