"""Hyperparameters of all members over time: how the population drifts."""

from __future__ import annotations

from typing import Any

from poptune.plots.mpl import plain_text
from poptune.result import Result
from poptune.space import Choice
from poptune.core import events as ev


def hparam_drift(result: Result) -> dict[str, Any]:
    """The data of :func:`plot_drift`.

    Returns:
        ``{name: {"log": bool, "options": list | None, "members": {id: {"steps": [...],
        "values": [...]}}, "lineage": {"members": [...], "steps": [...], "values": [...]}}}``:
        each member's value as a step function of its own steps (a new point at every exploit
        or schedule change, and at its last step); ``lineage`` is the best model's lineage on
        the same axes, a segment per stretch (start and end point), so a jump between two
        members' segments is an exploit.
    """
    changes: dict[int, list[tuple[int, dict]]] = {}
    for e in result.events:
        if isinstance(e, ev.MemberAdded):
            changes[e.member] = [(0, e.hparams)]
        elif isinstance(e, (ev.Exploited, ev.Explored)):
            changes[e.member].append((e.step, e.new))
    last = {m.id: m.step for m in result.members}
    stretches = [s for s in result.lineage() if s.own_end > s.own_start] if result.members else []
    out = {}
    for name, domain in result.space.domains.items():
        per_member = {}
        for m, points in changes.items():
            steps = [s for s, _ in points] + [max(last.get(m, 0), points[-1][0])]
            values = [h[name] for _, h in points]
            values.append(values[-1])
            per_member[m] = {"steps": steps, "values": values}
        out[name] = {
            "log": domain.log,
            "options": list(domain.options) if isinstance(domain, Choice) else None,
            "members": per_member,
            "lineage": {
                "members": [s.member for s in stretches for _ in range(2)],
                "steps": [x for s in stretches for x in (s.own_start, s.own_end)],
                "values": [s.hparams[name] for s in stretches for _ in range(2)],
            },
        }
    return out


@plain_text
def plot_drift(result: Result):
    """One panel per hyperparameter; one line per member over its steps; red: the best lineage."""
    from poptune.plots.mpl import member_colors, pyplot

    plt = pyplot()
    data = hparam_drift(result)
    names = list(data)
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 1.9 * len(names) + 0.8), sharex=True, squeeze=False)
    colors = member_colors({m.id for m in result.members})
    for ax, name in zip(axes[:, 0], names):
        series = data[name]
        options = series["options"]
        for m, points in series["members"].items():
            values = points["values"]
            if options is not None:
                values = [options.index(v) for v in values]
            ax.step(points["steps"], values, where="post", color=colors[m], lw=0.9, alpha=0.7)
        lineage = series["lineage"]
        if lineage["steps"]:
            values = [options.index(v) for v in lineage["values"]] if options is not None else lineage["values"]
            ax.plot(lineage["steps"], values, color="crimson", lw=2.2, alpha=0.9, zorder=4)
        if series["options"] is not None:
            ax.set_yticks(range(len(series["options"])), [str(o) for o in series["options"]])
        if series["log"]:
            ax.set_yscale("log")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("member's step")
    fig.suptitle(f"Hyperparameters of all {len(result.members)} members (red: the best model's lineage, "
                 f"ending at member {result.best.id})")
    fig.tight_layout()
    return fig
