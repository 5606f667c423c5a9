"""Group commits: what the recorder commits when, and what it deletes only after a commit."""

import time

import pytest

from poptune import recorder as rec
from poptune.core import events as ev
from poptune.store import Store


class _State:
    """The part of the population state the recorder uses."""

    def __init__(self):
        self.applied, self.released = [], []

    def apply(self, event):
        self.applied.append(event)

    def take_released(self):
        out, self.released = self.released, []
        return out


class _Checkpoints:
    def __init__(self):
        self.deleted = []

    def delete(self, ref):
        self.deleted.append(ref)


@pytest.fixture
def recorder(tmp_path):
    store = Store(tmp_path / "poptune.db")
    made = rec.Recorder(store, _State(), [], _Checkpoints())
    yield made
    store.close()


def _reports(n, start=1):
    return [ev.Reported(member=0, step=s, score=1.0) for s in range(start, start + n)]


def test_an_unforced_flush_waits_for_a_group_and_a_forced_one_commits_at_once(recorder, monkeypatch):
    monkeypatch.setattr(rec, "GROUP_SECONDS", 3600.0)
    recorder.record(_reports(3))
    assert len(recorder.state.applied) == 3  # the state sees every event at once
    recorder.flush(force=False)
    assert recorder.store.read() == []
    recorder.flush()
    assert [e.step for e in recorder.store.read()] == [1, 2, 3]


def test_a_group_is_due_after_its_event_count_or_its_delay(recorder, monkeypatch):
    monkeypatch.setattr(rec, "GROUP_SECONDS", 3600.0)
    monkeypatch.setattr(rec, "GROUP_EVENTS", 5)
    recorder.record(_reports(4))
    recorder.flush(force=False)
    assert len(recorder.store.read()) == 0
    recorder.record(_reports(1, start=5))
    recorder.flush(force=False)
    assert len(recorder.store.read()) == 5
    clock = [1000.0]
    monkeypatch.setattr(rec.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(rec, "GROUP_SECONDS", 0.05)
    recorder.record(_reports(1, start=6))
    recorder.flush(force=False)
    assert len(recorder.store.read()) == 5
    clock[0] += 0.06
    recorder.flush(force=False)
    assert len(recorder.store.read()) == 6


def test_released_files_are_deleted_only_after_the_events_that_released_them_commit(recorder, monkeypatch):
    monkeypatch.setattr(rec, "GROUP_SECONDS", 3600.0)
    recorder.record(_reports(1))
    recorder.state.released.append((0, "m0000/s00000001.pkl"))
    recorder.flush(force=False)
    assert recorder.checkpoints.deleted == []
    assert recorder.state.released  # still owed
    recorder.flush()
    assert recorder.checkpoints.deleted == ["m0000/s00000001.pkl"]
    recorder.end("finished")  # the deletion's own event, and the session's end, are committed at the end
    kinds = [e.kind for e in recorder.store.read()]
    assert kinds[-2:] == [ev.CheckpointDeleted.kind, ev.SessionEnded.kind]


def test_the_flusher_commits_a_due_group_while_nobody_calls_flush(recorder):
    recorder.start_flusher()
    try:
        recorder.record(_reports(2))
        deadline = time.monotonic() + 5
        while not recorder.store.read() and time.monotonic() < deadline:
            time.sleep(rec.GROUP_SECONDS / 5)
        assert [e.step for e in recorder.store.read()] == [1, 2]
    finally:
        recorder.stop_flusher()


def test_an_error_of_the_flusher_surfaces_at_the_next_flush(recorder, monkeypatch):
    def full(events):
        raise OSError("disk full")

    monkeypatch.setattr(recorder.store, "append", full)
    recorder.start_flusher()
    try:
        recorder.record(_reports(1))
        deadline = time.monotonic() + 5
        while recorder._flusher_error is None and time.monotonic() < deadline:
            time.sleep(rec.GROUP_SECONDS / 5)
        with pytest.raises(OSError, match="disk full"):
            recorder.flush(force=False)
    finally:
        recorder.stop_flusher()


def test_due_in_says_how_long_the_pending_group_may_wait(recorder, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(rec.time, "monotonic", lambda: clock[0])
    assert recorder.due_in(0.2) == 0.2  # nothing pending
    recorder.record(_reports(1))
    assert recorder.due_in(0.2) == pytest.approx(rec.GROUP_SECONDS)
    clock[0] += rec.GROUP_SECONDS / 2
    assert recorder.due_in(0.2) == pytest.approx(rec.GROUP_SECONDS / 2)
    clock[0] += rec.GROUP_SECONDS
    assert recorder.due_in(0.2) == 0.0
