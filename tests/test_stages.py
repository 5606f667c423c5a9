"""Staged pipelines: a run whose members start from a previous run's population."""

from __future__ import annotations

import shutil

import pytest

import poptune as pt
from poptune.core import events as ev
from tests import conformance

SPACE = {"lr": pt.Float(0.01, 0.1)}


def skills(member):
    """Stage 1: a number that grows by lr per step."""
    x = member.checkpoint if member.checkpoint is not None else 0.0
    for _ in member.steps():
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


def strategy(member):
    """Stage 2: starts from stage 1's number (frozen), trains a second one on top."""
    state = member.checkpoint
    if member.step == 0:  # the previous stage's state
        assert isinstance(state, float), state
        state = {"skill": state, "strategy": 0.0}
    for _ in member.steps():
        state["strategy"] += member.hparams["lr"]
        member.report(state["skill"] + state["strategy"], checkpoint=dict(state), skill=state["skill"])


def _stage1(tmp_path, **kwargs):
    return pt.run(skills, SPACE, population=4, steps=8, interval=2, runner="inline", dir=tmp_path / "s1", seed=0,
                  progress=False, **kwargs)


def _stage2(tmp_path, start_from, **kwargs):
    settings = dict(population=6, steps=4, interval=2, runner="inline", dir=tmp_path / "s2", seed=1, progress=False)
    settings.update(kwargs)
    return pt.run(strategy, {**SPACE, "k": pt.Int(1, 3)}, start_from=start_from, **settings)


def test_members_start_from_the_previous_stage_best_first(tmp_path):
    first = _stage1(tmp_path)
    ranked = sorted(first.members, key=lambda m: -m.score)
    second = _stage2(tmp_path, pt.StartFrom(first, members="best"))
    origins = second.origins()
    # cycled through the previous members, best first
    assert [origins[m]["member"] for m in range(6)] == [ranked[i % 4].id for i in range(6)]
    for m in range(6):
        source = origins[m]["member"]
        # the state it started from is the previous member's final state
        step1 = next(r for r in second.reports if (r.member, r.step) == (m, 1))
        assert step1.metrics["skill"] == pytest.approx(first.checkpoint(source))
        # its hyperparameters carried over (the new name sampled), then PBT went on
        assert second.hparams_at(m, 1)["lr"] == first.members[source].hparams["lr"]
        assert 1 <= second.hparams_at(m, 1)["k"] <= 3
    assert second.config["start_from"]["members"] == "best"
    # the new run holds everything: the first stage can go
    shutil.rmtree(tmp_path / "s1")
    assert pt.Result.load(tmp_path / "s2").checkpoint(0)["skill"] > 0


def test_start_from_a_run_directory_all_members_fresh_hparams(tmp_path):
    first = _stage1(tmp_path)
    second = _stage2(tmp_path, pt.StartFrom(tmp_path / "s1", hparams="sample"), population=4,
                     initial=[{"lr": 0.05, "k": 2}])
    origins = second.origins()
    assert [origins[m]["member"] for m in range(4)] == [0, 1, 2, 3]
    assert second.hparams_at(0, 1) == {"lr": 0.05, "k": 2}  # initial= wins
    assert [second.hparams_at(m, 1)["lr"] for m in (1, 2, 3)] != [first.members[m].hparams["lr"] for m in (1, 2, 3)]
    # a plain directory means the defaults
    third = _stage2(tmp_path, tmp_path / "s1", dir=tmp_path / "s3", population=2)
    assert [o["member"] for o in third.origins().values()] == [0, 1]
    assert pt.Result.load(tmp_path / "s1").origins() == {}


def test_listed_members_and_the_processes_runner(tmp_path):
    _stage1(tmp_path)
    second = _stage2(tmp_path, pt.StartFrom(tmp_path / "s1", members=[2]), population=3,
                     runner=pt.runners.Processes(workers=2))
    assert {o["member"] for o in second.origins().values()} == {2}
    assert all(r.metrics["skill"] == pytest.approx(pt.Result.load(tmp_path / "s1").checkpoint(2))
               for r in second.reports)


