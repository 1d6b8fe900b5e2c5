import json

import pytest

from genrl_lib import experiments as ex


@pytest.fixture
def toy_columns(monkeypatch):
    calls = []

    def run(seed, quick):
        calls.append((seed, quick))
        return {"values": [seed + e / 100 for e in ex.EPOCHS], "env_steps": 10 * (seed + 1), "notes": "toy"}

    def boom(seed, quick):
        if seed == 1:
            raise KeyboardInterrupt  # an interrupted run
        return {"values": [1.0] * len(ex.EPOCHS)}

    monkeypatch.setattr(ex, "COLUMNS", {})
    ex.register_column(ex.Column("hql-taxi", "HQL Taxi", run, (1, 2), "toy protocol"))
    ex.register_column(ex.Column("boom", "Boom", boom, (1, 2), "fails on seed 1"))
    return calls


def test_runs_aggregates_and_renders(toy_columns, tmp_path):
    res = ex.run_table(tmp_path, seeds=2, columns=["hql-taxi"], progress=False)
    col = res["columns"]["hql-taxi"]
    assert col["mean"][0] == pytest.approx(0.6) and col["std"][0] == pytest.approx(0.5)
    assert col["thesis"][-1] == 8.46 and col["env_steps"] == [10, 20]
    assert (tmp_path / "results.csv").read_text().splitlines()[1] == "hql-taxi,10,0.6,0.5,2,7.88"
    md = (tmp_path / "table.md").read_text()
    assert "| 10 | 0.60 ± 0.50 | 7.88 |" in md and "over 2 seed(s)" in md
    assert json.loads((tmp_path / "results.json").read_text())["versions"]["python"]


def test_resume_skips_finished_cells(toy_columns, tmp_path):
    ex.run_table(tmp_path, seeds=2, columns=["hql-taxi"], progress=False)
    ex.run_table(tmp_path, seeds=2, columns=["hql-taxi"], progress=False)
    assert toy_columns == [(0, False), (1, False)]           # the second run did no work


def test_interrupted_run_keeps_finished_cells(toy_columns, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        ex.run_table(tmp_path, seeds=2, columns=["boom"], progress=False)
    assert (tmp_path / "cells" / "boom__seed0.json").exists()
    assert not (tmp_path / "cells" / "boom__seed1.json").exists()
    assert not list((tmp_path / "cells").glob("*.tmp"))


def test_refuses_to_mix_configurations(toy_columns, tmp_path):
    ex.run_table(tmp_path, seeds=1, columns=["hql-taxi"], progress=False)
    with pytest.raises(ValueError, match="different configuration.*pick another --out"):
        ex.run_table(tmp_path, seeds=1, quick=True, columns=["hql-taxi"], progress=False)


def test_bad_arguments(toy_columns, tmp_path):
    with pytest.raises(ValueError, match=r"unknown experiment column\(s\) \['gail-mars'\]"):
        ex.run_table(tmp_path, seeds=1, columns=["gail-mars"])
    with pytest.raises(ValueError, match="seeds must be a positive int"):
        ex.run_table(tmp_path, seeds=0)


def test_cli_reports_errors(toy_columns, tmp_path, capsys):
    with pytest.raises(SystemExit):
        ex.main(["thesis-table", "--seeds", "0", "--out", str(tmp_path)])
    assert "seeds must be a positive int" in capsys.readouterr().err
    assert ex.main(["thesis-table", "--seeds", "1", "--only", "hql-taxi", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "| Epoch |" in capsys.readouterr().out


def test_thesis_table_has_ten_epochs():
    assert all(len(v) == len(ex.EPOCHS) == 10 for v in ex.THESIS_TABLE.values())
