"""Several runs side by side: final best scores, score distributions, best-so-far curves, groups.

:func:`compare_data` is the plain data (tested on its own); :func:`compare_figures` turns it into
plotly figures (JSON-ready dicts, see :mod:`poptune.plots.interactive`).

Example:
    >>> import poptune as pt, tempfile
    >>> from poptune.plots.compare import compare_data
    >>> def train(member):
    ...     x = member.checkpoint or 0.0
    ...     for _ in member.steps():
    ...         x += member.hparams["lr"]
    ...         member.report(x, checkpoint=x)
    >>> runs = [(f"pbt-seed{s}", "pbt", pt.run(train, {"lr": pt.Float(0.01, 0.1)}, population=3, steps=4,
    ...          interval=2, runner="inline", dir=tempfile.mkdtemp(), seed=s, progress=False)) for s in (0, 1)]
    >>> data = compare_data(runs)
    >>> list(data["groups"]), data["groups"]["pbt"]["runs"]
    (['pbt'], ['pbt-seed0', 'pbt-seed1'])
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from poptune.errors import PoptuneError
from poptune.plots.colors import member_colors
from poptune.plots.interactive import base_layout, label
from poptune.result import Result
from poptune.strategies.fitness import oriented


def method_of(config: dict) -> str:
    """What a run did: ``"PBT"``, ``"random search"`` (no exploit) or ``"fixed schedule"``."""
    if config.get("schedule"):
        return "fixed schedule"
    if config.get("exploit") is None or config.get("interval") is None:
        return "random search"
    return "PBT"


def best_so_far(result: Result) -> dict[str, list]:
    """``{"steps": [1..S], "scores": [...]}``: the best score of any member at any step up to each step."""
    by_step: dict[int, float] = {}
    for r in result.reports:
        if math.isfinite(r.score) and (r.step not in by_step or
                                       oriented(r.score, result.direction) > oriented(by_step[r.step], result.direction)):
            by_step[r.step] = r.score
    steps, scores, best = [], [], math.nan
    for step in sorted(by_step):
        if math.isnan(best) or oriented(by_step[step], result.direction) > oriented(best, result.direction):
            best = by_step[step]
        steps.append(step)
        scores.append(best)
    return {"steps": steps, "scores": scores}


def compare_data(runs: Sequence[tuple[str, str, Result]]) -> dict[str, Any]:
    """The data of a comparison of ``runs``, each ``(name, group, result)``.

    Returns:
        ``{"direction", "runs": [{"name", "group", "method", "status", "seed", "population",
        "steps", "trained" (steps the members trained), "exploits", "best": {"member", "step", "score"}, "scores": [every member's latest
        score], "metrics": {name: value of the best member at its step}, "curve": best_so_far}],
        "groups": {group: {"runs": [names], "best": {"mean", "std", "min", "max", "values"},
        "metrics": {name: {"mean", "std", "n"}}, "curve": {"steps", "mean", "std"}}}}``.
        Groups keep the order of their first run.

    Raises:
        PoptuneError: The runs do not share a direction (their scores are not comparable).
    """
    if not runs:
        raise PoptuneError("nothing to compare: pass at least one run")
    directions = {r.direction for _, _, r in runs}
    if len(directions) > 1:
        which = ", ".join(f"{name} ({r.direction})" for name, _, r in runs)
        raise PoptuneError(f"the runs do not share a direction, so their scores are not comparable: {which}")
    out_runs = []
    for name, group, result in runs:
        best = result.best
        metrics = {}
        for r in result.reports:
            if r.member == best.id and r.step == best.step:
                metrics = {k: float(v) for k, v in r.metrics.items()
                           if isinstance(v, (int, float)) and not isinstance(v, bool)}
        out_runs.append({
            "name": name, "group": group, "method": method_of(result.config), "status": result.status,
            "seed": result.config.get("seed"), "population": len(result.members), "steps": result.config["steps"],
            "trained": sum(m.step for m in result.members),
            "exploits": len(result.exploits), "best": {"member": best.id, "step": best.step, "score": best.score},
            "scores": [m.score for m in result.members], "metrics": metrics, "curve": best_so_far(result),
        })
    groups: dict[str, dict] = {}
    for run in out_runs:
        groups.setdefault(run["group"], {"runs": []})["runs"].append(run["name"])
    for group, info in groups.items():
        members = [r for r in out_runs if r["group"] == group]
        info["best"] = _spread([r["best"]["score"] for r in members])
        names = [k for k in members[0]["metrics"] if all(k in r["metrics"] for r in members)]
        info["metrics"] = {k: _spread([r["metrics"][k] for r in members]) for k in names}
        info["curve"] = _mean_curve([r["curve"] for r in members])
    return {"direction": runs[0][2].direction, "runs": out_runs, "groups": groups}


def _spread(values: list[float]) -> dict[str, Any]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return {"mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan, "n": 0, "values": values}
    return {"mean": statistics.fmean(finite), "std": statistics.stdev(finite) if len(finite) > 1 else 0.0,
            "min": min(finite), "max": max(finite), "n": len(finite), "values": values}


def _mean_curve(curves: list[dict]) -> dict[str, list]:
    """Mean and standard deviation over runs at each step (over the runs that reached it)."""
    at: dict[int, list[float]] = {}
    for curve in curves:
        for step, score in zip(curve["steps"], curve["scores"]):
            at.setdefault(step, []).append(score)
    steps = sorted(at)
    return {"steps": steps, "mean": [statistics.fmean(at[s]) for s in steps],
            "std": [statistics.stdev(at[s]) if len(at[s]) > 1 else 0.0 for s in steps],
            "n": [len(at[s]) for s in steps]}


def group_colors(groups: Sequence[str]) -> dict[str, str]:
    """A colour per group, in order."""
    by_index = member_colors(range(len(groups)))
    return {g: by_index[i] for i, g in enumerate(groups)}


def compare_figures(data: dict[str, Any]) -> dict[str, dict]:
    """Plotly figures of :func:`compare_data`: ``final``, ``curves`` and ``distribution``."""
    groups = list(data["groups"])
    colors = group_colors(groups)
    score_title = {"text": f"score ({data['direction']})"}
    final = []
    for group in groups:
        runs = [r for r in data["runs"] if r["group"] == group]
        final.append({
            "type": "box", "name": label(group), "y": [r["best"]["score"] for r in runs],
            "text": [label(r["name"]) for r in runs], "boxpoints": "all", "jitter": 0.35, "pointpos": 0,
            "boxmean": "sd", "marker": {"color": colors[group], "size": 8}, "line": {"color": colors[group]},
            "hovertemplate": "%{text}<br>final best score %{y:.5g}<extra>" + label(group) + "</extra>",
        })
    curves = []
    for group in groups:
        color = colors[group]
        for run in (r for r in data["runs"] if r["group"] == group):
            curves.append({
                "type": "scatter", "mode": "lines", "name": label(run["name"]), "legendgroup": label(group),
                "showlegend": False, "x": run["curve"]["steps"], "y": run["curve"]["scores"],
                "line": {"color": color, "width": 1}, "opacity": 0.35,
                "hovertemplate": label(run["name"]) + "<br>step %{x}<br>best so far %{y:.5g}<extra></extra>",
            })
        curve = data["groups"][group]["curve"]
        upper = [m + s for m, s in zip(curve["mean"], curve["std"])]
        lower = [m - s for m, s in zip(curve["mean"], curve["std"])]
        curves.append({
            "type": "scatter", "mode": "lines", "x": curve["steps"] + curve["steps"][::-1], "y": upper + lower[::-1],
            "fill": "toself", "fillcolor": _alpha(color, 0.15), "line": {"width": 0}, "hoverinfo": "skip",
            "legendgroup": label(group), "showlegend": False, "name": label(group) + " ± std",
        })
        curves.append({
            "type": "scatter", "mode": "lines", "name": f"{label(group)} (mean of {len(data['groups'][group]['runs'])})",
            "legendgroup": label(group), "x": curve["steps"], "y": curve["mean"], "customdata": curve["std"],
            "line": {"color": color, "width": 3},
            "hovertemplate": label(group) + "<br>step %{x}<br>mean %{y:.5g} ± %{customdata:.3g}<extra></extra>",
        })
    distribution = []
    for run in data["runs"]:
        distribution.append({
            "type": "box", "name": label(run["name"]), "y": run["scores"], "boxpoints": "all", "jitter": 0.4,
            "pointpos": 0, "marker": {"color": colors[run["group"]], "size": 4}, "line": {"color": colors[run["group"]]},
            "legendgroup": label(run["group"]), "showlegend": False,
            "hovertemplate": label(run["name"]) + "<br>member score %{y:.5g}<extra></extra>",
        })
    return {
        "final": {"data": final, "layout": base_layout(
            "Final best score per run, by group (box: quartiles; dashed: mean ± std)", height=420,
            yaxis={"title": score_title}, showlegend=False)},
        "curves": {"data": curves, "layout": base_layout(
            "Best score so far over steps: each run (thin) and each group's mean ± std (band)", height=440,
            xaxis={"title": {"text": "step (every member's own)"}}, yaxis={"title": score_title})},
        "distribution": {"data": distribution, "layout": base_layout(
            "Latest score of every member, per run", height=420, yaxis={"title": score_title}, showlegend=False,
            xaxis={"tickangle": -30})},
    }


def _alpha(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
