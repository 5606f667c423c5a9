"""Pictures of a run (matplotlib, the ``plot`` extra). Each plot has a plain data function.

Examples:
    >>> import poptune.plots as plots
    >>> sorted(plots.PLOTS), sorted(plots.LEAGUE_PLOTS)
    (['drift', 'lineage', 'schedule', 'scores'], ['nash', 'payoff', 'ratings'])
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from poptune.files import write_atomic

from poptune.plots.drift import hparam_drift, plot_drift
from poptune.plots.league import (has_league, nash_mixture, payoff_matrix, plot_nash, plot_payoff, plot_ratings,
                                  ratings_over_time)
from poptune.plots.lineage import lineage_graph, plot_lineage
from poptune.plots.schedule import plot_schedule, schedule_series
from poptune.plots.scores import plot_scores, score_curves
from poptune.result import Result

PLOTS = {"scores": plot_scores, "schedule": plot_schedule, "lineage": plot_lineage, "drift": plot_drift}
LEAGUE_PLOTS = {"ratings": plot_ratings, "payoff": plot_payoff, "nash": plot_nash}  # a self-play league's


def plots_for(result: Result) -> dict:
    """The plots of ``result``: :data:`PLOTS`, and :data:`LEAGUE_PLOTS` for a self-play league."""
    return {**PLOTS, **LEAGUE_PLOTS} if has_league(result) else dict(PLOTS)


def save_all(result: Result, out_dir: str | os.PathLike, dpi: int = 100) -> dict[str, Path]:
    """Write every plot of ``result`` as ``<out_dir>/<name>.png`` (a league's too); return the paths."""
    from poptune.plots.mpl import pyplot

    plt = pyplot()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, plot in plots_for(result).items():
        fig = plot(result)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        plt.close(fig)
        paths[name] = write_atomic(out / f"{name}.png", buffer.getvalue())  # (a link there is replaced)
    return paths


__all__ = [
    "LEAGUE_PLOTS",
    "PLOTS",
    "hparam_drift",
    "lineage_graph",
    "nash_mixture",
    "payoff_matrix",
    "plot_drift",
    "plot_lineage",
    "plot_nash",
    "plot_payoff",
    "plot_ratings",
    "plots_for",
    "ratings_over_time",
    "plot_schedule",
    "plot_scores",
    "save_all",
    "schedule_series",
    "score_curves",
]
