"""Run directories, resume after a crash, Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import poptune as pt
from poptune.core import events as ev

from tests import helpers
from tests.test_run import log, run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def marker_env(tmp_path, monkeypatch):
    monkeypatch.setenv("POPTUNE_TEST_MARKER", str(tmp_path / "marker"))


def test_a_directory_holding_a_run_is_refused_without_resume_or_overwrite(run_dir):
    run(run_dir)
    with pytest.raises(pt.RunDirError, match="holds this run already .*resume=True"):
        run(run_dir)
    with pytest.raises(pt.RunDirError, match="a different run \\(its population differ"):
        run(run_dir, population=5)
    with pytest.raises(pt.RunDirError, match="cannot resume .*population: stored 4, given 5"):
        run(run_dir, population=5, resume=True)
    with pytest.raises(pt.RunDirError, match="space"):
        run(run_dir, space={"lr": pt.Float(0.1, 1.0)}, resume=True)


def test_overwrite_starts_over(run_dir):
    first = run(run_dir, steps=6)
    second = run(run_dir, steps=8, overwrite=True)
    assert len(first.reports) == 24 and len(second.reports) == 32
    assert len(log(run_dir, ev.RUN)) == 1


def test_resume_of_a_finished_run_changes_nothing_and_can_extend_the_budget(run_dir):
    first = run(run_dir, steps=8)
    again = run(run_dir, steps=8, resume=True)
    assert [(r.member, r.step, r.score) for r in again.reports] == [(r.member, r.step, r.score) for r in first.reports]
    longer = run(run_dir, steps=12, resume=True)
    assert len(longer.reports) == 48 and all(m.step == 12 for m in longer.members)
    with pytest.raises(pt.ConfigError, match="below the stored run's budget"):
        run(run_dir, steps=4, resume=True)


def test_resume_true_on_an_empty_directory_starts_the_run(run_dir):
    assert len(run(run_dir, resume=True).reports) == 48


def _reports_in(run_dir):
    try:
        return len(log(run_dir, ev.REPORT))
    except Exception:
        return 0


def _start(run_dir, *args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.resume_script", str(run_dir), *args],
        cwd=ROOT,
        env={**os.environ, "POPTUNE_TEST_SLEEP": "0.01", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_reports(run_dir, proc, count, timeout=60):
    deadline = time.monotonic() + timeout
    while _reports_in(run_dir) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.02)


def test_sigkill_mid_run_then_resume_loses_and_duplicates_nothing(run_dir):
    proc = _start(run_dir)
    _wait_for_reports(run_dir, proc, 60)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = [(e.member, e.step, e.score) for e in log(run_dir, ev.REPORT)]
    assert 60 <= len(before) < 160
    crashed = pt.Result.load(run_dir)
    assert crashed.status == "crashed"
    assert len(crashed.reports) == len({(m, s) for m, s, _ in before})

    resumed = _start(run_dir, "resume")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    result = pt.Result.load(run_dir)
    assert result.status == "finished"
    # every report made before the crash is still in the raw log, in order
    after = [(e.member, e.step, e.score) for e in log(run_dir, ev.REPORT)]
    assert after[: len(before)] == before
    # one row per (member, step), every member at its budget
    assert Counter((r.member, r.step) for r in result.reports) == Counter(
        {(m, s): 1 for m in range(4) for s in range(1, 41)}
    )
    assert all(m.status == "finished" and m.step == 40 for m in result.members)
    # steps re-run after the resume are only those after each member's last checkpoint
    redone = len(after) - 160
    assert 0 <= redone <= 4 * 4


@pytest.mark.parametrize("runner", ["inline", "processes"])
def test_ctrl_c_stops_cleanly_and_the_run_resumes(run_dir, runner):
    proc = _start(run_dir, runner)
    _wait_for_reports(run_dir, proc, 40)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and b"KeyboardInterrupt" in err
    assert f"poptune: interrupted; the run in {run_dir} resumes with the same call and resume=True".encode() in err
    assert pt.Result.load(run_dir).status == "interrupted"
    resumed = run(run_dir, helpers.counter, population=4, steps=40, interval=4, resume=True)
    assert resumed.status == "finished" and len(resumed.reports) == 160


def _interrupted_at(member_id, at_step):
    """A counter whose member ``member_id`` stops the session (Ctrl-C) at ``at_step``, once."""
    state = {"stop": True}

    def train(member):
        x = member.checkpoint or 0.0
        for step in member.steps():
            if state["stop"] and member.id == member_id and step == at_step:
                state["stop"] = False
                raise KeyboardInterrupt
            x += member.hparams["lr"]
            member.report(x, checkpoint=x)

    return train


@pytest.mark.parametrize("synchronous", [False, True], ids=["async", "sync"])
@pytest.mark.parametrize(
    "first, second",
    [
        (dict(interval=4, steps=8), dict(interval=4, steps=12)),  # a finished member goes on past its old end
        (dict(interval=4, steps=24), dict(interval=3, steps=24)),  # other ready steps
        (dict(interval=4, steps=24), dict(interval=2, steps=24)),  # ready steps a member already ran past
    ],
    ids=["budget-raised", "interval-3", "interval-2"],
)
def test_a_resume_that_changes_the_ready_steps_or_the_budget_finishes(run_dir, synchronous, first, second):
    train = _interrupted_at(1, 6)
    common = dict(space=helpers.SPACE, population=2, synchronous=synchronous, max_lag=None)
    with pytest.raises(KeyboardInterrupt):
        run(run_dir, train, **common, **first)
    result = run(run_dir, train, resume=True, **common, **second)
    assert result.status == "finished" and all(m.step == second["steps"] for m in result.members)
    assert result.failures == []  # nothing the engine did counted as a failure of a member


@pytest.mark.parametrize("synchronous", [False, True], ids=["async", "sync"])
def test_a_member_that_failed_for_good_is_retried_on_resume_and_finishes(run_dir, marker_env, synchronous):
    with pytest.warns(UserWarning, match="member 1 failed"):
        first = run(run_dir, helpers.flaky, population=2, steps=12, interval=4, retries=0, synchronous=synchronous)
    assert first.member(1).status == "failed"
    result = run(run_dir, helpers.flaky, population=2, steps=12, interval=4, retries=0, synchronous=synchronous,
                 resume=True)
    assert all(m.status == "finished" and m.step == 12 for m in result.members)
