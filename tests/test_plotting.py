import matplotlib

matplotlib.use("Agg")
import gymnasium as gym  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from genrl_lib.plotting import (  # noqa: E402
    animate_episode,
    animate_frames,
    animate_side_by_side,
    animate_traces,
    plot_learning_curves,
    plot_value_heatmap,
    record_episode,
    smooth,
)


def test_smooth_is_trailing_mean():
    assert np.allclose(smooth(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1, 2, 4, 6])
    assert smooth(np.ones((3, 10)), 4).shape == (3, 10)


def test_learning_curves_band_and_labels():
    ax = plot_learning_curves({"a": np.vstack([np.zeros(10), np.ones(10) * 2]), "b": np.arange(10.0)},
                              hline=1.0, title="t")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a (mean of 2 seeds)", "b (mean of 1 seed)", "optimum"]
    assert np.allclose(ax.lines[0].get_ydata(), 1.0)
    assert len(ax.collections) == 1  # one band: only "a" has several seeds
    plt.close("all")
    with pytest.raises(ValueError, match="band"):
        plot_learning_curves({"a": np.zeros(3)}, band="iqr")
    with pytest.raises(ValueError, match="x for 'a'"):
        plot_learning_curves({"a": np.zeros(3)}, x=np.arange(4))


def test_learning_curves_standard_error_band():
    ys = np.array([[0.0, 0.0], [2.0, 2.0], [0.0, 0.0], [2.0, 2.0]])   # mean 1, std 1, 4 seeds: se 0.5
    for band, half in (("std", 1.0), ("se", 0.5), ("minmax", 1.0)):
        ax = plot_learning_curves({"a": ys}, band=band)
        verts = ax.collections[0].get_paths()[0].vertices[:, 1]
        assert np.isclose(verts.min(), 1 - half) and np.isclose(verts.max(), 1 + half), band
        plt.close("all")


def test_value_heatmap_chain_and_grid():
    ax = plot_value_heatmap(np.arange(10.0), policy=np.zeros(10, int), action_labels=["R", "JR"], terminal=[9])
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 10 and texts[0].endswith("R") and texts[9] == "9"
    ax = plot_value_heatmap(np.zeros((16, 4)), shape=(4, 4))
    assert ax.images[0].get_array().shape == (4, 4)
    plt.close("all")
    with pytest.raises(ValueError, match="does not hold"):
        plot_value_heatmap(np.zeros(10), shape=(3, 3))


def test_record_and_animate():
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    frames = record_episode(env, lambda o: 0, seed=0, max_steps=5)
    assert len(frames) == 6 and frames[0].ndim == 3
    html = animate_frames(frames, every=2)
    assert "<script" in html.data and "img" in html.data.lower()
    with pytest.raises(ValueError, match="rgb_array"):
        record_episode(gym.make("CartPole-v1"), lambda o: 0)
    with pytest.raises(ValueError, match="empty"):
        animate_frames([])


def test_animate_episode_reports_what_it_shows():
    import genrl_lib  # noqa: F401  (registers JumpChain)

    html = animate_episode("genrl_lib/JumpChain-v0", lambda s: 1, seed=0, max_steps=20, fps=4)
    # always jump: 0 -> 2 (+1) -> 4 (+1) -> 6 (trap, -10), the episode ends after 3 steps
    assert html.n_steps == 3 and html.episode_return == -8.0
    assert "<script" in html.data and html.data.count("data:image/png") >= 4
    agent_like = type("A", (), {"predict": lambda self, o, deterministic=True: (np.int64(0), None)})()
    assert animate_episode(gym.make("CartPole-v1", render_mode="rgb_array"), agent_like, max_steps=3).n_steps == 3
    with pytest.raises(ValueError, match="rgb_array"):
        animate_episode(gym.make("CartPole-v1"), lambda o: 0)


def test_animate_side_by_side_pads_the_shorter_episode():
    a = [np.full((8, 10, 3), k, np.uint8) for k in range(5)]
    b = [np.zeros((6, 12, 3), np.uint8)] * 2
    html = animate_side_by_side({"expert": a, "imitator": b}, captions={"expert": list("abcde"), "imitator": ["x", "y"]})
    assert html.data.count("data:image/png") >= 5
    with pytest.raises(ValueError, match="imitator"):
        animate_side_by_side({"expert": a, "imitator": []})
    with pytest.raises(ValueError, match="empty"):
        animate_side_by_side({})


def test_plot_diagram_boxes_arrows_and_errors():
    from genrl_lib.plotting import plot_diagram

    ax = plot_diagram({"a": (0.2, 0.5, "A"), "b": (0.8, 0.5, "B\nbox")}, [("a", "b", "to b")], title="t")
    texts = [t.get_text() for t in ax.texts]
    assert texts[:2] == ["A", "B\nbox"] and "to b" in texts
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == 1
    plt.close("all")
    with pytest.raises(ValueError, match="'c'"):
        plot_diagram({"a": (0.2, 0.5, "A")}, [("a", "c")])
    with pytest.raises(ValueError, match="empty"):
        plot_diagram({}, [])


def test_animate_traces_draws_each_trace_and_refuses_bad_input():
    y = np.linspace(18, 24, 10)
    html = animate_traces({"a": y, "b": y[::-1]}, x=np.arange(10) / 4, band=(20.0, 23.5), every=3, ylabel="°C")
    assert "<script" in html.data and html.data.count("data:image/png") >= 4     # frames at steps 1, 4, 7, 9
    with pytest.raises(ValueError, match="empty"):
        animate_traces({})
    with pytest.raises(ValueError, match="same length"):
        animate_traces({"a": y, "b": y[:5]})
    with pytest.raises(ValueError, match="NaN"):
        animate_traces({"a": np.array([1.0, np.nan])})
    with pytest.raises(ValueError, match="one position per value"):
        animate_traces({"a": y}, x=np.arange(3))
    with pytest.raises(ValueError, match="low < high"):
        animate_traces({"a": y}, band=(23.5, 20.0))