def test_a_staged_run_resumes_after_kill(tmp_path):
    _stage1(tmp_path)
    whole = _stage2(tmp_path, tmp_path / "s1", dir=tmp_path / "whole")
    stop = {"n": 0}

    class Interrupt(pt.Callback):
        def on_event(self, event, state):
            if isinstance(event, ev.Reported):
                stop["n"] += 1
                if stop["n"] == 9:
                    raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _stage2(tmp_path, tmp_path / "s1", dir=tmp_path / "cut", callbacks=[Interrupt()])
    shutil.rmtree(tmp_path / "s1")  # resuming needs only the new run's own directory
    resumed = _stage2(tmp_path, None, dir=tmp_path / "cut", resume=True)
    assert resumed.origins() == {m: {**o, "run": o["run"]} for m, o in whole.origins().items()}
    assert [(r.member, r.step, r.score) for r in resumed.reports] == [(r.member, r.step, r.score)
                                                                      for r in whole.reports]
    assert conformance.decisions(tmp_path / "cut") == conformance.decisions(tmp_path / "whole")


def test_a_vectorized_stage_seeds_single_members(tmp_path):
    torch = pytest.importorskip("torch")
    x = torch.randn(64, 4)
    y = x[:, :2].argmax(1)
    pt.vectorized.run(lambda: torch.nn.Linear(4, 2), {"lr": pt.Float(0.01, 0.1)}, data=(x, y), val=(x, y),
                      population=4, steps=2, interval=1, batch_size=16, dir=tmp_path / "v", seed=0, progress=False,
                      device="cpu")
    seen = {}

    def load(member):
        if member.step == 0:
            seen[member.id] = member.checkpoint
        for _ in member.steps():
            member.report(0.0, checkpoint=1.0)

    pt.run(load, SPACE, population=2, steps=1, exploit=None, runner="inline", dir=tmp_path / "next", progress=False,
           start_from=pt.StartFrom(tmp_path / "v", members=[3, 1]))
    vec = pt.Result.load(tmp_path / "v")
    for m, source in ((0, 3), (1, 1)):
        assert torch.equal(seen[m]["model"]["weight"], vec.checkpoint(source)["model"]["weight"])


def test_start_from_misuse_is_a_clear_error(tmp_path):
    with pytest.raises(pt.ConfigError, match="not a run directory"):
        _stage2(tmp_path, tmp_path / "nowhere")
    with pytest.raises(pt.ConfigError, match="members must be 'all', 'best'"):
        pt.StartFrom(tmp_path, members="top")
    with pytest.raises(pt.ConfigError, match="hparams must be 'keep' or 'sample'"):
        pt.StartFrom(tmp_path, hparams="copy")
    with pytest.raises(pt.ConfigError, match="expected a pt.Result, a run directory"):
        _stage2(tmp_path, 42)
    _stage1(tmp_path)
    with pytest.raises(pt.ConfigError, match=r"members \[7\] are not in the previous run"):
        _stage2(tmp_path, pt.StartFrom(tmp_path / "s1", members=[7]))
    with pytest.raises(pt.ConfigError, match="the run's own dir"):
        _stage2(tmp_path, tmp_path / "s1", dir=tmp_path / "s1", overwrite=True)
    with pytest.raises(pt.ConfigError, match="do not fit the new space"):
        pt.run(strategy, {"lr": pt.Float(0.5, 0.9)}, population=2, steps=2, runner="inline", dir=tmp_path / "x",
               exploit=None, progress=False, start_from=tmp_path / "s1")


def test_the_staged_kuhn_example_runs_three_seeded_stages(tmp_path):
    from poptune.league import Player
    from tests.helpers import load_example

    example = load_example("staged_kuhn")
    skills, strategy, joint = example.pipeline(0, tmp_path, steps=6)
    # stage 1 trained the responses only: the betting probabilities are where each member started
    for m in range(example.base.POPULATION):
        start = next(r for r in skills.reports if (r.member, r.step) == (m, 1))
        end = next(r for r in skills.reports if (r.member, r.step) == (m, 5))
        assert all(start.metrics[f"p{i}"] == end.metrics[f"p{i}"] for i in (0, 1, 2, 9, 10, 11))
    # stage 2 starts from stage 1's members and keeps their responses frozen; stage 3 trains everything
    first = {(r.member, r.step): r for r in skills.reports}
    for m, origin in strategy.origins().items():
        before = first[(origin["member"], origin["step"])]
        after = next(r for r in strategy.reports if (r.member, r.step) == (m, 5))
        assert all(after.metrics[f"p{i}"] == pytest.approx(before.metrics[f"p{i}"]) for i in range(3, 9))
    assert joint.origins()[0]["run"] == str(strategy.dir) and joint.matches
    # the seeded league's starting states are players too (snapshots at step 0)
    assert any(p == Player(m, 0) for m in range(8) for p in joint.ratings())
