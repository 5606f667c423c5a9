"""Head-to-head records and the payoff (win-rate) matrix of a league.

``P[i, j]`` is the share of games ``players[i]`` won against ``players[j]``, a draw counting
half; a team game or free-for-all counts once for every pair of opponents (see
:meth:`Match.pairs <poptune.league.Match.pairs>`). A pair that never met has no win rate:
``NaN`` by default, or the ``unseen`` value you choose (``0.5``, "even", is the usual prior),
always with count 0. The diagonal is ``0.5``: a player is even with itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from poptune.errors import ConfigError
from poptune.league.outcomes import Match
from poptune.league.players import Player, as_player


class HeadToHead:
    """Games and wins between every pair of players that met, added match by match.

    An accumulator: :meth:`add` changes it (the league's reducer owns one and adds each match
    once); matchmaking only reads it. Costs O(pairs in the match) per match.

    Examples:
        >>> h = HeadToHead.from_matches([Match([0, 1], [1, 2]), Match([0, 1], [1, 1])])
        >>> h.games(0, 1), h.wins(0, 1), h.win_rate(1, 0), h.win_rate(0, 2), h.win_rate(0, 2, prior=0.5)
        (2, 1.5, 0.25, nan, 0.5)
    """

    def __init__(self):
        self._games: dict[tuple[Player, Player], int] = {}
        self._wins: dict[tuple[Player, Player], float] = {}
        self._players: dict[Player, None] = {}  # insertion-ordered set

    @classmethod
    def from_matches(cls, matches: Iterable[Match]) -> HeadToHead:
        """A record of ``matches``."""
        record = cls()
        for match in matches:
            record.add(match)
        return record

    def add(self, match: Match) -> HeadToHead:
        """Count ``match`` (returns this record)."""
        if not isinstance(match, Match):
            raise ConfigError(f"HeadToHead.add: expected a poptune.league.Match, got {match!r}")
        for p in match.players:
            self._players.setdefault(p)
        for a, b, result in match.pairs():
            for key, r in (((a, b), result), ((b, a), 1.0 - result)):
                self._games[key] = self._games.get(key, 0) + 1
                self._wins[key] = self._wins.get(key, 0.0) + r
        return self

    def forget(self, player) -> HeadToHead:
        """Drop every game of ``player`` (a member reset to a fresh start is a new player)."""
        player = as_player(player)
        for key in [k for k in self._games if player in k]:
            del self._games[key], self._wins[key]
        return self

    def renamed(self, old, new) -> HeadToHead:
        """A copy with ``old``'s games as ``new``'s (an exploit target holds its source's policy)."""
        old, new = as_player(old), as_player(new)
        swap = {old: new, new: old}  # (games between the two stay between the two)
        copy = HeadToHead()
        for (a, b), games in self._games.items():
            key = (swap.get(a, a), swap.get(b, b))
            copy._games[key], copy._wins[key] = games, self._wins[(a, b)]
        copy._players = {swap.get(p, p): None for p in self._players}
        return copy

    @property
    def players(self) -> list[Player]:
        """Every player seen, in order of first appearance."""
        return list(self._players)

    def games(self, a, b) -> int:
        """How many times ``a`` met ``b``."""
        return self._games.get((as_player(a), as_player(b)), 0)

    def wins(self, a, b) -> float:
        """``a``'s wins against ``b``, a draw counting half."""
        return self._wins.get((as_player(a), as_player(b)), 0.0)

    def win_rate(self, a, b, prior: float = math.nan) -> float:
        """``a``'s share of wins against ``b``; ``prior`` if they never met (0.5 against itself)."""
        a, b = as_player(a), as_player(b)
        if a == b:
            return 0.5
        n = self._games.get((a, b), 0)
        return self._wins[(a, b)] / n if n else float(prior)

    def matrix(self, players: Sequence | None = None, unseen: float = math.nan) -> tuple[np.ndarray, np.ndarray]:
        """The payoff matrix ``P`` and the game counts, both ``(n, n)``, over ``players`` (every
        player seen, by default), pairs that never met at ``unseen``."""
        players = self.players if players is None else [as_player(p, "players[]") for p in players]
        n = len(players)
        P = np.full((n, n), float(unseen))
        counts = np.zeros((n, n), dtype=np.int64)
        for i, a in enumerate(players):
            P[i, i] = 0.5
            for j, b in enumerate(players):
                g = self._games.get((a, b), 0)
                if g and i != j:
                    counts[i, j] = g
                    P[i, j] = self._wins[(a, b)] / g
        return P, counts


def payoff(matches: Iterable[Match], players: Sequence | None = None,
           unseen: float = math.nan) -> tuple[np.ndarray, np.ndarray]:
    """The win-rate matrix of ``matches`` over ``players`` and how many games each entry rests on.

    Args:
        matches: The matches to count (matches of players outside ``players`` count only for
            the pairs inside it).
        players: Rows and columns, in order; by default every player, in order of first appearance.
        unseen: The win rate of a pair that never met: ``NaN`` (the default: "unknown") or a
            prior such as ``0.5``.

    Returns:
        ``(P, counts)``: ``P[i, j]`` the share of games ``players[i]`` won against ``players[j]``
        (draws half, diagonal 0.5), ``counts[i, j]`` the number of games (0 on the diagonal).

    Examples:
        >>> P, counts = payoff([Match([0, 1], [1, 2]), Match([1, 2], [1, 2]), Match([0, 1], [1, 1])])
        >>> P
        array([[0.5 , 0.75,  nan],
               [0.25, 0.5 , 1.  ],
               [ nan, 0.  , 0.5 ]])
        >>> counts.tolist()
        [[0, 2, 0], [2, 0, 1], [0, 1, 0]]
    """
    unseen = float(unseen)
    if not (math.isnan(unseen) or 0.0 <= unseen <= 1.0):
        raise ConfigError(f"payoff: unseen must be NaN or a win rate in [0, 1] (0.5 is the usual prior), got {unseen!r}")
    return HeadToHead.from_matches(matches).matrix(players, unseen)


__all__ = ["HeadToHead", "payoff"]
