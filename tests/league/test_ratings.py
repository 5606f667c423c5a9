import copy
import subprocess
import sys

import pytest

from poptune.errors import ConfigError, PoptuneError
from poptune.league import Elo, Match, OpenSkill, Player, Skill, as_match


def test_elo_winner_gains_exactly_what_the_loser_loses():
    elo = Elo(k=24)
    state = {Player(0): 1600.0, Player(1): 1450.0}
    new = elo.update(state, as_match([1, 0], "win"))
    gain = new[Player(1)] - 1450.0
    assert gain > 12  # the underdog's win moves more than half of k
    assert new[Player(0)] - 1600.0 == pytest.approx(-gain, abs=1e-12)
    assert gain == pytest.approx(24 * (1 - 1 / (1 + 10 ** (150 / 400))))


def test_elo_draws_move_the_weaker_up_and_equal_players_not_at_all():
    elo = Elo()
    assert elo.update({}, as_match([0, 1], "draw")) == {Player(0): 1500.0, Player(1): 1500.0}
    new = elo.update({Player(0): 1400.0}, as_match([0, 1], 0.5))
    assert new[Player(0)] > 1400 and new[Player(1)] < 1500


def test_elo_team_match_rates_every_member_by_the_team_outcome():
    elo = Elo()
    state = {Player(0): 1500.0, Player(1): 1700.0, Player(2): 1600.0, Player(3): 1600.0}
    new = elo.update(state, Match([[0, 1], [2, 3]], [1, 2]))
    assert new[Player(0)] - 1500 == pytest.approx(new[Player(1)] - 1700) == pytest.approx(16.0)  # equal means
    assert new[Player(2)] - 1600 == pytest.approx(-16.0)
    # free-for-all of three equal players: the first gains, the last loses, the total is kept
    ffa = elo.update({}, Match([4, 5, 6], [1, 2, 3]))
    assert ffa[Player(4)] > 1500 == ffa[Player(5)] > ffa[Player(6)]
    assert sum(ffa.values()) == pytest.approx(4500)


@pytest.mark.parametrize("make", [Elo, lambda: pytest.importorskip("openskill") and OpenSkill()])
def test_updates_are_pure_and_deterministic(make):
    rating = make()
    matches = [as_match([0, 1], 1), as_match([[1, 2], [0, 3]], 0.5), Match([0, 1, 2], [2, 1, 3]),
               as_match([2, Player(0, 5)], 0)]
    state = rating.update({}, matches[0])
    before = copy.deepcopy(state)
    after = rating.update(state, matches[1])
    assert state == before and after is not state
    assert rating.rate_all(matches) == make().rate_all(matches)
    assert set(rating.rate_all(matches)) == {Player(0), Player(1), Player(2), Player(3), Player(0, 5)}


@pytest.mark.parametrize("model", ["PlackettLuce", "BradleyTerryFull", "ThurstoneMostellerFull",
                                   "BradleyTerryPart", "ThurstoneMostellerPart"])
def test_openskill_orders_players_after_repeated_results(model):
    pytest.importorskip("openskill")
    rating = OpenSkill(model)
    state = {}
    for _ in range(15):
        state = rating.update(state, Match([2, 0, 1], [3, 1, 2]))
    fitness = [rating.fitness(state, Player(i)) for i in range(3)]
    assert fitness[0] > fitness[1] > fitness[2]
    assert all(state[Player(i)].sigma < rating.initial().sigma for i in range(3))  # more certain after games


def test_openskill_team_match_and_conservative_rating():
    pytest.importorskip("openskill")
    rating = OpenSkill(k=2)
    state = rating.update({}, Match([[0, 1], [2, 3]], [1, 2]))
    assert state[Player(0)].mu > 25 and state[Player(1)].mu > 25 and state[Player(2)].mu < 25
    assert rating.conservative(Skill(30.0, 2.0)) == 26.0
    assert rating.initial() == Skill(25.0, 25 / 3)
    assert OpenSkill(mu=100, sigma=10).initial() == Skill(100.0, 10.0)


def test_bad_configuration():
    with pytest.raises(ConfigError, match="k must be"):
        Elo(k=0)
    pytest.importorskip("openskill")
    with pytest.raises(ConfigError, match="PlackettLuce"):
        OpenSkill("Glicko")
    with pytest.raises(ConfigError, match="k must be"):
        OpenSkill(k=-1)
    with pytest.raises(ConfigError, match="model option"):
        OpenSkill(bogus=1)


def test_missing_openskill_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "openskill", None)
    with pytest.raises(PoptuneError, match=r"poptune\[league\]"):
        OpenSkill()


def test_importing_the_league_does_not_import_openskill():
    code = "import sys, poptune.league, poptune.league.games.kuhn; print('openskill' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
