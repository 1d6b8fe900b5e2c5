"""Plots the chapters share: learning curves over seeds, value/policy heatmaps, episode animations."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = ["plot_learning_curves", "plot_value_heatmap", "record_episode", "animate_frames", "animate_episode",
           "animate_side_by_side", "animate_traces", "plot_diagram", "smooth"]


def smooth(y: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average along the last axis. ``y``: ``(..., T)`` -> ``(..., T)``.

    Point ``t`` averages ``y[max(0, t-window+1) : t+1]``, so the curve is not shifted and keeps its length.
    """
    y = np.asarray(y, dtype=float)
    if window <= 1:
        return y
    c = np.cumsum(y, axis=-1)
    out = np.empty_like(c)
    out[..., :window] = c[..., :window] / np.arange(1, min(window, y.shape[-1]) + 1)
    out[..., window:] = (c[..., window:] - c[..., :-window]) / window
    return out


def plot_learning_curves(curves: Mapping[str, np.ndarray], x: np.ndarray | Mapping[str, np.ndarray] | None = None,
                         *, ax=None, band: str = "std", smooth_window: int = 1, xlabel: str = "episode",
                         ylabel: str = "return", title: str | None = None, hline: float | None = None,
                         hline_label: str = "optimum"):
    """Plot learning curves over seeds: the mean as a line and a shaded band, one colour per label.

    Args:
        curves: ``{label: array (n_seeds, T)}`` (a 1-D ``(T,)`` array counts as one seed).
        x: ``(T,)`` x-values shared by all curves, or ``{label: (T,)}``; default ``0..T-1``.
        band: ``"std"`` (mean ± one standard deviation over seeds), ``"se"`` (mean ± one standard error of
            the mean, ``std / sqrt(n_seeds)``: how precisely the mean curve is known), ``"minmax"`` or
            ``"none"``.
        smooth_window: trailing moving-average window applied per seed before aggregating.
        hline: optional horizontal reference line (e.g. the optimal return), labelled ``hline_label``.

    Returns:
        The matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    if band not in ("std", "se", "minmax", "none"):
        raise ValueError(f"band must be 'std', 'se', 'minmax' or 'none', got {band!r}")
    if not curves:
        raise ValueError("curves is empty: pass {label: array (n_seeds, T)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, ys in curves.items():
        ys = np.atleast_2d(np.asarray(ys, dtype=float))
        ys = smooth(ys, smooth_window)
        xs = x[label] if isinstance(x, Mapping) else x
        xs = np.arange(ys.shape[1]) if xs is None else np.asarray(xs)
        if xs.shape != (ys.shape[1],):
            raise ValueError(f"x for {label!r} has shape {xs.shape}, curves have length {ys.shape[1]}")
        mean = ys.mean(axis=0)
        n = ys.shape[0]
        (line,) = ax.plot(xs, mean, label=f"{label} (mean of {n} seed{'s' if n > 1 else ''})")
        if band != "none" and n > 1:
            if band == "minmax":
                lo, hi = ys.min(axis=0), ys.max(axis=0)
            else:
                half = ys.std(axis=0) / (np.sqrt(n) if band == "se" else 1.0)
                lo, hi = mean - half, mean + half
            ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    if hline is not None:
        ax.axhline(hline, color="k", linestyle="--", linewidth=1, label=hline_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


_ARROWS = {"FrozenLake": "←↓→↑", "CliffWalking": "↑→↓←", "JumpChain": ("R", "JR")}


def plot_value_heatmap(values: np.ndarray, shape: tuple[int, int] | None = None, *, policy: np.ndarray | None = None,
                       action_labels: Sequence[str] | None = None, ax=None, title: str | None = None,
                       cmap: str = "viridis", annotate: bool = True, terminal: Sequence[int] = ()):
    """Heatmap of state values for grid and chain envs, optionally with the greedy action in each cell.

    Args:
        values: ``(S,)`` state values (or ``(S, A)`` Q-values; their max over actions is shown).
        shape: ``(rows, cols)`` with ``rows * cols == S``; default ``(1, S)`` (a chain).
        policy: optional ``(S,)`` int actions, written in each cell with ``action_labels``.
        action_labels: text of each action, e.g. ``"←↓→↑"`` for FrozenLake or ``["R", "JR"]``.
        terminal: states whose action is not drawn (traps, goals).

    Returns:
        The matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    v = np.asarray(values, dtype=float)
    if v.ndim == 2:
        v = v.max(axis=1)
    if v.ndim != 1:
        raise ValueError(f"values must be (S,) or (S, A), got shape {np.shape(values)}")
    S = v.shape[0]
    hw: tuple[int, ...] = (1, S) if shape is None else tuple(shape)   # (rows, columns) of the grid
    if hw[0] * hw[1] != S:
        raise ValueError(f"shape {hw} does not hold {S} states")
    if policy is not None and np.shape(policy) != (S,):
        raise ValueError(f"policy must have shape ({S},), got {np.shape(policy)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.7 * hw[1]), max(1.6, 0.7 * hw[0] + 0.8)))
    grid = v.reshape(hw)
    im = ax.imshow(grid, cmap=cmap)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="value")
    if annotate:
        lo, hi = np.nanmin(grid), np.nanmax(grid)
        for s in range(S):
            r, c = divmod(s, hw[1])
            txt = f"{v[s]:.2g}"
            if policy is not None and s not in terminal:
                labels = action_labels if action_labels is not None else [str(a) for a in range(int(np.max(policy)) + 1)]
                txt += "\n" + str(labels[int(policy[s])])
            light = (v[s] - lo) < 0.5 * (hi - lo) if hi > lo else True
            ax.text(c, r, txt, ha="center", va="center", fontsize=8, color="white" if light else "black")
    ax.set_xticks(range(hw[1]))
    ax.set_yticks(range(hw[0]))
    if title:
        ax.set_title(title)
    return ax


