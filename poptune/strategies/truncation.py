"""Truncation selection (PBT paper, section 4): the bottom fraction copies the top fraction."""

from __future__ import annotations

import math

from poptune.errors import ConfigError
from poptune.strategies.base import Exploit, ranked


class Truncation(Exploit):
    """If the target ranks in the bottom ``fraction``, copy a member drawn from the top ``fraction``.

    Ranks use the latest score of each member, ties broken at random (never by position, so no
    member is stuck at the bottom of a tied population). The source must be at least as good as
    the target and have a finite score. Both fractions hold ``ceil(fraction * n)`` members, at
    most half the population.

    Args:
        fraction: Share of the population in the bottom and in the top, in ``(0, 0.5]``.

    Example:
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
        n = len(population)
        if n < 2:
            return None
        k = min(max(1, math.ceil(self.fraction * n)), n // 2)
        order = ranked(population, rng)
        if target.id not in {m.id for m in order[:k]}:
            return None
        top = [m for m in order[-k:] if m.id != target.id and m.fitness >= target.fitness and m.fitness > -math.inf]
        return top[int(rng.integers(len(top)))] if top else None

    def __repr__(self) -> str:
        return f"Truncation({self.fraction:g})"
