"""Explore without exploit (the PBT paper's ablation): every ready member moves its own hyperparameters."""

from __future__ import annotations

from poptune.strategies.base import Exploit


class ExploreOnly(Exploit):
    """Pass as ``exploit``: a ready member never copies another; it keeps its own weights and
    applies the run's ``explore`` to its own hyperparameters (a random walk per member).

    It is the "explore only" arm of the paper's toy ablation (section 4.1); useful to check that
    exploit contributes to a result, not for tuning.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> from poptune.strategies import MemberView
        >>> me = MemberView(0, {}, 0.1, 0.1, 4, (0.1,))
        >>> pt.ExploreOnly().select(me, [me], np.random.default_rng(0)).id
        0
    """

    in_place = True  # selecting the target means "explore in place"
    compares = False  # it never looks at the others: no waiting for a round

    def select(self, target, population, rng):
        return target

    def __repr__(self) -> str:
        return "ExploreOnly()"
