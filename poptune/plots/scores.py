"""Score curves of every member, with each exploit drawn as a jump from source to target."""

from __future__ import annotations

from typing import Any

from poptune.plots.mpl import plain_text
from poptune.result import Result


def score_curves(result: Result) -> dict[str, Any]:
    """The data of :func:`plot_scores`.

    Returns:
        ``{"members": {id: {"steps": [...], "scores": [...]}}, "exploits": [{"target", "source",
        "step", "source_step", "from": (step, score), "to": (step, score)}], "best": id,
        "lineage": [(member, step, score)]}``. An exploit goes from the source's point where its
        state was saved to the target's first point after the copy; ``lineage`` is the best
        model's history (see :func:`lineage_scores`).
    """
    members: dict[int, dict[str, list]] = {m.id: {"steps": [], "scores": []} for m in result.members}
    score_at: dict[tuple[int, int], float] = {}
    for r in result.reports:
        members[r.member]["steps"].append(r.step)
        members[r.member]["scores"].append(r.score)
        score_at[(r.member, r.step)] = r.score
    jumps = []
    for x in result.exploits:
        after = next((s for s in (x.step + 1, x.step) if (x.target, s) in score_at), None)
        if (x.source, x.source_step) not in score_at or after is None:
            continue
        jumps.append(
            {
                "target": x.target,
                "source": x.source,
                "step": x.step,
                "source_step": x.source_step,
                "from": (x.source_step, score_at[(x.source, x.source_step)]),
                "to": (after, score_at[(x.target, after)]),
            }
        )
    return {"members": members, "exploits": jumps, "best": result.best.id,
            "lineage": lineage_scores(result, score_at=score_at)}


def lineage_scores(result: Result, member: int | None = None,
                   score_at: dict[tuple[int, int], float] | None = None) -> list[tuple[int, int, float]]:
    """The scores along ``member``'s lineage (default: the best model's), oldest first.

    Returns:
        ``[(member, step, score)]`` on the members' own step axes: the points of each member
        while it trained the model, so consecutive points of two members are an exploit's jump.
        This is the history of the final model, not of the member that holds it: the best
        member's own early steps belong to a model it discarded when it copied another.
    """
    if score_at is None:
        score_at = {(r.member, r.step): r.score for r in result.reports}
    points = []
    for stretch in result.lineage(member):
        for step in range(stretch.own_start + 1, stretch.own_end + 1):
            if (stretch.member, step) in score_at:
                points.append((stretch.member, step, score_at[(stretch.member, step)]))
    return points


@plain_text
def plot_scores(result: Result, ax=None):
    """Every member's score over its steps; dashed arrows are exploits (source -> target); the
    thick red line is the best model's lineage."""
    from poptune.plots.mpl import member_colors, pyplot

    plt = pyplot()
    data = score_curves(result)
    fig, ax = (plt.subplots(figsize=(9, 4.5)) if ax is None else (ax.figure, ax))
    colors = member_colors(data["members"])
    many = len(data["members"]) > 10
    for m, curve in data["members"].items():
        best = m == data["best"]
        ax.plot(curve["steps"], curve["scores"], color=colors[m], lw=1.1, alpha=0.75,
                label=f"member {m}" + (" (best)" if best else ""), zorder=2)
    if data["lineage"]:
        _, steps, scores = zip(*data["lineage"])
        ax.plot(steps, scores, color="crimson", lw=2.6, alpha=0.9, zorder=4, label="best lineage")
    for jump in data["exploits"]:
        (x0, y0), (x1, y1) = jump["from"], jump["to"]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "color": colors[jump["target"]], "lw": 0.8, "ls": "--", "alpha": 0.6})
    ax.set_xlabel("step")
    ax.set_ylabel(f"score ({result.direction})")
    ax.set_title(f"Scores of {len(data['members'])} members; dashed arrows: exploits (source -> target); "
                 f"red: the best model's lineage", fontsize=10)
    if not many:
        ax.legend(fontsize=8, ncol=2, loc="best")
    else:  # (a legend inside would hide the curves)
        ax.legend(fontsize=6.5, ncol=1 if len(data["members"]) <= 24 else 2, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