def record_episode(env, policy: Callable | object, *, seed: int | None = 0, max_steps: int = 500) -> list[np.ndarray]:
    """Run one episode in an env made with ``render_mode="rgb_array"`` and return its frames.

    Args:
        env: gymnasium env with ``render_mode == "rgb_array"``.
        policy: anything :func:`genrl_lib.evaluation.as_action_fn` accepts.

    Returns:
        A list of ``(H, W, 3)`` uint8 frames, the first after reset.
    """
    from genrl_lib.evaluation import as_action_fn

    if getattr(env, "render_mode", None) != "rgb_array":
        raise ValueError("env must be made with render_mode='rgb_array' to record frames, e.g. "
                         "gym.make('CartPole-v1', render_mode='rgb_array')")
    act = as_action_fn(policy)
    obs, _ = env.reset(seed=seed)
    frames = [env.render()]
    for _ in range(max_steps):
        obs, _, terminated, truncated, _ = env.step(act(obs))
        frames.append(env.render())
        if terminated or truncated:
            break
    return frames


def animate_frames(frames: Sequence[np.ndarray], fps: int = 30, every: int = 1, scale: float = 0.5, title: str | None = None,
                   captions: Sequence[str] | None = None):
    """An inline HTML/JavaScript animation of ``rgb_array`` frames (renders in Jupyter, Colab and the HTML book).

    Args:
        frames: list of ``(H, W, 3)`` uint8 frames.
        fps: frames per second of playback.
        every: keep every ``every``-th frame (smaller pages); the last frame is always kept.
        scale: figure size relative to the frame size (1.0 = 100 pixels per inch at 100 dpi).
        title: a title above the frames.
        captions: one line of text per frame (e.g. ``"step 12, return 12"``), shown under the frames.

    Returns:
        ``IPython.display.HTML`` with the animation.
    """
    return animate_side_by_side({"": frames}, fps=fps, every=every, scale=scale, title=title,
                                captions=None if captions is None else {"": captions})


