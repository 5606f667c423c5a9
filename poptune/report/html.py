"""The parts every poptune page shares: style, escaping, tables, cards, and drawing figures.

A page is one self-contained file: its style, plotly.js (from the ``plotly`` package, inlined
once) and the figures' data all live in it, so it opens offline and can be mailed. Data goes
into a ``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, so no
name in a run can close the block or start markup.
"""

from __future__ import annotations

import functools
import html
import json
import math
from typing import Any

from poptune.errors import PoptuneError

esc = html.escape

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #1f2328; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #d0d7de; padding-bottom: 0.3rem; }
.sub { color: #57606a; margin-top: 0; }
.status { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 1rem; font-size: 0.85rem;
          color: white; background: #57606a; vertical-align: middle; }
.status.finished { background: #1a7f37; } .status.failed, .status.crashed { background: #cf222e; }
.status.interrupted, .status.running, .status.waiting { background: #9a6700; }
table { border-collapse: collapse; font-size: 0.88rem; margin: 0.5rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.55rem; text-align: right; }
th { background: #f6f8fa; } td.text, th.text { text-align: left; }
td.config { text-align: left; font-family: ui-monospace, monospace; font-size: 0.8rem; word-break: break-word; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6rem 1rem; min-width: 9rem; }
.card .value { font-size: 1.35rem; font-weight: 600; } .card .label { color: #57606a; font-size: 0.8rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #d0d7de; }
figure .plot { border: 1px solid #d0d7de; min-height: 200px; }
figcaption { color: #57606a; font-size: 0.85rem; }
pre { background: #f6f8fa; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
.live { font-size: 0.95rem; padding: 0.5rem 0.8rem; background: #f6f8fa; border: 1px solid #d0d7de;
        border-radius: 6px; }
"""

# Draws every figure of the page's JSON block, and again whenever the live page gets new data
# (window.poptuneDraw). Marks <body> with the number of figures drawn (a figure counts once
# plotly.js made its SVG), or with the first error: read by the browser tests, and handy for
# anyone scripting the page.
DRAW_SCRIPT = """
(function () {
  var body = document.body;
  window.addEventListener("error", function (e) {
    body.setAttribute("data-js-error", String(e.message || e).slice(0, 300));
  });
  var config = {responsive: true, displaylogo: false, scrollZoom: false};
  window.poptuneDraw = function (figures) {
    if (typeof Plotly === "undefined") {
      body.setAttribute("data-js-error", "plotly.js missing");
      return Promise.resolve();
    }
    var names = Object.keys(figures);
    return Promise.all(names.map(function (name) {
      var node = document.getElementById("plot-" + name);
      return node ? Plotly.react(node, figures[name].data, figures[name].layout, config) : null;
    })).then(function () {
      var drawn = names.filter(function (name) {
        var node = document.getElementById("plot-" + name);
        return node && node.querySelector(".main-svg") && node.data && node.data.length > 0;
      });
      body.setAttribute("data-plots-drawn", String(drawn.length));
      body.setAttribute("data-draws", String(Number(body.getAttribute("data-draws") || 0) + 1));
    }, function (err) {
      body.setAttribute("data-js-error", String(err).slice(0, 300));
    });
  };
  var node = document.getElementById("poptune-figures");
  if (node) { window.poptuneDraw(JSON.parse(node.textContent)); }
})();
"""


@functools.cache
def plotly_js() -> str:
    """plotly.js, from the ``plotly`` package (which bundles it), to inline in a page."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise PoptuneError("interactive plots need plotly: pip install 'poptune[plot]'") from None
    return get_plotlyjs()


def has_plotly() -> bool:
    """Whether plotly.js is at hand (the ``plotly`` package is installed)."""
    try:
        plotly_js()
    except PoptuneError:
        return False
    return True


def json_for_script(value: Any) -> str:
    """``value`` as JSON safe inside ``<script>``: no ``</script>``, no markup, NaN as null."""
    text = json.dumps(finite(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by ``None`` (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def figures_block(figures: dict[str, dict], captions: dict[str, str]) -> str:
    """Placeholders for ``figures`` (drawn by :data:`DRAW_SCRIPT`) and their data."""
    return "\n".join([*figure_slots(figures, captions), figures_data(figures)])


def figure_slots(names, captions: dict[str, str]) -> list[str]:
    """A placeholder with its caption for each figure named in ``names``; a page holds them
    wherever it likes, and one :func:`figures_data` block for all."""
    return [f"<figure><div class='plot' id='plot-{esc(name)}'></div><figcaption>{esc(captions.get(name, ''))}"
            f"</figcaption></figure>" for name in names]


def figures_data(figures: dict[str, dict]) -> str:
    """The page's one data block of ``figures``, read by :data:`DRAW_SCRIPT`."""
    return f"<script type='application/json' id='poptune-figures'>{json_for_script(figures)}</script>"


def head(title: str, plotly: bool) -> str:
    """``<!DOCTYPE ...><body>``: the page's style, and plotly.js when it has interactive figures."""
    script = f"<script>{plotly_js()}</script>" if plotly else ""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{STYLE}</style>{script}</head><body>")


def card(value: str, label: str, key: str | None = None) -> str:
    """A big number with a label under it; ``key`` names it for live updates."""
    data = f" data-card='{esc(key)}'" if key else ""
    return (f"<div class='card'{data}><div class='value'>{esc(value)}</div>"
            f"<div class='label'>{esc(label)}</div></div>")


def table(headers: list[str], rows: list[list[Any]], text: tuple[int, ...] = (), cls: dict[int, str] | None = None,
          id: str | None = None) -> str:
    """An HTML table; columns whose index is in ``text`` are left-aligned, ``cls`` names others' classes."""
    classes = {i: "text" for i in text} | (cls or {})

    def cell(tag: str, i: int, value: Any) -> str:
        c = f" class='{classes[i]}'" if i in classes else ""
        return f"<{tag}{c}>{esc(str(value))}</{tag}>"

    head_row = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    ident = f" id='{esc(id)}'" if id else ""
    return f"<table{ident}><thead><tr>{head_row}</tr></thead><tbody>{body}</tbody></table>"
