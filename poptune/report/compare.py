"""The comparison page of several runs: groups with mean ± std, figures, one row per run."""

from __future__ import annotations

import math
from collections.abc import Sequence

from poptune.plots.compare import compare_data, compare_figures
from poptune.progress import format_value
from poptune.report.html import DRAW_SCRIPT, esc, figures_block, has_plotly, head, table
from poptune.report.runs import Run

CAPTIONS = {
    "final": "The final best score of each run (the best member's latest score: the model a run delivers), "
             "one point per run (hover for its name); boxes span the group's quartiles, the dashed line and "
             "diamond mark its mean ± standard deviation.",
    "curves": "Best score of any member up to each step, per run (thin lines) and the mean ± standard deviation of "
              "each group (thick line, band). Click a group in the legend to hide it.",
    "distribution": "The latest score of every member of each run: how far the whole population got, not just "
                    "its best member.",
}


def render(runs: Sequence[Run], sources: Sequence[str]) -> str:
    """The comparison page of ``runs`` (found from the paths ``sources``) as an HTML string."""
    data = compare_data([(r.name, r.group, r.result) for r in runs])
    plotly = has_plotly()
    groups = data["groups"]
    metrics = sorted({k for g in groups.values() for k in g["metrics"]})
    parts = [
        head(f"poptune comparison: {', '.join(sources)}", plotly=plotly),
        f"<h1>poptune comparison of {len(runs)} runs in {len(groups)} groups</h1>",
        f"<p class='sub'>{esc(' '.join(sources))}</p>",
        "<p>Runs are grouped by name without their seed suffix (<code>pbt-seed3</code> is in group "
        "<code>pbt</code>); a run whose name fits no group joins the group whose runs have its settings. "
        f"Scores are {esc(data['direction'])}d; a run's <em>final best score</em> is its best member's latest "
        "score.</p>",
        f"<p>{esc(_budget_sentence(data))}</p>",
        "<h2>Groups</h2>",
        table(["group", "runs", "method", "final best score (mean ± std)", "min", "max",
               *(f"{m} of the best member (mean ± std)" for m in metrics)],
              [[g, len(info["runs"]), _methods(data, g), _pm(info["best"]), format_value(info["best"]["min"]),
                format_value(info["best"]["max"]),
                *(_pm(info["metrics"][m]) if m in info["metrics"] else "" for m in metrics)]
               for g, info in groups.items()], text=(0, 2)),
        *([f"<p>{esc(_difference(data))}</p>"] if len(groups) == 2 else []),
        "<h2>Pictures</h2>",
    ]
    if plotly:
        parts.append(figures_block(compare_figures(data), CAPTIONS))
    else:
        parts.append("<p>No pictures: interactive plots need plotly: pip install 'poptune[plot]'</p>")
    parts += [
        "<h2>Runs</h2>",
        table(["run", "group", "method", "status", "seed", "members x steps", "exploits", "final best score",
               "best member", *metrics],
              [[r["name"], r["group"], r["method"], r["status"], r["seed"], f"{r['population']} x {r['steps']}",
                r["exploits"], format_value(r["best"]["score"]), f"{r['best']['member']} (step {r['best']['step']})",
                *(format_value(r["metrics"].get(m, math.nan)) for m in metrics)]
               for r in data["runs"]], text=(0, 1, 2, 3)),
        "<p class='sub'>The report of one run: <code>poptune report RUN_DIR</code>.</p>",
        f"<script>{DRAW_SCRIPT}</script>" if plotly else "",
        "</body></html>",
    ]
    return "\n".join(parts)


def _pm(spread: dict) -> str:
    if spread["n"] == 0:
        return "nan"
    return f"{spread['mean']:.4g} ± {spread['std']:.2g}" + (f" (n={spread['n']})" if spread["n"] > 1 else " (one run)")


def _methods(data: dict, group: str) -> str:
    return ", ".join(dict.fromkeys(r["method"] for r in data["runs"] if r["group"] == group))


def _budget_sentence(data: dict) -> str:
    """What each run was given and what it trained: equal budgets make a fair comparison."""
    given = {(r["population"], r["steps"]) for r in data["runs"]}
    short = [r for r in data["runs"] if r["trained"] < r["population"] * r["steps"]]
    if len(given) == 1:
        population, steps = given.pop()
        text = (f"Equal budgets: every run was given {population} members x {steps} steps "
                f"({population * steps} training steps; an exploit copies a model, it trains no extra step).")
    else:
        listed = ", ".join(f"{r['name']}: {r['population']} x {r['steps']}" for r in data["runs"])
        text = f"The runs were given different budgets (members x steps), so compare with care: {listed}."
    if short:
        listed = ", ".join(f"{r['name']} ({r['trained']} of {r['population'] * r['steps']}, {r['status']})"
                           for r in short)
        text += f" Some runs trained fewer steps than they were given: {listed}."
    else:
        text += " Every run trained all of its steps."
    return text


def _difference(data: dict) -> str:
    (a, x), (b, y) = data["groups"].items()
    diff = x["best"]["mean"] - y["best"]["mean"]
    if math.isnan(diff):
        return f"Group {a} or {b} has no finite final score."
    better = a if (diff > 0) == (data["direction"] == "maximize") else b
    text = f"Group {a} minus group {b}: {diff:+.4g} in mean final best score"
    if x["best"]["n"] > 1 and y["best"]["n"] > 1:
        se = math.sqrt(x["best"]["std"] ** 2 / x["best"]["n"] + y["best"]["std"] ** 2 / y["best"]["n"])
        text += f" (standard error {se:.2g}, from {x['best']['n']} and {y['best']['n']} runs)"
        if diff == 0:
            return text + "."
        if abs(diff) < 2 * se:
            return text + ": less than two standard errors, so these runs do not show which group is better."
        return text + f": {better} is better by more than two standard errors."
    if diff == 0:
        return text + "."
    return text + f" ({better} is better here, but a group of one run says nothing about the spread between seeds)."
