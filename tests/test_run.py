"""End-to-end behaviour of pt.run through both runners."""

import math
from collections import Counter

import pytest

import poptune as pt
from poptune.demo import toy
from poptune.core import events as ev
from poptune.store import Store, store_path

from tests import helpers

RUNNERS = ["inline", "processes"]


def run(run_dir, train=helpers.counter, **kwargs):
    settings = dict(space=helpers.SPACE, population=4, steps=12, interval=3, dir=run_dir, seed=0,
                    progress=False, runner="inline")
    settings.update(kwargs)
    return pt.run(train, settings.pop("space"), **settings)


def log(run_dir, kind=None):
    with Store(store_path(run_dir), readonly=True) as store:
        return store.read(kinds=[kind] if kind else None)


@pytest.mark.parametrize("runner", RUNNERS)
def test_paper_toy_pbt_reaches_the_optimum_where_fixed_h_cannot(run_dir, tmp_path, runner):
    common = dict(space=toy.SPACE, population=2, steps=200, interval=4, initial=toy.INITIAL,
                  explore=toy.explore, runner=runner)
    pbt = run(run_dir, toy.train, exploit=pt.Truncation(0.5), **common)
    fixed = run(tmp_path / "fixed", toy.train, exploit=None, **common)
    assert pbt.best.score > 1.19
    assert fixed.best.score < 0.4
    assert len(pbt.exploits) > 0 and len(fixed.exploits) == 0


@pytest.mark.parametrize("runner", RUNNERS)
def test_schedules_replayed_from_scratch_reproduce_every_lineage(run_dir, runner):
    result = run(run_dir, toy.train, space=toy.SPACE, population=4, steps=60, interval=4,
                 initial=toy.INITIAL, explore=toy.explore, exploit=pt.Truncation(0.25), runner=runner)
    crossing = [m for m in result.members if len({s.member for s in result.lineage(m.id)}) > 1]
    assert crossing  # some lineages run through several members
    for m in result.members:
        trained = result.lineage(m.id)[-1].end  # steps of training the model received
        assert helpers.replay_toy(result.schedule(m.id), trained) == pytest.approx(m.score, abs=1e-12)


@pytest.mark.parametrize("runner", RUNNERS)
def test_every_member_reports_every_step_exactly_once(run_dir, runner):
    result = run(run_dir, population=6, steps=20, interval=4, runner=runner)
    raw = Counter((e.member, e.step) for e in log(run_dir, ev.REPORT))
    assert set(raw) == {(m, s) for m in range(6) for s in range(1, 21)}
    assert set(raw.values()) == {1}  # exploits never make a member redo steps
    assert len(result.reports) == 120
    assert all(m.status == "finished" and m.step == 20 for m in result.members)


def test_inline_runs_are_deterministic(run_dir, tmp_path):
    a = run(run_dir, population=6, steps=20, interval=2)
    b = run(tmp_path / "again", population=6, steps=20, interval=2)
    assert [(r.member, r.step, r.score) for r in a.reports] == [(r.member, r.step, r.score) for r in b.reports]
    assert [(x.target, x.source, x.step, x.new) for x in a.exploits] == [
        (x.target, x.source, x.step, x.new) for x in b.exploits
    ]
    assert len(a.exploits) > 0


@pytest.mark.parametrize("runner", [pt.runners.Inline(), pt.runners.Processes(workers=2)])
def test_time_multiplexing_runs_the_least_advanced_member_first(run_dir, runner, monkeypatch):
    # steps that mostly wait: a worker the machine starves of CPU for a while still keeps pace
    # (with instant steps, a starved worker's member falls behind whatever the scheduler does)
    monkeypatch.setenv("POPTUNE_TEST_SLEEP", "0.003")
    run(run_dir, helpers.counter_with_sleep, population=6, steps=24, interval=4, runner=runner)
    steps = {}
    spread = 0
    for e in log(run_dir, ev.REPORT):
        steps[e.member] = e.step
        if len(steps) == 6:
            spread = max(spread, max(steps.values()) - min(steps.values()))
    # a member yields its worker at each ready step to anyone behind: nobody runs away
    assert spread <= 2 * 4


