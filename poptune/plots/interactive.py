"""Interactive pictures of a run: plotly figures as plain JSON-ready dicts.

Each function returns ``{"data": [...], "layout": {...}}``, what ``Plotly.newPlot`` and
``Plotly.react`` take in the browser (the report page and ``poptune serve`` draw them with the
plotly.js bundled in the ``plotly`` package). Building plain dicts needs no plotly import and
stays fast for large populations. The data comes from the same functions as the static
pictures (:func:`~poptune.plots.score_curves`, ...).

Every name from a run (hyperparameters, choices, metrics) goes through :func:`label` first:
plotly reads ``<b>``-like tags and ``$...$`` in its texts, and a run directory is data, never
markup.

Example:
    >>> import poptune as pt, tempfile
    >>> from poptune.plots.interactive import figures
    >>> def train(member):
    ...     x = member.checkpoint or 0.0
    ...     for _ in member.steps():
    ...         x += member.hparams["lr"]
    ...         member.report(x, checkpoint=x)
    >>> result = pt.run(train, {"lr": pt.Float(0.01, 0.1)}, population=3, steps=4, interval=2,
    ...                 runner="inline", dir=tempfile.mkdtemp(), seed=0, progress=False)
    >>> sorted(figures(result))
    ['drift', 'lineage', 'schedule', 'scores']
"""

from __future__ import annotations

import bisect
import html
import math
from typing import Any

from poptune.core import events as ev
from poptune.plots.colors import LINEAGE, member_colors
from poptune.plots.drift import hparam_drift
from poptune.plots.lineage import lineage_graph
from poptune.plots.schedule import schedule_series
from poptune.plots.scores import score_curves
from poptune.progress import format_value
from poptune.result import Result

LINEAGE_COLOR = LINEAGE
_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 12, "color": "#1f2328"}
_PANEL = 150  # pixels per hyperparameter panel


def label(value: Any) -> str:
    """``value`` as text plotly shows literally: tags and entities escaped, no ``$`` math."""
    text = value if isinstance(value, str) else format_value(value)
    return html.escape(text, quote=True).replace("$", "&#36;")


def figures(result: Result) -> dict[str, dict]:
    """Every interactive figure of ``result``: scores, schedule, lineage, drift, and for a
    self-play league ratings, payoff and nash (:mod:`poptune.plots.interactive_league`)."""
    hover = hparams_hover(result)
    out = {
        "scores": scores_figure(result, hover),
        "schedule": schedule_figure(result),
        "lineage": lineage_figure(result),
        "drift": drift_figure(result),
    }
    if result.config.get("league"):
        from poptune.plots.interactive_league import league_figures

        out.update(league_figures(result))
    return out


def hparams_hover(result: Result) -> dict[tuple[int, int], str]:
    """``{(member, step): "lr=0.01<br>..."}``: the hyperparameters each report was trained with."""
    changes: dict[int, list[tuple[int, dict]]] = {}
    for e in result.events:
        if isinstance(e, ev.MemberAdded):
            changes[e.member] = [(-1, e.hparams)]
        elif isinstance(e, (ev.Exploited, ev.Explored)) and e.member in changes:
            changes[e.member].append((e.step, e.new))
    texts: dict[int, list[str]] = {
        m: ["<br>".join(f"{label(k)}={label(v)}" for k, v in h.items()) for _, h in points]
        for m, points in changes.items()
    }
    steps = {m: [s for s, _ in points] for m, points in changes.items()}
    out = {}
    for r in result.reports:
        points = steps.get(r.member)
        if not points:
            continue
        if all(a <= b for a, b in zip(points, points[1:])):
            out[(r.member, r.step)] = texts[r.member][bisect.bisect_left(points, r.step) - 1]
        else:  # (changes out of step order, after a resume that rewound: ask the exact way)
            out[(r.member, r.step)] = "<br>".join(
                f"{label(k)}={label(v)}" for k, v in result.hparams_at(r.member, r.step).items())
    return out


