"""Tournament selection (PBT paper, GAN experiments): compare with members drawn at random."""

from __future__ import annotations

import math

from poptune.errors import ConfigError
from poptune.strategies.base import Exploit, ranked


class Tournament(Exploit):
    """Draw ``size - 1`` other members at random; copy the best of them if it beats the target.

    ``size=2`` is the paper's binary tournament. A tie is decided by a coin flip.

    Args:
        size: Tournament size including the target, at least 2.

    Example:
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
        others = [m for m in population if m.id != target.id]
        if not others:
            return None
        picks = rng.choice(len(others), size=min(self.size - 1, len(others)), replace=False)
        best = ranked([target, *(others[i] for i in picks)], rng)[-1]
        return None if best.id == target.id or best.fitness == -math.inf else best

    def __repr__(self) -> str:
        return f"Tournament({self.size})"
