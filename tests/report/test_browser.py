"""The pages in a real browser (headless chromium): the plots are drawn, without a JS error."""

import re
import threading

import pytest

from poptune.report import write_comparison, write_report
from poptune.report.live import make_server

from tests.report.conftest import chromium, needs_chromium
from tests.report.test_safety import evil_run  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.slow, needs_chromium]


def body(url, tmp_path, budget=6000):
    dom = chromium(f"--virtual-time-budget={budget}", "--dump-dom", url, tmp_path=tmp_path)
    match = re.search(r"<body[^>]*>", dom.stdout)
    assert match, dom.stderr[-2000:]
    return match.group(0), dom.stdout


def test_report_draws_its_four_plots_and_no_name_becomes_markup(evil_run, tmp_path):  # noqa: F811
    tag, dom = body(write_report(evil_run, tmp_path / "r.html").as_uri(), tmp_path)
    assert 'data-plots-drawn="4"' in tag and "data-js-error" not in tag, tag
    assert "<img src=\"x\"" not in dom and "onerror=\"alert" not in dom  # the names stayed text
    assert dom.count("class=\"main-svg\"") >= 4


def test_comparison_draws_its_three_plots(demo_runs, tmp_path):
    tag, _ = body(write_comparison([demo_runs / "compare"], tmp_path / "c.html").as_uri(), tmp_path)
    assert 'data-plots-drawn="3"' in tag and "data-js-error" not in tag, tag


def test_live_page_draws_and_polls_the_server(demo_runs, tmp_path):
    server = make_server(demo_runs, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        tag, dom = body(f"http://127.0.0.1:{server.server_address[1]}/", tmp_path, budget=5000)
    finally:
        server.shutdown()
        server.server_close()
    assert 'data-plots-drawn="4"' in tag and "data-js-error" not in tag, tag
    assert re.search(r"Live: run finished, 32 reports \(checked", dom)  # the page asked /api/state
