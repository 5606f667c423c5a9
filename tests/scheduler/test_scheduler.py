import numpy as np
import pytest

import poptune as pt
from poptune.scheduler import Population, Scheduler, is_ready_step
from poptune.store import Event


def setup(n, scores, synchronous=False, exploit=pt.Truncation(0.25), explore=pt.Perturb()):
    space = pt.Space({"lr": pt.Float(0.001, 1.0, log=True)})
    pop = Population("maximize", 100)
    for m in range(n):
        pop.apply(Event("member", m, 0, data={"hparams": {"lr": 0.01 * (m + 1)}}))
    for m, score in enumerate(scores):
        pop.apply(Event("report", m, 4, score))
        pop.apply(Event("checkpoint", m, 4, data={"ref": f"r{m}"}))
    return pop, Scheduler(pop, space, exploit, explore, synchronous, np.random.default_rng(0))


def test_ready_steps():
    assert [s for s in range(1, 21) if is_ready_step(s, 5, 0, 20)] == [5, 10, 15]
    assert [s for s in range(1, 21) if is_ready_step(s, 5, 12, 20)] == [15]
    assert not any(is_ready_step(s, None, 0, 20) for s in range(1, 21))


def test_async_decision_for_the_worst_member_copies_a_top_one():
    pop, scheduler = setup(4, [0.1, 0.5, 0.6, 0.9])
    (decision,) = scheduler.ready(0, 4)
    assert decision.source == 3 and decision.ref == "r3" and decision.source_step == 4
    assert decision.old == {"lr": 0.01} and decision.copied == {"lr": 0.04}
    assert decision.new["lr"] in (pytest.approx(0.032), pytest.approx(0.048))
    assert decision.generation == 1
    (keep,) = scheduler.ready(3, 4)
    assert keep.source is None


def test_exploit_none_never_copies():
    pop, scheduler = setup(4, [0.1, 0.5, 0.6, 0.9], exploit=None)
    assert scheduler.ready(0, 4)[0].source is None


def test_sync_waits_for_every_active_member_then_decides_on_one_snapshot():
    pop, scheduler = setup(3, [0.1, 0.5, 0.9], synchronous=True, exploit=pt.Truncation(0.34))
    assert scheduler.ready(0, 4) == []
    assert scheduler.ready(1, 4) == []
    decisions = scheduler.ready(2, 4)
    assert sorted(d.member for d in decisions) == [0, 1, 2]
    by_member = {d.member: d for d in decisions}
    assert by_member[0].source == 2 and by_member[2].source is None


def test_sync_barrier_releases_when_a_member_fails():
    pop, scheduler = setup(3, [0.1, 0.5, 0.9], synchronous=True)
    scheduler.ready(0, 4)
    scheduler.ready(1, 4)
    assert scheduler.is_waiting(0)
    pop.apply(Event("failed", 2, 3))
    assert sorted(d.member for d in scheduler.release()) == [0, 1]


def test_a_strategy_choosing_the_target_is_an_error():
    class Bad(pt.Exploit):
        def select(self, target, population, rng):
            return target

    pop, scheduler = setup(2, [0.1, 0.9], exploit=Bad())
    with pytest.raises(pt.UsageError, match="must choose another member"):
        scheduler.ready(0, 4)


def test_explore_only_moves_the_members_own_hyperparameters_and_keeps_its_state():
    pop, scheduler = setup(4, [0.1, 0.5, 0.6, 0.9], exploit=pt.ExploreOnly())
    for member in range(4):
        (decision,) = scheduler.ready(member, 4)
        assert decision.in_place and decision.ref == f"r{member}" and decision.generation == 0
        assert decision.new["lr"] in (pytest.approx(0.008 * (member + 1)), pytest.approx(0.012 * (member + 1)))


def test_explore_only_run_never_copies_and_changes_hyperparameters(tmp_path):
    from poptune.demo import toy

    result = pt.run(toy.train, toy.SPACE, population=2, steps=40, interval=4, initial=toy.INITIAL,
                    exploit=pt.ExploreOnly(), explore=toy.explore, runner="inline", dir=tmp_path, seed=0,
                    progress=False)
    assert all(m.generation == 0 for m in result.members)
    changes = [step for step, _ in result.schedule()][1:]  # (noise clipped at a bound can leave h as it was)
    assert len(changes) >= 5 and set(changes) <= set(range(4, 40, 4))
