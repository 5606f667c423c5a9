"""Lazy matplotlib import (the ``plot`` extra), with a non-interactive backend by default."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from poptune.errors import PoptuneError


def pyplot():
    """Return ``matplotlib.pyplot``; say which extra to install when it is missing."""
    try:
        import matplotlib
    except ImportError:
        raise PoptuneError("plots need matplotlib: pip install 'poptune[plot]'") from None
    if "MPLBACKEND" not in os.environ and not _interactive():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plain_text(plot: Callable) -> Callable:
    """Draw ``plot``'s texts as plain text: a hyperparameter or metric named like ``$\\frac{$``
    is a label, not a mathtext formula matplotlib would fail to parse."""

    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)

    return wrapper


def _interactive() -> bool:
    try:
        from IPython import get_ipython

        return get_ipython() is not None
    except ImportError:
        return False


def member_colors(members) -> dict[int, str]:
    """A stable colour per member id, the same as the interactive pictures' (never red: red is
    the best lineage)."""
    from poptune.plots.colors import member_colors as colors

    return colors(members)
