"""Saving and restoring a PyTorch member: model, optimizer, scheduler, with the right hyperparameters.

The pitfall this avoids: after an exploit, ``optimizer.load_state_dict(checkpoint["opt"])``
restores the *source's* learning rate (and momentum, weight decay...) from its param groups, so
the member trains with hyperparameters other than ``member.hparams``, and the schedule the run
records is false. :func:`restore` loads the state and then writes every hyperparameter whose
name is a param-group key back into every param group.

Examples:
    >>> import torch, poptune as pt
    >>> def train(member):
    ...     model = torch.nn.Linear(2, 1)
    ...     opt = torch.optim.SGD(model.parameters(), lr=member.hparams["lr"])
    ...     pt.torch_restore(member, model, opt)   # the checkpoint's state, member.hparams' lr
    ...     for _ in member.steps():
    ...         member.report(float(model.weight.sum()), checkpoint=lambda: pt.torch_checkpoint(model, opt))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from poptune.errors import UsageError


def checkpoint(model, optimizer=None, scheduler=None, **extra: Any) -> dict:
    """The checkpoint of a PyTorch member: ``{"model": ..., "optimizer": ..., "scheduler": ..., **extra}``."""
    out = {"model": model.state_dict()}
    if optimizer is not None:
        out["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        out["scheduler"] = scheduler.state_dict()
    out.update(extra)
    return out


def restore(member, model, optimizer=None, scheduler=None, names: Mapping[str, str] | None = None) -> bool:
    """Load ``member.checkpoint`` (made by :func:`checkpoint`) into the model, optimizer and scheduler,
    then set the optimizer's hyperparameters from ``member.hparams``. Return whether a checkpoint
    was loaded (``False`` on a fresh start, where only the hyperparameters are set).

    Args:
        member: The :class:`~poptune.Member`.
        model: The ``nn.Module`` to restore.
        optimizer: The optimizer to restore and give ``member.hparams`` (optional).
        scheduler: A learning-rate scheduler to restore (optional).
        names: Param-group key -> hyperparameter name, for hyperparameters named otherwise
            (``{"weight_decay": "wd"}``). Every hyperparameter named like a param-group key
            (``lr``, ``momentum``, ``weight_decay``, ``betas``, ``eps``...) is applied as well.
    """
    saved = member.checkpoint
    if saved is not None:
        if not isinstance(saved, Mapping) or "model" not in saved:
            raise UsageError(f"member {member.id}: pt.torch_restore needs a checkpoint made by "
                             f"pt.torch_checkpoint(model, ...), got {type(saved).__name__}")
        model.load_state_dict(saved["model"])
        if optimizer is not None and "optimizer" in saved:
            optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None and "scheduler" in saved:
            scheduler.load_state_dict(saved["scheduler"])
    if optimizer is not None:
        apply_hparams(optimizer, member.hparams, names)
    return saved is not None


def apply_hparams(optimizer, hparams: Mapping[str, Any], names: Mapping[str, str] | None = None) -> None:
    """Write the hyperparameters named like param-group keys (or mapped by ``names``) into every
    param group of ``optimizer``; a scheduler's ``initial_lr`` follows ``lr``."""
    mapping = {key: key for key in hparams}
    mapping.update({key: name for key, name in (names or {}).items()})
    for group in optimizer.param_groups:
        for key, name in mapping.items():
            if key in group and name in hparams:
                value = hparams[name]
                group[key] = tuple(value) if isinstance(group[key], tuple) else value
        if "lr" in mapping and "initial_lr" in group and mapping["lr"] in hparams:
            group["initial_lr"] = hparams[mapping["lr"]]


__all__ = ["apply_hparams", "checkpoint", "restore"]
