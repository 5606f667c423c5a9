"""``poptune report DIR``: one self-contained HTML page about a run (plots embedded)."""

from __future__ import annotations

import base64
import datetime
import html
import io
import json
import os
from pathlib import Path
from typing import Any

from poptune.errors import PoptuneError
from poptune.files import write_atomic
from poptune.progress import format_value
from poptune.result import Result
from poptune.core import events as ev

CAPTIONS = {
    "scores": "Score of every member over its steps. Dashed arrows are exploits: the target (arrow head) "
    "copied the source's state (arrow tail).",
    "schedule": "Hyperparameters along the best model's lineage, over the training steps the model received; "
    "shading marks which member trained it.",
    "lineage": "Who copied whom, when: one row per member, coloured by score; arrows are exploits; "
    "red is the best model's lineage.",
    "drift": "Every member's hyperparameters over its steps: how the population moved through the space.",
}

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1000px;
       color: #1f2328; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #d0d7de; padding-bottom: 0.3rem; }
.sub { color: #57606a; margin-top: 0; }
.status { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 1rem; font-size: 0.85rem;
          color: white; background: #57606a; vertical-align: middle; }
.status.finished { background: #1a7f37; } .status.failed, .status.crashed { background: #cf222e; }
.status.interrupted, .status.running { background: #9a6700; }
table { border-collapse: collapse; font-size: 0.88rem; margin: 0.5rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.55rem; text-align: right; }
th { background: #f6f8fa; } td.text, th.text { text-align: left; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6rem 1rem; min-width: 9rem; }
.card .value { font-size: 1.35rem; font-weight: 600; } .card .label { color: #57606a; font-size: 0.8rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #d0d7de; }
figcaption { color: #57606a; font-size: 0.85rem; }
pre { background: #f6f8fa; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
"""

# Marks the page once every image has decoded (read by the browser test and by curious users).
_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var ok = images.filter(function (img) { return img.complete && img.naturalWidth > 0; }).length;
  document.body.setAttribute("data-images-loaded", ok + "/" + images.length);
});
"""


def write_report(run_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Write the HTML report of the run in ``run_dir`` (default ``<run_dir>/report.html``).

    Plots need matplotlib (``pip install 'poptune[plot]'``); without it the page has the tables
    and says how to get the pictures.

    Example:
        >>> import poptune as pt, tempfile
        >>> from poptune.report import write_report
        >>> d = tempfile.mkdtemp()
        >>> def train(member):
        ...     for _ in member.steps():
        ...         member.report(member.hparams["lr"], checkpoint=0)
        >>> _ = pt.run(train, {"lr": pt.Float(0.1, 1.0)}, population=2, steps=4, interval=2,
        ...            runner="inline", dir=d, progress=False)
        >>> write_report(d).name
        'report.html'
    """
    result = Result.load(run_dir)
    path = Path(out) if out is not None else Path(run_dir) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render(result, _images(result)))  # (a link there is replaced, not followed)
    return path


def _images(result: Result) -> dict[str, str] | str:
    """PNG data URIs of every plot, or the reason there are none."""
    try:
        from poptune.plots import PLOTS
        from poptune.plots.mpl import pyplot

        plt = pyplot()
    except PoptuneError as err:
        return str(err)
    images = {}
    for name, plot in PLOTS.items():
        fig = plot(result)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90)
        plt.close(fig)
        images[name] = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return images


def render(result: Result, images: dict[str, str] | str) -> str:
    """The report as an HTML string."""
    esc = html.escape
    cfg = result.config
    status = result.status
    best = result.best
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>poptune report: {esc(str(result.dir))}</title><style>{_STYLE}</style></head><body>",
        f"<h1>poptune run <span class='status {esc(status)}'>{esc(status)}</span></h1>",
        f"<p class='sub'>{esc(str(result.dir))} &middot; {_started(result)} &middot; {_duration(result)}</p>",
        f"<p>Population Based Training of {len(result.members)} members for {cfg['steps']} steps each. "
        f"{_ready_sentence(cfg)} A poorly ranked member <em>exploits</em> a better one (copies its "
        "state and hyperparameters) and <em>explores</em> (changes those hyperparameters). The best model's "
        "history is its <em>lineage</em>; the hyperparameters along it are the <em>schedule</em> PBT discovered.</p>",
        "<div class='cards'>",
        _card(format_value(best.score), f"best score (member {best.id}, step {best.step})"),
        _card(f"{len(result.members)} x {cfg['steps']}", "members x steps"),
        _card(str(len(result.exploits)), "exploits"),
        _card(str(len(result.failures)), "failures"),
        *([_card(str(sum(result.untrained().values())), f"steps never trained ({len(result.untrained())} members "
                 f"failed for good)")] if result.untrained() else []),
        "</div>",
        "<h2>Best member</h2>",
        f"<p>Member {best.id}, {esc(best.status)}, generation {best.generation}, score {format_value(best.score)} "
        f"({esc(result.direction)}) at step {best.step}.</p>",
        _table(["hyperparameter", "value"], [[k, format_value(v)] for k, v in best.hparams.items()], text=(0,)),
    ]
    metrics = _last_metrics(result, best.id, best.step)
    if metrics:
        parts.append(_table(["metric at that step", "value"], [[k, format_value(v)] for k, v in metrics.items()],
                            text=(0,)))
    if cfg.get("metadata"):
        parts += ["<h2>About this run</h2>",
                  _table(["key", "value"], [[k, json.dumps(v) if not isinstance(v, str) else v]
                                            for k, v in cfg["metadata"].items()], text=(0, 1))]
    parts += ["<h2>Discovered schedule</h2>", _schedule_table(result)]
    parts.append("<h2>Pictures</h2>")
    if isinstance(images, str):
        parts.append(f"<p>No pictures: {esc(images)}</p>")
    else:
        for name, uri in images.items():
            parts.append(f"<figure><img src='{uri}' alt='{esc(name)} plot'>"
                         f"<figcaption>{esc(CAPTIONS[name])}</figcaption></figure>")
    parts += ["<h2>Members</h2>", _members_table(result)]
    if result.failures:
        parts += ["<h2>Failures</h2>", _failures(result)]
    parts += [
        "<h2>Run configuration</h2>",
        f"<pre>{esc(json.dumps(_public_config(cfg), indent=2, default=str))}</pre>",
        f"<script>{_SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts)


def _ready_sentence(cfg: dict) -> str:
    if cfg.get("schedule"):
        return "Members followed a fixed schedule (no exploit)."
    if cfg.get("interval") is None or cfg.get("exploit") is None:
        return "Members trained independently (no exploit): a random-search baseline."
    mode = "all together (synchronous)" if cfg.get("synchronous") else "each on its own (asynchronous)"
    every = "At every step" if cfg["interval"] == 1 else f"Every {cfg['interval']} steps"
    return f"{every} members were <em>ready</em>, {mode}, with {html.escape(str(cfg['exploit']))}."


def _card(value: str, label: str) -> str:
    return f"<div class='card'><div class='value'>{html.escape(value)}</div><div class='label'>{html.escape(label)}</div></div>"


def _table(headers: list[str], rows: list[list[Any]], text: tuple[int, ...] = ()) -> str:
    """An HTML table; columns whose index is in ``text`` are left-aligned."""

    def cell(tag: str, i: int, value: Any) -> str:
        cls = " class='text'" if i in text else ""
        return f"<{tag}{cls}>{html.escape(str(value))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _schedule_table(result: Result) -> str:
    lineage = result.lineage()
    names = list(result.space.domains)
    rows = [
        [f"{s.start + 1}-{s.end}", s.member, s.generation, *(format_value(s.hparams[k]) for k in names)]
        for s in lineage
        if s.end > s.start
    ]
    note = (
        "<p class='sub'>Steps count the training the best model received; each row is a stretch trained "
        "by one member with one set of hyperparameters.</p>"
    )
    return note + _table(["steps", "member", "generation", *names], rows)


def _members_table(result: Result) -> str:
    best_score = result.best_scores()
    rows = [
        [m.id, m.status, m.step, format_value(m.score), format_value(best_score[m.id]),
         m.generation, m.exploits, m.copied, " ".join(f"{k}={format_value(v)}" for k, v in m.hparams.items())]
        for m in result.ranked()
    ]
    return _table(["member", "status", "step", "score", "best score", "gen", "exploits", "copied", "hyperparameters"],
                  rows, text=(1, 8))


def _failures(result: Result) -> str:
    items = []
    for f in result.failures:
        items.append(
            f"<details><summary>member {f.member}, step {f.step}, attempt {f.attempt}: {html.escape(f.error)}</summary>"
            f"<pre>{html.escape(f.traceback or f.error)}</pre></details>"
        )
    return "\n".join(items)


def _last_metrics(result: Result, member: int, step: int) -> dict:
    for r in result.reports:
        if r.member == member and r.step == step:
            return dict(r.metrics)
    return {}


def _public_config(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k not in ("pid", "host")}


def _started(result: Result) -> str:
    start = result.events[0].time
    return "started " + datetime.datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M:%S")


def _duration(result: Result) -> str:
    ends = [e.time for e in result.events if isinstance(e, ev.SessionEnded)]
    last = ends[-1] if ends else result.events[-1].time
    return f"{last - result.events[0].time:.1f} s"
