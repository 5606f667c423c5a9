import re

import pytest

import poptune as pt
from poptune.cli import main
from poptune.report import write_report

from tests.report.conftest import chromium, needs_chromium
from tests.report.conftest import no_plotly  # noqa: F401 (a fixture)
from tests.test_run import run



@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("report") / "run"
    run(run_dir, population=4, steps=12, interval=3, metadata={"task": "counter"})
    return run_dir


def _fetches_nothing(html: str) -> bool:
    return not re.search(r"<(?:script|img|link|iframe)[^>]*(?:src|href)=['\"]?(?:https?:)?//", html)


def test_report_is_self_contained_with_every_section_and_interactive_figures(finished):
    path = write_report(finished)
    html = path.read_text()
    for section in ("Best member", "Discovered schedule", "Pictures", "Members", "Run configuration", "About this run"):
        assert f"<h2>{section}</h2>" in html
    for name in ("scores", "schedule", "lineage", "drift"):
        assert f"id='plot-{name}'" in html
    assert "id='poptune-figures'" in html and "Plotly" in html and "<img" not in html
    assert _fetches_nothing(html)
    assert "counter" in html


def test_static_report_embeds_pngs(finished, tmp_path):
    html = write_report(finished, tmp_path / "r.html", static=True).read_text()
    images = re.findall(r"<img src='data:image/png;base64,[A-Za-z0-9+/=]+'", html)
    assert len(images) == 4
    assert "Static pictures" in html and "poptune-figures" not in html and _fetches_nothing(html)


def test_without_plotly_the_report_falls_back_to_pngs_and_says_so(finished, tmp_path, no_plotly):  # noqa: F811
    html = write_report(finished, tmp_path / "r.html").read_text()
    assert len(re.findall(r"<img src='data:image/png", html)) == 4
    assert "Static pictures" in html and "interactive plots need plotly" in html
    assert "Plotly" not in html


def test_report_without_plotly_or_matplotlib_still_has_the_tables(finished, monkeypatch, tmp_path,
                                                                  no_plotly):  # noqa: F811
    import poptune.plots.mpl as mpl

    def missing():
        raise pt.PoptuneError("plots need matplotlib: pip install 'poptune[plot]'")

    monkeypatch.setattr(mpl, "pyplot", missing)
    html = write_report(finished, tmp_path / "r.html").read_text()
    assert "No pictures: interactive plots need plotly" in html and "plots need matplotlib" in html
    assert "<h2>Members</h2>" in html


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
    assert "poptune-figures" in (tmp_path / "r.html").read_text()
    assert main(["report", str(finished), "--static", "--out", str(tmp_path / "s.html")]) == 0
    assert "data:image/png" in (tmp_path / "s.html").read_text()
    assert main(["export", str(finished), "--out", str(tmp_path / "r.csv")]) == 0
    assert (tmp_path / "r.csv").read_text().splitlines()[0].startswith("member,step,score,time")
    pytest.importorskip("pyarrow")
    assert main(["export", str(finished), "--format", "parquet", "--out", str(tmp_path / "r.parquet")]) == 0
    import pandas as pd

    assert len(pd.read_parquet(tmp_path / "r.parquet")) == 48


@pytest.mark.slow
@needs_chromium
def test_static_report_renders_in_a_headless_browser_with_every_image(finished, tmp_path):
    path = write_report(finished, tmp_path / "static.html", static=True)
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", path.as_uri(), tmp_path=tmp_path)
    assert 'data-images-loaded="4/4"' in dom.stdout, dom.stderr[-2000:]
    shot = tmp_path / "report.png"
    chromium("--hide-scrollbars", "--window-size=1100,1800", f"--screenshot={shot}", path.as_uri(), tmp_path=tmp_path)
    from PIL import Image  # matplotlib depends on pillow

    import numpy as np

    image = Image.open(shot).convert("L")
    assert image.size == (1100, 1800)
    dark = int((np.asarray(image) < 128).sum())
    assert dark > 5_000  # text and plots, not a blank page
