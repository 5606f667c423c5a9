"""Ratings from match outcomes, as pure state transitions.

A rating system holds only its configuration. The state is a dict ``{Player: rating}`` passed
in and returned: :meth:`Rating.update` returns a new dict and never changes its argument, so a
run's ratings are a fold of :meth:`Rating.update` over its matches, and a resumed run refolds
the same matches to the same ratings. A player missing from the state starts at
:meth:`Rating.initial`.

Fitness for the usual exploit strategies is :meth:`Rating.conservative`: the rating itself for
:class:`Elo`, ``mu - k * sigma`` for :class:`OpenSkill` (a player is ranked by what it surely is,
so one lucky win does not make a newcomer the leader).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping

from poptune.errors import ConfigError, PoptuneError
from poptune.league.outcomes import Match
from poptune.league.players import Player


class Rating:
    """Protocol of a rating system: :meth:`initial`, :meth:`update`, :meth:`conservative`."""

    def initial(self) -> Any:
        """The rating of a player that has not played."""
        raise NotImplementedError

    def update(self, state: Mapping[Player, Any], match: Match) -> dict[Player, Any]:
        """A new state with the ratings of ``match``'s players updated; ``state`` is unchanged."""
        raise NotImplementedError

    def conservative(self, rating: Any) -> float:
        """A single number to rank by, higher is better."""
        raise NotImplementedError

    def fitness(self, state: Mapping[Player, Any], player: Player) -> float:
        """:meth:`conservative` of ``player``'s rating in ``state`` (its initial one if absent)."""
        return self.conservative(state.get(player, self.initial()))

    def rate_all(self, matches, state: Mapping[Player, Any] | None = None) -> dict[Player, Any]:
        """The state after every match in order, starting from ``state`` (empty by default)."""
        out = dict(state or {})
        for match in matches:
            out = self.update(out, match)
        return out


class Elo(Rating):
    """Elo ratings, no dependency.

    A team's rating is the mean of its players'. A match of ``n`` teams counts as every pair of
    teams playing once, each pair's change scaled by ``1 / (n - 1)``, and every player of a team
    gets its team's change. In a duel the winner gains exactly what the loser loses.

    Args:
        k: Largest change from one game (> 0).
        initial: The rating of a new player.
        scale: Rating difference at which the stronger side wins with odds 10 to 1.

    Examples:
        >>> elo = Elo()
        >>> state = elo.update({}, Match([0, 1], ranks=[1, 2]))
        >>> state
        {Player(0): 1516.0, Player(1): 1484.0}
        >>> round(elo.expected(state[Player(0)], state[Player(1)]), 3), elo.fitness(state, Player(7))
        (0.546, 1500.0)
    """

    def __init__(self, k: float = 32, initial: float = 1500, scale: float = 400):
        for name, value, positive in (("k", k, True), ("initial", initial, False), ("scale", scale, True)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or (
                    positive and value <= 0):
                raise ConfigError(f"Elo: {name} must be a finite number{' > 0' if positive else ''}, got {value!r}")
        self.k, self._initial, self.scale = float(k), float(initial), float(scale)

    def initial(self) -> float:
        return self._initial

    def expected(self, a: float, b: float) -> float:
        """The probability that a player rated ``a`` beats one rated ``b`` (a draw counting half)."""
        return 1.0 / (1.0 + 10.0 ** ((b - a) / self.scale))

    def update(self, state, match):
        teams = [[state.get(p, self._initial) for p in team] for team in match.teams]
        means = [sum(team) / len(team) for team in teams]
        n = len(teams)
        delta = [0.0] * n
        for i in range(n):
            for j in range(i + 1, n):
                change = self.k / (n - 1) * (match.result(i, j) - self.expected(means[i], means[j]))
                delta[i] += change
                delta[j] -= change
        out = dict(state)
        for team, old, d in zip(match.teams, teams, delta):
            for player, rating in zip(team, old):
                out[player] = rating + d
        return out

    def conservative(self, rating: float) -> float:
        return float(rating)

    def __repr__(self) -> str:
        return f"Elo(k={self.k:g}, initial={self._initial:g})"


@dataclass(frozen=True)
class Skill:
    """An :class:`OpenSkill` rating: the estimated skill ``mu`` and its uncertainty ``sigma``."""

    mu: float
    sigma: float


class OpenSkill(Rating):
    """Weng–Lin Bayesian ratings from the ``openskill`` package (``pip install 'poptune[league]'``).

    Rates duels, free-for-alls and teams of any size by ranks; ratings are :class:`Skill`
    values, and :meth:`conservative` is ``mu - k * sigma``.

    Args:
        model: ``"PlackettLuce"`` (the default), ``"BradleyTerryFull"``, ``"BradleyTerryPart"``,
            ``"ThurstoneMostellerFull"`` or ``"ThurstoneMostellerPart"``.
        k: How many ``sigma`` the conservative rating lies below ``mu`` (>= 0).
        **options: Passed to the openskill model (``mu``, ``sigma``, ``beta``, ``tau``, ...).

    Examples:
        >>> rating = OpenSkill()
        >>> state = rating.update({}, Match([0, 1], ranks=[1, 2]))
        >>> state[Player(0)].mu > 25 > state[Player(1)].mu
        True
        >>> round(rating.fitness(state, Player(0)), 2), rating.fitness({}, Player(5))
        (3.44, 0.0)
    """

    def __init__(self, model: str = "PlackettLuce", k: float = 3, **options):
        try:
            from openskill import models
        except ImportError:
            raise PoptuneError("OpenSkill ratings need openskill: pip install 'poptune[league]' "
                               "(or use pt.league.Elo(), which needs nothing)") from None
        names = {cls.__name__: cls for cls in models.MODELS}
        if model not in names:
            raise ConfigError(f"OpenSkill: model must be one of {', '.join(sorted(names))}, got {model!r}")
        if isinstance(k, bool) or not isinstance(k, numbers.Real) or not math.isfinite(k) or k < 0:
            raise ConfigError(f"OpenSkill: k must be a finite number >= 0, got {k!r}")
        try:
            self._model = names[model](**options)
        except TypeError as err:
            raise ConfigError(f"OpenSkill({model!r}): bad model option in {sorted(options)}: {err}") from None
        self.model, self.k, self.options = model, float(k), dict(options)

    def initial(self) -> Skill:
        return Skill(float(self._model.mu), float(self._model.sigma))

    def update(self, state, match):
        start = self.initial()
        teams = [[self._model.rating(mu=s.mu, sigma=s.sigma) for s in (state.get(p, start) for p in team)]
                 for team in match.teams]
        rated = self._model.rate(teams, ranks=list(match.ranks))
        out = dict(state)
        for team, ratings in zip(match.teams, rated):
            for player, r in zip(team, ratings):
                out[player] = Skill(float(r.mu), float(r.sigma))
        return out

    def conservative(self, rating: Skill) -> float:
        return rating.mu - self.k * rating.sigma

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"OpenSkill({self.model!r}, k={self.k:g}{extra})"


__all__ = ["Elo", "OpenSkill", "Rating", "Skill"]
