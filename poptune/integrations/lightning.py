"""PyTorch Lightning: one ``Trainer.fit`` per call of ``train(member)``, one epoch per step.

Example (the whole template: ``examples/lightning_digits.py``)::

    from poptune.integrations.lightning import PoptuneCallback

    def train(member):
        module = MyModule(lr=member.hparams["lr"])     # its configure_optimizers reads the lr
        trainer = L.Trainer(max_epochs=member.budget, callbacks=[PoptuneCallback(member, monitor="val_acc")],
                            enable_checkpointing=False, logger=False, enable_progress_bar=False)
        trainer.fit(module, train_loader, val_loader)

How the epochs and the steps line up: poptune's step ``k`` is the ``k``-th training epoch,
``trainer.current_epoch == k - 1`` while it runs (so code reading ``current_epoch``, a sampler's
epoch and an epoch-based scheduler see the same numbers as in one uninterrupted fit). A call of
``train`` starts after ``member.step`` epochs: on fit start the callback loads the member's
state and sets the Trainer's epoch (and global step) counters to where that state was saved;
at the end of each epoch (after validation) it reports the monitored metric; when the member's
segment ends (a ready step where it exploits another member, or yields its worker, or the
budget) it sets ``trainer.should_stop`` and ``fit`` returns. poptune then calls ``train`` again
when it is the member's turn, with new hyperparameters and the copied state after an exploit.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from poptune.errors import PoptuneError, UsageError
from poptune.integrations._optim import apply_to_training

try:
    import lightning.pytorch as pl
except ImportError:  # pragma: no cover - depends on the environment
    raise PoptuneError("the Lightning integration needs lightning: pip install 'poptune[lightning]'") from None

_RESERVED = ("score", "checkpoint")  # member.report's own argument names


class PoptuneCallback(pl.Callback):
    """Makes a Lightning ``Trainer`` one PBT member: restore, report every epoch, stop at the segment's end.

    On fit start it loads ``member.checkpoint`` (the LightningModule's weights, every optimizer's
    and LR scheduler's state, the epoch and global-step counters), then writes
    ``member.hparams`` into every optimizer param group (``lr``, ``momentum``, ``weight_decay``,
    ``betas``... by name, or through ``names``) and into the base rates of schedulers that have
    them. At the end of every training epoch it calls ``member.report`` with
    ``trainer.callback_metrics[monitor]`` as the score and every other logged scalar as a
    metric; the checkpoint is built only at the steps where poptune saves one.

    Args:
        member: The :class:`~poptune.Member` that ``train`` received.
        monitor: Name of the logged metric that is the score (``self.log("val_acc", ...)``);
            ``pt.run(direction=...)`` says whether higher or lower is better.
        names: Param-group key -> hyperparameter name, for hyperparameters named otherwise
            (``{"weight_decay": "wd"}``), as in :func:`poptune.torch_restore`.

    Build a new Trainer and callback in every call of ``train``; pass
    ``Trainer(max_epochs=member.budget)``, and validate every epoch (the default
    ``check_val_every_n_epoch=1``). Lightning's own checkpointing is not needed
    (``enable_checkpointing=False``); one device only (see ``docs/integrations.md``). A setting
    that cannot work raises :class:`~poptune.UsageError` naming it: raised inside ``train``, it
    stops the run at once instead of failing every retry the same way.

    Examples:
        >>> import lightning.pytorch as L
        >>> callback = PoptuneCallback(member=None, monitor="val_acc")  # train() passes its member
        >>> isinstance(callback, L.Callback)
        True
    """

    def __init__(self, member, monitor: str, names: Mapping[str, str] | None = None):
        if not isinstance(monitor, str) or not monitor:
            raise UsageError(f"PoptuneCallback: monitor must be the name of a logged metric such as 'val_acc', "
                              f"got {monitor!r}")
        self.member = member
        self.monitor = monitor
        self.names = dict(names or {})
        self._used = False

    # -- start: the member's state, its hyperparameters, the epoch it resumes at ------------------

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._used:
            raise UsageError("PoptuneCallback serves one Trainer.fit: build a new Trainer and callback in every call "
                             "of train(member)")
        self._used = True
        self._check_trainer(trainer)
        saved = self.member.checkpoint
        schedulers = [config.scheduler for config in trainer.lr_scheduler_configs]
        if saved is not None:
            self._load(trainer, pl_module, saved)
        apply_to_training(trainer.optimizers, schedulers, self.member.hparams, self.names)

    def _check_trainer(self, trainer: pl.Trainer) -> None:
        m = self.member
        if trainer.world_size > 1:
            raise UsageError(f"PoptuneCallback: the Trainer runs on {trainer.world_size} processes "
                              f"(devices x num_nodes), and each would report the member's steps; pass "
                              f"Trainer(devices=1) and let poptune run members in parallel")
        max_epochs = trainer.max_epochs
        if max_epochs is not None and 0 <= max_epochs < m.budget:
            raise UsageError(f"PoptuneCallback: Trainer(max_epochs={max_epochs}) is below the member's budget of "
                              f"{m.budget} steps (one step = one epoch); pass Trainer(max_epochs=member.budget)")
        every = trainer.check_val_every_n_epoch
        if every is not None and every != 1:
            raise UsageError(f"PoptuneCallback: Trainer(check_val_every_n_epoch={every}) validates only some epochs, "
                              f"and the others would report a stale {self.monitor!r}; pass check_val_every_n_epoch=1")

    def _load(self, trainer: pl.Trainer, pl_module: pl.LightningModule, saved: Any) -> None:
        m = self.member
        if not isinstance(saved, Mapping) or not {"model", "optimizers", "schedulers"} <= set(saved):
            raise UsageError(f"member {m.id}: PoptuneCallback needs a checkpoint it saved itself, got "
                             f"{type(saved).__name__}; use one way of saving per run")
        optimizers, configs = trainer.optimizers, trainer.lr_scheduler_configs
        if (len(saved["optimizers"]), len(saved["schedulers"])) != (len(optimizers), len(configs)):
            raise UsageError(f"member {m.id}: the checkpoint holds {len(saved['optimizers'])} optimizer(s) and "
                             f"{len(saved['schedulers'])} scheduler(s), configure_optimizers returned "
                             f"{len(optimizers)} and {len(configs)}")
        pl_module.load_state_dict(saved["model"])
        for optimizer, state in zip(optimizers, saved["optimizers"]):
            optimizer.load_state_dict(state)
        for config, state in zip(configs, saved["schedulers"]):
            config.scheduler.load_state_dict(state)
        self._catch_up_plateau(trainer, pl_module, saved)
        # the counters as if fit had run from epoch 0: max_epochs, current_epoch, samplers' epochs
        for tracker in (trainer.fit_loop.epoch_progress.total, trainer.fit_loop.epoch_progress.current):
            tracker.ready = tracker.started = tracker.processed = tracker.completed = m.step
        epoch_loop = trainer.fit_loop.epoch_loop
        steps = int(saved.get("global_step", 0))
        if pl_module.automatic_optimization:
            progress = epoch_loop.automatic_optimization.optim_progress.optimizer.step.total
        else:
            progress = epoch_loop.manual_optimization.optim_step_progress.total
        progress.ready = progress.completed = steps
        epoch_loop.on_load_checkpoint({"_batches_that_stepped": steps})  # the step loggers see

    def _catch_up_plateau(self, trainer: pl.Trainer, pl_module: pl.LightningModule, saved: Mapping) -> None:
        # Lightning steps epoch-interval ReduceLROnPlateau after on_train_epoch_end, where the
        # checkpoint was taken: make that step here, with the value it would have seen.
        if not pl_module.automatic_optimization:
            return
        monitored = saved.get("plateau", {})
        for config in trainer.lr_scheduler_configs:
            if config.reduce_on_plateau and config.interval == "epoch" and self.member.step % config.frequency == 0:
                if monitored.get(config.monitor) is not None:
                    pl_module.lr_scheduler_step(config.scheduler, monitored[config.monitor])

    # -- every epoch: report; at the segment's end: stop ---------------------------------------

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.member.done:
            raise UsageError(f"member {self.member.id}: the Trainer went on after the member's steps for this call "
                             f"ended at epoch {self.member.step}; remove Trainer(min_epochs=..., min_steps=...), "
                             f"which keep it from stopping")

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        m = self.member
        step = m.step + 1
        if trainer.current_epoch + 1 != step:
            raise UsageError(f"member {m.id}: the Trainer is at epoch {trainer.current_epoch + 1}, the member at step "
                             f"{step}; build a new Trainer and PoptuneCallback in every call of train(member)")
        metrics = _scalars(trainer.callback_metrics)
        if self.monitor not in metrics:
            raise UsageError(f"PoptuneCallback(monitor={self.monitor!r}): no metric {self.monitor!r} was logged by the "
                             f"end of epoch {step} (logged: {sorted(metrics) or 'none'}); log it with "
                             f"self.log({self.monitor!r}, value) in validation_step, or pass monitor= one of those")
        score = metrics[self.monitor]
        extra = {name: value for name, value in metrics.items() if name not in _RESERVED}
        m.report(score, checkpoint=lambda: self._state(trainer, pl_module, metrics), **extra)
        if m.done:
            trainer.should_stop = True

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.member.done:
            raise UsageError(f"member {self.member.id}: Trainer.fit ended at epoch {trainer.current_epoch}, before the "
                             f"member's steps for this call were done (budget {self.member.budget}); let it run to "
                             f"max_epochs=member.budget: no max_steps, max_time or EarlyStopping")

    def _state(self, trainer: pl.Trainer, pl_module: pl.LightningModule, metrics: Mapping[str, float]) -> dict:
        plateau = {c.monitor: metrics.get(c.monitor) for c in trainer.lr_scheduler_configs if c.reduce_on_plateau}
        return {
            "model": pl_module.state_dict(),
            "optimizers": [optimizer.state_dict() for optimizer in trainer.optimizers],
            "schedulers": [config.scheduler.state_dict() for config in trainer.lr_scheduler_configs],
            "global_step": trainer.global_step,
            "plateau": plateau,
        }


def _scalars(metrics: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for name, value in metrics.items():
        if getattr(value, "numel", lambda: 1)() != 1:
            continue
        value = value.item() if hasattr(value, "item") else value
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            out[name] = float(value)
    return out


__all__ = ["PoptuneCallback"]
