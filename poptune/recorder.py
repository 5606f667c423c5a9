"""The single writer of a run log: record, apply, show, commit, then delete released files."""

from __future__ import annotations

from collections.abc import Sequence

from poptune.callbacks import Callback
from poptune.core import events as ev
from poptune.core.state import PopulationState
from poptune.store import Store


class Recorder:
    """Every fact of a live run goes through :meth:`record`, in this order: applied to the
    population state, shown to callbacks, and (at :meth:`flush`) committed to the store in one
    transaction. A checkpoint file the state releases (no member and no open round can load it)
    is deleted only after the events that released it are committed, so the log never points
    at a deleted file; a deletion the log missed (a crash in between) is redone on resume.

    Args:
        store: The run log.
        state: The live population state.
        callbacks: Told about every event.
        checkpoints: Checkpoint files (for deletions).
    """

    def __init__(self, store: Store, state: PopulationState, callbacks: Sequence[Callback], checkpoints):
        self.store, self.state, self.callbacks = store, state, list(callbacks)
        self.checkpoints = checkpoints
        self._pending: list[ev.Event] = []

    def record(self, events: Sequence[ev.Event]) -> None:
        self._pending.extend(events)
        for event in events:
            self.state.apply(event)
            for callback in self.callbacks:
                callback.on_event(event, self.state)

    def flush(self) -> None:
        """Commit recorded events, then delete the checkpoint files they released."""
        if self._pending:
            self.store.append(self._pending)
            self._pending = []
        released = self.state.take_released()
        if released:
            for _, ref in released:
                self.checkpoints.delete(ref)
            self.record([ev.CheckpointDeleted(member=member, ref=ref) for member, ref in released])

    def tick(self) -> None:
        for callback in self.callbacks:
            callback.on_tick(self.state)

    def end(self, status: str) -> None:
        """Record the end of the session, commit everything, tell the callbacks."""
        self.flush()
        self.record([ev.SessionEnded(status=status)])
        self.flush()
        for callback in self.callbacks:
            callback.on_end(status, self.state)
