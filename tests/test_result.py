import json
import math

import pytest

import poptune as pt
from poptune.core import events as ev
from poptune.result import Result

from tests.test_run import run

SPACE = {"lr": {"type": "Float", "low": 0.01, "high": 1.0, "log": False}}


def Event(kind, member=None, step=None, score=None, data=None):
    """An event from its stored row (as an older poptune wrote it)."""
    return ev.decode(0.0, kind, member, step, score, data or {})


def synthetic(*events):
    head = Event("run", data={"population": 2, "steps": 8, "interval": 2, "direction": "maximize", "space": SPACE})
    out = [head, *events]
    for seq, e in enumerate(out, start=1):
        ev.set_seq(e, seq)
    return Result(out)


def test_reports_keep_the_latest_row_per_member_and_step():
    result = synthetic(
        Event("member", 0, 0, data={"hparams": {"lr": 0.1}}),
        Event("report", 0, 1, 0.1), Event("report", 0, 2, 0.2),
        Event("report", 0, 2, 0.25),  # re-run after a failure or resume
    )
    assert [(r.step, r.score) for r in result.reports] == [(1, 0.1), (2, 0.25)]


def test_lineage_follows_copied_files_and_counts_the_training_received():
    # member 1 copies member 0's state saved at step 4 while member 1 itself is at step 6: the
    # copied model had 4 steps of training, so member 1's model at its step 8 had 4 + 2 = 6.
    x = {"source": 0, "source_step": 4, "source_age": 4, "ref": "m0/4", "old": {"lr": 0.5},
         "copied": {"lr": 0.1}, "new": {"lr": 0.12}, "generation": 1}
    result = synthetic(
        Event("member", 0, 0, data={"hparams": {"lr": 0.1}}),
        Event("member", 1, 0, data={"hparams": {"lr": 0.5}}),
        Event("report", 0, 4, 0.9), Event("checkpoint", 0, 4, data={"ref": "m0/4"}),
        Event("report", 1, 6, 0.1), Event("checkpoint", 1, 6, data={"ref": "m1/6"}),
        Event("exploit", 1, 6, data=x),
        Event("report", 1, 8, 0.95), Event("report", 0, 8, 0.5),
    )
    assert [(s.member, s.start, s.end, s.hparams["lr"], s.generation) for s in result.lineage(1)] == [
        (0, 0, 4, 0.1, 0), (1, 4, 6, 0.12, 1),
    ]
    assert result.schedule(1) == [(0, {"lr": 0.1}), (4, {"lr": 0.12})]
    assert result.best.id == 1
    assert result.hparams_at(1, 6) == {"lr": 0.5} and result.hparams_at(1, 7) == {"lr": 0.12}


def test_best_prefers_finished_members_and_never_nan():
    result = synthetic(
        Event("member", 0, 0, data={"hparams": {"lr": 0.1}}),
        Event("member", 1, 0, data={"hparams": {"lr": 0.5}}),
        Event("report", 0, 8, math.nan), Event("finish", 0, 8),
        Event("report", 1, 4, 0.9),
    )
    assert result.best.id == 0  # the only finished one
    result2 = synthetic(
        Event("member", 0, 0, data={"hparams": {"lr": 0.1}}),
        Event("member", 1, 0, data={"hparams": {"lr": 0.5}}),
        Event("report", 0, 8, math.nan), Event("report", 1, 8, 0.1),
    )
    assert result2.best.id == 1


def test_status_of_a_session_without_end_is_crashed_when_its_process_is_gone():
    result = synthetic(Event("member", 0, 0, data={"hparams": {"lr": 0.1}}))
    result.events[0].data.update(pid=2**22 + 12345, host="elsewhere")
    assert result.status == "crashed"


def test_to_pandas_has_metrics_and_hyperparameters(run_dir):
    pd = pytest.importorskip("pandas")
    result = run(run_dir, population=3, steps=6, interval=2)
    frame = result.to_pandas()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 18
    assert {"member", "step", "score", "time", "hparams/lr"} <= set(frame.columns)
    row = frame[(frame.member == 0) & (frame.step == 6)].iloc[0]
    assert row["hparams/lr"] == pytest.approx(result.hparams_at(0, 6)["lr"])


def test_summary_and_repr(run_dir):
    result = run(run_dir, population=2, steps=4, interval=2)
    assert "finished" in result.summary() and "best: member" in result.summary()
    assert repr(result).startswith("<Result ")
    with pytest.raises(pt.PoptuneError, match="no member 9"):
        result.member(9)
    json.dumps([vars(s) for s in result.lineage()])  # plain data
