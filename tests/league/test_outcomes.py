import pytest

from poptune.errors import ConfigError
from poptune.league import Match, Player, as_match, parse_outcome


@pytest.mark.parametrize("outcome, ranks", [(1, (1, 2)), (1.0, (1, 2)), (True, (1, 2)), ("win", (1, 2)),
                                            (0, (2, 1)), (False, (2, 1)), ("Loss", (2, 1)),
                                            (0.5, (1, 1)), ("draw", (1, 1))])
def test_two_sided_outcomes_from_the_first_sides_view(outcome, ranks):
    assert parse_outcome(outcome) == ranks
    match = as_match([0, Player(1, 10)], outcome, step=7)
    assert match.ranks == ranks and match.step == 7 and match.players == (Player(0), Player(1, 10))


@pytest.mark.parametrize("bad", [0.7, 2, "won", None, [1, 0]])
def test_bad_outcomes_are_refused(bad):
    with pytest.raises(ConfigError, match="outcome"):
        parse_outcome(bad)


def test_ranks_and_scores_normalize_to_competition_ranking():
    assert as_match([0, 1, 2, 3], ranks=[2, 9, 2, 0.5]).ranks == (2, 4, 2, 1)
    assert as_match([0, 1, 2], scores=[10, 10, -3]).ranks == (1, 1, 3)
    assert Match([0, 1], [5, 7]) == Match([0, 1], [1, 2])


def test_teams_and_pairs():
    match = as_match([[0, 1], (2, Player(3, 4))], outcome="loss")
    assert match.teams == ((Player(0), Player(1)), (Player(2), Player(3, 4)))
    assert match.winners == (Player(2), Player(3, 4)) and not match.is_draw
    pairs = list(match.pairs())
    assert len(pairs) == 4 and all(r == 0.0 for _, _, r in pairs)
    assert {(a.member, b.member) for a, b, _ in pairs} == {(0, 2), (0, 3), (1, 2), (1, 3)}


@pytest.mark.parametrize("call, words", [
    (lambda: as_match([0, 1, 2], 1), "pass ranks"),
    (lambda: as_match([0, 1], 1, ranks=[1, 2]), "exactly one"),
    (lambda: as_match([0, 1]), "exactly one"),
    (lambda: as_match([0, 0], 1), "appear twice"),
    (lambda: as_match([[0, 1], [1]], 1), "appear twice"),
    (lambda: as_match([0, []], 1), "team 1 is empty"),
    (lambda: as_match([0, 1], ranks=[1]), "2 numbers"),
    (lambda: as_match([0, 1], scores=[1, float("nan")]), "finite"),
    (lambda: as_match([0], ranks=[1]), "two or more"),
    (lambda: as_match([0, 1], 1, step=-2), "step"),
])
def test_clear_errors(call, words):
    with pytest.raises(ConfigError, match=words):
        call()


def test_dict_round_trip_and_immutability():
    match = Match([[0, Player(1, 3)], [2]], [1, 1], step=4)
    assert Match.from_dict(match.to_dict()) == match and hash(match) == hash(Match.from_dict(match.to_dict()))
    with pytest.raises(AttributeError):
        match.step = 5