def test_exploit_copies_state_and_hyperparameters(run_dir):
    result = run(run_dir, population=4, steps=12, interval=3, explore=lambda h, rng: dict(h))
    assert result.exploits
    for x in result.exploits:
        assert x.new == x.copied  # explore that changes nothing
    # after copying, the target continues from the source's accumulated value:
    scores = {(r.member, r.step): r.score for r in result.reports}
    x = result.exploits[0]
    source_score = scores[(x.source, x.source_step)]
    assert scores[(x.target, x.step + 1)] == pytest.approx(source_score + x.new["lr"])


@pytest.mark.parametrize("runner", RUNNERS)
def test_nan_scores_rank_worst_and_get_replaced(run_dir, runner):
    result = run(run_dir, helpers.nan_member, population=4, steps=12, interval=3, runner=runner)
    assert any(x.target == 0 for x in result.exploits)
    assert math.isfinite(result.member(0).score)
    assert result.best.id != 0 or result.member(0).generation > 0


def test_synchronous_mode_decides_at_a_barrier(run_dir):
    result = run(run_dir, population=5, steps=12, interval=3, synchronous=True,
                 runner=pt.runners.Processes(workers=2))
    seen = {}
    for e in log(run_dir):
        if e.kind == ev.REPORT:
            seen[e.member] = e.step
        if e.kind == ev.EXPLOIT:
            # every active member had reached the barrier step when the decision was made
            assert min(seen.values()) >= e.step and len(seen) == 5
    assert result.exploits and all(m.step == 12 for m in result.members)


def test_single_member_population_never_exploits(run_dir):
    result = run(run_dir, population=1, steps=10, interval=2)
    assert result.exploits == [] and result.best.step == 10


def test_interval_none_trains_members_independently(run_dir):
    result = run(run_dir, population=3, steps=5, interval=None)
    assert result.exploits == [] and len(result.reports) == 15


def test_initial_hyperparameters_are_used_then_sampled(run_dir):
    result = run(run_dir, population=3, interval=None, initial=[{"lr": 0.5}])
    assert result.member(0).hparams == {"lr": 0.5}
    assert result.member(1).hparams != {"lr": 0.5}


def test_minimize(run_dir):
    result = run(run_dir, population=4, direction="minimize")
    assert result.best.score == min(m.score for m in result.members)
    assert all(x.copied["lr"] <= x.old["lr"] for x in result.exploits)


def test_pacing_lets_a_late_member_meet_the_others(run_dir):
    result = run(run_dir, helpers.toy_with_late_member_1, space=toy.SPACE, population=2, steps=200, interval=4,
                 initial=toy.INITIAL, explore=toy.explore, exploit=pt.Truncation(0.5), runner="processes")
    assert result.best.score > 1.19
    assert result.config["max_lag"] == 16


def test_pacing_bounds_how_far_members_drift_apart(run_dir):
    run(run_dir, helpers.counter_member_0_slow, population=3, steps=40, interval=2, max_lag=4,
        runner=pt.runners.Processes(workers=3))
    steps, spread = {}, 0
    for e in log(run_dir, ev.REPORT):
        steps[e.member] = e.step
        if len(steps) == 3:
            spread = max(spread, max(steps.values()) - min(steps.values()))
    assert spread <= 4 + 2 + 1  # max_lag, plus the interval run before the next ready step, plus one


def test_bad_max_lag(run_dir):
    with pytest.raises(pt.ConfigError, match="max_lag must be an integer >= 0"):
        run(run_dir, max_lag=-1)
    with pytest.raises(pt.ConfigError, match="max_lag must be an integer >= 0, 'auto' or None"):
        run(run_dir, max_lag="soon")


def test_an_interval_no_member_ever_reaches_is_said(run_dir):
    with pytest.warns(UserWarning, match="no member is ever ready \\(interval=12, burn_in=0, steps=12\\)"):
        result = run(run_dir, steps=12, interval=12)
    assert result.exploits == []
