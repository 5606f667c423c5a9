import pytest

import poptune as pt
from poptune.core import events as ev
from poptune.core.decide import Decider, decision_rng
from poptune.space import Space

from tests.core.test_state import live, reach

SPACE = Space({"lr": pt.Float(0.001, 1.0, log=True)})


def round_of(scores, exploit=pt.Truncation(0.25), explore=pt.Perturb(), step=4, **config):
    state = live(len(scores), **config)
    for m, score in enumerate(scores):
        reach(state, m, step, score, ref=f"r{m}")
    return state, Decider(state, SPACE, exploit, explore, seed=0)


def test_the_worst_member_copies_a_top_one_from_the_round():
    state, decider = round_of([0.1, 0.5, 0.6, 0.9])
    decision = decider.decide(0, 4)
    assert isinstance(decision, ev.Exploited)
    assert (decision.source, decision.ref, decision.source_step, decision.source_age) == (3, "r3", 4, 4)
    assert decision.old == {"lr": 0.1} and decision.copied == pytest.approx({"lr": 0.4})
    assert decision.new["lr"] in (pytest.approx(0.32), pytest.approx(0.48))
    assert decision.generation == 1 and decision.info == {"rank": 0, "of": 4}
    keep = decider.decide(3, 4)
    assert isinstance(keep, ev.Kept) and keep.info == {"rank": 3, "of": 4}


def test_a_source_is_copied_as_it_was_at_the_round_not_as_it_is_now():
    state, decider = round_of([0.1, 0.9])
    # the source decided first and changed (a synchronous round): its round entry is what counts
    state.apply(ev.Explored(member=1, step=4, old={"lr": 0.2}, new={"lr": 0.7}))
    reach(state, 1, 5, 2.0)
    reach(state, 1, 8, 3.0, ref="later")
    decision = decider.decide(0, 4)
    assert (decision.source, decision.ref, decision.copied) == (1, "r1", {"lr": pytest.approx(0.2)})


def test_a_decision_depends_on_the_seed_step_and_member_only():
    one, decider_one = round_of([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], exploit=pt.Tournament())
    two, decider_two = round_of([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], exploit=pt.Tournament())
    forward = [decider_one.decide(m, 4) for m in range(8)]
    backward = [decider_two.decide(m, 4) for m in reversed(range(8))][::-1]
    assert forward == backward  # no random state carried between decisions
    a, b = decision_rng(0, 4, 1).random(), decision_rng(0, 4, 2).random()
    assert a != b and a == decision_rng(0, 4, 1).random()


def test_exploit_none_decides_nothing():
    state, decider = round_of([0.1, 0.9], exploit=None)
    assert decider.decide(0, 4) is None and not decider.compares


def test_explore_only_moves_the_members_own_hyperparameters_without_comparing():
    state, decider = round_of([0.1, 0.5, 0.6, 0.9], exploit=pt.ExploreOnly())
    assert not decider.compares
    for member in range(4):
        decision = decider.decide(member, 4)
        assert isinstance(decision, ev.Explored) and decision.old == {"lr": pytest.approx(0.1 * (member + 1))}
        assert decision.new["lr"] in (pytest.approx(0.08 * (member + 1)), pytest.approx(0.12 * (member + 1)))


def test_a_fixed_schedule_changes_hyperparameters_only_where_it_says():
    state = live(1)
    decider = Decider(state, SPACE, None, pt.Perturb(), seed=0, schedule={4: {"lr": 0.5}, 8: {"lr": 0.1}})
    assert decider.decide(0, 4) == ev.Explored(member=0, step=4, old={"lr": 0.1}, new={"lr": 0.5})
    state.apply(decider.decide(0, 4))
    assert decider.decide(0, 8) == ev.Explored(member=0, step=8, old={"lr": 0.5}, new={"lr": 0.1})


def test_a_strategy_choosing_the_target_is_an_error():
    class Bad(pt.Exploit):
        def select(self, target, population, rng):
            return target

    state, decider = round_of([0.1, 0.9], exploit=Bad())
    with pytest.raises(pt.UsageError, match="must choose another member"):
        decider.decide(0, 4)


def test_an_explore_result_outside_the_space_is_an_error():
    state, decider = round_of([0.1, 0.9], explore=lambda h, rng: {"lr": 5.0}, exploit=pt.Truncation(0.5))
    decider.explore = pt.strategies.as_explore(decider.explore)
    with pytest.raises(pt.UsageError, match="lr"):
        decider.decide(0, 4)


def test_strategies_read_the_round_and_the_history():
    seen = {}

    class Spy(pt.Explore):
        def propose(self, context):
            seen["step"] = context.population.step
            seen["members"] = [m.id for m in context.population]
            seen["source"] = context.source.id
            seen["history"] = context.population.history(1)
            seen["training"] = [m.id for m in context.population.training()]
            context.info["why"] = "spy"
            return dict(context.hparams)

    state = live(3)
    for step in (1, 2, 3):
        for m in (0, 1, 2):
            reach(state, m, step, 0.1 * m * step)
    reach(state, 0, 4, 0.0, ref="r0")
    reach(state, 1, 4, 0.9, ref="r1")
    decision = Decider(state, SPACE, pt.Truncation(0.5), Spy(), seed=0).decide(0, 4)
    assert decision.source == 1 and decision.info == {"rank": 0, "of": 2, "why": "spy"}
    assert seen["step"] == 4 and seen["members"] == [0, 1] and seen["source"] == 1
    assert seen["training"] == [2]  # member 2 has not reached step 4
    (segment,) = seen["history"]
    assert segment.scores == pytest.approx((0.1, 0.2, 0.3, 0.9))
