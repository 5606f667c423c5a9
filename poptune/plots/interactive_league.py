"""Interactive pictures of a self-play league, as plotly figure dicts (see :mod:`poptune.plots.interactive`).

:func:`~poptune.plots.interactive.figures` adds these three to a league run's figures; their
data comes from :mod:`poptune.plots.league`. Player names (``m3``, ``m3@40``) are made by
poptune, but still pass through :func:`~poptune.plots.interactive.label` like every text.
"""

from __future__ import annotations

import math

from poptune.plots.colors import member_colors
from poptune.plots.interactive import base_layout, label
from poptune.plots.league import (NEVER_MET, SNAPSHOT_COLOR, WIN_RATE_SCALE, nash_mixture, payoff_matrix,
                                  ratings_over_time)
from poptune.result import Result

LIVE_COLOR = "#1f77b4"


def league_figures(result: Result, top: int = 20) -> dict[str, dict]:
    """The league's figures: ratings over time, payoff matrix (``top`` players), Nash mixture."""
    return {"ratings": ratings_figure(result), "payoff": payoff_figure(result, top=top), "nash": nash_figure(result)}


def ratings_figure(result: Result) -> dict:
    """Every live member's rating over the league's games (a legend entry each); snapshots in
    one grey trace, hidden until clicked in the legend; dashed: the initial rating."""
    data = ratings_over_time(result, snapshots=True)
    live = [p for p in data["players"] if not p.is_snapshot]
    colors = member_colors(p.member for p in live)
    traces = []
    for p in live:
        series = data["players"][p]
        traces.append({
            "type": "scatter", "mode": "lines", "name": label(str(p)), "legendgroup": f"m{p.member}",
            "x": series["games"], "y": series["ratings"], "customdata": _steps(series["steps"]),
            "line": {"color": colors[p.member], "width": 1.6, "shape": "hv"},
            "hovertemplate": f"{label(str(p))}<br>rating %{{y:.1f}} after game %{{x}}<br>%{{customdata}}"
                             "<extra></extra>",
        })
    snaps = [p for p in data["players"] if p.is_snapshot]
    if snaps:
        xs: list = []
        ys: list = []
        names: list = []
        for p in snaps:
            series = data["players"][p]
            xs += series["games"] + [None]
            ys += series["ratings"] + [None]
            names += [label(str(p))] * len(series["games"]) + [""]
        traces.append({
            "type": "scatter", "mode": "lines", "name": f"snapshots ({len(snaps)})", "visible": "legendonly",
            "x": xs, "y": ys, "customdata": names, "line": {"color": SNAPSHOT_COLOR, "width": 0.8, "shape": "hv"},
            "opacity": 0.7, "hovertemplate": "snapshot %{customdata}<br>rating %{y:.1f} after game %{x}<extra></extra>",
        })
    shapes, notes = [], []
    if data["initial"] is not None:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": data["initial"],
                       "y1": data["initial"], "line": {"color": "#57606a", "width": 1, "dash": "dash"}})
        notes.append({"xref": "paper", "x": 1, "xanchor": "right", "yref": "y", "y": data["initial"],
                      "yanchor": "bottom", "showarrow": False, "font": {"size": 10, "color": "#57606a"},
                      "text": f"initial rating {data['initial']:.6g}"})
    if not traces:
        traces.append(_empty())
        notes.append(_note(data["reason"] or "no games yet"))
    layout = base_layout(
        f"Ratings ({label(data['rating'])}) of {len(live)} members over {data['games']} games; dashed: the initial "
        "rating", height=460, shapes=shapes, annotations=notes,
        xaxis={"title": {"text": "games played in the league"}, "zeroline": False},
        yaxis={"title": {"text": "conservative rating"}},
        legend={"itemdoubleclick": "toggleothers"},
    )
    return {"data": traces, "layout": layout}


