"""The default explore strategy: resample some hyperparameters, perturb the others."""

from __future__ import annotations

from poptune.strategies.base import Explore
from poptune.strategies.perturb import check_factors
from poptune.strategies.resample import check_probability


class PerturbOrResample(Explore):
    """Per hyperparameter: redraw from the prior with probability ``probability``, else perturb.

    Resampling lets a population escape a region perturbation alone cannot leave; perturbation
    refines what works. This is poptune's default explore.

    Args:
        factors: Perturbation factors, drawn uniformly.
        probability: Chance, per hyperparameter, of a resample instead of a perturbation.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> space = pt.Space({"lr": pt.Float(1e-4, 1e-1, log=True), "act": pt.Choice(["relu", "tanh"])})
        >>> new = pt.PerturbOrResample().explore({"lr": 0.01, "act": "relu"}, space, np.random.default_rng(0))
        >>> sorted(new)
        ['act', 'lr']
    """

    def __init__(self, factors=(0.8, 1.2), probability: float = 0.25):
        self.factors = check_factors("PerturbOrResample", factors)
        self.probability = check_probability("PerturbOrResample", probability)

    def explore(self, hparams, space, rng):
        new = dict(hparams)
        for name, domain in space.explorable.items():
            if rng.random() < self.probability:
                new[name] = domain.sample(rng)
            else:
                factor = self.factors[int(rng.integers(len(self.factors)))]
                new[name] = domain.perturb(hparams[name], factor, rng)
        return new

    def __repr__(self) -> str:
        return f"PerturbOrResample(factors={self.factors}, probability={self.probability:g})"
