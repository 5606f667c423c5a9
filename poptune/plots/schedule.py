"""The hyperparameter schedule along one member's lineage (default: the best)."""

from __future__ import annotations

from typing import Any

from poptune.plots.mpl import plain_text
from poptune.result import Result
from poptune.space import Choice


def schedule_series(result: Result, member: int | None = None) -> dict[str, Any]:
    """The data of :func:`plot_schedule`.

    Returns:
        ``{"member": id, "end": steps trained, "stretches": [(start, end, member)],
        "hparams": {name: {"steps": [...], "values": [...], "log": bool, "options": list | None}}}``.
        ``steps``/``values`` describe a step function: ``values[i]`` holds from ``steps[i]`` to
        ``steps[i + 1]``; the last value is repeated at ``end``.
    """
    lineage = result.lineage(member)
    schedule = result.schedule(member)
    end = lineage[-1].end
    hparams = {}
    for name, domain in result.space.domains.items():
        steps = [s for s, _ in schedule] + [end]
        values = [h[name] for _, h in schedule]
        values.append(values[-1])
        hparams[name] = {
            "steps": steps,
            "values": values,
            "log": domain.log,
            "options": list(domain.options) if isinstance(domain, Choice) else None,
        }
    return {
        "member": lineage[-1].member,
        "end": end,
        "stretches": [(s.start, s.end, s.member) for s in lineage if s.end > s.start],
        "hparams": hparams,
    }


@plain_text
def plot_schedule(result: Result, member: int | None = None):
    """One panel per hyperparameter: its value along the lineage (log axes for log domains)."""
    from poptune.plots.mpl import pyplot

    plt = pyplot()
    data = schedule_series(result, member)
    names = list(data["hparams"])
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 1.9 * len(names) + 0.8), sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        series = data["hparams"][name]
        values = series["values"]
        if series["options"] is not None:
            values = [series["options"].index(v) for v in values]
            ax.set_yticks(range(len(series["options"])), [str(o) for o in series["options"]])
        ax.step(series["steps"], values, where="post", color="tab:blue", lw=2)
        if series["log"]:
            ax.set_yscale("log")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        for i, (start, end, _) in enumerate(data["stretches"]):
            if i % 2:
                ax.axvspan(start, end, color="0.92", zorder=0)
    for start, end, owner in data["stretches"]:
        axes[0, 0].text((start + end) / 2, 1.02, f"m{owner}", transform=axes[0, 0].get_xaxis_transform(),
                        ha="center", va="bottom", fontsize=7, color="0.35")
    axes[-1, 0].set_xlabel("training steps the model received (shading: which member trained it)")
    fig.suptitle(f"Schedule along member {data['member']}'s lineage")
    fig.tight_layout()
    return fig
