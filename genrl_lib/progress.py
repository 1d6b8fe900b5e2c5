"""Progress bars for long work: ``tqdm.auto`` (a widget in Jupyter/Colab, text in a terminal).

Set the environment variable ``TQDM_DISABLE=1`` (honoured by tqdm itself) or pass
``progress_bar=False`` to the training functions to silence them, e.g. in CI logs.
"""

from __future__ import annotations

__all__ = ["progress_bar"]


def progress_bar(total: int | None = None, desc: str | None = None, enabled: bool = True, unit: str = "it", **kwargs):
    """A ``tqdm.auto.tqdm`` bar of ``total`` steps; with ``enabled=False`` a bar that prints nothing.

    Use as a context manager and call ``bar.update(n)``; ``bar.set_postfix(...)`` shows live figures.
    """
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, unit=unit,
                dynamic_ncols=True, **kwargs)
