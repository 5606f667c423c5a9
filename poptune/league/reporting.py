"""What a member reports of a league game: the checked :class:`Match`, or nothing."""

from __future__ import annotations

from collections.abc import Collection
from itertools import count

from poptune.errors import UsageError
from poptune.league.outcomes import Match, as_match
from poptune.league.players import Player, as_player


def member_game(member: int, population: int, drawn: Collection[Player], opponent, outcome=None, *, ranks=None,
                scores=None, teams=None, step: int) -> Match | None:
    """The game ``member`` reports (see :meth:`poptune.Member.report_match`), checked, or
    ``None`` for a game against its own current model (checked like any other, then not rated).

    Players are live members' ids or :class:`Player` objects, or the drawn
    :class:`~poptune.league.Opponent` handles; a snapshot must be one of ``drawn``.
    """
    me = Player(member)
    if teams is None:
        sides = [[me], [as_player(getattr(opponent, "player", opponent), "opponent")]]
    else:
        if isinstance(teams, (str, bytes)) or not isinstance(teams, (list, tuple)) or not teams or \
                not all(isinstance(team, (list, tuple)) for team in teams):
            raise UsageError("report_match(teams=...) takes a list of teams, each a list of players (or drawn "
                             "opponents), this member's team first")
        sides = [[as_player(getattr(p, "player", p), "a team's player") for p in team] for team in teams]
        if me not in sides[0]:
            raise UsageError(f"report_match(teams=...): this member must be in the first team (it reports the game), "
                             f"got {teams!r}")
    for player in (p for side in sides for p in side):
        if player.member >= population:
            raise UsageError(f"{player} is not a member of this run (ids 0 to {population - 1})")
        if player.is_snapshot and player not in drawn:
            raise UsageError(f"{player} is a snapshot this member was not given; play the snapshots among "
                             f"member.opponents")
    own = sum(p == me for side in sides for p in side) > 1  # its own current model on another seat
    if own:  # every seat after the first gets a stand-in, so the game is checked as one between others
        stand_ins, first = count(population), True
        for side in sides:
            for i, player in enumerate(side):
                if player == me:
                    if not first:
                        side[i] = Player(next(stand_ins))
                    first = False
    match = as_match(sides, outcome, ranks=ranks, scores=scores, step=step)
    return None if own else match


__all__ = ["member_game"]
