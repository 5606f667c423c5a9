"""The single writer of a run log: record, apply, show, commit, then delete released files."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from poptune.callbacks import Callback
from poptune.core import events as ev
from poptune.core.state import PopulationState
from poptune.store import Store


GROUP_EVENTS = 256  # a group commit holds at most this many events...
GROUP_SECONDS = 0.05  # ...or waits at most this long (a live reader of the log lags by no more)


class Recorder:
    """Every fact of a live run goes through :meth:`record`, in this order: applied to the
    population state, shown to callbacks, and (at :meth:`flush`) committed to the store in one
    transaction. A checkpoint file the state releases (no member and no open round can load it)
    is deleted only after the events that released it are committed, so the log never points
    at a deleted file; a deletion the log missed (a crash in between) is redone on resume.

    Commits are grouped: ``flush(force=False)`` commits only once ``GROUP_EVENTS`` events are
    pending or the oldest has waited ``GROUP_SECONDS``. The controller forces a commit before
    it answers a worker at a ready step (the checkpoint and the decision are in the log before
    the worker hears of them), before it sends decisions to waiting workers, and at the end of
    a session, also after an error or Ctrl-C. A ``kill -9`` of the controller can therefore lose
    the events of about the last ``GROUP_SECONDS`` (at most ``GROUP_EVENTS``), none of them a
    checkpoint a worker was told is saved: the resumed run restarts each member from its last
    committed checkpoint, so the lost steps are trained and reported again. (The inline runner
    runs members in the controller's own process, where a ``kill -9`` takes both: its ready
    steps are group-committed too, and the member redoes them as well.) While user code runs
    on the controller's own stack, between two reports, nothing would call :meth:`flush`: a
    background thread (:meth:`start_flusher`) commits the group once it is due, so the
    bound holds however long a step takes.

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
        self._since = 0.0  # when the oldest pending event was recorded
        self._lock = threading.Lock()  # the pending events, shared with the flusher
        self._committing = threading.Lock()  # the store, shared with the flusher
        self._flusher: threading.Thread | None = None
        self._stop_flusher = threading.Event()
        self._flusher_error: BaseException | None = None

    def record(self, events: Sequence[ev.Event]) -> None:
        with self._lock:
            if not self._pending:
                self._since = time.monotonic()
            self._pending.extend(events)
        for event in events:
            self.state.apply(event)
            for callback in self.callbacks:
                callback.on_event(event, self.state)

    def _commit(self, force: bool) -> bool:
        """Commit the pending events if ``force`` or a group is due; return whether none is
        left pending."""
        with self._committing:  # one commit at a time, in the order the events were recorded
            with self._lock:  # held briefly: record() goes on while the group is written
                if not self._pending:
                    return True
                if not (force or len(self._pending) >= GROUP_EVENTS
                        or time.monotonic() - self._since >= GROUP_SECONDS):
                    return False
                group, self._pending = self._pending, []
            try:
                self.store.append(group)
            except BaseException:
                with self._lock:
                    self._pending[:0] = group  # not committed: still pending, first
                raise
            return True

    def due_in(self, longest: float) -> float:
        """Seconds until the pending group is due (``longest`` when nothing is pending): how
        long the controller may wait for messages before it commits."""
        with self._lock:
            if not self._pending:
                return longest
            return min(longest, max(0.0, self._since + GROUP_SECONDS - time.monotonic()))

    def flush(self, force: bool = True) -> None:
        """Commit recorded events, then delete the checkpoint files they released.

        Args:
            force: Commit now; ``False``: only if a group is due (see the class).
        """
        if self._flusher_error is not None:
            error, self._flusher_error = self._flusher_error, None
            raise error
        if not force:  # the common case, once per report: a group is filling, nothing is due
            pending = self._pending  # (read without the lock: at worst a due group waits one call)
            if pending and len(pending) < GROUP_EVENTS and time.monotonic() - self._since < GROUP_SECONDS:
                return
        if not self._commit(force):
            return  # (and no deletion: what released the files is not committed yet)
        released = self.state.take_released()
        if released:
            for _, ref in released:
                self.checkpoints.delete(ref)
            self.record([ev.CheckpointDeleted(member=member, ref=ref) for member, ref in released])

    def start_flusher(self) -> None:
        """Commit due groups from a background thread until :meth:`end` (for runners whose
        user code runs on the controller's own stack). Only commits: deleting released files
        and everything else stays on the controller's thread."""
        if self._flusher is not None:
            return
        self._stop_flusher.clear()

        def loop() -> None:
            while not self._stop_flusher.wait(GROUP_SECONDS / 5):
                try:
                    self._commit(force=False)
                except BaseException as err:  # raised on the controller's thread at its next flush
                    self._flusher_error = err
                    return

        self._flusher = threading.Thread(target=loop, name="poptune-flusher", daemon=True)
        self._flusher.start()

    def stop_flusher(self) -> None:
        if self._flusher is not None:
            self._stop_flusher.set()
            self._flusher.join()
            self._flusher = None

    def tick(self) -> None:
        for callback in self.callbacks:
            callback.on_tick(self.state)

    def end(self, status: str) -> None:
        """Record the end of the session, commit everything, tell the callbacks."""
        self.stop_flusher()
        self.flush()
        self.record([ev.SessionEnded(status=status)])
        self.flush()
        for callback in self.callbacks:
            callback.on_end(status, self.state)