def scores_figure(result: Result, hover: dict[tuple[int, int], str] | None = None) -> dict:
    """Every member's score over its steps (a legend entry each), exploit markers and jumps, and
    the best model's lineage in red."""
    data = score_curves(result)
    hover = hparams_hover(result) if hover is None else hover
    colors = member_colors(data["members"])
    traces = []
    for m, curve in data["members"].items():
        best = m == data["best"]
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": f"member {m}" + (" (best)" if best else ""),
            "legendgroup": f"m{m}", "x": curve["steps"], "y": curve["scores"],
            "line": {"color": colors[m], "width": 1.4}, "marker": {"size": 4}, "opacity": 0.65,
            "customdata": [[m, hover.get((m, s), "")] for s in curve["steps"]],
            "hovertemplate": "member %{customdata[0]}<br>step %{x}<br>score %{y:.5g}<br>%{customdata[1]}<extra></extra>",
        })
    jumps_x: list = []
    jumps_y: list = []
    marks: dict[str, list] = {"x": [], "y": [], "customdata": []}
    for jump in data["exploits"]:
        (x0, y0), (x1, y1) = jump["from"], jump["to"]
        jumps_x += [x0, x1, None]
        jumps_y += [y0, y1, None]
        marks["x"].append(x1)
        marks["y"].append(y1)
        marks["customdata"].append([jump["target"], jump["source"], jump["source_step"], jump["step"]])
    if marks["x"]:
        traces.append({
            "type": "scatter", "mode": "lines", "name": "exploit jumps", "x": jumps_x, "y": jumps_y,
            "line": {"color": "rgba(60,60,60,0.35)", "width": 1, "dash": "dot"}, "hoverinfo": "skip",
            "legendgroup": "exploits",
        })
        traces.append({
            "type": "scatter", "mode": "markers", "name": "exploits", "legendgroup": "exploits", **marks,
            "marker": {"symbol": "diamond", "size": 7, "color": "rgba(40,40,40,0.8)",
                       "line": {"color": "white", "width": 1}},
            "hovertemplate": "member %{customdata[0]} copied member %{customdata[1]} (its step %{customdata[2]})"
                             "<br>after its own step %{customdata[3]}; score then %{y:.5g}<extra>exploit</extra>",
        })
    if data["lineage"]:
        owners, steps, scores = zip(*data["lineage"])
        traces.append({
            "type": "scatter", "mode": "lines", "name": f"best lineage (to member {data['best']})",
            "x": list(steps), "y": list(scores), "customdata": list(owners),
            "line": {"color": LINEAGE_COLOR, "width": 3.5}, "opacity": 0.9,
            "hovertemplate": "best lineage: member %{customdata}<br>step %{x}<br>score %{y:.5g}<extra></extra>",
        })
    layout = base_layout(
        f"Scores of {len(data['members'])} members: red is the best model's lineage, diamonds are exploits",
        height=480,
        xaxis={"title": {"text": "member's step"}, "zeroline": False},
        yaxis={"title": {"text": f"score ({result.direction})"}},
        legend={"groupclick": "toggleitem", "itemdoubleclick": "toggleothers"},
    )
    return {"data": traces, "layout": layout}


