"""The command lines check before they work: every benchmark and ``python -m genrl_lib.experiments thesis-table``
refuse bad arguments with a usage error (exit status 2) within a second, before torch is imported or anything runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
A_FILE = str(ROOT / "README.md")   # an existing file, given where an output folder is expected
OUT = ["--out", "_build/never_written"]

BAD = [
    ("dqn_cartpole.py", ["--seeds", "0"]),
    ("dqn_cartpole.py", ["--seeds", "-1"]),
    ("dqn_cartpole.py", ["--steps", "many"]),
    ("dqn_cartpole.py", ["--out", A_FILE]),
    ("gail.py", ["--seeds", "0", *OUT]),
    ("gail.py", ["--env", "Pong-v5", *OUT]),
    ("gail.py", ["--trajectories", "1,x", *OUT]),
    ("gail.py", ["--ppo-epochs-ablation", "4", *OUT]),
    ("gail.py", ["--out", A_FILE]),
    ("gail_buildings.py", ["--seeds", "0", *OUT]),
    ("gail_buildings.py", ["--buildings", "bogus", *OUT]),
    ("gail_buildings.py", ["--ppo-steps", "-5", *OUT]),
    ("gail_buildings.py", ["--ppo-expert", *OUT]),
    ("gail_buildings.py", ["--out", A_FILE]),
    ("generative_ring.py", ["--seeds", "0"]),
    ("generative_ring.py", ["--out", A_FILE]),
    ("diffusion.py", ["--seeds", "0"]),
    ("diffusion.py", ["--digit-seeds", "x", *OUT]),
    ("diffusion.py", ["--out", A_FILE]),
    ("decision_diffuser.py", ["--seeds", "0", *OUT]),
    ("decision_diffuser.py", ["--jobs", "0", *OUT]),
    ("decision_diffuser.py", ["--episodes", "-2", *OUT]),
    ("decision_diffuser.py", ["--out", A_FILE]),
    ("hql_taxi.py", ["--seeds", "-1"]),
    ("hql_taxi.py", ["--config", "[1, 2]"]),
    ("hql_taxi.py", ["--epochs", "0"]),
    ("ppo_cartpole.py", ["--seeds", "0", *OUT]),
    ("ppo_cartpole.py", ["--env", "Pong-v5", *OUT]),
    ("ppo_cartpole.py", ["--eval-episodes", "0", *OUT]),
    ("qlearning_taxi.py", ["--seeds", "0"]),
    ("qlearning_taxi.py", ["--episodes", "-3"]),
    ("qlearning_taxi.py", ["--alpha", "2"]),
    ("reinforce_cartpole.py", ["--episodes", "0", *OUT]),
    ("reinforce_cartpole.py", ["--variants", "ppo", *OUT]),
    ("numeric_envs.py", ["--seeds", "0", *OUT]),
    ("numeric_envs.py", ["--envs", "native,bogus", *OUT]),
    ("numeric_envs.py", ["--goals", "pong", *OUT]),
    ("numeric_envs.py", ["--out", A_FILE]),
    ("numeric_envs.py", ["--merge-into", "no/such/goals.json", *OUT]),
    ("-m genrl_lib.experiments", ["thesis-table", "--seeds", "0"]),
    ("-m genrl_lib.experiments", ["thesis-table", "--seeds", "two"]),
    ("-m genrl_lib.experiments", ["thesis-table", "--only", "nope"]),
    ("-m genrl_lib.experiments", ["thesis-table", "--out", A_FILE]),
]


def _command(script: str, args: list[str]) -> list[str]:
    head = script.split() if script.startswith("-m") else [str(BENCH / script)]
    return [sys.executable, *head, *args]


ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _seconds(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    r = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=ENV, timeout=60)
    return time.perf_counter() - t0, r


@pytest.mark.parametrize("script, args", BAD, ids=[f"{s} {' '.join(a)}" for s, a in BAD])
def test_bad_arguments_are_a_usage_error_within_a_second(script, args):
    """A benchmark answers within a second of wall time. ``python -m genrl_lib.experiments`` must import the package
    first (gymnasium registers the book's envs: ~0.5 s on an idle machine, more on a busy one), so it gets one
    second on top of what ``python -c "import genrl_lib"`` takes right now."""
    seconds, r = _seconds(_command(script, args))
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "usage:" in r.stderr and "error:" in r.stderr, r.stderr[-2000:]
    base = _seconds([sys.executable, "-c", "import genrl_lib"])[0] if script.startswith("-m genrl_lib") else 0.0
    assert seconds < base + 1.0, (f"the usage error took {seconds:.2f} s (package import alone {base:.2f} s): "
                                  "something heavy is imported before the check")
    assert not (ROOT / "_build" / "never_written").exists()


def test_peer_is_imported_only_when_it_runs(tmp_path):
    """``dqn_cartpole.py --no-peer`` writes its result without stable-baselines3 (it imported it at the end before)."""
    code = ("import runpy, sys; sys.modules['stable_baselines3'] = None; sys.path.insert(0, sys.argv[1]); "
            "sys.argv = [sys.argv[2], *sys.argv[3:]]; runpy.run_path(sys.argv[0], run_name='__main__')")
    r = subprocess.run([sys.executable, "-c", code, str(BENCH), str(BENCH / "dqn_cartpole.py"), "--no-peer",
                        "--seeds", "1", "--steps", "50", "--out", str(tmp_path)], cwd=ROOT, capture_output=True,
                       text=True, timeout=300, env={**ENV, "TQDM_DISABLE": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "result.json").exists()


def test_cli_helpers():
    import argparse

    sys.path.insert(0, str(BENCH))
    try:
        import _cli
    finally:
        sys.path.remove(str(BENCH))
    assert _cli.positive_int("3") == 3 and _cli.non_negative_int("0") == 0
    assert _cli.int_list()("1, 4,16") == [1, 4, 16] and _cli.int_list()("") == []
    assert _cli.choice_list(("a", "b"))("b,a") == ["b", "a"]
    for f, text in ((_cli.positive_int, "0"), (_cli.positive_int, "1.5"), (_cli.non_negative_int, "-1"),
                    (_cli.int_list(allow_empty=False), ""), (_cli.int_list(), "1,0"), (_cli.choice_list(("a",)), "c")):
        with pytest.raises(argparse.ArgumentTypeError):
            f(text)


def test_thesis_table_taxi_epochs_match_the_gail_preset():
    from genrl_lib.experiments import TAXI_PPO_EPOCHS
    from genrl_lib.protocols.imitation import PRESETS
    assert TAXI_PPO_EPOCHS == PRESETS["Taxi-v4"]["ppo"]["n_epochs"]
