"""T-test selection (PBT paper, section 4): copy a random member that is significantly better."""

from __future__ import annotations

import math
import warnings

import numpy as np

from poptune.errors import ConfigError
from poptune.strategies.base import Exploit
from poptune.strategies.views import as_population


class TTest(Exploit):
    """Draw another member at random; copy it if its recent scores beat the target's.

    "Beat" means a higher mean over the last ``window`` scores with Welch's t-test p-value
    below ``alpha``. A target whose latest score is NaN or infinite copies any member with a
    finite one, without a test.

    Args:
        window: Number of recent scores compared, at least 2.
        alpha: Significance level, in ``(0, 1)``.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> from poptune.strategies import MemberView
        >>> low, high = (0.1, 0.12, 0.11, 0.1), (0.9, 0.91, 0.9, 0.92)
        >>> pop = [MemberView(0, {}, 0.1, 0.1, 4, low), MemberView(1, {}, 0.92, 0.92, 4, high)]
        >>> pt.TTest(window=4).select(pop[0], pop, np.random.default_rng(0)).id
        1
    """

    def __init__(self, window: int = 10, alpha: float = 0.05):
        if isinstance(window, bool) or not isinstance(window, int) or window < 2:
            raise ConfigError(f"TTest: window must be an integer >= 2, got {window!r}")
        if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
            raise ConfigError(f"TTest: alpha must be in (0, 1), got {alpha!r}")
        self.window, self.alpha = window, float(alpha)

    def select(self, target, population, rng):
        population = as_population(population, rng)
        n = len(population)
        if n < 2 or target not in population:
            return None
        pick = int(rng.integers(n - 1))
        other = population[pick + (pick >= population.rank(target))]  # any member but the target
        if not math.isfinite(other.fitness):
            return None
        if not math.isfinite(target.fitness):
            return other
        mine = np.asarray(target.history[-self.window :], dtype=float)
        theirs = np.asarray(other.history[-self.window :], dtype=float)
        if len(mine) < 2 or len(theirs) < 2 or not (np.isfinite(mine).all() and np.isfinite(theirs).all()):
            return None
        if theirs.mean() <= mine.mean():
            return None
        if mine.std() == 0 and theirs.std() == 0:
            return other  # two constant series: the higher one is better without doubt
        from scipy import stats  # imported here: scipy.stats costs ~0.6 s, which every worker would pay

        with warnings.catch_warnings():  # near-constant series: scipy warns, the p-value stands
            warnings.simplefilter("ignore", RuntimeWarning)
            p = stats.ttest_ind(theirs, mine, equal_var=False, alternative="greater").pvalue
        return other if p < self.alpha else None

    def __repr__(self) -> str:
        return f"TTest(window={self.window}, alpha={self.alpha:g})"