def payoff_figure(result: Result, top: int = 20) -> dict:
    """The win-rate matrix among the ``top`` players with the most games, best rated first;
    hover a cell for its number of games."""
    data = payoff_matrix(result, top=top)
    labels = [label(x) for x in data["labels"]]
    n = len(labels)
    z = [[None if i == j or math.isnan(v) else v for j, v in enumerate(row)] for i, row in enumerate(data["P"])]
    hover = [[_cell(labels[i], labels[j], data["P"][i][j], data["counts"][i][j]) if i != j else f"{labels[i]} itself"
              for j in range(n)] for i in range(n)]
    trace = {
        "type": "heatmap", "x": labels, "y": labels, "z": z, "customdata": hover, "zmin": 0, "zmax": 1,
        "colorscale": WIN_RATE_SCALE, "xgap": 1, "ygap": 1, "hoverongaps": True, "name": "win rates",
        "colorbar": {"title": {"text": "row's win<br>rate"}, "tickformat": ".0%", "thickness": 14},
        "hovertemplate": "%{customdata}<extra></extra>",
    }
    if n <= 15:
        trace["texttemplate"] = "%{z:.0%}"
        trace["textfont"] = {"size": 10}
    notes = [] if n else [_note("no games yet")]
    shown = f"the {n} players with the most games (of {data['total']})" if data["total"] > n else f"all {n} players"
    layout = base_layout(
        f"Win rates among {shown}: row against column; grey: never met", height=min(900, max(380, 24 * n + 190)),
        annotations=notes, plot_bgcolor=NEVER_MET, margin={"l": 95, "r": 20, "t": 50, "b": 95},
        xaxis={"title": {"text": "opponent"}, "type": "category", "tickangle": -45, "showgrid": False},
        yaxis={"title": {"text": "player (best rated at the top)"}, "type": "category", "autorange": "reversed",
               "showgrid": False},
    )
    return {"data": [trace] if n else [_empty()], "layout": layout}


def nash_figure(result: Result) -> dict:
    """The Nash mixture: a bar per player, heaviest first; live members blue, snapshots grey."""
    data = nash_mixture(result)
    traces = []
    for kind, snapshot, color in (("live members", False, LIVE_COLOR), ("snapshots", True, SNAPSHOT_COLOR)):
        index = [i for i, p in enumerate(data["players"]) if p.is_snapshot == snapshot]
        if not index:
            continue
        traces.append({
            "type": "bar", "name": kind, "x": [label(data["labels"][i]) for i in index],
            "y": [data["weights"][i] for i in index], "marker": {"color": color},
            "customdata": [_rating(data["ratings"][i]) for i in index],
            "hovertemplate": "%{x}<br>weight %{y:.1%}<br>%{customdata}<extra></extra>",
        })
    notes = [] if traces else [_note("no games yet")]
    n = len(data["players"])
    layout = base_layout(
        f"Nash mixture of the league: {data['support']} of {n} players carry weight", height=420,
        annotations=notes, barmode="overlay", margin={"l": 70, "r": 20, "t": 50, "b": 95},
        xaxis={"title": {"text": "player, heaviest first"}, "type": "category", "categoryorder": "array",
               "categoryarray": [label(x) for x in data["labels"]], "tickangle": -45},
        yaxis={"title": {"text": "weight"}, "tickformat": ".0%", "rangemode": "tozero"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    return {"data": traces or [_empty()], "layout": layout}


def _steps(steps: list) -> list[str]:
    return ["before any game" if s is None else f"(a game of step {s})" for s in steps]


def _cell(row: str, col: str, rate: float, games: int) -> str:
    if not games:
        return f"{row} never met {col}"
    return f"{row} won {rate:.0%} of {games} game{'s' if games != 1 else ''} against {col}"


def _rating(value: float | None) -> str:
    return "" if value is None else f"rating {value:.1f}"


def _empty() -> dict:
    """A trace with nothing to show, so the figure still draws (and counts as drawn)."""
    return {"type": "scatter", "mode": "markers", "x": [], "y": [], "name": "nothing yet", "showlegend": False}


def _note(text: str) -> dict:
    return {"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False, "text": label(text),
            "font": {"size": 13, "color": "#57606a"}}


__all__ = ["league_figures", "nash_figure", "payoff_figure", "ratings_figure"]