def animate_side_by_side(panels: Mapping[str, Sequence[np.ndarray]], fps: int = 30, every: int = 1,
                         scale: float = 0.5, title: str | None = None,
                         captions: Mapping[str, Sequence[str]] | None = None):
    """Several episodes played side by side in one inline animation (e.g. an expert beside its imitator).

    A panel whose episode is shorter keeps showing its last frame (its caption says the episode ended).

    Args:
        panels: ``{panel title: list of (H, W, 3) uint8 frames}``; frames of different panels may differ in size.
        fps, every, scale: as in :func:`animate_frames`.
        title: a title over all panels.
        captions: ``{panel title: one string per frame}`` shown under each panel.

    Returns:
        ``IPython.display.HTML`` with the animation (matplotlib's ``to_jshtml``: no network needed to play it).
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib import animation

    if not panels:
        raise ValueError("panels is empty: pass {title: frames}")
    for name, frames in panels.items():
        if len(frames) == 0:
            raise ValueError(f"frames is empty (panel {name!r})")
    every = max(1, int(every))
    n = max(len(f) for f in panels.values())
    kept = list(range(0, n, every))
    if kept[-1] != n - 1:
        kept.append(n - 1)                       # always show how the episode ends
    h = max(f[0].shape[0] for f in panels.values())
    w = sum(f[0].shape[1] for f in panels.values())
    has_caption = captions is not None
    extra = 0.25 * (bool(title) + has_caption + (len(panels) > 1))     # inches for the text lines
    fig, axes = plt.subplots(1, len(panels), figsize=(scale * w / 100, scale * h / 100 + extra), dpi=100,
                             squeeze=False)
    images, texts = [], []
    for ax, (name, frames) in zip(axes[0], panels.items()):
        ax.axis("off")
        if name and len(panels) > 1:
            ax.set_title(name, fontsize=8)
        images.append(ax.imshow(frames[0]))
        texts.append(ax.text(0.5, -0.02, "", transform=ax.transAxes, ha="center", va="top", fontsize=7)
                     if has_caption else None)
    if title:
        fig.suptitle(title, fontsize=8)
    with warnings.catch_warnings():          # tiny frames leave tight_layout no room: it is fine as it is
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout(pad=0.3)

    def draw(k):
        i = kept[k]
        for (name, frames), im, txt in zip(panels.items(), images, texts):
            im.set_data(frames[min(i, len(frames) - 1)])
            if txt is not None:
                caps = captions.get(name, [])
                line = caps[min(i, len(caps) - 1)] if len(caps) else ""
                txt.set_text(line + (" (ended)" if i >= len(frames) else ""))
        return images

    anim = animation.FuncAnimation(fig, draw, frames=len(kept), interval=1000 / fps)
    html = anim.to_jshtml(default_mode="once")
    plt.close(fig)
    return HTML(html)


def animate_traces(traces: Mapping[str, np.ndarray], x: np.ndarray | None = None, *, band: tuple[float, float] | None = None,
                   every: int = 1, fps: int = 12, xlabel: str = "step", ylabel: str = "", title: str | None = None,
                   band_label: str = "comfort band", figsize: tuple[float, float] = (7.0, 3.0)):
    """Time series drawn as they unfold, in one inline animation (e.g. a building's indoor temperature over a day
    under several controllers, against its comfort band).

    Args:
        traces: ``{label: values (T,)}``; every trace has the same length T >= 2 and finite values.
        x: ``(T,)`` positions of the values on the horizontal axis (default ``0 .. T-1``).
        band: ``(low, high)`` shaded as a horizontal band, or ``None``.
        every: draw every ``every``-th step as a frame (the last step is always drawn).
        fps: frames per second of playback.
        xlabel, ylabel, title, band_label, figsize: the figure's labels and size (inches).

    Returns:
        ``IPython.display.HTML`` with the animation (matplotlib's ``to_jshtml``: no network needed to play it).

    Raises:
        ValueError: ``traces`` is empty, a trace is not 1-D, has fewer than 2 values, another length than the
            others or than ``x``, or holds NaN/inf; ``band`` is not ``(low, high)`` with ``low < high``.
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib import animation

    if not traces:
        raise ValueError("traces is empty: pass {label: values of shape (T,)}")
    ys = {k: np.asarray(v, dtype=float) for k, v in traces.items()}
    n = len(next(iter(ys.values())))
    for k, y in ys.items():
        if y.ndim != 1 or len(y) < 2:
            raise ValueError(f"trace {k!r} has shape {y.shape}; each trace must be 1-D with at least 2 values")
        if len(y) != n:
            raise ValueError(f"trace {k!r} has {len(y)} values, the first has {n}: give every trace the same length")
        if not np.isfinite(y).all():
            raise ValueError(f"trace {k!r} holds NaN or inf values")
    xs = np.arange(n) if x is None else np.asarray(x, dtype=float)
    if xs.shape != (n,):
        raise ValueError(f"x has shape {xs.shape}; it must be ({n},), one position per value")
    if band is not None and (len(band) != 2 or not band[0] < band[1]):
        raise ValueError(f"band must be (low, high) with low < high, got {band!r}")
    every = max(1, int(every))
    kept = list(range(1, n, every))
    if kept[-1] != n - 1:
        kept.append(n - 1)
    fig, ax = plt.subplots(figsize=figsize)
    if band is not None:
        ax.axhspan(*band, color="tab:green", alpha=0.15, label=band_label)
    lines = {k: ax.plot([], [], lw=1.2, label=k)[0] for k in ys}
    lo = min(y.min() for y in ys.values())
    hi = max(y.max() for y in ys.values())
    if band is not None:
        lo, hi = min(lo, band[0]), max(hi, band[1])
    pad = 0.05 * (hi - lo or 1.0)
    ax.set(xlim=(xs[0], xs[-1]), ylim=(lo - pad, hi + pad), xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()

    def draw(k):
        i = kept[k] + 1
        for name, line in lines.items():
            line.set_data(xs[:i], ys[name][:i])
        return list(lines.values())

    anim = animation.FuncAnimation(fig, draw, frames=len(kept), interval=1000 / fps)
    html = anim.to_jshtml(default_mode="once")
    plt.close(fig)
    return HTML(html)


def animate_episode(env, policy: Callable | object, *, seed: int | None = 0, max_steps: int = 500, fps: int = 30,
                    every: int = 1, scale: float = 0.5, title: str | None = None):
    """Run one episode of ``policy`` and return it as an inline animation, each frame captioned with the step and
    the return so far.

    Args:
        env: a gymnasium env made with ``render_mode="rgb_array"``, or an env id (made that way here).
        policy: anything :func:`genrl_lib.evaluation.as_action_fn` accepts (an agent with ``predict``, a
            callable ``obs -> action``, a table of actions for a discrete env).
        seed: the seed of ``env.reset``.
        max_steps: at most this many steps.
        fps, every, scale, title: as in :func:`animate_frames`.

    Returns:
        ``IPython.display.HTML``; its attributes ``episode_return`` (float) and ``n_steps`` (int) say what the
        animation shows, so a chapter can check and glue them.
    """
    import gymnasium as gym

    from genrl_lib.evaluation import as_action_fn, as_valid_action

    if isinstance(env, str):
        env = gym.make(env, render_mode="rgb_array")
    if getattr(env, "render_mode", None) != "rgb_array":
        raise ValueError("env must be made with render_mode='rgb_array' to animate it, e.g. "
                         "gym.make('CartPole-v1', render_mode='rgb_array'), or pass the env id")
    act = as_action_fn(policy)
    obs, _ = env.reset(seed=seed)
    frames, caps, ret = [env.render()], ["step 0, return 0"], 0.0
    for t in range(1, max_steps + 1):
        obs, reward, terminated, truncated, _ = env.step(as_valid_action(act(obs), env.action_space))
        ret += float(reward)
        frames.append(env.render())
        caps.append(f"step {t}, return {ret:g}")
        if terminated or truncated:
            break
    html = animate_frames(frames, fps=fps, every=every, scale=scale, title=title, captions=caps)
    html.episode_return, html.n_steps = ret, len(frames) - 1
    return html


def plot_diagram(nodes: Mapping[str, tuple[float, float, str]], edges: Sequence[tuple], *, ax=None,
                 title: str | None = None, figsize: tuple[float, float] = (8, 4),
                 colors: Mapping[str, str] | None = None):
    """A boxes-and-arrows diagram drawn with matplotlib (renders offline, in the book and in Colab).

    Args:
        nodes: ``{name: (x, y, text)}``, box centres in axes coordinates ``[0, 1]``; ``text`` may have newlines.
        edges: ``(from, to)`` or ``(from, to, label)``: an arrow between the two boxes' edges, the label at
            its middle.
        colors: ``{name: face colour}``; default light grey.

    Returns:
        The matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    if not nodes:
        raise ValueError("nodes is empty: pass {name: (x, y, text)}")
    for e in edges:
        if len(e) not in (2, 3):
            raise ValueError(f"an edge is (from, to) or (from, to, label), got {e!r}")
        for end in e[:2]:
            if end not in nodes:
                raise ValueError(f"edge {e!r} names {end!r}, which is not a node; nodes: {sorted(nodes)}")
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.axis("off")
    colors = colors or {}
    boxes = {}
    for name, (x, y, text) in nodes.items():
        boxes[name] = ax.text(x, y, text, ha="center", va="center", fontsize=9, zorder=3,
                              bbox=dict(boxstyle="round,pad=0.4", fc=colors.get(name, "#eeeeee"),
                                        ec="#444444"))
    ax.figure.canvas.draw()                  # box sizes are known only after a draw
    for e in edges:
        a, b, label = (*e, None) if len(e) == 2 else e
        ax.annotate("", xy=nodes[b][:2], xytext=nodes[a][:2], zorder=5,
                    arrowprops=dict(arrowstyle="-|>,head_length=0.6,head_width=0.3", color="#333333", lw=1.3,
                                    shrinkA=2, shrinkB=2, patchA=boxes[a].get_bbox_patch(),
                                    patchB=boxes[b].get_bbox_patch()))
        if label:
            (xa, ya), (xb, yb) = nodes[a][:2], nodes[b][:2]
            above = 0.09 if abs(ya - yb) < 1e-9 else 0.0        # a horizontal arrow's label sits above it
            ax.text((xa + xb) / 2, (ya + yb) / 2 + above, label, ha="center", va="center", fontsize=8, style="italic",
                    zorder=6, bbox=dict(fc="white", ec="none", pad=1))
    if title:
        ax.set_title(title)
    return ax
