"""The single writer of a run log: record, apply, show, commit, then delete released files."""

from __future__ import annotations

from collections.abc import Sequence

from poptune.callbacks import Callback
from poptune.checkpoints import LocalCheckpoints, Retention
from poptune.scheduler import Population
from poptune.store import Event, Store
from poptune.store import events as ev


class Recorder:
    """Every fact of a live run goes through :meth:`record`, in this order: applied to the
    population state, shown to callbacks, and (at :meth:`flush`) committed to the store in one
    transaction. A checkpoint file released by the retention policy is deleted only after the
    event that released it is committed, so the log never points at a deleted file.

    Args:
        store: The run log.
        population: The live population state.
        callbacks: Told about every event.
        checkpoints: Checkpoint files (for deletions).
        retention: Which checkpoint files to keep.
    """

    def __init__(
        self,
        store: Store,
        population: Population,
        callbacks: Sequence[Callback],
        checkpoints: LocalCheckpoints,
        retention: Retention,
    ):
        self.store, self.population, self.callbacks = store, population, list(callbacks)
        self.checkpoints, self.retention = checkpoints, retention
        self._pending: list[Event] = []
        self._dead: list[tuple[int, str]] = []

    def record(self, events: Sequence[Event]) -> None:
        self._pending.extend(events)
        for event in events:
            self.population.apply(event)
            for callback in self.callbacks:
                callback.on_event(event, self.population)

    def point(self, member: int, ref: str) -> None:
        """Member's current state is now ``ref``; files nobody points at go after the commit."""
        self._dead.extend((member, dead) for dead in self.retention.point(member, ref))

    def flush(self) -> None:
        """Commit recorded events, then delete the checkpoint files they released."""
        if self._pending:
            self.store.append(self._pending)
            self._pending = []
        if self._dead:
            dead, self._dead = self._dead, []
            for _, ref in dead:
                self.checkpoints.delete(ref)
            self.record([Event(ev.CHECKPOINT_DELETED, member, data={"ref": ref}) for member, ref in dead])

    def tick(self) -> None:
        for callback in self.callbacks:
            callback.on_tick(self.population)

    def end(self, status: str) -> None:
        """Record the end of the session, commit everything, tell the callbacks."""
        self.flush()
        self.record([Event(ev.END, data={"status": status})])
        self.flush()
        for callback in self.callbacks:
            callback.on_end(status, self.population)
