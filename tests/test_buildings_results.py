"""Reading the committed buildings benchmark results: the table and the bar chart the buildings chapter shows.

These use only the committed JSON files, so they run without Sinergym."""

from importlib.resources import files

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from genrl_lib.io import load_json  # noqa: E402
from genrl_lib.protocols.buildings import (  # noqa: E402
    CONTROLLER_LABELS,
    controller_keys,
    controller_values,
    format_result,
    plot_result,
)


@pytest.fixture(scope="module")
def week():
    return load_json(files("genrl_lib") / "data" / "buildings_week.json")


@pytest.fixture(scope="module")
def month():
    return load_json(files("genrl_lib") / "data" / "buildings_month.json")


def test_controller_keys_order_and_optional_rows(week, month):
    for res in week["buildings"].values():
        keys = controller_keys(res)
        assert keys[:2] == ["random", "expert"] and keys[-2:] == ["gail", "bc"]
        assert "ppo" not in keys                                  # the week run trained no PPO controller
        assert ("rule_based_eval" in keys) == (res["expert_name"] != "rule-based")
    assert all("ppo" in controller_keys(res) for res in month["buildings"].values())


def test_controller_values_shapes(week):
    res = next(iter(week["buildings"].values()))
    n = len(week["seeds"])
    assert controller_values(res, "gail", "return").shape == (n,)
    assert controller_values(res, "expert", "return").shape == (1,)
    assert controller_values(res, "expert", "return")[0] == res["expert"]["return"]
    np.testing.assert_array_equal(controller_values(res, "bc", "energy_kwh"),
                                  [r["bc"]["energy_kwh"] for r in res["seeds"].values()])
    with pytest.raises(KeyError, match="ppo"):
        controller_values(res, "ppo", "return")


def test_format_result_has_every_building_and_controller(week):
    text = format_result(week)
    assert text.splitlines()[0].startswith(week["command"])
    for b, res in week["buildings"].items():
        assert f"{b} (expert: {res['expert_name']})" in text
        for who in controller_keys(res):
            assert any(line.startswith(CONTROLLER_LABELS[who]) for line in text.splitlines())
    # the expert's row reads 1.000 relative to itself
    assert any(line.startswith("expert") and line.rstrip().endswith("1.000") for line in text.splitlines())


def test_plot_result_three_panels(week):
    fig = plot_result(week, "week")
    try:
        assert len(fig.axes) == 3
        n_controllers = len([w for w in CONTROLLER_LABELS if w not in ("rule_based_eval", "ppo")])
        assert len(fig.axes[0].patches) == n_controllers * len(week["buildings"])
    finally:
        plt.close(fig)


@pytest.mark.parametrize("bad", [None, {}, {"buildings": {}}, [1, 2]])
def test_bad_result_is_refused_with_the_fix(bad):
    with pytest.raises(ValueError, match="buildings benchmark result"):
        format_result(bad)
    with pytest.raises(ValueError, match="load_json"):
        plot_result(bad, "x")
