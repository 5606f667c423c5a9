"""Mirror a run to Weights & Biases: one W&B run per member, grouped by the poptune run."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from poptune.callbacks import Callback
from poptune.core import events as ev
from poptune.errors import PoptuneError
from poptune.loggers.common import TrackerIds, number

_EXIT_CODE = {"finished": 0, "interrupted": 1, "failed": 1}


class WandB(Callback):
    """Log every report to Weights & Biases.

    Each member is a W&B run named ``member-<id>`` in the group ``group`` (default: the run
    directory's name), so W&B's grouped charts show the population. Per member and step
    (W&B's step is the member's step): ``score``, the numeric metrics, each numeric
    hyperparameter *in use at that step* as ``hparams/<name>`` (the schedule, as a curve) and,
    at an exploit, ``exploit/source`` (the member copied). The run's config holds the member's
    current hyperparameters (updated at every exploit, so at the end the values its final
    model trained with) and ``initial/<name>`` for its first ones; the summary holds
    ``final_score`` and ``generation``.

    A resumed session continues the same W&B runs (their ids are kept in
    ``<run dir>/loggers/wandb.json``). Offline use (``mode="offline"`` or ``WANDB_MODE=offline``)
    writes under ``<run dir>/wandb``; upload later with ``wandb sync``.

    Args:
        project: W&B project (default: W&B's own, e.g. ``WANDB_PROJECT``).
        entity: W&B entity (user or team).
        group: Group of the member runs (default: the run directory's name).
        mode: ``"online"``, ``"offline"`` or ``"disabled"`` (default: W&B's own, e.g. ``WANDB_MODE``).
        dir: Where W&B writes its local files (default: the run directory).
        **init_kwargs: Passed to every ``wandb.init`` (``tags=...``, ``notes=...``).

    Examples:
        >>> import poptune as pt
        >>> logger = pt.loggers.WandB(project="digits")  # pt.run(..., callbacks=[logger])
    """

    def __init__(self, project: str | None = None, entity: str | None = None, group: str | None = None,
                 mode: str | None = None, dir: str | os.PathLike | None = None, **init_kwargs: Any):
        if mode not in (None, "online", "offline", "disabled"):
            raise PoptuneError(f"WandB(mode={mode!r}): use 'online', 'offline' or 'disabled'")
        for key in ("id", "name", "resume", "reinit", "config"):
            if key in init_kwargs:
                raise PoptuneError(f"WandB({key}=...): poptune sets {key!r} itself, one W&B run per member; "
                                   f"remove it")
        self.project, self.entity, self.group, self.mode, self.dir = project, entity, group, mode, dir
        self.init_kwargs = init_kwargs

    def on_start(self, config, population, run_dir):
        try:
            import wandb
        except ImportError:
            raise PoptuneError("the W&B logger needs wandb: pip install 'poptune[wandb]'") from None
        self._wandb = wandb
        self._ids = TrackerIds(run_dir, "wandb")
        group = self.group or Path(run_dir).resolve().name
        where = str(self.dir if self.dir is not None else run_dir)
        self.runs = {}
        for state in population:
            key = f"member-{state.id}"
            known = self._ids.get(key)
            run_id = known or uuid.uuid4().hex[:12]  # W&B ids: lowercase letters and digits
            initial = population.segments(state.id)[0].hparams if population.segments(state.id) else state.hparams
            run = wandb.init(
                project=self.project, entity=self.entity, group=group, name=key, id=run_id,
                resume="allow", reinit="create_new", dir=where, mode=self.mode, job_type="member",
                settings=wandb.Settings(console="off", silent=True),
                config={**{f"initial/{k}": v for k, v in initial.items()}, "member": state.id,
                        "poptune_dir": str(run_dir)},
                **self.init_kwargs,
            )
            run.config.update(dict(state.hparams), allow_val_change=True)
            self.runs[state.id] = run
            self._ids.set(key, run_id)
        self._ids.save()

    def on_event(self, event, population):
        if isinstance(event, ev.Reported):
            row: dict[str, Any] = {"score": event.score}
            row.update({name: value for name, value in event.metrics.items() if number(value)})
            row.update({f"hparams/{name}": value for name, value in population[event.member].hparams.items()
                        if number(value)})
            self.runs[event.member].log(row, step=event.step)
        elif isinstance(event, ev.Exploited):
            run = self.runs[event.member]
            run.log({"exploit/source": event.source, "exploit/source_step": event.source_step}, step=event.step)
            run.config.update(dict(event.new), allow_val_change=True)
        elif isinstance(event, ev.Explored):
            self.runs[event.member].config.update(dict(event.new), allow_val_change=True)

    def on_end(self, status, population):
        for state in population:
            run = self.runs.get(state.id)
            if run is None:
                continue
            run.summary["final_score"] = state.score
            run.summary["generation"] = state.generation
            run.finish(exit_code=_EXIT_CODE.get(status, 0))
        self.runs = {}
