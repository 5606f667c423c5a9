import math

import pytest

from poptune.core import events as ev

EVERY_KIND = [
    ev.RunStarted(config={"population": 2, "steps": 8}),
    ev.RunResumed(config={"population": 2, "steps": 12}),
    ev.MemberAdded(member=1, hparams={"lr": 0.1}, generation=0),
    ev.Reported(member=1, step=3, score=0.5, metrics={"loss": 0.25, "tag": "a"}),
    ev.Checkpointed(member=1, step=4, ref="m0001/s00000004.pkl"),
    ev.CheckpointDeleted(member=1, ref="m0001/s00000004.pkl"),
    ev.Exploited(member=1, step=4, source=0, source_step=4, source_age=4, ref="m0000/s00000004.pkl",
                 old={"lr": 0.1}, copied={"lr": 0.2}, new={"lr": 0.24}, generation=1, info={"rank": 0, "of": 2}),
    ev.Explored(member=0, step=4, old={"lr": 0.2}, new={"lr": 0.16}),
    ev.Kept(member=0, step=4, info={"rank": 1, "of": 2}),
    ev.AttemptFailed(member=1, step=5, error="ValueError: x", traceback="...", attempt=1, crashed=False,
                     error_type="ValueError"),
    ev.MemberFailed(member=1, step=5, error="ValueError: x"),
    ev.MemberFinished(member=0, step=8, ref="m0000/s00000008.pkl"),
    ev.SessionEnded(status="finished"),
]


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: e.kind)
def test_every_kind_round_trips_through_its_stored_row(event):
    row = ev.encode(event)
    assert row[1] == event.kind
    back = ev.decode(*row, seq=7)
    assert back == event and type(back) is type(event)
    assert back.seq == 7 and back.time == event.time


def test_rows_written_by_poptune_0_1_decode_to_the_same_events():
    # the stored layout is unchanged: kind, member, step, score, data
    report = ev.decode(1.0, "report", 0, 2, None, {"acc": 0.9})
    assert math.isnan(report.score) and report.metrics == {"acc": 0.9}  # SQLite keeps NaN as NULL
    exploit = ev.decode(1.0, "exploit", 1, 6, None, {"source": 0, "source_step": 4, "source_age": 4, "ref": "r",
                                                     "old": {}, "copied": {}, "new": {"lr": 1}, "generation": 1})
    assert (exploit.source, exploit.new, exploit.info) == (0, {"lr": 1}, {})
    failure = ev.decode(1.0, "failure", 1, 6, None, {"error": "E", "kind": "WorkerDied", "crashed": True})
    assert (failure.error_type, failure.crashed, failure.attempt) == ("WorkerDied", True, 0)
    assert ev.decode(1.0, "run", None, None, None, {"steps": 4}).config == {"steps": 4}


def test_an_unknown_kind_keeps_everything_it_was_stored_with():
    event = ev.decode(1.0, "tournament", 3, 9, 1.0, {"opponent": 4})
    assert isinstance(event, ev.UnknownEvent) and event.kind == "tournament"
    assert ev.encode(event) == (1.0, "tournament", 3, 9, 1.0, {"opponent": 4})


def test_events_are_frozen_and_expose_their_stored_data():
    event = ev.Kept(member=0, step=4, info={"rank": 1})
    with pytest.raises(AttributeError):
        event.member = 1  # type: ignore[misc]
    assert event.data == {"info": {"rank": 1}}
    assert ev.Reported(member=0, step=1, score=0.5, metrics={"a": 1}).data == {"a": 1}


def test_a_registered_kind_round_trips_through_the_store(tmp_path):
    from dataclasses import dataclass
    from typing import ClassVar

    from poptune.store import Store

    @ev.register
    @dataclass(frozen=True, slots=True)
    class Rated(ev.Event):
        kind: ClassVar[str] = "test_rated"
        member: int = 0
        step: int = 0
        rating: float = 0.0

    store = Store(tmp_path / "poptune.db")
    store.append([Rated(member=2, step=4, rating=25.5)])
    (back,) = store.read()
    assert type(back) is Rated and back == Rated(member=2, step=4, rating=25.5)
    with pytest.raises(ValueError, match="already taken"):
        @ev.register
        @dataclass(frozen=True, slots=True)
        class Clash(ev.Event):
            kind: ClassVar[str] = "report"
