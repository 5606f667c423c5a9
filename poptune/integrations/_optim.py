"""Writing a member's hyperparameters into optimizers *and* the learning-rate schedulers driving them.

:func:`poptune.torch_state.apply_hparams` sets each param group's ``lr``; a scheduler that
computes the rate from its ``base_lrs`` (``LambdaLR``, every ``transformers`` schedule, cosine,
warmup...) would put the old rate back at its next step. Here the scheduler's base rates follow
the member's ``lr`` too, and the schedule's current factor (rate / base rate: warmup, decay) is
kept, so after an exploit the copied schedule goes on at the member's own learning rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from poptune.torch_state import apply_hparams


def apply_to_training(optimizers: Iterable, schedulers: Iterable, hparams: Mapping[str, Any],
                      names: Mapping[str, str] | None = None) -> None:
    """Apply ``hparams`` (param-group key -> name in ``names``) to every optimizer's param
    groups and move each scheduler's base learning rates to the member's ``lr``."""
    lr_name = (names or {}).get("lr", "lr")
    schedulers = [getattr(s, "scheduler", s) for s in schedulers if s is not None]  # accelerate wraps them
    factors = []
    if lr_name in hparams:
        for s in schedulers:
            bases = getattr(s, "base_lrs", None)
            if bases is not None:  # ReduceLROnPlateau has none: apply_hparams sets its rate
                groups = s.optimizer.param_groups
                factors.append((s, [g["lr"] / b if b else 1.0 for g, b in zip(groups, bases)]))
    for optimizer in optimizers:
        apply_hparams(optimizer, hparams, names)
    for s, scale in factors:
        lr = float(hparams[lr_name])
        s.base_lrs = [lr] * len(s.base_lrs)
        for group, factor in zip(s.optimizer.param_groups, scale):
            group["lr"] = lr * factor
        if hasattr(s, "_last_lr"):  # what get_last_lr() (and so the logged rate) returns until the next step
            s._last_lr = [group["lr"] for group in s.optimizer.param_groups]
