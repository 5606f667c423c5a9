"""Run every member in the calling process, one task at a time (deterministic; for tests and
debugging: breakpoints and print statements work as usual)."""

from __future__ import annotations

from collections import deque
from typing import Any
from collections.abc import Callable

from poptune.checkpoints import open_checkpoints
from poptune.runners.base import Handler, Runner
from poptune.core.messages import Failure, Idle, Report, Task
from poptune.runners.worker import run_task


class Inline(Runner):
    """Sequential runner in the calling process.

    A population larger than one is time-multiplexed: each member runs until its next ready
    step, then the least advanced member runs. With a fixed seed and a deterministic train
    function, two runs give identical results.

    Examples:
        >>> import poptune as pt
        >>> runner = pt.runners.Inline()
    """

    name = "inline"
    in_process = True

    def start(self, train: Callable, handler: Handler, checkpoint_root: str, population: int) -> None:
        self._train = train
        self._channel = _InlineChannel(handler)
        self._checkpoints = open_checkpoints(checkpoint_root)
        self._queue: deque[Task] = deque()

    def free_slots(self) -> int:
        return 0 if self._queue else 1

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    def poll(self, timeout: float) -> None:
        if self._queue:
            try:
                run_task(self._train, self._queue.popleft(), self._channel, self._checkpoints)
            except _ControllerError as wrapped:
                error = wrapped.error  # as any other runner would: the run stops with it
                error.__suppress_context__ = True
                raise error  # noqa: B904 (its own __cause__, the original error, must stay)

    def reply(self, member: int, reply: Any) -> None:
        raise RuntimeError("poptune internal error: the inline runner cannot answer later")

    def stop(self) -> None:
        self._queue.clear()


class _ControllerError(BaseException):
    """An error of the controller's own work (a decision, the log) raised while the member's
    ``train`` is on the stack: carried past ``train``'s error handling, so it stops the run
    rather than counting as a failure of that member."""

    def __init__(self, error: Exception):
        super().__init__(error)
        self.error = error


class _InlineChannel:
    def __init__(self, handler: Handler):
        self.handler = handler

    def report(self, report: Report) -> Any:
        try:
            reply = self.handler.on_report(report)
        except Exception as err:
            raise _ControllerError(err) from err
        if report.ready and reply is None:
            raise RuntimeError("poptune internal error: the inline runner got no reply at a ready step")
        return reply

    def alive(self) -> None:
        pass  # the controller is this process

    def failure(self, failure: Failure) -> None:
        self.handler.on_failure(failure)

    def idle(self, idle: Idle) -> None:
        self.handler.on_idle(idle)
