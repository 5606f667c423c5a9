"""The League section of a run's report: present for a self-play league, absent otherwise."""

import json
import math
import re

import pytest

import poptune as pt
from poptune.league import Elo, Uniform
from poptune.plots.league import payoff_matrix
from poptune.report import write_report
from poptune.report.live import LiveRun

from tests.league import toy
from tests.report.conftest import chromium, needs_chromium
from tests.report.conftest import no_plotly  # noqa: F401 (a fixture)

EVIL = "</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def league_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("league") / "run"
    toy.run(run_dir)
    return run_dir


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("plain") / "run"
    pt.run(_plain_train, toy.SPACE, population=3, steps=4, interval=2, runner="inline", dir=run_dir, seed=0,
           progress=False)
    return run_dir


def _plain_train(member):
    for _ in member.steps():
        member.report(member.hparams["lr"], checkpoint=0)


def _league_section(html: str) -> str:
    """From the League heading to the Members table."""
    start = html.index("<h2 id='league'>League</h2>")
    return html[start:html.index("<h2>Members</h2>", start)]


def _figures(html: str) -> dict:
    return json.loads(html.split("id='poptune-figures'>", 1)[1].split("</script>", 1)[0])


def test_league_report_has_the_section_its_cards_and_three_figures(league_run, tmp_path):
    result = pt.Result.load(league_run)
    html = write_report(league_run, tmp_path / "r.html").read_text()
    assert html.count("<h2 id='league'>League</h2>") == 1
    assert html.index("<h2>Pictures</h2>") < html.index("<h2 id='league'>") < html.index("<h2>Members</h2>")
    section = _league_section(html)
    for name in ("ratings", "payoff", "nash"):
        assert f"id='plot-{name}'" in section  # placed in the League section...
        assert f"id='plot-{name}'" not in html.replace(section, "")  # ...and nowhere else
    assert f"<div class='value'>{len(result.matches)}</div><div class='label'>matches</div>" in section
    snapshots = {p for p in result.ratings() if p.is_snapshot}
    assert f"<div class='value'>{len(snapshots)}</div><div class='label'>snapshots (every 4 steps" in section
    assert "Nash mixture" in section and "policy" in section and "1500" in section  # captions say how to read them

    figures = _figures(html)
    assert set(figures) == {"scores", "schedule", "lineage", "drift", "ratings", "payoff", "nash"}
    heatmap = figures["payoff"]["data"][0]
    players, P, counts = result.payoff(payoff_matrix(result)["players"])
    assert heatmap["y"] == [str(p) for p in players]
    for i in range(len(players)):
        for j in range(len(players)):
            expected = None if i == j or math.isnan(P[i, j]) else P[i, j]
            assert heatmap["z"][i][j] == pytest.approx(expected) if expected is not None else heatmap["z"][i][j] is None
    assert sum(int(m) for row in heatmap["customdata"] for m in re.findall(r"of (\d+) game", "".join(row))) \
        == counts.sum()
    bars = {x: y for t in figures["nash"]["data"] for x, y in zip(t["x"], t["y"])}
    assert bars == pytest.approx({str(p): w for p, w in result.nash().items()})


def test_league_players_table_lists_the_best_rated(league_run, tmp_path):
    result = pt.Result.load(league_run)
    html = write_report(league_run, tmp_path / "r.html").read_text()
    table = html.split("<table id='league-players'>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td class='text'>([^<]+)</td><td class='text'>\w+</td><td>([\d.]+)</td>", table)
    ratings = {str(p): r for p, r in result.ratings().items()}
    assert len(rows) == 10
    assert [float(r) for _, r in rows] == sorted((float(r) for _, r in rows), reverse=True)
    assert all(float(r) == pytest.approx(ratings[name], abs=0.06) for name, r in rows)


def test_a_run_without_league_has_no_league_section(plain_run, tmp_path):
    html = write_report(plain_run, tmp_path / "r.html").read_text()
    assert "League" not in html and "id='live-league'" not in html
    assert set(_figures(html)) == {"scores", "schedule", "lineage", "drift"}
    assert "league" not in LiveRun(plain_run).state()["sections"]


def test_static_league_report_puts_its_pngs_in_the_league_section(league_run, tmp_path):
    html = write_report(league_run, tmp_path / "r.html", static=True).read_text()
    section = _league_section(html)
    assert [alt for alt in re.findall(r"alt='(\w+) plot'", section)] == ["ratings", "payoff", "nash"]
    assert len(re.findall(r"<img src='data:image/png;base64,", html)) == 7
    assert "Each cell shows its rate" in section and "Hover" not in section  # the static captions


def test_without_any_pictures_the_league_section_keeps_its_cards_and_table(league_run, monkeypatch, tmp_path,
                                                                           no_plotly):  # noqa: F811
    import poptune.plots.mpl as mpl

    def missing():
        raise pt.PoptuneError("plots need matplotlib: pip install 'poptune[plot]'")

    monkeypatch.setattr(mpl, "pyplot", missing)
    section = _league_section(write_report(league_run, tmp_path / "r.html").read_text())
    assert "<table id='league-players'>" in section and "<figure>" not in section


def test_live_dashboard_refreshes_the_league_section(league_run):
    live = LiveRun(league_run)
    state = live.state()
    assert "<table id='league-players'>" in state["sections"]["league"]
    assert {"ratings", "payoff", "nash"} <= set(state["figures"])
    assert "<div id='live-league'>" in live.page()


class _EvilUniform(Uniform):
    def __repr__(self):
        return EVIL


class _EvilElo(Elo):
    def __repr__(self):
        return EVIL


def test_league_names_are_shown_as_text(tmp_path):
    league = pt.League(_EvilUniform(), _EvilElo(), opponents=2)
    toy.run(tmp_path / "evil", league=league, population=3, steps=4, interval=2)
    html = write_report(tmp_path / "evil", tmp_path / "r.html").read_text()
    assert "<img src=x onerror" not in html
    assert html.count("</script>") == html.count("<script")
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in _league_section(html)
    title = _figures(html)["ratings"]["layout"]["title"]["text"]
    assert "&lt;/script&gt;" in title and "<" not in title


@pytest.mark.slow
@needs_chromium
def test_league_report_draws_its_seven_plots_in_a_browser(league_run, tmp_path):
    url = write_report(league_run, tmp_path / "r.html").as_uri()
    dom = chromium("--virtual-time-budget=8000", "--dump-dom", url, tmp_path=tmp_path).stdout
    tag = re.search(r"<body[^>]*>", dom).group(0)
    assert 'data-plots-drawn="7"' in tag and "data-js-error" not in tag, tag
