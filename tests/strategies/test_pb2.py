import math
import tempfile

import numpy as np
import pytest

import poptune as pt
from poptune.core import events as ev
from poptune.core.decide import Decider
from poptune.space import Space
from poptune.strategies.pb2 import _Data, _from_unit, _to_unit

from tests import conformance
from tests.core.test_state import live, reach

SPACE = Space({"lr": pt.Float(1e-4, 1e-1, log=True), "layers": pt.Int(1, 8)})


def grown(n=4, rounds=4, interval=4, space=SPACE, score=None, explore=None):
    """A live state where members trained ``rounds`` intervals and decided at each ready step but
    the last (its round is open)."""
    state = live(n, steps=100, interval=interval)
    score = score or (lambda m, step, h: step * (0.1 + m))
    for member in range(n):
        state[member].hparams.update({"lr": 0.001 * (member + 1), "layers": 2})
    decider = Decider(state, space, pt.Truncation(0.25), explore or pt.PB2(min_points=4), seed=0)
    for r in range(rounds):
        for member in range(n):
            for step in range(r * interval + 1, (r + 1) * interval + 1):
                reach(state, member, step, score(member, step, state[member].hparams),
                      ref=f"m{member}/{step}" if step % interval == 0 else None)
        if r < rounds - 1:
            for member in range(n):
                state.apply(decider.decide(member, (r + 1) * interval))
    return state, decider


def context_for(state, member, step, hparams, space=SPACE, source=None):
    view = state.round_view(step)
    return pt.ExploreContext(hparams=hparams, space=space, rng=np.random.default_rng(0), target=view.member(member),
                             source=view.member(source) if source is not None else None, population=view, step=step)


def test_data_has_a_point_per_step_and_segments_after_an_exploit_start_from_the_source():
    state, _ = grown(rounds=2)
    reach(state, 0, 9, 5.0)  # (not part of the rounds' data)
    data = _Data.collect(context_for(state, 1, 8, dict(state[1].hparams)), dict(SPACE.domains), {}, window=1000)
    # fresh starts have no point for their first step: 4 members x (8 steps - 1) + member 0's step 9
    assert len(data.y) == 4 * 7 + 1 and data.ticks == 4.0 and data.now == 2.0
    copied = [s for s in state.segments(0) if s.origin not in (None, 0)]  # member 0 (the worst) copied at step 4
    assert copied and copied[0].origin == 3 and copied[0].start == 4
    # a segment that starts from a copied state starts from the source's fitness there
    assert copied[0].origin_fitness == pytest.approx(state.segments(3)[0].fitness[3])


def test_values_are_scaled_on_their_domains_log_scale_and_integers_rounded():
    lr, layers = SPACE.domains["lr"], SPACE.domains["layers"]
    assert _to_unit(lr, 1e-4) == 0.0 and _to_unit(lr, 1e-1) == 1.0
    assert _to_unit(lr, 10 ** -2.5) == pytest.approx(0.5)
    assert _from_unit(lr, 0.5) == pytest.approx(10 ** -2.5)
    assert _from_unit(layers, 0.55) == 5 and _from_unit(layers, 0.49) == 4  # 1 + 0.55 * 7 = 4.85 -> 5, not 4


def test_too_little_data_falls_back_to_perturbation_and_says_so():
    state, _ = grown(rounds=1)
    context = context_for(state, 0, 4, dict(state[1].hparams), source=1)
    new = pt.PB2(min_points=1000).propose(context)
    assert context.info["pb2"]["fallback"].endswith("fewer than 1000")
    assert new["lr"] in (pytest.approx(0.0016), pytest.approx(0.0024))  # Perturb's 0.8 or 1.2


def test_a_decision_logs_the_model_and_is_a_function_of_the_data():
    state, _ = grown(rounds=4)
    hparams = dict(state[1].hparams)
    first = context_for(state, 0, 16, hparams, source=1)
    chosen = pt.PB2(min_points=4).propose(first)
    info = first.info["pb2"]
    assert info["points"] > 40 and set(info["kernel"]) == {"variance", "lengthscale", "epsilon", "noise"}
    assert info["ucb"] == pytest.approx(info["mean"] + info["kappa"] * info["std"], abs=1e-3)
    again = pt.PB2(min_points=4).propose(context_for(state, 0, 16, hparams, source=1))  # a fresh object, no cache
    assert again == chosen
    assert SPACE.validate(chosen, "pb2") == chosen and isinstance(chosen["layers"], int)


