"""The runner interface: where user code runs. A runner moves tasks and messages, nothing else.

The controller hands a runner :class:`~poptune.runners.messages.Task` objects for its free
slots and receives, through a :class:`Handler`, every report, failure and idle notice. A
runner makes no PBT decision.
"""

from __future__ import annotations

from typing import Any, Protocol
from collections.abc import Callable

from poptune.core.messages import Failure, Idle, Report, Task


class Handler(Protocol):
    """The controller side, as a runner sees it."""

    def on_report(self, report: Report) -> Any:
        """Record a report. For a ready step return the reply, or ``None`` to answer later
        through :meth:`Runner.reply`."""

    def on_failure(self, failure: Failure) -> None: ...

    def on_idle(self, idle: Idle) -> None: ...


class Runner:
    """Base class of runners.

    Lifecycle: :meth:`start` once, then :meth:`submit` / :meth:`poll` (and :meth:`reply` for
    deferred answers) until the run is over, then :meth:`stop`.
    """

    name = "runner"
    in_process = False  # True when train runs on the controller's own stack (inline)

    def start(self, train: Callable, handler: Handler, checkpoint_root: str, population: int) -> None:
        """Get ready to run ``population`` members of ``train``; checkpoints live at
        ``checkpoint_root`` (a folder or an fsspec URL, see
        :func:`poptune.checkpoints.open_checkpoints`)."""
        raise NotImplementedError

    def free_slots(self) -> int:
        """How many more tasks :meth:`submit` accepts now."""
        raise NotImplementedError

    def submit(self, task: Task) -> None:
        raise NotImplementedError

    def poll(self, timeout: float) -> None:
        """Make progress for up to ``timeout`` seconds, delivering messages to the handler."""
        raise NotImplementedError

    def reply(self, member: int, reply: Any) -> None:
        """Deliver a reply the handler deferred (synchronous mode)."""
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def describe(self) -> dict:
        """JSON description stored with the run."""
        return {"name": self.name}
