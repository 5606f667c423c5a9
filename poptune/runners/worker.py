"""The worker side of every runner: call ``train`` for a task, and again after each restart."""

from __future__ import annotations

import os
import random
import sys
import traceback
from typing import Any, Protocol
from collections.abc import Callable

from poptune.errors import DiskFullError, RunLogError, UsageError
from poptune.member import CheckpointIO, Member
from poptune.core.messages import Failure, Idle, Report, Restart, Task


class WorkerChannel(Protocol):
    def report(self, report: Report) -> Any: ...
    def alive(self) -> None: ...
    def failure(self, failure: Failure) -> None: ...
    def idle(self, idle: Idle) -> None: ...


THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """Math libraries in this worker use ``threads`` threads (unless its environment says otherwise),
    so workers sharing a machine do not oversubscribe its cores."""
    for var in THREAD_VARS:
        os.environ.setdefault(var, str(threads))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def seed_globals(seed: int) -> None:
    """Seed Python's, numpy's and (if loaded) torch's global generators for one call of train:
    code that draws from them (ported from elsewhere) gets different noise in every member, and
    the same noise when the same segment runs again, in whatever runner."""
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        accelerator = getattr(torch, "accelerator", None)
        # (which accelerator torch was built for: asking whether one is available would start
        # CUDA's driver here, and a process that did cannot fork workers that use CUDA)
        if accelerator is None or accelerator.current_accelerator() is not None:
            torch.manual_seed(seed)  # the CPU's and every device's generators
        else:  # a build without devices: torch.manual_seed would still queue a seed per device kind (0.15 ms)
            torch.default_generator.manual_seed(seed)


def run_task(train: Callable, task: Task, channel: WorkerChannel, checkpoints: CheckpointIO) -> None:
    """Run ``task``; when a ready point answers :class:`Restart`, call ``train`` again in place.

    Exceptions from ``train`` become a :class:`Failure` message (the controller decides on a
    retry); ``KeyboardInterrupt`` and ``SystemExit`` pass through.
    """
    while True:
        member = Member(task, channel, checkpoints)
        seed_globals(task.seed)
        try:
            train(member)
            if member._outcome is None:
                raise UsageError(_early_return(member, task))
        except Exception as err:
            channel.failure(
                Failure(
                    member=task.member,
                    step=member.step,
                    error=f"{type(err).__name__}: {err}",
                    traceback=traceback.format_exc(),
                    # no retry can help these: the run stops
                    usage=isinstance(err, (UsageError, DiskFullError, RunLogError)),
                    kind=type(err).__name__,
                )
            )
            return
        if isinstance(member._outcome, Restart):
            task = member._outcome.task
            continue
        channel.idle(Idle(task.member))
        return


def _early_return(member: Member, task: Task) -> str:
    if member.step == task.start:
        return (
            f"member {task.member}: train() returned without calling member.report(); "
            f"iterate `for step in member.steps():` and call member.report(score, checkpoint=...) "
            f"once per step"
        )
    return (
        f"member {task.member}: train() returned at step {member.step}, before the end of "
        f"member.steps() (budget {task.budget}); do not break out of the loop: report a NaN "
        f"score to have a bad member replaced"
    )
