"""Perturbation (PBT paper, section 4): multiply each hyperparameter by a random factor."""

from __future__ import annotations

from poptune.errors import ConfigError
from poptune.strategies.base import Explore


def check_factors(owner: str, factors) -> tuple[float, ...]:
    try:
        values = tuple(float(f) for f in factors)
    except (TypeError, ValueError):
        raise ConfigError(f"{owner}: factors must be a list of positive numbers, got {factors!r}") from None
    if not values or any(not f > 0 for f in values):
        raise ConfigError(f"{owner}: factors must be a list of positive numbers, got {factors!r}")
    return values


class Perturb(Explore):
    """Multiply every searched hyperparameter by a factor drawn from ``factors``.

    Results are clipped to the domain; integers are rounded (and move at least one unit);
    choices move to a neighbouring option. Constants are left alone.

    Args:
        factors: Factors to draw from, uniformly; the paper uses ``(0.8, 1.2)``.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> space = pt.Space({"lr": pt.Float(1e-4, 1e-1, log=True)})
        >>> pt.Perturb().explore({"lr": 0.01}, space, np.random.default_rng(1))["lr"] in (0.008, 0.012)
        True
    """

    def __init__(self, factors=(0.8, 1.2)):
        self.factors = check_factors("Perturb", factors)

    def explore(self, hparams, space, rng):
        new = dict(hparams)
        for name, domain in space.explorable.items():
            factor = self.factors[int(rng.integers(len(self.factors)))]
            new[name] = domain.perturb(hparams[name], factor, rng)
        return new

    def __repr__(self) -> str:
        return f"Perturb(factors={self.factors})"
