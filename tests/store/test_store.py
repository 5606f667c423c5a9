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
