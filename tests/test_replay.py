"""Fixed schedules (schedule=) and pt.replay."""

import pytest

import poptune as pt
from poptune.demo import toy

from tests import helpers
from tests.test_run import RUNNERS, run


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_schedule_switches_hyperparameters_at_its_steps(run_dir, runner):
    result = run(run_dir, population=2, steps=9, schedule=[(0, {"lr": 0.1}), (3, {"lr": 0.5}), (6, {"lr": 1.0})],
                 runner=runner)
    assert result.exploits == []
    for m in (0, 1):
        scores = [r.score for r in result.reports if r.member == m]
        increments = [round(b - a, 9) for a, b in zip([0.0] + scores, scores)]
        assert increments == [0.1] * 3 + [0.5] * 3 + [1.0] * 3
    assert result.schedule() == [(0, {"lr": 0.1}), (3, {"lr": 0.5}), (6, {"lr": 1.0})]
    assert result.hparams_at(0, 4) == {"lr": 0.5}


@pytest.mark.parametrize(
    "schedule, message",
    [
        ([(1, {"lr": 0.1})], "must start at step 0"),
        ([(0, {"lr": 0.1}), (0, {"lr": 0.2})], "steps must increase"),
        ([(0, {"lr": 0.1}), (12, {"lr": 0.2})], "not below steps=12"),
        ([(0, {"lr": 5.0})], "outside"),
        ([(0, {})], "missing \\['lr'\\]"),
        ({0: {"lr": 0.1}}, "list of \\(step, hparams\\) pairs"),
    ],
)
def test_bad_schedules(run_dir, schedule, message):
    with pytest.raises(pt.ConfigError, match=message):
        run(run_dir, schedule=schedule)


def test_schedule_with_exploit_is_refused(run_dir):
    with pytest.raises(pt.ConfigError, match="exploit=None"):
        run(run_dir, schedule=[(0, {"lr": 0.1})], exploit=pt.Tournament())


@pytest.mark.parametrize("runner", RUNNERS)
def test_replay_of_the_toy_reproduces_the_lineage_exactly(run_dir, runner):
    source = run(run_dir, toy.train, space=toy.SPACE, population=4, steps=60, interval=4,
                 initial=toy.INITIAL, explore=toy.explore, exploit=pt.Truncation(0.25), runner=runner)
    replayed = pt.replay(toy.train, run_dir)
    assert replayed.config["metadata"]["replay_of"]["member"] == source.best.id
    assert len(replayed.members) == 1 and replayed.exploits == []
    assert replayed.best.step == source.lineage()[-1].end
    assert replayed.best.score == pytest.approx(source.best.score, abs=1e-12)
    assert replayed.schedule() == source.schedule()
    assert (run_dir / "replays" / f"member-{source.best.id}" / "poptune.db").exists()


def test_replay_other_member_and_longer(run_dir, tmp_path):
    run(run_dir, population=3, steps=6, interval=2)
    replayed = pt.replay(helpers.counter, run_dir, member=1, steps=10, replay_dir=tmp_path / "r")
    assert replayed.best.step == 10
    with pytest.raises(pt.ConfigError, match="steps must be a positive integer"):
        pt.replay(helpers.counter, run_dir, steps=0)
