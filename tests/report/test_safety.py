"""Names in a run are data: none of them may become markup in a page."""

import json
import urllib.request

import pytest

import poptune as pt
from poptune.report import write_comparison, write_report
from poptune.report.live import LiveRun

EVIL = "</script><img src=x onerror=alert(1)>"


def evil_train(member):
    for _ in member.steps():
        member.report(member.hparams[EVIL], checkpoint=0, **{EVIL: 1.0})


@pytest.fixture(scope="module")
def evil_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("evil") / "<img src=x onerror=alert(2)>"
    pt.run(evil_train, {EVIL: pt.Float(0.1, 1.0), "kind": pt.Choice([EVIL, "b"])}, population=3, steps=4,
           interval=2, runner="inline", dir=run_dir, seed=0, progress=False, metadata={EVIL: EVIL})
    return run_dir


def _no_markup_from_names(html: str) -> None:
    assert "<img src=x onerror" not in html
    assert html.count("</script>") == html.count("<script")  # no script closed early
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text


def test_interactive_report_shows_names_as_text(evil_run, tmp_path):
    html = write_report(evil_run, tmp_path / "r.html").read_text()
    _no_markup_from_names(html)
    figures = html.split("id='poptune-figures'>", 1)[1].split("</script>", 1)[0]
    assert "<" not in figures and ">" not in figures
    data = json.loads(figures)
    assert any("&lt;/script&gt;" in t.get("name", "") for t in data["drift"]["data"]) or \
        "&lt;/script&gt;" in json.dumps(data["drift"]["layout"])


def test_static_report_shows_names_as_text(evil_run, tmp_path):
    _no_markup_from_names(write_report(evil_run, tmp_path / "r.html", static=True).read_text())


def test_comparison_and_live_state_show_names_as_text(evil_run, tmp_path):
    html = write_comparison([evil_run, evil_run.parent], tmp_path / "c.html").read_text()
    assert "<img src=x onerror" not in html and html.count("</script>") == html.count("<script")
    live = LiveRun(evil_run)
    _no_markup_from_names(live.page())
    answer = json.dumps(live.state())
    assert "<img src=x onerror" not in answer.replace("\\u003c", "")


def test_served_json_escapes_angle_brackets(evil_run):
    from poptune.report.live import make_server
    import threading

    server = make_server(evil_run, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/state"
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = answer.read().decode()
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "<" not in body and ">" not in body
        assert json.loads(body)["ready"] is True
    finally:
        server.shutdown()
        server.server_close()
