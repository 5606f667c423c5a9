"""``poptune serve DIR``: the report of a run as a live dashboard, with the standard library only.

The server reads the run log read-only (SQLite in WAL mode: readers never block the running
controller) and only the events appended since its last read, at most once a second however
many browsers ask. The page polls ``api/state?after=VERSION``; when the run has moved on, the
answer carries the page's new sections and figures, and the page swaps them in (zoom and
hidden traces survive). Nothing is ever written to the run directory.

Example:
    >>> import threading, tempfile, urllib.request
    >>> from poptune.report.live import make_server
    >>> server = make_server(tempfile.mkdtemp(), port=0)  # port 0: any free port
    >>> thread = threading.Thread(target=server.serve_forever, daemon=True)
    >>> thread.start()
    >>> url = f"http://127.0.0.1:{server.server_address[1]}/api/state"
    >>> urllib.request.urlopen(url).read()[:22]
    b'{"version":"","ready":'
    >>> server.shutdown(); server.server_close()
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from poptune.core import events as ev
from poptune.errors import PoptuneError
from poptune.report.html import esc, finite, head, json_for_script
from poptune.result import Result
from poptune.store import Store, store_path

POLL_MS = 2000  # how often the page asks for news

# Asks the server for news every POLL_MS; swaps in new sections and figures when the run moved on.
LIVE_SCRIPT = """
(function () {
  var body = document.body;
  var line = document.getElementById("live-line");
  var version = body.getAttribute("data-version") || "";
  function say(text) { if (line) { line.textContent = text; } }
  function tick() {
    fetch("api/state?after=" + encodeURIComponent(version), {cache: "no-store"})
      .then(function (answer) { return answer.json(); })
      .then(function (state) {
        var when = new Date().toLocaleTimeString();
        if (!state.ready) { say("Live: waiting for the run to start (checked " + when + ")"); return; }
        if (!body.querySelector("#live-summary")) { location.reload(); return; }
        if (state.version !== version && state.sections) {
          version = state.version;
          Object.keys(state.sections).forEach(function (key) {
            var node = document.getElementById("live-" + key);
            if (node) { node.innerHTML = state.sections[key]; }
          });
          if (state.figures && window.poptuneDraw) { window.poptuneDraw(state.figures); }
          body.setAttribute("data-version", version);
        }
        say("Live: run " + state.status + ", " + state.reports + " reports (checked " + when + ")");
      })
      .catch(function (err) { say("Live: no answer from poptune serve (" + err + "); trying again"); })
      .then(function () { setTimeout(tick, POLL_MS); });
  }
  setTimeout(tick, POLL_MS);
})();
""".replace("POLL_MS", str(POLL_MS))


class LiveRun:
    """The run in ``run_dir`` as the server sees it: its events, read incrementally.

    Args:
        run_dir: The run directory (it may not exist yet: the page waits for the run).
        min_interval: Seconds between two reads of the run log.
    """

    def __init__(self, run_dir: str | os.PathLike, min_interval: float = 1.0):
        self.run_dir = Path(run_dir)
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._events: list[ev.Event] = []
        self._seq = 0
        self._checked = -float("inf")
        self._result: Result | None = None
        self._result_seq = 0  # the log position self._result was read to
        self._cache: tuple[str, dict] | None = None  # (version, state)
        self.error = ""

    def refresh(self) -> tuple[Result | None, int]:
        """Read what the run appended since the last read: the run (``None`` before it has a
        member) and the log position it was read to."""
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= self.min_interval:
                self._checked = now
                self._read()
            return self._result, self._result_seq

    def _read(self) -> None:
        path = store_path(self.run_dir)
        if not path.is_file():
            return
        try:
            with Store(path, readonly=True) as store:
                new = store.read(after=self._seq)
        except PoptuneError as err:  # (a log being created, say: try again next time)
            self.error = str(err)
            return
        if not new:
            return
        self._events.extend(new)
        self._seq = new[-1].seq
        try:
            result = Result(list(self._events), self.run_dir)
            result.best  # noqa: B018 (raises while the run has no member yet)
        except PoptuneError as err:
            self.error = str(err)
            return
        self._result, self._result_seq, self.error = result, self._seq, ""

    def state(self, after: str = "") -> dict[str, Any]:
        """What the page needs: ``{"version", "ready", "status", "reports"}``, plus ``"sections"``
        and ``"figures"`` when the version differs from ``after``."""
        result, seq = self.refresh()
        if result is None:
            return {"version": "", "ready": False, "status": "waiting", "reports": 0, "error": self.error}
        status = result.status  # (a crashed run changes status without a new event)
        version = f"{seq}-{status}"
        brief = {"version": version, "ready": True, "status": status, "reports": len(result.reports)}
        if after == version:
            return brief
        with self._lock:
            if self._cache is None or self._cache[0] != version:
                self._cache = (version, _full_state(result))
            return {**brief, **self._cache[1]}

    def page(self) -> str:
        """The page: the report with the live script, or a waiting page."""
        from poptune.report.page import pictures, render

        result, seq = self.refresh()
        if result is None:
            return waiting_page(self.run_dir, self.error)
        html = render(result, pictures(result), live=True)
        version = f"{seq}-{result.status}"
        return html.replace("<body>", f"<body data-version='{esc(version)}'>", 1)


def _full_state(result: Result) -> dict[str, Any]:
    from poptune.report.html import has_plotly
    from poptune.report.page import summary_html, tables_html

    state: dict[str, Any] = {"sections": {"summary": summary_html(result), "tables": tables_html(result)}}
    if result.config.get("league"):
        from poptune.report.league import league_html

        state["sections"]["league"] = league_html(result)
    if has_plotly():
        from poptune.plots.interactive import figures

        state["figures"] = finite(figures(result))
    return state


def waiting_page(run_dir: Path, error: str = "") -> str:
    """The page shown until the run has a member: it polls and reloads."""
    why = f" ({error})" if error else ""
    return "\n".join([
        head(f"poptune serve: {run_dir}", plotly=False),
        "<h1>poptune run <span class='status waiting'>waiting</span></h1>",
        f"<p class='live' id='live-line'>Waiting for the run in {esc(str(run_dir))} to start{esc(why)}; "
        "this page reloads by itself.</p>",
        f"<script>{LIVE_SCRIPT}</script></body></html>",
    ])


class _Handler(BaseHTTPRequestHandler):
    live: LiveRun  # set on the subclass make_server builds
    server_version = "poptune"

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        url = urllib.parse.urlsplit(self.path)
        try:
            if url.path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", self.live.page().encode())
            elif url.path == "/api/state":
                after = urllib.parse.parse_qs(url.query).get("after", [""])[0]
                body = json_for_script(self.live.state(after))
                self._send(200, "application/json", body.encode())
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found: poptune serve answers / and /api/state\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # (the browser went away)
        except Exception as err:  # noqa: BLE001 (one bad read must not stop the dashboard)
            self._send(500, "text/plain; charset=utf-8", f"poptune serve: {type(err).__name__}: {err}\n".encode())

    def _send(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        pass  # (a line per poll would drown the terminal)


def make_server(run_dir: str | os.PathLike, host: str = "127.0.0.1", port: int = 8080,
                refresh: float = 1.0) -> ThreadingHTTPServer:
    """An HTTP server of the live dashboard of the run in ``run_dir`` (call ``serve_forever``).

    Args:
        run_dir: The run directory, running or finished (or not started yet).
        host: Address to listen on; the default answers this machine only.
        port: TCP port; 0 picks a free one (see ``server.server_address``).
        refresh: Seconds between two reads of the run log, however many pages ask.
    """
    if not 0 <= port <= 65535:
        raise ValueError(f"poptune serve: port must be in 0..65535, got port={port}")
    handler = type("Handler", (_Handler,), {"live": LiveRun(run_dir, min_interval=refresh)})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as err:
        raise PoptuneError(f"poptune serve: cannot listen on {host}:{port} ({err.strerror or err}); "
                           f"choose another --port") from None
    server.daemon_threads = True  # (Ctrl-C does not wait for open browser connections)
    return server


def serve(run_dir: str | os.PathLike, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the live dashboard of ``run_dir`` until Ctrl-C."""
    server = make_server(run_dir, host, port)
    address = f"[{host}]" if ":" in host else host
    print(f"poptune serve: the run in {run_dir} at http://{address}:{server.server_address[1]}/ (Ctrl-C to stop)",
          flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"poptune serve: listening on {host}: anyone who can reach this machine can read the run", flush=True)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("poptune serve: stopped", flush=True)


__all__ = ["LIVE_SCRIPT", "LiveRun", "make_server", "serve", "waiting_page"]

