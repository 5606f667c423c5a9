import math
import multiprocessing as mp

import pytest

from poptune.core import events as ev
from poptune.errors import PoptuneError
from poptune.store import Store


def test_append_then_read_round_trips_and_sets_seq(tmp_path):
    store = Store(tmp_path / "poptune.db")
    events = [ev.RunStarted(config={"population": 2}), ev.Reported(member=0, step=1, score=0.5, metrics={"loss": 0.1})]
    store.append(events)
    assert [e.seq for e in events] == [1, 2]
    back = store.read()
    assert [ev.encode(e)[1:] for e in back] == [
        ("run", None, None, None, {"population": 2}),
        ("report", 0, 1, 0.5, {"loss": 0.1}),
    ]
    assert back == events  # typed events compare by value (time and seq aside)
    assert [e.seq for e in store.read(after=1)] == [2]
    assert [e.kind for e in store.read(kinds=["report"])] == ["report"]


def test_nan_and_inf_scores_survive(tmp_path):
    store = Store(tmp_path / "poptune.db")
    store.append([ev.Reported(member=0, step=s, score=x) for s, x in ((1, math.nan), (2, math.inf), (3, -math.inf))])
    scores = [e.score for e in store.read()]
    assert math.isnan(scores[0]) and scores[1:] == [math.inf, -math.inf]


def _append_and_die(path):
    store = Store(path)
    store.append([ev.Reported(member=0, step=1, score=1.0)])
    import os

    os._exit(0)  # no close, no cleanup: like a killed process


def test_a_committed_append_survives_the_writer_dying(tmp_path):
    path = tmp_path / "poptune.db"
    Store(path).close()
    proc = mp.get_context("fork").Process(target=_append_and_die, args=(path,))
    proc.start()
    proc.join()
    assert [e.score for e in Store(path, readonly=True).read()] == [1.0]


def test_readers_see_appends_while_the_writer_is_open(tmp_path):
    writer = Store(tmp_path / "poptune.db")
    reader = Store(tmp_path / "poptune.db", readonly=True)
    writer.append([ev.Reported(member=0, step=1, score=1.0)])
    assert len(reader.read()) == 1
    writer.append([ev.Reported(member=0, step=2, score=1.0)])
    assert len(reader.read()) == 2
    with pytest.raises(PoptuneError, match="read-only"):
        reader.append([ev.Reported()])


def test_readonly_on_a_missing_file_says_so(tmp_path):
    with pytest.raises(PoptuneError, match="no poptune run log"):
        Store(tmp_path / "missing.db", readonly=True)


def test_an_event_kind_this_version_does_not_know_reads_back(tmp_path):
    store = Store(tmp_path / "poptune.db")
    store.append([ev.UnknownEvent(name="tournament", member=2, step=5, score=1.0, payload={"opponent": 3})])
    (back,) = store.read()
    assert isinstance(back, ev.UnknownEvent)
    assert (back.kind, back.member, back.step, back.score, back.data) == ("tournament", 2, 5, 1.0, {"opponent": 3})


def test_seqs_stay_consecutive_across_appends_and_match_the_read_back_log(tmp_path):
    store = Store(tmp_path / "poptune.db")
    batches = [[ev.Reported(member=m, step=s, score=float(s)) for m in range(3)] for s in range(1, 5)]
    for batch in batches:
        store.append(batch)
    written = [e.seq for batch in batches for e in batch]
    assert written == list(range(1, 13))
    assert [(e.seq, e.member, e.step) for e in store.read()] == [
        (e.seq, e.member, e.step) for batch in batches for e in batch]


def test_a_failed_append_commits_nothing_and_sets_no_seq(tmp_path):
    store = Store(tmp_path / "poptune.db")
    store.append([ev.Reported(member=0, step=1, score=1.0)])
    bad = [ev.Reported(member=0, step=2, score=1.0), ev.Reported(member=0, step=3, score=1.0, metrics={"x": object()})]
    with pytest.raises(TypeError):
        store.append(bad)
    assert [e.step for e in store.read()] == [1]
    assert all(e.seq is None for e in bad)
    store.append([ev.Reported(member=0, step=2, score=1.0)])
    assert [e.seq for e in store.read()] == [1, 2]


def test_a_log_made_with_the_autoincrement_schema_appends_on_from_its_last_seq(tmp_path):
    import sqlite3

    path = tmp_path / "poptune.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, kind TEXT NOT NULL, "
               "member INTEGER, step INTEGER, score REAL, data TEXT NOT NULL)")
    db.executemany("INSERT INTO events(time, kind, member, step, score, data) VALUES (0, 'report', 0, ?, 0.5, '{}')",
                   [(1,), (2,)])
    db.commit()
    db.close()
    store = Store(path)
    events = [ev.Reported(member=0, step=3, score=0.5), ev.Reported(member=0, step=4, score=0.5)]
    store.append(events)
    assert [e.seq for e in events] == [3, 4]
    assert [(e.seq, e.step) for e in store.read()] == [(1, 1), (2, 2), (3, 3), (4, 4)]
    store.close()
