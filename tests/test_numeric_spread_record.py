"""scripts/numeric_spread.py's record(): replacing a chapter's ranges, and merging runs made on another machine."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("numeric_spread", ROOT / "scripts" / "numeric_spread.py")
ns = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ns)

AMD = {"cpu": "AMD EPYC", "torch_cpu_capability": "AVX2"}
XEON = {"cpu": "Intel Xeon", "torch_cpu_capability": "AVX512"}


def _summary(values: dict[str, dict[str, float]]) -> dict:
    """A summarize()-shaped dict for one chapter: {glue key: {run tag: value}}."""
    return {"ch": {"glued": {k: {"values": v, "min": min(v.values()), "max": max(v.values())}
                             for k, v in values.items()}, "claims": {}}}


def test_merge_widens_ranges_and_tags_each_run_with_its_machine(tmp_path, monkeypatch):
    path = tmp_path / "spread.json"
    # a file in the old layout: one machine, untagged runs
    path.write_text(json.dumps({"machine": AMD, "chapters": {
        "ch": {"runs": ["native/s0", "other-cpu/s0"], "glued": {"x": [1.0, 2.0], "only_old": [5.0, 5.0]}}}}))
    monkeypatch.setattr("genrl_lib.numerics.describe", lambda: XEON)
    ns.record(path, _summary({"x": {"native/s0": 0.5, "native/s1": 1.5}, "only_new": {"native/s0": 7.0}}),
              merge=True)
    data = json.loads(path.read_text())
    assert "machine" not in data and set(data["machines"]) == {"AMD EPYC, torch AVX2", "Intel Xeon, torch AVX512"}
    ch = data["chapters"]["ch"]
    assert ch["glued"]["x"] == [0.5, 2.0]                   # the union of both machines' ranges
    assert ch["glued"]["only_old"] == [5.0, 5.0] and ch["glued"]["only_new"] == [7.0, 7.0]
    assert ch["runs"] == ["AMD EPYC, torch AVX2: native/s0", "AMD EPYC, torch AVX2: other-cpu/s0",
                          "Intel Xeon, torch AVX512: native/s0", "Intel Xeon, torch AVX512: native/s1"]
    # merging the same runs again changes nothing
    ns.record(path, _summary({"x": {"native/s0": 0.5, "native/s1": 1.5}, "only_new": {"native/s0": 7.0}}),
              merge=True)
    assert json.loads(path.read_text())["chapters"]["ch"] == ch


def test_without_merge_the_chapter_is_replaced(tmp_path, monkeypatch):
    path = tmp_path / "spread.json"
    path.write_text(json.dumps({"machine": AMD, "chapters": {
        "ch": {"runs": ["native/s0"], "glued": {"x": [1.0, 2.0]}},
        "other": {"runs": ["native/s0"], "glued": {"y": [3.0, 4.0]}}}}))
    monkeypatch.setattr("genrl_lib.numerics.describe", lambda: AMD)
    ns.record(path, _summary({"x": {"native/s0": 9.0}}))
    data = json.loads(path.read_text())
    assert data["chapters"]["ch"] == {"runs": ["AMD EPYC, torch AVX2: native/s0"], "glued": {"x": [9.0, 9.0]}}
    assert data["chapters"]["other"]["runs"] == ["AMD EPYC, torch AVX2: native/s0"]   # retagged, kept
    assert data["chapters"]["other"]["glued"] == {"y": [3.0, 4.0]}


@pytest.mark.parametrize("rec, label", [(AMD, "AMD EPYC, torch AVX2"), ({}, "?, torch ?")])
def test_machine_label(rec, label):
    from genrl_lib.numerics import machine_label

    assert machine_label(rec) == label
    with pytest.raises(TypeError, match="record must be a dict"):
        machine_label("AMD")


def test_spread_machines_names_the_committed_spreads_machines():
    from genrl_lib.book import spread_machines

    names = spread_machines()
    assert names and all(n.startswith(("a ", "an ")) and "(torch " in n and "(R)" not in n for n in names)


def test_spread_machines_reads_both_layouts(tmp_path, monkeypatch):
    import genrl_lib.book as book

    one = {"machine": {"cpu": "AMD EPYC", "torch_cpu_capability": "AVX2"}, "chapters": {}}
    two = {"machines": {"Intel(R) Xeon(R) Processor, torch AVX512": {}, "AMD EPYC, torch AVX2": {}}, "chapters": {}}
    for data, want in ((one, ["an AMD EPYC (torch AVX2)"]),
                       (two, ["an AMD EPYC (torch AVX2)", "an Intel Xeon (torch AVX512)"])):
        monkeypatch.setattr("genrl_lib.io.load_json", lambda path, data=data: data)
        assert book.spread_machines() == want


def test_goal_results_from_another_machine_go_under_its_name():
    """benchmarks/numeric_envs.py --merge-into: runs on the committed file's machine replace its entries; runs on
    another machine are kept apart, under that machine's name, and the committed input is not modified."""
    spec = importlib.util.spec_from_file_location("numeric_envs", ROOT / "benchmarks" / "numeric_envs.py")
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        ne = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ne)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    entry = lambda v: {"values": v, "n_meeting": sum(x >= 475 for x in v), "n_seeds": len(v)}  # noqa: E731
    committed = {"command": "c", "seeds": 2, "machine": AMD, "goals": {
        "dqn": {"what": "DQN", "threshold": 475.0, "envs": {"native": entry([500, 500]), "other-cpu": entry([400, 500])}}}}
    xeon = {"command": "x", "seeds": 2, "machine": XEON,
            "goals": {"dqn": {"what": "DQN", "threshold": 475.0, "envs": {"native": entry([500, 182.9])}}}}
    merged = ne.merge_result(committed, xeon)
    assert merged["goals"]["dqn"]["envs"] == committed["goals"]["dqn"]["envs"]          # AMD's figures untouched
    assert merged["goals"]["dqn"]["machines"]["Intel Xeon, torch AVX512"]["native"]["n_meeting"] == 1
    assert merged["machines"]["Intel Xeon, torch AVX512"]["machine"] == XEON
    assert "machines" not in committed["goals"]["dqn"]                                   # input not modified
    again = ne.merge_result(committed, {**xeon, "machine": AMD})                         # same machine: replaces
    assert again["goals"]["dqn"]["envs"]["native"]["values"] == [500, 182.9]
    assert again["goals"]["dqn"]["envs"]["other-cpu"]["values"] == [400, 500] and "machines" not in again
