import math

import numpy as np
import pytest

from poptune.errors import ConfigError
from poptune.league import HeadToHead, Match, Player, as_match, payoff


def test_win_rates_count_draws_half_and_stay_consistent():
    matches = [as_match([0, 1], o) for o in (1, 1, 0, 0.5)] + [as_match([1, 2], 1)]
    P, counts = payoff(matches, [0, 1, 2])
    assert P[0, 1] == pytest.approx(2.5 / 4) and P[1, 0] == pytest.approx(1.5 / 4)
    assert counts[0, 1] == counts[1, 0] == 4 and counts[1, 2] == 1
    seen = counts > 0
    np.testing.assert_allclose((P + P.T)[seen], 1.0)
    assert np.isnan(P[0, 2]) and counts[0, 2] == 0 and (np.diag(P) == 0.5).all()
    P, _ = payoff(matches, [0, 1, 2], unseen=0.5)
    assert P[0, 2] == P[2, 0] == 0.5


def test_team_and_free_for_all_matches_count_every_pair_of_opponents():
    P, counts = payoff([Match([[0, 1], [2]], [1, 2]), Match([0, 1, 2], [3, 2, 1])], [0, 1, 2])
    assert counts.tolist() == [[0, 1, 2], [1, 0, 2], [2, 2, 0]]
    assert P[0, 2] == 0.5 and P[1, 2] == 0.5 and P[0, 1] == 0.0  # teammates in game 1 have no result there


def test_players_choose_rows_and_default_to_order_of_appearance():
    matches = [Match([Player(5, 10), 3], [1, 2])]
    P, _ = payoff(matches)
    assert P[0, 1] == 1.0
    assert HeadToHead.from_matches(matches).players == [Player(5, 10), Player(3)]
    P, counts = payoff(matches, [3, 7])
    assert counts.sum() == 0 and np.isnan(P[0, 1])


def test_record_is_incremental_and_win_rate_takes_a_prior():
    record = HeadToHead()
    record.add(Match([0, 1], [1, 2])).add(Match([0, 1], [1, 2]))
    assert record.win_rate(0, 1) == 1.0 and record.games(1, 0) == 2
    assert math.isnan(record.win_rate(0, 9)) and record.win_rate(0, 9, prior=0.3) == 0.3 and record.win_rate(0, 0) == 0.5


def test_bad_input():
    with pytest.raises(ConfigError, match="unseen"):
        payoff([], [0], unseen=2)
    with pytest.raises(ConfigError, match="Match"):
        HeadToHead().add(([0, 1], 1))
