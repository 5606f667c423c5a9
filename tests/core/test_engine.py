"""The engine's flow, driven by hand: the messages a runner would deliver, the replies it gets."""

import pytest

import poptune as pt
from poptune.core import events as ev
from poptune.core.decide import Decider
from poptune.core.engine import Engine, quorum_size
from poptune.core.messages import YIELD, Continue, Failure, Report, Restart
from poptune.space import Space

from tests.core.test_state import live

SPACE = Space({"lr": pt.Float(0.001, 1.0, log=True)})


class Run:
    """An engine over a live state; ``log`` holds every event recorded."""

    def __init__(self, n, exploit=pt.Truncation(0.5), can_hold=True, state=None, **options):
        self.state = state or live(n)
        self.log = []
        decider = Decider(self.state, SPACE, exploit, pt.Perturb(), seed=0)
        self.engine = Engine(self.state, decider, self.record, seed=0, can_hold=can_hold, **options)
        self.engine.start()

    def record(self, events):
        self.log.extend(events)
        self.state.apply_all(events)

    def dispatch(self, count=None):
        tasks = []
        while count is None or len(tasks) < count:
            task = self.engine.next_task()
            if task is None:
                break
            tasks.append(task)
        return tasks

    def stop(self, member, step, score):
        """``member`` trains up to ready step ``step`` and reports it with its checkpoint."""
        for s in range(self.state[member].step + 1, step):
            assert self.engine.report(Report(member, s, score)) is None
        return self.engine.report(Report(member, step, score, ref=f"m{member}/{step}", ready=True))

    def decisions(self, step=None):
        return {e.member: e for e in self.log if e.kind in ev.DECISIONS and (step is None or e.step == step)}


def test_quorum_size_is_more_than_half_and_at_least_two():
    assert [quorum_size(0.5, n) for n in (1, 2, 3, 4, 5, 16)] == [1, 2, 2, 2, 3, 8]
    assert [quorum_size(1.0, n) for n in (2, 16)] == [2, 16]


def test_dispatch_takes_the_least_advanced_member_and_tells_it_where_to_stop():
    run = Run(3)
    tasks = run.dispatch(2)
    assert [(t.member, t.start, t.stop, t.budget) for t in tasks] == [(0, 0, 4, 12), (1, 0, 4, 12)]
    assert run.dispatch() == [run.engine.task(2)]
    assert run.dispatch() == []  # everyone is on a worker


def test_asynchronous_first_arrivals_wait_for_a_quorum_then_later_ones_decide_on_arrival():
    run = Run(4)  # quorum: 2 of 4
    run.dispatch()
    assert run.stop(0, 4, 0.1) is None  # held: nobody else could use its worker
    assert run.decisions() == {}
    reply = run.stop(1, 4, 0.9)  # the quorum: members 0 and 1 decide, on the two of them
    assert isinstance(reply, Continue) and reply.stop == 8
    ((member, deferred),) = run.engine.take_replies()
    assert member == 0 and isinstance(deferred, Restart)
    assert deferred.task.ref == "m1/4" and deferred.task.start == 4 and deferred.task.stop == 8
    decisions = run.decisions(4)
    assert decisions[0].source == 1 and decisions[0].info == {"rank": 0, "of": 2}
    assert isinstance(decisions[1], ev.Kept)
    run.stop(2, 4, 0.5)  # a late arrival is ranked among everyone who reached step 4
    assert run.decisions(4)[2].info["of"] == 3


def test_synchronous_rounds_decide_together_on_one_ranking():
    run = Run(3, synchronous=True)
    run.dispatch()
    assert run.stop(0, 4, 0.1) is None and run.stop(1, 4, 0.5) is None
    assert run.decisions() == {}
    run.stop(2, 4, 0.9)
    decisions = run.decisions(4)
    assert sorted(decisions) == [0, 1, 2] and {d.info["of"] for d in decisions.values()} == {3}
    assert sorted(m for m, _ in run.engine.take_replies()) == [0, 1]


def test_a_member_both_source_and_target_in_one_round_keeps_its_round_checkpoint_for_others():
    # the bug of poptune 0.1: retention deleted a source's round checkpoint once the source
    # itself copied someone, while another member was still to copy it
    run = Run(4, exploit=pt.Tournament(), synchronous=True)
    run.dispatch()
    for m, score in enumerate([0.1, 0.2, 0.3, 0.4]):
        run.stop(m, 4, score)
    decisions = run.decisions(4)
    copied = {d.ref for d in decisions.values() if isinstance(d, ev.Exploited)}
    released = {ref for _, ref in run.state.take_released()}
    assert copied and not copied & released  # every copied file survives the round
    for d in decisions.values():
        if isinstance(d, ev.Exploited):
            assert d.ref == f"m{d.source}/4" and d.source_step == 4


