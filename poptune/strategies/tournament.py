"""Tournament selection (PBT paper, GAN experiments): compare with members drawn at random."""

from __future__ import annotations

import math

from poptune.errors import ConfigError
from poptune.strategies.base import Exploit
from poptune.strategies.views import as_population


class Tournament(Exploit):
    """Draw ``size - 1`` other members at random; copy the best of them if it beats the target.

    ``size=2`` is the paper's binary tournament. Members compare by rank in the round, so a tie
    is decided by the order drawn once for the round.

    Args:
        size: Tournament size including the target, at least 2.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> from poptune.strategies import MemberView
        >>> pop = [MemberView(0, {}, 0.1, 0.1, 4, (0.1,)), MemberView(1, {}, 0.9, 0.9, 4, (0.9,))]
        >>> pt.Tournament().select(pop[0], pop, np.random.default_rng(0)).id
        1
    """

    def __init__(self, size: int = 2):
        if isinstance(size, bool) or not isinstance(size, int) or size < 2:
            raise ConfigError(f"Tournament: size must be an integer >= 2, got {size!r}")
        self.size = size

    def select(self, target, population, rng):
        population = as_population(population, rng)
        n = len(population)
        if n < 2 or target not in population:
            return None
        mine = population.rank(target)
        draws = min(self.size - 1, n - 1)
        picks = [int(rng.integers(n - 1))] if draws == 1 else rng.choice(n - 1, size=draws, replace=False).tolist()
        best = max(i + (i >= mine) for i in picks)  # ranks of the others: skip the target's
        if best < mine or population[best].fitness == -math.inf:
            return None
        return population[best]

    def __repr__(self) -> str:
        return f"Tournament({self.size})"
