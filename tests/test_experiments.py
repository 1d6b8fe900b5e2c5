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
    res = ex.run_table(tmp_path, seeds=2, columns=["hql-taxi"], progress_bar=False)
    col = res["columns"]["hql-taxi"]
    assert col["mean"][0] == pytest.approx(0.6) and col["std"][0] == pytest.approx(0.5)
    assert col["thesis"][-1] == 8.46 and col["env_steps"] == [10, 20]
    assert (tmp_path / "results.csv").read_text().splitlines()[1] == "hql-taxi,10,0.6,0.5,2,7.88"
    md = (tmp_path / "table.md").read_text()
    assert "| 10 | 0.60 ± 0.50 | 7.88 |" in md and "over 2 seed(s)" in md
    assert json.loads((tmp_path / "results.json").read_text())["versions"]["python"]


def test_resume_skips_finished_cells(toy_columns, tmp_path):
    ex.run_table(tmp_path, seeds=2, columns=["hql-taxi"], progress_bar=False)
    ex.run_table(tmp_path, seeds=2, columns=["hql-taxi"], progress_bar=False)
    assert toy_columns == [(0, False), (1, False)]           # the second run did no work


def test_interrupted_run_keeps_finished_cells(toy_columns, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        ex.run_table(tmp_path, seeds=2, columns=["boom"], progress_bar=False)
    assert (tmp_path / "cells" / "boom__seed0.json").exists()
    assert not (tmp_path / "cells" / "boom__seed1.json").exists()
    assert not list((tmp_path / "cells").glob("*.tmp"))


def test_refuses_to_mix_configurations(toy_columns, tmp_path):
    ex.run_table(tmp_path, seeds=1, columns=["hql-taxi"], progress_bar=False)
    with pytest.raises(ValueError, match="different configuration.*pick another --out"):
        ex.run_table(tmp_path, seeds=1, quick=True, columns=["hql-taxi"], progress_bar=False)


def test_refuses_a_cell_of_another_protocol(toy_columns, tmp_path, monkeypatch):
    ex.run_table(tmp_path, seeds=1, columns=["hql-taxi"], progress_bar=False)
    col = ex.COLUMNS["hql-taxi"]
    monkeypatch.setitem(ex.COLUMNS, "hql-taxi", ex.Column(col.name, col.title, col.run, col.seconds, "changed"))
    with pytest.raises(ValueError, match="another protocol of column 'hql-taxi'.*delete that file"):
        ex.run_table(tmp_path, seeds=1, columns=["hql-taxi"], progress_bar=False)


def test_columns_can_be_filled_separately_then_aggregated(toy_columns, tmp_path, monkeypatch):
    monkeypatch.setitem(ex.COLUMNS, "boom", ex.Column("boom", "Boom", lambda s, q: {"values": [2.0] * 10}, (1, 2), "ok"))
    ex.run_table(tmp_path, seeds=1, columns=["boom"], progress_bar=False)      # e.g. one process per core
    ex.run_table(tmp_path, seeds=1, columns=["hql-taxi"], progress_bar=False)
    res = ex.run_table(tmp_path, seeds=1, columns=["hql-taxi", "boom"], progress_bar=False)
    assert list(res["columns"]) == ["hql-taxi", "boom"] and toy_columns == [(0, False)]
    assert res["columns"]["boom"]["mean"] == [2.0] * 10
    cell = json.loads((tmp_path / "cells" / "boom__seed0.json").read_text())
    assert cell["protocol"] == "ok" and cell["quick"] is False and "python" in cell["versions"]


def test_bad_arguments(toy_columns, tmp_path):
    with pytest.raises(ValueError, match=r"unknown experiment column\(s\) \['gail-mars'\]"):
        ex.run_table(tmp_path, seeds=1, columns=["gail-mars"])
    with pytest.raises(ValueError, match="seeds must be a positive int"):
        ex.run_table(tmp_path, seeds=0)


def test_cli_reports_errors(toy_columns, tmp_path, capsys):
    with pytest.raises(SystemExit):
        ex.main(["thesis-table", "--seeds", "0", "--out", str(tmp_path)])
    assert "--seeds: must be a positive integer" in capsys.readouterr().err
    assert ex.main(["thesis-table", "--seeds", "1", "--only", "hql-taxi", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "| Epoch |" in capsys.readouterr().out


def test_thesis_table_has_ten_epochs():
    assert all(len(v) == len(ex.EPOCHS) == 10 for v in ex.THESIS_TABLE.values())


def test_registered_columns_follow_the_thesis_table():
    assert list(ex.COLUMNS) == list(ex.THESIS_TABLE)
    assert all(c.protocol and c.seconds[0] < c.seconds[1] for c in ex.COLUMNS.values())


def test_snapshot_callback_keeps_one_copy_per_tenth_epoch():
    import torch

    class Fake:
        def __init__(self):
            self.num_timesteps = 0
            self.ppo = type("P", (), {"actor": torch.nn.Linear(2, 2)})()

    fake = Fake()
    cb, snaps = ex._snapshot_epochs(fake, total_steps=1000)
    for t in range(128, 1200, 128):                      # iterations of 128 steps
        fake.num_timesteps = t
        with torch.no_grad():
            fake.ppo.actor.weight.fill_(t)
        cb(fake)
    # marks at 100, 200, ..., 1000 steps: taken at the first iteration reaching each (t=128, 256, ..., 1024)
    assert len(snaps) == 10
    assert [float(s["actor"]["weight"][0, 0]) for s in snaps] == [128, 256, 384, 512, 512, 640, 768, 896, 1024, 1024]
    assert [s["num_timesteps"] for s in snaps] == [128, 256, 384, 512, 512, 640, 768, 896, 1024, 1024]
    assert snaps[3] is snaps[4] and snaps[8] is snaps[9] and snaps[2] is not snaps[3]
