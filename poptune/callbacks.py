"""Callbacks: objects told about every event of a live run (progress display, loggers).

A callback never changes the run. Subclass :class:`Callback` and override what you need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poptune.core.events import Event
    from poptune.core.state import PopulationState as Population


class Callback:
    """Base class: every method is a no-op.

    Examples:
        >>> import poptune as pt
        >>> from poptune.core import events
        >>> class PrintExploits(pt.Callback):
        ...     def on_event(self, event, population):
        ...         if isinstance(event, events.Exploited):
        ...             print(f"member {event.member} copied member {event.source}")
    """

    def on_start(self, config: dict, population: Population, run_dir: str) -> None:
        """The run (or a resumed session of it) starts; the population is already created."""

    def on_event(self, event: Event, population: Population) -> None:
        """An event was recorded: applied to ``population`` (which callbacks read and never
        change), and committed to the run log with its group (within
        :data:`poptune.recorder.GROUP_SECONDS`). Events are :mod:`poptune.core.events` classes."""

    def on_tick(self, population: Population) -> None:
        """Called a few times per second from the controller loop (to refresh a display)."""

    def on_end(self, status: str, population: Population) -> None:
        """The session ended: ``"finished"``, ``"interrupted"`` or ``"failed"``."""