def test_pending_members_condition_the_choice():
    state, _ = grown(rounds=4)
    view = state.round_view(16)
    context = context_for(state, 0, 16, dict(state[1].hparams), source=1)
    data = _Data.collect(context, dict(SPACE.domains), {}, window=1000)
    assert data.pending(context) == []  # everyone reached step 16, nobody decided yet
    state.apply(ev.Exploited(member=2, step=16, source=1, source_step=16, source_age=16, ref=view.member(1).step and "x",
                             old={}, copied={}, new={"lr": 0.05, "layers": 3}, generation=1))
    context = context_for(state, 0, 16, dict(state[1].hparams), source=1)
    data = _Data.collect(context, dict(SPACE.domains), {}, window=1000)
    assert [h for _, h in data.pending(context)] == [{"lr": 0.05, "layers": 3}]
    pt.PB2(min_points=4).propose(context)
    assert context.info["pb2"]["pending"] == 1


def test_the_bandit_favours_the_option_that_improves_the_score():
    space = Space({"lr": pt.Float(1e-3, 1e-1, log=True), "act": pt.Choice(["good", "bad"])})

    def score(member, step, h):
        return step * (1.0 if h["act"] == "good" else 0.1)

    state = live(4, steps=100, interval=4)
    for member in range(4):
        state[member].hparams.update({"lr": 0.01, "act": "good" if member % 2 else "bad"})
    for step in range(1, 17):
        for member in range(4):
            reach(state, member, step, score(member, step, state[member].hparams) + 0.01 * member,
                  ref=f"m{member}/{step}" if step % 4 == 0 else None)
    picks = []
    for seed in range(20):
        view = state.round_view(16)
        context = pt.ExploreContext(hparams={"lr": 0.01, "act": "bad"}, space=space, rng=np.random.default_rng(seed),
                                    target=view.member(0), source=view.member(3), population=view, step=16)
        picks.append(pt.PB2(min_points=4).propose(context)["act"])
        probabilities = context.info["pb2"]["bandit"]["act"]["probabilities"]
    assert probabilities[0] > probabilities[1] and picks.count("good") > picks.count("bad")


def test_bad_arguments():
    with pytest.raises(pt.ConfigError, match="window must be an integer >= 2"):
        pt.PB2(window=1)
    with pytest.raises(pt.ConfigError, match="fallback must be an explore strategy"):
        pt.PB2(fallback=lambda h, rng: h)
    with pytest.raises(pt.ConfigError, match="c1 must be a positive number"):
        pt.PB2(c1=0)


def moving_target(member):
    """The optimal learning rate moves with progress (Ray Tune's pbt_function, in short)."""
    state = member.checkpoint or {"acc": 0.0}
    acc, lr = state["acc"], member.hparams["lr"]
    rng = np.random.default_rng(member.seed)
    for _ in member.steps():
        optimal = min(0.01, max(0.001, 0.01 * acc / 100 if acc < 100 else 0.01 - 0.01 * (acc - 100) / 100))
        quality = max(lr, optimal) / min(lr, optimal)
        acc = max(0.0, acc + (1.0 / quality if quality < 3 else -(quality - 3) * (lr > optimal)) * rng.random()
                  + rng.normal())
        member.report(acc, checkpoint={"acc": acc})


@pytest.mark.parametrize("runner", ["inline", "processes"])
def test_a_pb2_run_decides_as_the_core_replays_it(runner):
    with tempfile.TemporaryDirectory() as tmp:
        result = pt.run(moving_target, {"lr": pt.Float(1e-4, 0.02)}, population=4, steps=40, interval=4,
                        exploit=pt.Truncation(0.25), explore=pt.PB2(), runner=runner, dir=tmp, seed=0, progress=False)
        assert result.status == "finished" and result.exploits
        models = [e.info["pb2"] for e in result.events if e.kind == "exploit"]
        assert any("kernel" in m for m in models)  # the GP was used once there was data
        assert conformance.check(tmp, pt.Truncation(0.25), pt.PB2()) > 0  # a pure function of the log
        assert all(math.isfinite(x.new["lr"]) for x in result.exploits)


def test_pb2_decides_in_synchronous_runs_and_after_a_resume_as_the_core_replays_it(tmp_path):
    common = dict(population=4, interval=4, exploit=pt.Truncation(0.25), runner="inline", dir=tmp_path / "run",
                  seed=1, progress=False, synchronous=True)
    pt.run(moving_target, {"lr": pt.Float(1e-4, 0.02)}, steps=20, explore=pt.PB2(), **common)
    result = pt.run(moving_target, {"lr": pt.Float(1e-4, 0.02)}, steps=40, explore=pt.PB2(), resume=True, **common)
    assert result.status == "finished" and all(m.step == 40 for m in result.members)
    # ready steps 4..36, but not 20: the first session ended there (its members finished)
    assert conformance.check(tmp_path / "run", pt.Truncation(0.25), pt.PB2()) == 8 * 4


def test_pb2_explores_a_vectorized_population(tmp_path):
    pytest.importorskip("torch")
    from tests.test_conformance import vectorized

    vectorized(tmp_path / "run", explore=pt.PB2(), steps=32, interval=4)
    assert conformance.check(tmp_path / "run", pt.Truncation(0.25), pt.PB2()) == 7 * 6
