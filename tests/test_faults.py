"""Failures inside train functions and dead workers: retried, recorded, never lost."""

from collections import Counter

import pytest

import poptune as pt
from poptune.core import events as ev

from tests import helpers
from tests.test_run import RUNNERS, log, run


@pytest.fixture
def marker(tmp_path, monkeypatch):
    path = tmp_path / "marker"
    monkeypatch.setenv("POPTUNE_TEST_MARKER", str(path))
    return path


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_raising_member_is_retried_from_its_last_checkpoint(run_dir, marker, runner):
    result = run(run_dir, helpers.flaky, population=3, steps=12, interval=4, runner=runner)
    assert marker.exists()
    assert [(f.member, f.step, f.attempt) for f in result.failures] == [(1, 5, 1)]
    assert "transient failure" in result.failures[0].traceback
    assert "RuntimeError" in result.failures[0].error
    raw = Counter((e.member, e.step) for e in log(run_dir, ev.REPORT))
    assert raw[(1, 5)] == 2  # step 5 ran twice: once before the failure, once from the step-4 checkpoint
    assert Counter((r.member, r.step) for r in result.reports) == Counter(
        {(m, s): 1 for m in range(3) for s in range(1, 13)}
    )
    assert all(m.status == "finished" for m in result.members)


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_member_failing_every_time_is_marked_failed_and_the_run_goes_on(run_dir, runner):
    with pytest.warns(UserWarning, match="member 0 failed"):
        result = run(run_dir, helpers.always_fails_member_0, population=3, steps=8, interval=4,
                     runner=runner, retries=2)
    assert [f.attempt for f in result.failures] == [1, 2, 3]
    assert result.member(0).status == "failed"
    assert "member 0 is broken" in result.failures[-1].traceback
    assert all(result.member(m).status == "finished" for m in (1, 2))
    assert result.best.id != 0
    assert not any(x.source == 0 for x in result.exploits)


def test_when_every_member_fails_the_run_raises_with_the_traceback(run_dir):
    def broken(member):
        raise KeyError("no such column")

    with pytest.raises(pt.RunFailedError, match="no such column"):
        run(run_dir, broken, population=2, retries=1)
    failures = log(run_dir, ev.FAILURE)
    assert len(failures) == 4
    assert log(run_dir, ev.END)[-1].data["status"] == "failed"


def test_a_killed_worker_process_costs_one_interval_of_one_member(run_dir, marker):
    result = run(run_dir, helpers.kills_its_worker_once, population=4, steps=12, interval=4,
                 runner=pt.runners.Processes(workers=2))
    assert marker.exists()
    assert [(f.member, f.crashed) for f in result.failures] == [(2, True)]
    assert "exited with code -9" in result.failures[0].error
    raw = Counter((e.member, e.step) for e in log(run_dir, ev.REPORT))
    redone = [key for key, count in raw.items() if count > 1]
    assert redone == [(2, 5)] or redone == []  # step 5 was cut short: at most it is redone
    assert all(m.status == "finished" and m.step == 12 for m in result.members)
    assert len(result.reports) == 48


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize(
    "train, message",
    [
        (lambda m: None, "returned without calling member.report"),
        # without steps(), a 13th report ends either after a yield or after the budget (timing)
        (lambda m: [m.report(1.0, checkpoint=0) for _ in range(13)], "after this call of train ended|after the budget"),
        (lambda m: [m.report(1.0) for _ in m.steps()], "pass member.report\\(score, checkpoint=state\\)"),
        (lambda m: [m.report("high", checkpoint=0) for _ in m.steps()], "must be a number"),
        (lambda m: [m.report(1.0, checkpoint=0, acc=[1]) for _ in m.steps()], "metric 'acc' must be a number"),
        (lambda m: [(m.report(1.0, checkpoint=0), m.report(1.0, checkpoint=0)) for _ in m.steps()],
         "called twice for step"),
        (lambda m: [None for _ in m.steps()], "ended without member.report"),
    ],
    ids=["no-report", "thirteen-reports", "no-checkpoint", "bad-score", "bad-metric", "twice", "skipped"],
)
def test_misuse_of_the_member_handle_stops_the_run_with_a_clear_error(run_dir, runner, train, message):
    with pytest.raises(pt.UsageError, match=message):
        run(run_dir, train, population=2, steps=12, interval=4, runner=runner)
    assert log(run_dir, ev.END)[-1].data["status"] == "failed"


@pytest.mark.parametrize("runner", RUNNERS)
def test_unpicklable_checkpoint(run_dir, runner):
    def train(member):
        for _ in member.steps():
            member.report(1.0, checkpoint=lambda: (lambda: 0))

    with pytest.raises(pt.CheckpointError, match="cannot be pickled"):
        run(run_dir, train, population=2, steps=8, interval=4, runner=runner)


@pytest.mark.parametrize("runner", RUNNERS)
def test_report_after_the_budget(run_dir, runner):
    def train(member):
        for _ in member.steps():
            member.report(1.0, checkpoint=0)
        member.report(2.0)  # e.g. a final evaluation reported as one more step

    with pytest.raises(pt.UsageError, match="after the budget: all 12 steps are reported"):
        run(run_dir, train, population=1, steps=12, interval=4, runner=runner)


def test_breaking_out_of_the_loop_is_an_error(run_dir):
    def train(member):
        for step in member.steps():
            member.report(1.0, checkpoint=0)
            if step == 2:
                break

    with pytest.raises(pt.UsageError, match="returned at step 2, before the end"):
        run(run_dir, train, population=2)


def test_a_checkpoint_function_given_once_is_reused(run_dir):
    def train(member):
        state = {"x": member.checkpoint["x"] if member.checkpoint else 0.0}
        first = True
        for _ in member.steps():
            state["x"] += member.hparams["lr"]
            member.report(state["x"], checkpoint=(lambda: dict(state)) if first else None)
            first = False

    result = run(run_dir, train, population=3, steps=9, interval=3)
    assert result.checkpoint()["x"] == pytest.approx(result.best.score)


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_broken_strategy_stops_the_run_the_same_way_on_every_runner(run_dir, runner):
    def broken(target, population, rng):
        raise ValueError("my strategy is broken")

    with pytest.raises(pt.StrategyError, match="exploit strategy FunctionExploit.*broken.*raised ValueError: "
                                               "my strategy is broken") as caught:
        run(run_dir, exploit=broken, population=2, steps=8, interval=4, runner=runner)
    assert isinstance(caught.value.__cause__, ValueError)  # the original, with its traceback
    assert not log(run_dir, ev.FAILURE)  # not a failure of the member that was deciding
    assert log(run_dir, ev.END)[-1].data["status"] == "failed"
