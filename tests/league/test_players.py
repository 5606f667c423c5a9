import pytest

from poptune.errors import ConfigError
from poptune.league import Player, as_player


def test_players_are_hashable_values_and_sort_snapshots_before_the_live_member():
    assert Player(1, 5) == Player(1, 5) and len({Player(1, 5), Player(1, 5), Player(1)}) == 2
    assert sorted([Player(2), Player(1), Player(1, 9), Player(1, 3)]) == [Player(1, 3), Player(1, 9), Player(1),
                                                                           Player(2)]
    assert Player(1, 3).live == Player(1) and not Player(1).is_snapshot


@pytest.mark.parametrize("value", [Player(3), Player(3, 0), 3])
def test_json_round_trip(value):
    player = as_player(value)
    assert Player.from_json(player.to_json()) == player


@pytest.mark.parametrize("bad, words", [((1, 2), "not a tuple"), ("m1", "member's id"), (True, "member's id")])
def test_as_player_refuses_what_is_not_a_player(bad, words):
    with pytest.raises(ConfigError, match=words):
        as_player(bad)


@pytest.mark.parametrize("kwargs", [dict(member=1.5), dict(member=1, step=-1), dict(member=1, step="5")])
def test_player_validates(kwargs):
    with pytest.raises(ConfigError, match="Player"):
        Player(**kwargs)