def schedule_figure(result: Result) -> dict:
    """The hyperparameters along the best model's lineage, one panel each; shading marks which
    member trained each stretch."""
    data = schedule_series(result)
    names = list(data["hparams"])
    traces = []
    for i, name in enumerate(names):
        series = data["hparams"][name]
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": label(name), "showlegend": False,
            "x": series["steps"], "y": _values(series["values"], series["options"]), "line": {"shape": "hv",
            "color": "#1f77b4", "width": 2.5}, "marker": {"size": 5}, "xaxis": "x", "yaxis": _axis(i),
            "hovertemplate": f"{label(name)}=%{{y}}<br>from training step %{{x}}<extra></extra>",
        })
    shapes, notes = [], []
    stretches = data["stretches"]
    for j, (start, end, owner) in enumerate(stretches):
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": start, "x1": end, "y0": 0, "y1": 1,
                       "fillcolor": "rgba(0,0,0,0.06)" if j % 2 else "rgba(0,0,0,0)", "line": {"width": 0},
                       "layer": "below"})
        if len(stretches) <= 30:
            notes.append({"xref": "x", "yref": "paper", "x": (start + end) / 2, "y": 1.0, "yanchor": "bottom",
                          "text": f"m{owner}", "showarrow": False, "font": {"size": 10, "color": "#57606a"}})
    layout = base_layout(
        f"Schedule along the best model's lineage (member {data['member']} holds it)",
        height=_PANEL * len(names) + 110, shapes=shapes, annotations=notes,
        **_panels(names, [data["hparams"][n] for n in names],
                  "training steps the model received (shading: which member trained it)"),
    )
    return {"data": traces, "layout": layout}


def lineage_figure(result: Result) -> dict:
    """Members as rows over their steps, each cell coloured by the score's rank; arrows are
    exploits (source to target); red is the best model's lineage."""
    data = lineage_graph(result)
    ids = sorted(data["members"])
    last = max((s for m in data["members"].values() for s in m["steps"]), default=0)
    steps = list(range(1, last + 1))
    z = [[None] * last for _ in ids]
    text = [[""] * last for _ in ids]
    for row, m in enumerate(ids):
        series = data["members"][m]
        for step, score, color in zip(series["steps"], series["scores"], series["colors"]):
            z[row][step - 1] = color
            text[row][step - 1] = format_value(score)
    ticks = [(p, v) for p, v in data["ticks"] if math.isfinite(v)]
    traces: list[dict] = [{
        "type": "heatmap", "x": steps, "y": ids, "z": z, "customdata": text, "zmin": 0, "zmax": 1,
        "colorscale": "Viridis", "xgap": 0, "ygap": 2, "name": "scores",
        "colorbar": {"title": {"text": "score<br>(by rank)"}, "tickvals": [p for p, _ in ticks],
                     "ticktext": [format_value(v) for _, v in ticks], "thickness": 14},
        "hovertemplate": "member %{y}, step %{x}<br>score %{customdata}<br>better than %{z:.0%} of reports"
                         "<extra></extra>",
    }]
    xs: list = []
    ys: list = []
    sizes: list = []
    notes: list = []
    for edge in data["edges"]:
        note = f"member {edge['target']} copied member {edge['source']} (its step {edge['source_step']}) " \
               f"after its own step {edge['step']}"
        xs += [edge["source_step"] + 0.5, edge["step"] + 0.5, None]
        ys += [edge["source"], edge["target"], None]
        sizes += [0, 10, 0]
        notes += [note, note, ""]
    if xs:
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": "exploits", "x": xs, "y": ys, "customdata": notes,
            "line": {"color": "rgba(30,30,30,0.55)", "width": 1},
            "marker": {"symbol": "arrow", "angleref": "previous", "size": sizes, "color": "rgba(30,30,30,0.8)"},
            "hovertemplate": "%{customdata}<extra></extra>",
        })
    path = data["path"]
    if path:
        traces.append({
            "type": "scatter", "mode": "lines", "name": "best lineage",
            "x": [x + 0.5 for _, start, end in path for x in (start, end)],
            "y": [m for m, _, _ in path for _ in range(2)],
            "line": {"color": LINEAGE_COLOR, "width": 3}, "hovertemplate": "best lineage: member %{y}<extra></extra>",
        })
    layout = base_layout(
        "Lineage: who copied whom, when (cells coloured by score rank; red: the best model's lineage)",
        height=min(1200, max(320, 18 * len(ids) + 150)),
        xaxis={"title": {"text": "member's step"}, "range": [0.5, last + 0.5], "zeroline": False},
        yaxis={"title": {"text": "member"}, "autorange": "reversed", "zeroline": False,
               **({"dtick": 1} if len(ids) <= 40 else {})},
        legend={"orientation": "h", "y": -0.18},
    )
    return {"data": traces, "layout": layout}


