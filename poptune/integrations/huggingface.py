"""Hugging Face ``transformers.Trainer``: one ``trainer.train()`` per call of ``train(member)``, one evaluation per step.

Example (the whole template: ``examples/huggingface_digits.py``)::

    from poptune.integrations.huggingface import PoptuneCallback

    def train(member):
        args = TrainingArguments(output_dir="out", num_train_epochs=member.budget, eval_strategy="epoch",
                                 learning_rate=member.hparams["learning_rate"], save_strategy="no", report_to=[])
        callback = PoptuneCallback(member, monitor="eval_accuracy")
        trainer = Trainer(model=build_model(), args=args, train_dataset=train_set, eval_dataset=val_set,
                          compute_metrics=accuracy, callbacks=[callback])
        trainer.train(resume_from_checkpoint=callback.resume_from)   # None on a fresh start

A step is one evaluation: with ``eval_strategy="epoch"`` step ``k`` ends epoch ``k``; with
``eval_strategy="steps"`` it ends optimizer step ``k * eval_steps``. The ``k``-th evaluation's
``metrics[monitor]`` is the step's score. A call of ``train`` starts after ``member.step``
evaluations: ``callback.resume_from`` is a folder in the Trainer's own checkpoint layout
(the model's weights and ``trainer_state.json``), from which ``Trainer.train`` resumes at the
right epoch and batch, as it does from its own checkpoints; on train begin the callback loads the
optimizer's and scheduler's state and writes ``member.hparams`` into them. When the member's
segment ends it sets ``control.should_training_stop`` and ``train`` returns.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import os
import shutil
import tempfile
import weakref
from collections.abc import Mapping
from typing import Any

from poptune.errors import PoptuneError, UsageError
from poptune.integrations._optim import apply_to_training

try:
    import torch
    import transformers
except ImportError:  # pragma: no cover - depends on the environment
    raise PoptuneError("the Hugging Face integration needs transformers: pip install 'poptune[huggingface]'") from None

_RESERVED = ("score", "checkpoint")  # member.report's own argument names
# TrainingArguments' names for param-group keys, so hyperparameters can be named like the arguments
_ARGUMENT_NAMES = {"lr": "learning_rate", "eps": "adam_epsilon"}


class PoptuneCallback(transformers.TrainerCallback):
    """Makes a ``transformers.Trainer`` one PBT member: restore, report every evaluation, stop at the segment's end.

    Hyperparameters named like ``TrainingArguments`` (``learning_rate``, ``weight_decay``,
    ``adam_beta1``, ``adam_beta2``, ``adam_epsilon``) or like param-group keys (``lr``,
    ``momentum``...) are written into every param group after the state is loaded, and the
    learning rate into the scheduler's base rates too, so the schedule (warmup, decay) goes on
    at the member's rate. ``weight_decay`` goes only to groups that decay (the Trainer gives
    biases and LayerNorm weights none).

    Args:
        member: The :class:`~poptune.Member` that ``train`` received.
        monitor: Key of the evaluation metrics that is the score, as ``Trainer.evaluate``
            returns it (``"eval_accuracy"``, ``"eval_loss"``); ``pt.run(direction=...)`` says
            whether higher or lower is better.
        names: Param-group key -> hyperparameter name, for other names (``{"lr": "lr_max"}``).

    Build a new Trainer and callback in every call of ``train`` and pass
    ``trainer.train(resume_from_checkpoint=callback.resume_from)``; evaluate every epoch or
    every ``eval_steps``, at least ``member.budget`` times; ``save_strategy="no"`` (poptune
    keeps the state). One process only (see ``docs/integrations.md``). A setting that cannot
    work raises :class:`~poptune.UsageError` naming it, which stops the run at once.

    Examples:
        >>> import transformers
        >>> callback = PoptuneCallback(member=None, monitor="eval_accuracy")  # train() passes its member
        >>> isinstance(callback, transformers.TrainerCallback)
        True
    """

    def __init__(self, member, monitor: str, names: Mapping[str, str] | None = None):
        if not isinstance(monitor, str) or not monitor:
            raise UsageError(f"PoptuneCallback: monitor must be the key of an evaluation metric such as "
                             f"'eval_accuracy', got {monitor!r}")
        self.member = member
        self.monitor = monitor
        self.names = dict(names or {})
        self._resume_dir: str | None = None
        self._training = False
        self._used = False
        self._last_global_step = -1

    @property
    def resume_from(self) -> str | None:
        """A checkpoint folder for ``trainer.train(resume_from_checkpoint=...)``; ``None`` on a fresh start.

        Written on first access into a temporary folder, deleted with the callback.
        """
        saved = self._saved()
        if saved is None:
            return None
        if self._resume_dir is None:
            path = tempfile.mkdtemp(prefix=f"poptune-member{self.member.id}-")
            weakref.finalize(self, shutil.rmtree, path, ignore_errors=True)
            torch.save(saved["model"], os.path.join(path, "pytorch_model.bin"))  # what Trainer loads the weights from
            with open(os.path.join(path, "trainer_state.json"), "w") as f:  # its epoch, step and log history
                f.write(saved["trainer_state"])
            self._resume_dir = path
        return self._resume_dir

    def _saved(self) -> Mapping | None:
        saved = self.member.checkpoint
        if saved is not None and (not isinstance(saved, Mapping) or
                                  not {"model", "optimizer", "trainer_state", "global_step"} <= set(saved)):
            raise UsageError(f"member {self.member.id}: PoptuneCallback needs a checkpoint it saved itself, got "
                             f"{type(saved).__name__}; use one way of saving per run")
        return saved

    # -- start: check the arguments, load the optimizer's state, apply the hyperparameters --------

    def on_train_begin(self, args, state, control, model=None, optimizer=None, lr_scheduler=None, **kwargs):
        m = self.member
        if self._used:
            raise UsageError("PoptuneCallback serves one Trainer.train: build a new Trainer and callback in every "
                             "call of train(member)")
        self._used = True
        self._check_arguments(args, state)
        saved = self._saved()
        if saved is not None:
            if state.global_step != saved["global_step"]:
                raise UsageError(f"member {m.id} resumes after step {m.step} (optimizer step {saved['global_step']}), "
                                 f"the Trainer starts at optimizer step {state.global_step}; pass "
                                 f"trainer.train(resume_from_checkpoint=callback.resume_from)")
            optimizer.load_state_dict(saved["optimizer"])
            if lr_scheduler is not None and saved.get("scheduler") is not None:
                lr_scheduler.load_state_dict(saved["scheduler"])
        self._apply_hparams(optimizer, lr_scheduler)
        self._last_global_step = state.global_step
        self._training = True

    def _check_arguments(self, args, state) -> None:
        m = self.member
        if args.world_size > 1:
            raise UsageError(f"PoptuneCallback: the Trainer runs on {args.world_size} processes, and each would report "
                             f"the member's steps; run one process per member and let poptune run them in parallel")
        strategy = str(getattr(args.eval_strategy, "value", args.eval_strategy))
        if strategy == "epoch":
            evaluations = int(state.num_train_epochs)
        elif strategy == "steps":
            evaluations = state.max_steps // state.eval_steps if state.eval_steps else 0
        else:
            raise UsageError(f"PoptuneCallback: TrainingArguments(eval_strategy={strategy!r}): a step is one "
                             f"evaluation; pass eval_strategy='epoch' or 'steps'")
        if evaluations < m.budget:
            raise UsageError(f"PoptuneCallback: the Trainer evaluates {evaluations} times (eval_strategy={strategy!r}), "
                             f"below the member's budget of {m.budget} steps; pass num_train_epochs=member.budget "
                             f"(or max_steps=member.budget * eval_steps)")

    def _apply_hparams(self, optimizer, lr_scheduler) -> None:
        hparams = dict(self.member.hparams)
        names = {key: name for key, name in _ARGUMENT_NAMES.items() if name in hparams and key not in hparams}
        names.update(self.names)
        decay = hparams.pop(names.get("weight_decay", "weight_decay"), None)
        beta1, beta2 = hparams.pop("adam_beta1", None), hparams.pop("adam_beta2", None)
        apply_to_training([optimizer], [lr_scheduler], hparams, names)
        for group in optimizer.param_groups:
            if decay is not None and group.get("weight_decay"):
                group["weight_decay"] = decay
            if "betas" in group and (beta1, beta2) != (None, None):
                old = group["betas"]
                group["betas"] = (old[0] if beta1 is None else beta1, old[1] if beta2 is None else beta2)

    # -- every evaluation: report; at the segment's end: stop ----------------------------------

    def on_evaluate(self, args, state, control, metrics=None, model=None, optimizer=None, lr_scheduler=None,
                    **kwargs):
        m = self.member
        if not self._training or state.global_step == self._last_global_step:
            return  # an evaluation outside training, before its first step (eval_on_start), or a repeat
        self._last_global_step = state.global_step
        values = _scalars(metrics or {})
        if self.monitor not in values:
            raise UsageError(f"PoptuneCallback(monitor={self.monitor!r}): the evaluation at step {m.step + 1} returned "
                             f"no {self.monitor!r} (metrics: {sorted(values) or 'none'}); pass monitor= one of those, "
                             f"or a Trainer(compute_metrics=...) that returns it")
        score = values[self.monitor]
        extra = {name: value for name, value in values.items() if name not in _RESERVED}
        extra.setdefault("learning_rate", optimizer.param_groups[0]["lr"])  # the rate the next update uses
        extra.setdefault("global_step", state.global_step)

        def checkpoint() -> dict:
            return {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": None if lr_scheduler is None else lr_scheduler.state_dict(),
                "global_step": state.global_step,
                "trainer_state": json.dumps(dataclasses.asdict(state), sort_keys=True),
            }

        m.report(score, checkpoint=checkpoint, **extra)
        if m.done:
            control.should_training_stop = True

    def on_train_end(self, args, state, control, **kwargs):
        self._training = False
        if not self.member.done:
            raise UsageError(f"member {self.member.id}: Trainer.train ended at optimizer step {state.global_step}, "
                             f"before the member's steps for this call were done (budget {self.member.budget}); let it "
                             f"run to member.budget evaluations: no EarlyStoppingCallback or other early stop")


def _scalars(metrics: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for name, value in metrics.items():
        value = value.item() if hasattr(value, "item") and getattr(value, "ndim", 0) == 0 else value
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            out[name] = float(value)
    return out


__all__ = ["PoptuneCallback"]
