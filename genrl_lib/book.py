"""Helpers for the book's notebooks: gluing numbers into the prose, Colab detection.

``glue`` wraps ``myst_nb.glue`` so a chapter runs unchanged where myst-nb is not installed
(e.g. Colab): there the value is simply kept in :data:`GLUED` and nothing is displayed.
"""

from __future__ import annotations

import sys

__all__ = ["glue", "GLUED", "in_colab", "check_answer"]

GLUED: dict[str, object] = {}


def in_colab() -> bool:
    """``True`` when running inside Google Colab."""
    return "google.colab" in sys.modules


def glue(name: str, value, display: bool = False):
    """Record ``value`` under ``name`` for ``{glue:text}`name:format``` in the chapter's prose.

    Args:
        name: a page-unique key.
        value: a number, string or figure computed by the chapter.
        display: also show the value in the cell's output.

    Returns:
        ``value`` unchanged, so ``x = glue("x", compute())`` reads naturally.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    try:  # NumPy scalars print as 'np.float64(1.0)', which myst-nb cannot format: pass plain Python numbers
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:
        pass
    GLUED[name] = value
    try:
        from myst_nb import glue as _glue
    except ImportError:  # Colab or a plain Jupyter install: the prose is not rendered there anyway
        if display:
            from IPython.display import display as _display
            _display(value)
        return value
    _glue(name, value, display=display)
    return value


def check_answer(answer, expected, *, name: str = "answer", atol: float = 1e-6) -> bool | None:
    """Auto-check an exercise: print a verdict and return ``True``/``False``, or ``None`` if unanswered.

    Args:
        answer: the student's value (``None`` or ``...`` means "not answered yet").
        expected: the correct value (number, array or string).
        name: what is checked, used in the message.
        atol: absolute tolerance for numbers and arrays.

    It never raises for a wrong or missing answer (students iterate); solution cells assert on the
    returned value, so the build fails if a published solution stops being right.
    """
    import numpy as np

    if answer is None or answer is Ellipsis:
        print(f"{name}: not answered yet, replace the ... with your answer and run the cell again.")
        return None
    try:
        ok = bool(np.allclose(np.asarray(answer, dtype=float), np.asarray(expected, dtype=float), atol=atol))
    except (TypeError, ValueError):
        ok = answer == expected
    print(f"{name}: {'correct ✓' if ok else 'not yet ✗, check your reasoning and the hint'}")
    return ok
