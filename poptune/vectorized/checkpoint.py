"""The checkpoint of a vectorized population: every member's state, stacked, on the CPU."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class StackedState:
    """Stacked weights, buffers and optimizer state of a population, and its RNG state.

    A run's checkpoint events name a member of it as ``<file>#<index>``; :meth:`member`
    extracts that member, which is what :meth:`poptune.Result.checkpoint` returns.
    """

    params: dict[str, torch.Tensor]
    buffers: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    hparams: dict[str, list] = field(default_factory=dict)
    rng: torch.Tensor | None = None

    def member(self, index: int) -> dict[str, Any]:
        """Member ``index`` alone: ``{"model": state_dict, "optimizer": ..., "hparams": ...}``.

        ``model`` loads into one copy of the model with ``load_state_dict``.
        """
        model = {k: v[index].clone() for k, v in self.params.items()}
        model.update({k: v[index].clone() for k, v in self.buffers.items()})
        return {
            "model": model,
            "optimizer": _row(self.optimizer, index),
            "hparams": {k: v[index] for k, v in self.hparams.items()},
        }


def _row(tree, index: int):
    if isinstance(tree, torch.Tensor):
        return tree[index].clone()
    return {k: _row(v, index) for k, v in tree.items()}
