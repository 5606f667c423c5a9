"""Resampling (PBT paper, section 4): redraw hyperparameters from the prior."""

from __future__ import annotations

from poptune.errors import ConfigError
from poptune.strategies.base import Explore


def check_probability(owner: str, probability) -> float:
    if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
        raise ConfigError(f"{owner}: probability must be in [0, 1], got {probability!r}")
    return float(probability)


class Resample(Explore):
    """Redraw each searched hyperparameter from its domain with probability ``probability``.

    Args:
        probability: Chance, per hyperparameter, of being redrawn; the rest are kept.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> space = pt.Space({"lr": pt.Float(1e-4, 1e-1, log=True)})
        >>> pt.Resample(1.0).explore({"lr": 0.01}, space, np.random.default_rng(0))["lr"] != 0.01
        True
    """

    def __init__(self, probability: float = 0.25):
        self.probability = check_probability("Resample", probability)

    def explore(self, hparams, space, rng):
        new = dict(hparams)
        for name, domain in space.explorable.items():
            if rng.random() < self.probability:
                new[name] = domain.sample(rng)
        return new

    def __repr__(self) -> str:
        return f"Resample({self.probability:g})"
