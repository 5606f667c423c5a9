"""The report page of one run: summary, best member, schedule, pictures, members, configuration.

Pictures are interactive plotly figures when plotly is installed (hover, zoom, legend
toggling), else the static matplotlib PNGs, else a line saying what to install: the page
stays useful with whatever the environment has.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
from dataclasses import dataclass, field
from typing import Any

from poptune.core import events as ev
from poptune.errors import PoptuneError
from poptune.progress import format_value
from poptune.report.config import config_rows
from poptune.report import league
from poptune.report.html import DRAW_SCRIPT, card, esc, figure_slots, figures_data, head, plotly_js, table
from poptune.result import Result

CAPTIONS = {
    "scores": "Score of every member over its own steps (hover a point for its member, step, score and "
              "hyperparameters; drag to zoom, double-click to zoom out; click a legend entry to hide or show "
              "it, double-click to show it alone). Red: the best model's lineage, the chain of members that "
              "trained the final best model, following exploits back (not the best member's own early history, "
              "which it threw away when it copied another). Diamonds: exploits (the target continues from the "
              "source's state).",
    "schedule": "Hyperparameters along the best model's lineage, over the training steps the model received; "
                "shading marks which member trained it (m3: member 3).",
    "lineage": "Who copied whom, when: one row per member, each step coloured by its score's rank among all "
               "reports (the colour bar names the scores), so the top of the range stays distinguishable; "
               "arrows are exploits; red is the best model's lineage.",
    "drift": "Every member's hyperparameters over its steps: how the population moved through the space. "
             "Red: the best model's lineage. Click a member in the legend to hide it in every panel.",
}
STATIC_CAPTIONS = {
    "scores": "Score of every member over its own steps. Red: the best model's lineage, the chain of members "
              "that trained the final best model, following exploits back. Dashed arrows are exploits: the "
              "target (arrow head) copied the source's state (arrow tail).",
    "schedule": CAPTIONS["schedule"],
    "lineage": CAPTIONS["lineage"],
    "drift": "Every member's hyperparameters over its steps: how the population moved through the space. "
             "Red: the best model's lineage.",
}


@dataclass
class Pictures:
    """The page's pictures: plotly ``figures``, else PNG ``images`` (data URIs), else a ``reason``
    (why there are no interactive pictures, or none at all)."""

    figures: dict[str, dict] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def pictures(result: Result, static: bool = False) -> Pictures:
    """Interactive figures of ``result`` (or static PNGs with ``static=True`` or without plotly)."""
    why = "static pictures were asked for"
    if not static:
        try:
            plotly_js()
            from poptune.plots.interactive import figures

            return Pictures(figures=figures(result))
        except PoptuneError as err:
            why = str(err)
    try:
        from poptune.plots import plots_for
        from poptune.plots.mpl import pyplot

        plt = pyplot()
    except PoptuneError as err:
        return Pictures(reason=f"{why}; {err}")
    images = {}
    for name, plot in plots_for(result).items():
        fig = plot(result)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90)
        plt.close(fig)
        images[name] = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return Pictures(images=images, reason=why)


def render(result: Result, shown: Pictures, live: bool = False) -> str:
    """The report of ``result`` as an HTML string; ``live``: the page of ``poptune serve``, which
    asks the server for new data every few seconds and redraws."""
    from poptune.report.live import LIVE_SCRIPT

    parts = [
        head(f"poptune report: {result.dir}", plotly=bool(shown.figures)),
        *(["<p class='live' id='live-line'>Live: this page follows the run (poptune serve).</p>"] if live else []),
        f"<div id='live-summary'>{summary_html(result)}</div>",
        "<h2>Pictures</h2>",
        pictures_html(shown),
        *([league.section(result, shown)] if result.config.get("league") else []),
        f"<div id='live-tables'>{tables_html(result)}</div>",
        f"<script>{DRAW_SCRIPT}</script>" if shown.figures else "",
        f"<script>{LIVE_SCRIPT}</script>" if live else "",
        f"<script>{_IMAGES_SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts)


def summary_html(result: Result) -> str:
    """The top of the page: status, cards, best member, metadata, discovered schedule."""
    cfg = result.config
    status = result.status
    best = result.best
    parts = [
        f"<h1>poptune run <span class='status {esc(status)}'>{esc(status)}</span></h1>",
        f"<p class='sub'>{esc(str(result.dir))} &middot; {_started(result)} &middot; {_duration(result)}</p>",
        f"<p>Population Based Training of {len(result.members)} members for {cfg['steps']} steps each. "
        f"{ready_sentence(cfg)} A poorly ranked member <em>exploits</em> a better one (copies its "
        "state and hyperparameters) and <em>explores</em> (changes those hyperparameters). The best model's "
        "history is its <em>lineage</em>; the hyperparameters along it are the <em>schedule</em> PBT discovered.</p>",
        "<div class='cards'>",
        card(format_value(best.score), f"best score (member {best.id}, step {best.step})"),
        card(f"{len(result.members)} x {cfg['steps']}", "members x steps"),
        card(f"{len(result.reports)}", "reports"),
        card(str(len(result.exploits)), "exploits"),
        card(str(len(result.failures)), "failures"),
        *([card(str(sum(result.untrained().values())), f"steps never trained ({len(result.untrained())} members "
                f"failed for good)")] if result.untrained() else []),
        "</div>",
        "<h2>Best member</h2>",
        f"<p>Member {best.id}, {esc(best.status)}, generation {best.generation}, score {format_value(best.score)} "
        f"({esc(result.direction)}) at step {best.step}.</p>",
        table(["hyperparameter", "value"], [[k, format_value(v)] for k, v in best.hparams.items()], text=(0,)),
    ]
    metrics = last_metrics(result, best.id, best.step)
    if metrics:
        parts.append(table(["metric at that step", "value"], [[k, format_value(v)] for k, v in metrics.items()],
                           text=(0,)))
    if cfg.get("metadata"):
        parts += ["<h2>About this run</h2>",
                  table(["key", "value"], [[k, v if isinstance(v, str) else json.dumps(v, default=str)]
                                           for k, v in cfg["metadata"].items()], text=(0, 1))]
    parts += ["<h2>Discovered schedule</h2>", schedule_table(result)]
    return "\n".join(parts)


def tables_html(result: Result) -> str:
    """The bottom of the page: members, failures, configuration."""
    parts = ["<h2>Members</h2>", members_table(result)]
    if result.failures:
        parts += ["<h2>Failures</h2>", _failures(result)]
    parts += ["<h2>Run configuration</h2>",
              table(["setting", "value"], config_rows(result.config), text=(0,), cls={1: "config"})]
    return "\n".join(parts)


# Marks the page once every image has decoded (read by the browser test and by curious users).
_IMAGES_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var ok = images.filter(function (img) { return img.complete && img.naturalWidth > 0; }).length;
  document.body.setAttribute("data-images-loaded", ok + "/" + images.length);
});
"""


