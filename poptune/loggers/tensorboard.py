"""Mirror a run to TensorBoard: one TensorBoard run per member."""

from __future__ import annotations

import math
import os
from pathlib import Path

from poptune.callbacks import Callback
from poptune.errors import PoptuneError
from poptune.core import events as ev
from poptune.loggers.common import number


def _summary_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

        return SummaryWriter
    except ImportError:
        pass
    try:
        from tensorboardX import SummaryWriter

        return SummaryWriter
    except ImportError:
        raise PoptuneError(
            "the TensorBoard logger needs tensorboardX or tensorboard: pip install 'poptune[tensorboard]'"
        ) from None


class TensorBoard(Callback):
    """Write every report to TensorBoard event files, one folder per member.

    Per member and step: ``score``, each numeric metric under ``metrics/``, each numeric
    hyperparameter under ``hparams/`` (so the schedule shows as a curve), and a text line per
    exploit. At the end, each member's final hyperparameters and score (the HPARAMS tab).

    Args:
        log_dir: Where to write (default ``<run dir>/tensorboard``); view with
            ``tensorboard --logdir <log_dir>``.

    Examples:
        >>> import poptune as pt
        >>> logger = pt.loggers.TensorBoard()  # pt.run(..., callbacks=[logger])
    """

    def __init__(self, log_dir: str | os.PathLike | None = None):
        self.log_dir = log_dir
        self._writers: dict = {}

    def on_start(self, config, population, run_dir):
        self._writer_class = _summary_writer()
        self._root = Path(self.log_dir) if self.log_dir is not None else Path(run_dir) / "tensorboard"

    def _writer(self, member: int):
        if member not in self._writers:
            self._writers[member] = self._writer_class(str(self._root / f"member-{member:03d}"))
        return self._writers[member]

    def on_event(self, event, population):
        if isinstance(event, ev.Reported):
            writer = self._writer(event.member)
            writer.add_scalar("score", event.score, event.step)
            for name, value in event.metrics.items():
                if number(value):
                    writer.add_scalar(f"metrics/{name}", value, event.step)
            for name, value in population[event.member].hparams.items():
                if number(value):
                    writer.add_scalar(f"hparams/{name}", value, event.step)
        elif isinstance(event, ev.Exploited):
            self._writer(event.member).add_text(
                "exploits", f"copied member {event.source} (its step {event.source_step}); new hyperparameters "
                f"{event.new}", event.step,
            )

    def on_end(self, status, population):
        for state in population:
            hparams = {k: v for k, v in state.hparams.items() if isinstance(v, (bool, str, int, float))}
            if hparams and math.isfinite(state.score):
                self._writer(state.id).add_hparams(hparams, {"final/score": state.score})
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

