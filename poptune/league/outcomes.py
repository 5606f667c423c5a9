"""Match outcomes: who played (players or teams) and how they placed.

A :class:`Match` holds teams (a one-player team for a duel) and each team's rank, lower is
better, equal ranks a draw. Users describe an outcome the way their game does; :func:`as_match`
turns it into a :class:`Match`:

- two sides, ``outcome`` from the first side's view: ``1`` / ``"win"`` / ``True`` (it won),
  ``0`` / ``"loss"`` / ``False`` (it lost), ``0.5`` / ``"draw"``;
- any number of sides: ``ranks`` (1 = first, ties allowed) or ``scores`` (higher is better).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from collections.abc import Iterator, Mapping, Sequence

from poptune.errors import ConfigError
from poptune.league.players import Player, as_player

_OUTCOMES = {"win": (1, 2), "loss": (2, 1), "draw": (1, 1)}


@dataclass(frozen=True, init=False)
class Match:
    """One game between two or more teams; a player is a team of one.

    Ranks are normalized to standard competition ranking (``1`` for the best, tied teams share a
    rank, the next rank skips: ``(1, 1, 3)``), so equal matches compare equal.

    Args:
        teams: Two or more teams, each a sequence of players (a :class:`Player` or a live
            member's id); a bare player is a team of one. No player may appear twice.
        ranks: One number per team, lower is better, equal for a draw.
        step: The step at which the match was played (the reporting member's), or ``None``.

    Examples:
        >>> m = Match([[0, 1], [2, Player(3, 100)]], ranks=[2, 1], step=40)
        >>> m.teams, m.ranks
        (((Player(0), Player(1)), (Player(2), Player(3, 100))), (2, 1))
        >>> m.result(0, 1), m.result(1, 0), m.winners
        (0.0, 1.0, (Player(2), Player(3, 100)))
    """

    teams: tuple[tuple[Player, ...], ...]
    ranks: tuple[int, ...]
    step: int | None

    def __init__(self, teams: Sequence, ranks: Sequence[float], step: int | None = None):
        if isinstance(teams, (str, bytes)) or not isinstance(teams, Sequence) or len(teams) < 2:
            raise ConfigError(f"Match: teams must be a sequence of two or more teams (or players), got {teams!r}")
        normalized = tuple(_team(t, i) for i, t in enumerate(teams))
        players = [p for team in normalized for p in team]
        if len(set(players)) != len(players):
            twice = sorted({str(p) for p in players if players.count(p) > 1})
            raise ConfigError(f"Match: a player may be in one team only, but {', '.join(twice)} appear twice")
        object.__setattr__(self, "teams", normalized)
        object.__setattr__(self, "ranks", _competition_ranks(_numbers(ranks, "ranks", len(normalized))))
        if step is not None and (isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0):
            raise ConfigError(f"Match: step must be None or an int >= 0, got {step!r}")
        object.__setattr__(self, "step", None if step is None else int(step))

    @property
    def players(self) -> tuple[Player, ...]:
        """Every player, team by team."""
        return tuple(p for team in self.teams for p in team)

    @property
    def winners(self) -> tuple[Player, ...]:
        """The players of the best-ranked team(s)."""
        return tuple(p for team, r in zip(self.teams, self.ranks) if r == 1 for p in team)

    @property
    def is_draw(self) -> bool:
        """Whether every team shares one rank."""
        return len(set(self.ranks)) == 1

    def result(self, i: int, j: int) -> float:
        """Team ``i``'s result against team ``j``: 1 if it ranked better, 0.5 if tied, 0 if worse."""
        a, b = self.ranks[i], self.ranks[j]
        return 1.0 if a < b else 0.5 if a == b else 0.0

    def pairs(self) -> Iterator[tuple[Player, Player, float]]:
        """Every ``(a, b, result of a against b)`` for players on different teams, once per pair.

        A team game or a free-for-all counts as a head-to-head result between each pair of
        opponents (teammates have none), which is how :func:`~poptune.league.payoff` reads it.

        Examples:
            >>> list(Match([0, 1, 2], ranks=[2, 1, 2]).pairs())
            [(Player(0), Player(1), 0.0), (Player(0), Player(2), 0.5), (Player(1), Player(2), 1.0)]
        """
        for i in range(len(self.teams)):
            for j in range(i + 1, len(self.teams)):
                r = self.result(i, j)
                for a in self.teams[i]:
                    for b in self.teams[j]:
                        yield a, b, r

    def to_dict(self) -> dict:
        """A JSON-ready dict for the run log; :meth:`from_dict` reads it back.

        Examples:
            >>> m = Match([0, Player(1, 20)], ranks=[1, 2], step=30)
            >>> m.to_dict()
            {'teams': [[0], [[1, 20]]], 'ranks': [1, 2], 'step': 30}
            >>> Match.from_dict(m.to_dict()) == m
            True
        """
        return {"teams": [[p.to_json() for p in team] for team in self.teams], "ranks": list(self.ranks),
                "step": self.step}

    @classmethod
    def from_dict(cls, data: Mapping) -> Match:
        """The match :meth:`to_dict` wrote."""
        teams = [[Player.from_json(p) for p in team] for team in data["teams"]]
        return cls(teams, data["ranks"], data.get("step"))


def as_match(sides: Sequence, outcome=None, *, ranks: Sequence[float] | None = None,
             scores: Sequence[float] | None = None, step: int | None = None) -> Match:
    """A :class:`Match` from an outcome as a user reports it. Give exactly one of ``outcome``,
    ``ranks`` and ``scores``.

    Args:
        sides: The players or teams (a list or tuple of players is a team).
        outcome: Two sides only, from the first side's view: 1, 0 or 0.5, ``True``/``False``,
            or ``"win"``, ``"loss"``, ``"draw"``.
        ranks: One per side, lower is better (1 = first), ties allowed.
        scores: One per side, higher is better, ties allowed.
        step: The step at which the match was played.

    Examples:
        >>> as_match([0, 1], 1).ranks, as_match([0, 1], "draw").ranks, as_match([0, 1], 0.0).ranks
        ((1, 2), (1, 1), (2, 1))
        >>> as_match([[0, 1], [2, 3], [4, 5]], scores=[3.0, 7.5, 3.0]).ranks
        (2, 1, 2)
        >>> as_match([0, 1], 0.7)
        Traceback (most recent call last):
        ...
        poptune.errors.ConfigError: outcome must be 1 (win), 0 (loss) or 0.5 (draw), or 'win', 'loss', 'draw', got 0.7; for a margin, pass scores=[...]
    """
    given = [name for name, v in (("outcome", outcome), ("ranks", ranks), ("scores", scores)) if v is not None]
    if len(given) != 1:
        raise ConfigError("give exactly one of outcome (two sides), ranks or scores for a match, "
                          f"got {', '.join(given) or 'none'}")
    if isinstance(sides, (str, bytes)) or not isinstance(sides, Sequence):
        raise ConfigError(f"sides must be a list of players or teams, got {sides!r}")
    n = len(sides)
    if outcome is not None:
        if n != 2:
            raise ConfigError(f"outcome describes a match of two sides, got {n} sides; pass ranks=[...] instead")
        return Match(sides, parse_outcome(outcome), step)
    if ranks is not None:
        return Match(sides, ranks, step)
    values = _numbers(scores, "scores", n)
    return Match(sides, [-v for v in values], step)


def parse_outcome(outcome) -> tuple[int, int]:
    """The ranks ``(first side, second side)`` of a two-sided outcome from the first side's view.

    Examples:
        >>> parse_outcome("win"), parse_outcome(False), parse_outcome(0.5)
        ((1, 2), (2, 1), (1, 1))
    """
    if isinstance(outcome, str):
        key = outcome.strip().lower()
        if key in _OUTCOMES:
            return _OUTCOMES[key]
    elif isinstance(outcome, bool):
        return _OUTCOMES["win" if outcome else "loss"]
    elif isinstance(outcome, numbers.Real):
        value = float(outcome)
        for key, number in (("win", 1.0), ("loss", 0.0), ("draw", 0.5)):
            if value == number:
                return _OUTCOMES[key]
    raise ConfigError(f"outcome must be 1 (win), 0 (loss) or 0.5 (draw), or 'win', 'loss', 'draw', got {outcome!r}"
                      "; for a margin, pass scores=[...]")


def _team(value, index: int) -> tuple[Player, ...]:
    if isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError(f"Match: team {index} is empty; every team needs at least one player")
        return tuple(as_player(p, f"team {index}'s player") for p in value)
    return (as_player(value, f"team {index}"),)


def _numbers(values, name: str, n: int) -> list[float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) != n:
        raise ConfigError(f"{name} must be a sequence of {n} numbers, one per team, got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
            raise ConfigError(f"{name} must be finite numbers, got {list(values)!r}")
        out.append(float(v))
    return out


def _competition_ranks(values: list[float]) -> tuple[int, ...]:
    return tuple(1 + sum(other < v for other in values) for v in values)


__all__ = ["Match", "as_match", "parse_outcome"]
