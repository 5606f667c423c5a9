import json
import math

import numpy as np
import pytest

import poptune as pt
from poptune.league import Player
from poptune.plots import LEAGUE_PLOTS, PLOTS, plots_for, save_all
from poptune.plots.interactive import figures
from poptune.plots.league import nash_mixture, payoff_matrix, ratings_over_time
from poptune.report.html import json_for_script

from tests.league import toy


@pytest.fixture(scope="module")
def league_result(tmp_path_factory):
    return toy.run(tmp_path_factory.mktemp("league"))


@pytest.fixture(scope="module")
def quiet_league(tmp_path_factory):
    """A league whose members never play: no matches yet."""
    def train(member):
        for _ in member.steps():
            member.report(member.hparams["lr"], checkpoint=0)

    return pt.run(train, {"lr": pt.Float(0.0, 1.0)}, population=3, steps=4, interval=2, league=pt.League(),
                  runner="inline", dir=tmp_path_factory.mktemp("quiet"), seed=0, progress=False)


def test_ratings_over_time_lines_end_at_the_current_ratings(league_result):
    data = ratings_over_time(league_result)
    ratings = league_result.ratings()
    assert list(data["players"]) == [Player(m.id) for m in league_result.members]  # live members only
    assert data["initial"] == 1500.0 and data["games"] == len(league_result.matches)
    for p, series in data["players"].items():
        assert series["games"] == sorted(series["games"]) and len(series["games"]) > 5
        assert series["ratings"][-1] == pytest.approx(ratings[p])
        assert series["steps"][-1] == league_result.matches[series["games"][-1] - 1].step
    every = ratings_over_time(league_result, snapshots=True)["players"]
    snapshots = [p for p in every if p.is_snapshot]
    assert snapshots and set(snapshots) == {p for p in ratings if p.is_snapshot}


def test_payoff_matrix_is_result_payoff_over_the_most_played_players(league_result):
    data = payoff_matrix(league_result, top=8)
    players = data["players"]
    assert len(players) == 8 and data["total"] > 8 and data["labels"] == [str(p) for p in players]
    games = {}
    for m in league_result.matches:
        for p in m.players:
            games[p] = games.get(p, 0) + 1
    assert min(games[p] for p in players) >= max(n for p, n in games.items() if p not in players)
    assert data["games"] == [games[p] for p in players]
    _, P, counts = league_result.payoff(players)
    np.testing.assert_array_equal(np.array(data["P"]), P)  # (NaN where they never met, in the same places)
    assert data["counts"] == counts.tolist() and counts.sum() > 0
    ratings = league_result.ratings()
    assert [ratings[p] for p in players] == sorted((ratings[p] for p in players), reverse=True)  # best first

    rated = payoff_matrix(league_result, top=5, by="rating")["players"]
    played = sorted(games, key=lambda p: -ratings[p])
    assert set(rated) == set(played[:5])


def test_payoff_matrix_checks_its_arguments(league_result):
    with pytest.raises(ValueError, match="top must be an int >= 1, got top=0"):
        payoff_matrix(league_result, top=0)
    with pytest.raises(ValueError, match="by must be 'games' or 'rating'"):
        payoff_matrix(league_result, by="elo")


def test_nash_mixture_is_result_nash_heaviest_first(league_result):
    data = nash_mixture(league_result)
    nash = league_result.nash()
    assert set(data["players"]) == set(nash) and len(data["players"]) == len(nash)
    assert data["weights"] == [nash[p] for p in data["players"]]
    rounded = [round(w, 9) for w in data["weights"]]  # (equal weights, up to rounding, keep the players' order)
    assert rounded == sorted(rounded, reverse=True)
    assert sum(data["weights"]) == pytest.approx(1.0)
    assert 0 < data["support"] < len(nash)


def test_league_figures_carry_the_same_numbers(league_result):
    figs = figures(league_result)
    assert set(figs) == {"scores", "schedule", "lineage", "drift", "ratings", "payoff", "nash"}

    heatmap = figs["payoff"]["data"][0]
    data = payoff_matrix(league_result)
    n = len(data["players"])
    assert heatmap["x"] == heatmap["y"] == data["labels"] and n == 20
    for i in range(n):
        for j in range(n):
            p, z = data["P"][i][j], heatmap["z"][i][j]
            assert z is None if i == j or math.isnan(p) else z == p
            if i != j and data["counts"][i][j]:
                assert f"of {data['counts'][i][j]} game" in heatmap["customdata"][i][j]

    bars = {label: w for t in figs["nash"]["data"] for label, w in zip(t["x"], t["y"])}
    assert bars == {str(p): w for p, w in league_result.nash().items()}
    kinds = {t["name"]: t["x"] for t in figs["nash"]["data"]}
    assert all("@" not in x for x in kinds["live members"]) and all("@" in x for x in kinds["snapshots"])

    lines = figs["ratings"]["data"]
    assert [t["name"] for t in lines[:-1]] == [f"m{m.id}" for m in league_result.members]
    assert lines[-1]["name"].startswith("snapshots") and lines[-1]["visible"] == "legendonly"
    assert figs["ratings"]["layout"]["shapes"][0]["y0"] == 1500.0  # the initial rating, dashed
    json.loads(json_for_script(figs))  # plain data, ready for the page


def test_a_run_without_league_has_no_league_figures(tmp_path):
    def train(member):
        for _ in member.steps():
            member.report(member.hparams["lr"], checkpoint=0)

    result = pt.run(train, {"lr": pt.Float(0.0, 1.0)}, population=2, steps=2, interval=1, runner="inline",
                    dir=tmp_path, progress=False)
    assert set(figures(result)) == {"scores", "schedule", "lineage", "drift"}
    assert plots_for(result) == PLOTS


def test_a_league_without_games_still_draws(quiet_league):
    assert quiet_league.matches == []
    figs = figures(quiet_league)
    for name in ("payoff", "nash"):
        assert figs[name]["data"]  # (a figure with a trace counts as drawn on the page)
        assert [a["text"] for a in figs[name]["layout"]["annotations"]] == ["no games yet"]
    assert payoff_matrix(quiet_league)["players"] == [] and nash_mixture(quiet_league)["players"] == []


def test_league_pngs(league_result, quiet_league, tmp_path):
    pytest.importorskip("matplotlib")
    assert plots_for(league_result) == {**PLOTS, **LEAGUE_PLOTS}
    paths = save_all(league_result, tmp_path / "full", dpi=50)
    assert set(paths) == {"scores", "schedule", "lineage", "drift", "ratings", "payoff", "nash"}
    for name in LEAGUE_PLOTS:
        assert paths[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[name].stat().st_size > 5_000
    import matplotlib.pyplot as plt

    for plot in LEAGUE_PLOTS.values():
        plt.close(plot(quiet_league))  # no games: says so, draws no empty matrix
