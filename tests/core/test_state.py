import math

import pytest

from poptune.core import events as ev
from poptune.core.state import FAILED, FINISHED, PENDING, PopulationState
from poptune.strategies.fitness import Smoothed

CONFIG = {"steps": 12, "interval": 4, "burn_in": 0, "direction": "maximize", "seed": 0, "keep_checkpoints": "last"}


def live(n, fitness=None, window=1, **config):
    state = PopulationState(fitness, window, live=True)
    state.apply(ev.RunStarted(config={**CONFIG, **config}))
    for m in range(n):
        state.apply(ev.MemberAdded(member=m, hparams={"lr": 0.1 * (m + 1)}))
    return state


def reach(state, member, step, score, ref=None):
    """``member`` reports ``step`` (and its checkpoint, at a stop)."""
    state.apply(ev.Reported(member=member, step=step, score=score))
    if ref is not None:
        state.apply(ev.Checkpointed(member=member, step=step, ref=ref))


def test_reports_checkpoints_and_exploits_update_the_state():
    state = live(2, window=3)
    for step, score in enumerate([0.1, 0.2, 0.3, 0.4], start=1):
        reach(state, 0, step, score, ref="a" if step == 4 else None)
    s = state[0]
    assert (s.step, s.score, s.ref, s.ref_step) == (4, 0.4, "a", 4)
    assert list(s.history) == [0.2, 0.3, 0.4]  # window of 3
    reach(state, 1, 4, math.nan, ref="b")
    assert state[1].fitness == -math.inf
    state.apply(ev.Exploited(member=1, step=4, source=0, source_step=4, source_age=4, ref="a", old={"lr": 0.2},
                             copied={"lr": 0.1}, new={"lr": 0.12}, generation=1))
    t = state[1]
    assert (t.hparams, t.ref, t.ref_step, t.generation, t.parent, t.age) == ({"lr": 0.12}, "a", 4, 1, 0, 4)
    assert (state[0].copied, t.exploits) == (1, 1)
    assert list(t.history) == [0.2, 0.3, 0.4]  # the model it holds now has member 0's past


def test_minimize_orients_fitness():
    state = live(1, direction="minimize")
    reach(state, 0, 1, 2.5)
    assert state[0].fitness == -2.5


def test_a_ready_step_report_joins_its_round_ranked_with_ties_fixed_by_the_seed():
    state = live(4)
    for m, score in enumerate([0.5, 0.9, 0.5, 0.1]):
        reach(state, m, 4, score, ref=f"r{m}")
    view = state.round_view(4)
    assert [m.id for m in view][0] == 3 and [m.id for m in view][-1] == 1
    tied = sorted([view.rank(0), view.rank(2)])
    assert tied == [1, 2]
    again = live(4)
    for m, score in enumerate([0.5, 0.9, 0.5, 0.1]):
        reach(again, m, 4, score, ref=f"r{m}")
    assert [m.id for m in again.round_view(4)] == [m.id for m in view]  # same seed, same tie order
    other = live(4, seed=1)
    orders = set()
    for seed in range(8):
        other = live(4, seed=seed)
        for m, score in enumerate([0.5, 0.9, 0.5, 0.1]):
            reach(other, m, 4, score, ref=f"r{m}")
        orders.add(tuple(m.id for m in other.round_view(4)))
    assert len(orders) == 2  # the tie goes either way, depending on the seed only


def test_only_ready_steps_before_the_budget_make_rounds():
    state = live(1)
    reach(state, 0, 3, 0.1, ref="x")  # not a ready step (a checkpoint outside a stop)
    reach(state, 0, 12, 0.2, ref="f")  # the budget's end
    assert state.rounds == {}


def test_a_round_closes_once_every_member_decided_and_then_releases_its_checkpoints():
    state = live(2)
    reach(state, 0, 4, 0.2, ref="a4")
    reach(state, 1, 4, 0.9, ref="b4")
    state.apply(ev.Exploited(member=0, step=4, source=1, source_step=4, source_age=4, ref="b4", old={}, copied={},
                             new={"lr": 0.3}, generation=1))
    assert 4 in state.rounds  # member 1 has not decided yet
    assert state.take_released() == []  # member 0 left a4, but the round may still copy it
    state.apply(ev.Kept(member=1, step=4))
    assert 4 not in state.rounds
    assert state.take_released() == [(0, "a4")]


def test_files_held_by_an_open_round_are_kept_until_it_closes():
    state = live(3)
    reach(state, 0, 4, 0.2, ref="a4")
    reach(state, 0, 8, 0.3, ref="a8")  # member 0 moved on (deciding nothing at 4 is a pass)
    assert state.take_released() == []  # a4 is still in the round of step 4: member 1 or 2 may copy it
    reach(state, 1, 4, 0.5, ref="b4")
    reach(state, 2, 4, 0.5, ref="c4")
    state.apply(ev.Kept(member=1, step=4))
    state.apply(ev.Exploited(member=2, step=4, source=0, source_step=4, source_age=4, ref="a4", old={}, copied={},
                             new={"lr": 0.3}, generation=1))
    assert sorted(ref for _, ref in state.take_released()) == ["c4"]  # a4 is member 2's state now
    reach(state, 2, 5, 0.5)
    reach(state, 2, 8, 0.6, ref="c8")
    assert sorted(ref for _, ref in state.take_released()) == ["a4"]