def test_a_waiting_member_gives_its_worker_to_one_that_can_run():
    run = Run(3)
    run.dispatch(2)  # two workers, three members
    assert run.stop(0, 4, 0.1) == YIELD  # member 2 can use the worker
    run.engine.idle(0)
    assert [t.member for t in run.dispatch()] == [2]
    assert run.stop(1, 4, 0.9) is not None  # the quorum: 0 and 1 decide
    assert run.engine.take_replies() == []  # member 0 is off its worker: it is dispatched again
    assert [t.member for t in run.dispatch()] == [0]


def test_a_runner_on_the_callers_stack_never_holds_a_worker():
    run = Run(2, can_hold=False)
    run.dispatch(1)
    assert run.stop(0, 4, 0.1) == YIELD


def test_a_member_that_fails_for_good_no_longer_holds_the_round():
    run = Run(3, synchronous=True, retries=0)
    run.dispatch()
    run.stop(0, 4, 0.1)
    run.stop(1, 4, 0.9)
    run.engine.failure(Failure(member=2, step=2, error="ValueError: boom"))
    assert run.state[2].status == "failed"
    assert sorted(run.decisions(4)) == [0, 1]
    assert sorted(m for m, _ in run.engine.take_replies()) == [0, 1]


def test_a_failed_attempt_retries_from_the_last_checkpoint():
    run = Run(2, synchronous=True)
    run.dispatch()
    run.stop(0, 4, 0.5)
    run.engine.failure(Failure(member=0, step=5, error="RuntimeError: x"))  # its worker died while it waited
    assert run.state[0].failures == 1 and 0 in run.engine.waiting_at
    run.stop(1, 4, 0.9)
    assert run.engine.take_replies() == []  # no worker to answer: it is dispatched again
    (task,) = run.dispatch()
    assert (task.member, task.attempt, task.start) == (0, 1, 4)


def test_pacing_holds_a_member_too_far_ahead_until_the_slowest_catches_up():
    run = Run(2, exploit=None, max_lag=4, state=live(2, steps=40))
    run.dispatch()
    assert isinstance(run.stop(0, 4, 0.1), Continue)
    assert run.stop(0, 8, 0.1) is None  # 8 steps ahead of member 1 (at step 0): it waits on its worker
    for s in range(1, 4):
        run.engine.report(Report(1, s, 0.1))
    assert run.engine.take_replies() == []
    run.engine.report(Report(1, 4, 0.1, ref="m1/4", ready=True))
    assert [(m, r.stop) for m, r in run.engine.take_replies()] == [(0, 12)]


def test_a_resumed_session_gives_a_member_stopped_before_its_decision_that_decision():
    state = live(2)
    for m, score in ((0, 0.1), (1, 0.9)):
        for s in range(1, 4):
            state.apply(ev.Reported(member=m, step=s, score=score))
        state.apply(ev.Reported(member=m, step=4, score=score))
        state.apply(ev.Checkpointed(member=m, step=4, ref=f"m{m}/4"))
    # the session ended here: both stopped at step 4, no decision recorded
    run = Run(2, state=state)
    assert sorted(run.decisions(4)) == [0, 1]  # made when the engine starts
    assert run.decisions(4)[0].source == 1
    tasks = run.dispatch()
    assert [(t.member, t.start, t.ref) for t in tasks] == [(0, 4, "m1/4"), (1, 4, "m1/4")]


@pytest.mark.parametrize("synchronous", [False, True])
def test_decisions_are_the_same_whatever_the_arrival_order_when_the_round_is_complete(synchronous):
    def decisions(order):
        run = Run(4, synchronous=synchronous, quorum=1.0)
        run.dispatch()
        for m in order:
            run.stop(m, 4, [0.3, 0.1, 0.3, 0.7][m])  # a tie between members 0 and 2
        return {m: (type(d).__name__, getattr(d, "source", None), getattr(d, "new", None))
                for m, d in run.decisions(4).items()}

    assert decisions([0, 1, 2, 3]) == decisions([3, 1, 2, 0]) == decisions([2, 3, 0, 1])
