import re
import shutil
import subprocess

import pytest

import poptune as pt
from poptune.cli import main
from poptune.report import write_report

from tests.test_run import run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("report") / "run"
    run(run_dir, population=4, steps=12, interval=3, metadata={"task": "counter"})
    return run_dir


def test_report_is_self_contained_with_every_section(finished):
    path = write_report(finished)
    html = path.read_text()
    for section in ("Best member", "Discovered schedule", "Pictures", "Members", "Run configuration", "About this run"):
        assert f"<h2>{section}</h2>" in html
    images = re.findall(r"<img src='data:image/png;base64,[A-Za-z0-9+/=]+'", html)
    assert len(images) == 4
    assert "http://" not in html and "https://" not in html  # nothing to fetch
    assert "counter" in html


def test_report_without_matplotlib_still_has_the_tables(finished, monkeypatch, tmp_path):
    import poptune.plots.mpl as mpl

    def missing():
        raise pt.PoptuneError("plots need matplotlib: pip install 'poptune[plot]'")

    monkeypatch.setattr(mpl, "pyplot", missing)
    html = write_report(finished, tmp_path / "r.html").read_text()
    assert "No pictures: plots need matplotlib" in html and "<h2>Members</h2>" in html


def test_report_lists_failures_with_tracebacks(run_dir, tmp_path, monkeypatch):
    from tests import helpers

    monkeypatch.setenv("POPTUNE_TEST_MARKER", str(tmp_path / "marker"))
    run(run_dir, helpers.flaky, population=3, steps=8, interval=4)
    html = write_report(run_dir).read_text()
    assert "<h2>Failures</h2>" in html and "transient failure" in html


def test_cli_plot_report_export(finished, capsys, tmp_path):
    assert main(["plot", str(finished), "--out", str(tmp_path / "plots")]) == 0
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["drift.png", "lineage.png", "schedule.png", "scores.png"]
    assert main(["report", str(finished), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").exists()
    assert main(["export", str(finished), "--out", str(tmp_path / "r.csv")]) == 0
    assert (tmp_path / "r.csv").read_text().splitlines()[0].startswith("member,step,score,time")
    pytest.importorskip("pyarrow")
    assert main(["export", str(finished), "--format", "parquet", "--out", str(tmp_path / "r.parquet")]) == 0
    import pandas as pd

    assert len(pd.read_parquet(tmp_path / "r.parquet")) == 48


def _chromium(*args, tmp_path):
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_report_renders_in_a_headless_browser_with_every_image(finished, tmp_path):
    path = write_report(finished)
    dom = _chromium("--virtual-time-budget=5000", "--dump-dom", path.as_uri(), tmp_path=tmp_path)
    assert 'data-images-loaded="4/4"' in dom.stdout, dom.stderr[-2000:]
    shot = tmp_path / "report.png"
    _chromium("--hide-scrollbars", "--window-size=1100,1800", f"--screenshot={shot}", path.as_uri(), tmp_path=tmp_path)
    from PIL import Image  # matplotlib depends on pillow

    import numpy as np

    image = Image.open(shot).convert("L")
    assert image.size == (1100, 1800)
    dark = int((np.asarray(image) < 128).sum())
    assert dark > 5_000  # text and plots, not a blank page