def drift_figure(result: Result) -> dict:
    """Every member's hyperparameters over its steps, one panel per hyperparameter; clicking a
    member in the legend toggles it in every panel; red is the best model's lineage."""
    data = hparam_drift(result)
    names = list(data)
    colors = member_colors(m.id for m in result.members)
    best = result.best.id if result.members else None
    traces = []
    for i, name in enumerate(names):
        series = data[name]
        options = series["options"]
        for m, points in series["members"].items():
            traces.append({
                "type": "scatter", "mode": "lines", "name": f"member {m}" + (" (best)" if m == best else ""),
                "legendgroup": f"m{m}", "showlegend": i == 0, "x": points["steps"],
                "y": _values(points["values"], options), "line": {"shape": "hv", "color": colors.get(m, "#888"),
                                                                 "width": 1.2},
                "opacity": 0.6, "xaxis": "x", "yaxis": _axis(i),
                "hovertemplate": f"member {m}<br>{label(name)}=%{{y}}<br>from step %{{x}}<extra></extra>",
            })
        lineage = series["lineage"]
        if lineage["steps"]:
            traces.append({
                "type": "scatter", "mode": "lines", "name": "best lineage", "legendgroup": "lineage",
                "showlegend": i == 0, "x": lineage["steps"], "y": _values(lineage["values"], options),
                "customdata": lineage["members"], "line": {"color": LINEAGE_COLOR, "width": 3}, "opacity": 0.85,
                "xaxis": "x", "yaxis": _axis(i),
                "hovertemplate": f"best lineage: member %{{customdata}}<br>{label(name)}=%{{y}}<extra></extra>",
            })
    layout = base_layout(
        f"Hyperparameters of all {len(result.members)} members (red: the best model's lineage)",
        height=_PANEL * len(names) + 110, legend={"groupclick": "togglegroup"},
        **_panels(names, [data[n] for n in names], "member's step"),
    )
    return {"data": traces, "layout": layout}


def _values(values: list, options: list | None) -> list:
    """Plot values: choices as their labels on a category axis, numbers as they are."""
    return [label(v) for v in values] if options is not None else values


def _axis(i: int) -> str:
    return "y" if i == 0 else f"y{i + 1}"


def _panels(names: list[str], series: list[dict], xlabel: str) -> dict:
    """Layout axes of one panel per hyperparameter, stacked top to bottom, sharing the x axis."""
    n = max(len(names), 1)
    gap = 0.04 if n > 1 else 0.0
    height = (1 - gap * (n - 1)) / n
    axes: dict[str, Any] = {}
    for i, (name, s) in enumerate(zip(names, series)):
        top = 1 - i * (height + gap)
        axis: dict[str, Any] = {"domain": [max(0.0, top - height), top], "anchor": "x",
                                "title": {"text": label(name), "font": {"size": 11}}}
        if s.get("options") is not None:
            axis.update(type="category", categoryorder="array", categoryarray=[label(o) for o in s["options"]])
        elif s.get("log"):
            axis["type"] = "log"
        axes["yaxis" if i == 0 else f"yaxis{i + 1}"] = axis
    axes["xaxis"] = {"title": {"text": xlabel}, "anchor": _axis(n - 1), "zeroline": False}
    return axes


def base_layout(title: str, height: int, **extra) -> dict:
    """The layout every poptune figure shares (``title`` is not escaped: pass :func:`label` text)."""
    layout = {
        "title": {"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left"},
        "height": height, "margin": {"l": 70, "r": 20, "t": 50, "b": 55}, "font": _FONT,
        "hovermode": "closest", "plot_bgcolor": "white", "paper_bgcolor": "white",
        "uirevision": "poptune",  # a live redraw keeps the reader's zoom and hidden traces
        "xaxis": {"gridcolor": "#eaeef2"}, "yaxis": {"gridcolor": "#eaeef2"},
    }
    layout.update(extra)
    return layout
