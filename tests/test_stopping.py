import pytest

import poptune as pt
from poptune.result import ReportRecord
from poptune.stopping import as_stop

from tests import helpers
from tests.test_run import RUNNERS, run


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("synchronous", [False, True])
def test_a_member_that_meets_the_condition_finishes_at_its_next_ready_step(run_dir, runner, synchronous):
    # member k scores step * (k + 1) / 10: members 2 and 3 reach 2.0 at steps 7 and 5 (ready steps
    # every 4: they stop at 8); members 0 and 1 never do and train their 12 steps, in both modes
    # (a synchronous round must not wait for the stopped members)
    result = run(run_dir, helpers.counter_by_id, population=4, steps=12, interval=4, exploit=None,
                 runner=runner, synchronous=synchronous, stop={"score": 2.0})
    by_id = {m.id: m for m in result.members}
    assert [(by_id[k].step, by_id[k].stopped) for k in range(4)] == [(12, False), (12, False), (8, True), (8, True)]
    assert all(m.status == "finished" for m in result.members)
    assert max(r.step for r in result.reports if r.member == 3) == 8
    assert result.untrained() == {}


def test_a_stopped_member_stays_stopped_when_the_run_is_resumed_with_a_larger_budget(run_dir):
    run(run_dir, helpers.counter_by_id, population=3, steps=8, interval=2, exploit=None, stop={"score": 1.0})
    longer = run(run_dir, helpers.counter_by_id, population=3, steps=16, interval=2, exploit=None,
                 stop={"score": 1.0}, resume=True)
    assert [(m.step, m.stopped) for m in longer.members] == [(10, True), (6, True), (4, True)]
    again = run(run_dir, helpers.counter_by_id, population=3, steps=16, interval=2, exploit=None, resume=True)
    assert [(m.step, m.stopped) for m in again.members] == [(10, True), (6, True), (4, True)]


def test_stopped_members_leave_the_others_a_population_to_exploit(run_dir):
    # the best members stop early; the rest keep exploiting among what remains, and can copy the
    # state a stopped member saved at its last step
    result = run(run_dir, helpers.counter, population=6, steps=30, interval=3,
                 stop=lambda r: r.score > 8)
    stopped = [m for m in result.members if m.stopped]
    assert stopped and all(m.step < 30 for m in stopped)
    assert any(not m.stopped and m.step == 30 for m in result.members) or len(stopped) == 6
    assert len(result.exploits) > 0


def test_stop_by_metric_and_step_like_ray_tune():
    stop = as_stop({"who": 2, "training_iteration": 5}, "maximize")
    assert stop(ReportRecord(0, 3, 0.0, {"who": 2})) and stop(ReportRecord(0, 5, 0.0, {"who": 0}))
    assert not stop(ReportRecord(0, 4, 0.0, {"who": 1}))
    assert as_stop({"score": 0.1}, "minimize")(ReportRecord(0, 1, 0.05))
    assert not as_stop({"score": 0.1}, "minimize")(ReportRecord(0, 1, 0.5))


@pytest.mark.parametrize("stop, message", [
    ({}, "stops nothing"),
    ({"score": "high"}, "map metric names to numbers"),
    (3, "stop must be None"),
])
def test_bad_stop_conditions_are_clear_errors(run_dir, stop, message):
    with pytest.raises(pt.ConfigError, match=message):
        run(run_dir, stop=stop)


def test_a_stop_condition_on_a_metric_never_reported_names_it(run_dir):
    with pytest.raises(pt.UsageError, match="no metric 'val_acc'.*member.report"):
        run(run_dir, stop={"val_acc": 0.9})


def test_a_stop_function_that_raises_is_a_strategy_error(run_dir):
    def broken(report):
        raise KeyError("oops")

    with pytest.raises(pt.StrategyError, match="stop condition .*KeyError"):
        run(run_dir, stop=broken)
    with pytest.raises(pt.UsageError, match="return True"):
        run(run_dir, stop=lambda r: "yes", overwrite=True)


def test_fitness_by_metric_name_ranks_in_the_run_direction(run_dir):
    # the score prefers member 0; the metric `who` (the member id), maximized, prefers member 3
    def train(member):
        for step in member.steps():
            member.report(-member.id, checkpoint=step, who=member.id)

    result = run(run_dir, train, population=4, steps=8, interval=2, fitness="who", exploit=pt.Truncation(0.25))
    assert result.exploits and {(e.target, e.source) for e in result.exploits} == {(0, 3)}
