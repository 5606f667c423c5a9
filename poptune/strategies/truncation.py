"""Truncation selection (PBT paper, section 4): the bottom fraction copies the top fraction."""

from __future__ import annotations

import math

from poptune.errors import ConfigError
from poptune.strategies.base import Exploit
from poptune.strategies.views import as_population


class Truncation(Exploit):
    """If the target ranks in the bottom ``fraction``, copy a member drawn from the top ``fraction``.

    Ranks are those of the round (every member that reached the target's ready step, by its
    fitness there), ties in an order drawn once per round (never by position, so no member is
    stuck at the bottom of a tied population). The source is at least as good as the target and
    has a finite fitness. Both fractions hold ``ceil(fraction * n)`` of the round's ``n``
    members, at most half. A decision costs O(log n).

    Args:
        fraction: Share of the population in the bottom and in the top, in ``(0, 0.5]``.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> from poptune.strategies import MemberView
        >>> pop = [MemberView(i, {}, s, s, 4, (s,)) for i, s in enumerate([0.1, 0.5, 0.9])]
        >>> pt.Truncation(0.2).select(pop[0], pop, np.random.default_rng(0)).id
        2
    """

    def __init__(self, fraction: float = 0.2):
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 0.5:
            raise ConfigError(f"Truncation: fraction must be in (0, 0.5], got {fraction!r}")
        self.fraction = float(fraction)

    def select(self, target, population, rng):
        population = as_population(population, rng)
        n = len(population)
        if n < 2 or target not in population:
            return None
        k = min(max(1, math.ceil(self.fraction * n)), n // 2)
        if population.rank(target.id) >= k:
            return None
        # the top k rank above the target, so none is worse; members scoring -inf never lead
        low = max(n - k, population.first_rank_above(-math.inf))
        if low >= n:
            return None
        return population[int(rng.integers(low, n))]

    def __repr__(self) -> str:
        return f"Truncation({self.fraction:g})"
