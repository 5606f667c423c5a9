"""Population methods on poptune's engine beyond PBT itself (the population family).

- :class:`SeedChain`: a network's weights as a chain of seeds, the Deep GA's compact genome.
- :class:`DiversityBandit`, :func:`dvd_loss`, :func:`log_det_diversity`: DvD, a population
  trained jointly for reward and diversity (log det of a behaviour kernel), λ chosen by a bandit.
- :func:`poppy_loss` and friends: winner-takes-all losses for a stacked population (Poppy).
- :class:`SharedReplay`: one replay memory for a population of off-policy learners (SEARL);
  :func:`widen` and the explore stage :class:`Widen` grow a network with Net2Net weight transfer.
- :class:`Teacher`, :func:`distillation_loss`: kickstarting, a student distilling a read-only
  teacher with a PBT-scheduled weight.

Nothing here imports torch until it is used: the winner-takes-all losses, whose module needs
torch, load on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from poptune.family.diversity import DiversityBandit, dvd_loss, log_det_diversity, population_embeddings
from poptune.family.kickstart import Teacher, distillation_loss
from poptune.family.net2net import Widen, widen, width
from poptune.family.seed_chain import SeedChain, parameter_nbytes
from poptune.family.shared_replay import SharedReplay

_LAZY = {name: "poptune.family.winner_takes_all"
         for name in ("poppy_loss", "winner_advantage", "winner_mask", "winner_takes_all_loss")}

__all__ = ["DiversityBandit", "SeedChain", "SharedReplay", "Teacher", "Widen", "distillation_loss", "dvd_loss",
           "log_det_diversity", "parameter_nbytes", "poppy_loss", "population_embeddings", "widen", "width",
           "winner_advantage", "winner_mask", "winner_takes_all_loss"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'poptune.family' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
