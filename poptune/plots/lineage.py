"""The lineage chart: who copied whom, when, each member's timeline coloured by its score."""

from __future__ import annotations

from typing import Any

from poptune.plots.colors import ScoreScale
from poptune.plots.mpl import plain_text
from poptune.result import Result


def lineage_graph(result: Result, member: int | None = None) -> dict[str, Any]:
    """The data of :func:`plot_lineage`.

    Returns:
        ``{"members": {id: {"steps", "scores", "colors"}}, "edges": [{"source", "target",
        "source_step", "step"}], "path": [(member, own_start, own_end)], "ticks": [(color,
        score)]}`` where ``path`` is the lineage of ``member`` (default: the best) on the members'
        own step axes. ``colors`` are the scores' ranks among all reports (0 worst, 1 best, ``None``
        for NaN; see :class:`~poptune.plots.colors.ScoreScale`): the colour scale resolves the top
        of the range, and ``ticks`` name the scores at a few colours.
    """
    scale = ScoreScale((r.score for r in result.reports), result.direction)
    members: dict[int, dict[str, list]] = {m.id: {"steps": [], "scores": [], "colors": []} for m in result.members}
    for r in result.reports:
        members[r.member]["steps"].append(r.step)
        members[r.member]["scores"].append(r.score)
        members[r.member]["colors"].append(scale.position(r.score))
    edges = [{"source": x.source, "target": x.target, "source_step": x.source_step, "step": x.step}
             for x in result.exploits]
    path = [(s.member, s.own_start, s.own_end) for s in result.lineage(member)]
    return {"members": members, "edges": edges, "path": path, "ticks": scale.ticks()}


@plain_text
def plot_lineage(result: Result, member: int | None = None):
    """Members as rows over steps, coloured by score rank; arrows are exploits; red: the best lineage."""
    import numpy as np
    from matplotlib.collections import LineCollection

    from poptune.plots.mpl import pyplot

    plt = pyplot()
    data = lineage_graph(result, member)
    n = len(data["members"])
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.32 * n + 1.4)))
    cmap = plt.get_cmap("viridis")
    norm = plt.Normalize(0.0, 1.0)
    for m, series in data["members"].items():
        steps = np.asarray([0] + series["steps"], dtype=float)
        if len(steps) < 2:
            continue
        colors = np.asarray([np.nan if c is None else c for c in series["colors"]], dtype=float)
        segments = np.stack([np.column_stack([steps[:-1], [m] * (len(steps) - 1)]),
                             np.column_stack([steps[1:], [m] * (len(steps) - 1)])], axis=1)
        lines = LineCollection(segments, cmap=cmap, norm=norm, linewidths=5, capstyle="butt")
        lines.set_array(colors)
        ax.add_collection(lines)
    for edge in data["edges"]:
        ax.annotate("", xy=(edge["step"], edge["target"]), xytext=(edge["source_step"], edge["source"]),
                    arrowprops={"arrowstyle": "->", "color": "0.35", "lw": 0.7, "alpha": 0.7})
    for owner, start, end in data["path"]:
        ax.plot([start, end], [owner, owner], color="crimson", lw=2.2, solid_capstyle="butt")
    for (a, _, a_end), (b, b_start, _) in zip(data["path"], data["path"][1:]):
        if a != b:
            ax.annotate("", xy=(b_start, b), xytext=(a_end, a),
                        arrowprops={"arrowstyle": "->", "color": "crimson", "lw": 1.6})
    ax.set_xlim(0, max((s for m in data["members"].values() for s in m["steps"]), default=1) + 0.5)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_yticks(sorted(data["members"]))
    ax.set_ylabel("member")
    ax.set_xlabel("member's step")
    ax.invert_yaxis()
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="score (colours by rank)", pad=0.01)
    if data["ticks"]:
        bar.set_ticks([p for p, _ in data["ticks"]], labels=[f"{v:.4g}" for _, v in data["ticks"]])
    ax.set_title("Lineage: arrows are exploits (source -> target); red: the best model's lineage")
    fig.tight_layout()
    return fig