def pictures_html(shown: Pictures) -> str:
    """The pictures section: plotly placeholders and every figure's data (a league's pictures
    have their places in its own section), PNGs, or why there are none."""
    if shown.figures:
        names = [n for n in shown.figures if n not in league.FIGURES]
        return "\n".join([*figure_slots(names, CAPTIONS), figures_data(shown.figures)])
    if shown.images:
        note = (f"<p class='sub' id='static-note'>Static pictures: no hover, zoom or legend toggling, because "
                f"{esc(shown.reason)}.</p>")
        return note + "\n".join(f"<figure><img src='{uri}' alt='{esc(name)} plot'>"
                                f"<figcaption>{esc(STATIC_CAPTIONS[name])}</figcaption></figure>"
                                for name, uri in shown.images.items() if name not in league.FIGURES)
    return f"<p>No pictures: {esc(shown.reason)}</p>"


def ready_sentence(cfg: dict) -> str:
    """How members were ready and exploited, in one sentence (HTML)."""
    if cfg.get("schedule"):
        return "Members followed a fixed schedule (no exploit)."
    if cfg.get("interval") is None or cfg.get("exploit") is None:
        return "Members trained independently (no exploit): a random-search baseline."
    mode = "all together (synchronous)" if cfg.get("synchronous") else "each on its own (asynchronous)"
    every = "At every step" if cfg["interval"] == 1 else f"Every {cfg['interval']} steps"
    return f"{every} members were <em>ready</em>, {mode}, with {esc(str(cfg['exploit']))}."


def schedule_table(result: Result) -> str:
    """The best lineage's stretches: steps, member, generation and hyperparameters."""
    names = list(result.space.domains)
    rows = [
        [f"{s.start + 1}-{s.end}", s.member, s.generation, *(format_value(s.hparams[k]) for k in names)]
        for s in result.lineage()
        if s.end > s.start
    ]
    note = (
        "<p class='sub'>Steps count the training the best model received; each row is a stretch trained "
        "by one member with one set of hyperparameters.</p>"
    )
    return note + table(["steps", "member", "generation", *names], rows)


def members_table(result: Result) -> str:
    """One row per member, best first."""
    return table(MEMBER_COLUMNS, member_rows(result), text=(1, 8), id="members")


MEMBER_COLUMNS = ["member", "status", "step", "score", "best score", "gen", "exploits", "copied", "hyperparameters"]


def member_rows(result: Result) -> list[list[Any]]:
    """The rows of :func:`members_table` (also sent to the live dashboard)."""
    best_score = result.best_scores()
    return [
        [m.id, m.status, m.step, format_value(m.score), format_value(best_score[m.id]),
         m.generation, m.exploits, m.copied, " ".join(f"{k}={format_value(v)}" for k, v in m.hparams.items())]
        for m in result.ranked()
    ]


def _failures(result: Result) -> str:
    items = []
    for f in result.failures:
        items.append(
            f"<details><summary>member {f.member}, step {f.step}, attempt {f.attempt}: {esc(f.error)}</summary>"
            f"<pre>{esc(f.traceback or f.error)}</pre></details>"
        )
    return "\n".join(items)


def last_metrics(result: Result, member: int, step: int) -> dict:
    """The metrics ``member`` reported with its score at ``step``."""
    for r in result.reports:
        if r.member == member and r.step == step:
            return dict(r.metrics)
    return {}


def _started(result: Result) -> str:
    start = result.events[0].time
    return "started " + datetime.datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M:%S")


def _duration(result: Result) -> str:
    ends = [e.time for e in result.events if isinstance(e, ev.SessionEnded)]
    last = ends[-1] if ends else result.events[-1].time
    return f"{last - result.events[0].time:.1f} s"
