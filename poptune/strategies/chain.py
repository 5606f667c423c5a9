"""Explore in stages: each stage changes what the one before proposed."""

from __future__ import annotations

from dataclasses import replace

from poptune.errors import ConfigError
from poptune.strategies.base import Explore, as_explore


class Chain(Explore):
    """Run explore strategies one after the other; each starts from the previous one's result.

    The usual use is a built-in perturbation followed by a fix-up of one's own, the way Ray
    Tune's ``custom_explore_fn`` runs after its perturbation: ``pt.run(..., explore=[pt.Perturb(),
    clip_batch_size])`` (a list is a chain). A stage is a strategy or a function
    ``(hparams) -> dict``, ``(hparams, rng) -> dict`` or ``(hparams, rng, context) -> dict``;
    what a function returns is checked against the space.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> space = pt.Space({"lr": pt.Float(1e-4, 1.0, log=True)})
        >>> cap = lambda h: {"lr": min(h["lr"], 0.1)}
        >>> pt.Chain(pt.Perturb(factors=(2.0,)), cap).explore({"lr": 0.08}, space, np.random.default_rng(0))
        {'lr': 0.1}
    """

    def __init__(self, *stages):
        if not stages:
            raise ConfigError("Chain() needs at least one explore stage, e.g. Chain(pt.Perturb(), my_fix)")
        self.stages = tuple(as_explore(stage) for stage in stages)

    def explore(self, hparams, space, rng):
        for stage in self.stages:
            hparams = stage.explore(hparams, space, rng)
        return dict(hparams)

    def propose(self, context):
        hparams = context.hparams
        for stage in self.stages:
            hparams = stage.propose(replace(context, hparams=hparams))  # one info dict for all stages
        return dict(hparams)

    def __repr__(self) -> str:
        return f"Chain({', '.join(map(repr, self.stages))})"