def test_a_failed_member_leaves_the_rounds_and_the_quorum():
    state = live(3)
    reach(state, 0, 4, 0.2, ref="a4")
    reach(state, 1, 4, 0.5, ref="b4")
    state.apply(ev.Kept(member=0, step=4))
    state.apply(ev.Kept(member=1, step=4))
    assert state.alive == 3 and 4 in state.rounds
    state.apply(ev.MemberFailed(member=2, step=3, error="boom"))
    assert state.alive == 2 and 4 not in state.rounds  # the last member it waited for is gone
    assert state[2].status == FAILED


def test_done_and_min_step_follow_the_members_still_training():
    state = live(3)
    reach(state, 0, 2, 0.1)
    reach(state, 1, 5, 0.1)
    reach(state, 2, 3, 0.1)
    assert state.min_step() == 2
    reach(state, 0, 12, 0.2, ref="f")
    state.apply(ev.MemberFinished(member=0, step=12, ref="f"))
    assert state.min_step() == 3 and not state.done()
    state.apply(ev.MemberFailed(member=2, step=3))
    assert state.min_step() == 5
    reach(state, 1, 12, 0.2, ref="g")
    state.apply(ev.MemberFinished(member=1, step=12, ref="g"))
    assert state.done() and state.min_step() is None


def test_a_new_session_reopens_failed_members_and_grown_budgets():
    state = live(2, steps=10)
    state.apply(ev.AttemptFailed(member=0, step=3))
    state.apply(ev.MemberFailed(member=0, step=3))
    reach(state, 1, 10, 0.5, ref="f")
    state.apply(ev.MemberFinished(member=1, step=10, ref="f"))
    assert (state[0].status, state[1].status) == (FAILED, FINISHED) and state.done()
    state.apply(ev.RunResumed(config={**CONFIG, "steps": 10}))
    assert (state[0].status, state[0].failures, state[1].status) == (PENDING, 0, FINISHED)
    assert state.alive == 2 and not state.done()
    state.apply(ev.RunResumed(config={**CONFIG, "steps": 20}))
    assert state[1].status == PENDING


def test_segments_record_history_across_exploits_and_reruns():
    state = live(2)
    for step in (1, 2, 3, 4):
        reach(state, 0, step, 0.1 * step, ref="a4" if step == 4 else None)
        reach(state, 1, step, 0.2 * step, ref="b4" if step == 4 else None)
    state.apply(ev.Exploited(member=0, step=4, source=1, source_step=4, source_age=4, ref="b4", old={"lr": 0.1},
                             copied={"lr": 0.2}, new={"lr": 0.25}, generation=1))
    reach(state, 0, 5, 0.9)
    reach(state, 0, 6, 1.0)
    reach(state, 0, 5, 0.95)  # re-run of step 5 (a failure restarted it from its checkpoint at 4)
    first, second = state.segments(0)
    assert (first.start, first.end, first.origin, first.hparams) == (0, 4, None, {"lr": 0.1})
    assert first.scores == pytest.approx((0.1, 0.2, 0.3, 0.4))
    assert (second.start, second.scores, second.origin, second.hparams) == (4, (0.95,), 1, {"lr": 0.25})
    assert second.origin_score == pytest.approx(0.8)  # member 1's score at step 4, the state copied


def test_a_smoothed_fitness_follows_the_lineage():
    state = live(2, fitness=Smoothed(2))
    reach(state, 0, 3, 0.2)
    reach(state, 0, 4, 0.4, ref="a4")
    assert state[0].fitness == pytest.approx(0.3)
    reach(state, 1, 4, 0.0, ref="b4")
    state.apply(ev.Exploited(member=1, step=4, source=0, source_step=4, source_age=4, ref="a4", old={}, copied={},
                             new={"lr": 0.1}, generation=1))
    reach(state, 1, 5, 0.6)
    assert state[1].fitness == pytest.approx(0.5)  # (0.4 of member 0's model + 0.6) / 2


def test_a_log_read_back_without_the_live_indexes_gives_the_same_members():
    events = [ev.RunStarted(config=CONFIG), ev.MemberAdded(member=0, hparams={"lr": 0.1}),
              ev.Reported(member=0, step=4, score=0.5), ev.Checkpointed(member=0, step=4, ref="a")]
    offline, online = PopulationState(), PopulationState(live=True)
    offline.apply_all(events)
    online.apply_all(events)
    assert (offline[0].step, offline[0].ref, offline.rounds) == (online[0].step, online[0].ref, {})
    assert 4 in online.rounds


def test_a_rerun_forgets_the_scores_it_replaces_in_every_window():
    state = live(1, fitness=Smoothed(3), window=3)
    for step, score in ((1, 1.0), (2, 2.0), (3, 3.0)):
        reach(state, 0, step, score)
    reach(state, 0, 3, 3.0)  # step 3 again (restarted from a checkpoint at 2), then on
    reach(state, 0, 4, 4.0)
    assert list(state[0].recent) == [2.0, 3.0, 4.0]  # not [3, 3, 4]
    assert state[0].fitness == pytest.approx(3.0)
    assert list(state[0].history) == pytest.approx([1.5, 2.0, 3.0])  # smoothed values of steps 2, 3, 4
    assert state.segments(0)[0].scores == (1.0, 2.0, 3.0, 4.0)
