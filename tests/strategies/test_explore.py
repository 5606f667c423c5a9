import numpy as np
import pytest

import poptune as pt
from poptune.strategies import as_explore

SPACE = pt.Space(
    {
        "lr": pt.Float(1e-4, 1e-1, log=True),
        "width": pt.Int(16, 256, log=True),
        "act": pt.Choice(["relu", "tanh", "gelu"]),
        "batch": 64,
    }
)
H = {"lr": 0.01, "width": 64, "act": "tanh", "batch": 64}


def test_perturb_uses_the_factors_and_keeps_constants():
    rng = np.random.default_rng(0)
    for _ in range(50):
        new = pt.Perturb().explore(H, SPACE, rng)
        assert new["lr"] in (pytest.approx(0.008), pytest.approx(0.012))
        assert new["width"] in (51, 77)
        assert new["act"] in ("relu", "gelu")
        assert new["batch"] == 64


def test_perturb_never_leaves_the_space():
    rng = np.random.default_rng(0)
    h = dict(H)
    for _ in range(500):
        h = pt.Perturb(factors=(0.5, 2.0)).explore(h, SPACE, rng)
        SPACE.validate(h, "perturbed")  # raises if out of bounds


def test_resample_probability():
    rng = np.random.default_rng(0)
    changed = sum(pt.Resample(0.25).explore(H, SPACE, rng)["lr"] != H["lr"] for _ in range(1000))
    assert 200 < changed < 300
    assert pt.Resample(0.0).explore(H, SPACE, rng) == H


def test_perturb_or_resample_mixes_both():
    rng = np.random.default_rng(0)
    lrs = [pt.PerturbOrResample(probability=0.5).explore(H, SPACE, rng)["lr"] for _ in range(400)]
    perturbed = sum(lr in (pytest.approx(0.008), pytest.approx(0.012)) for lr in lrs)
    assert 150 < perturbed < 250


def test_seeded_explore_is_reproducible():
    a = [pt.PerturbOrResample().explore(H, SPACE, np.random.default_rng(s)) for s in range(5)]
    b = [pt.PerturbOrResample().explore(H, SPACE, np.random.default_rng(s)) for s in range(5)]
    assert a == b


def test_function_explore_is_validated():
    ok = as_explore(lambda h, rng: {**h, "lr": 0.02})
    assert ok.explore(H, SPACE, np.random.default_rng(0))["lr"] == 0.02
    partial = as_explore(lambda h, rng: {"lr": 0.03})  # missing names are kept
    assert partial.explore(H, SPACE, np.random.default_rng(0))["width"] == 64
    bad = as_explore(lambda h, rng: {**h, "lr": 5.0})
    with pytest.raises(pt.UsageError, match="'lr': 5 is outside"):
        bad.explore(H, SPACE, np.random.default_rng(0))
    with pytest.raises(pt.UsageError, match="return a dict"):
        as_explore(lambda h, rng: None).explore(H, SPACE, np.random.default_rng(0))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: pt.Perturb(factors=()), "factors must be a list of positive numbers"),
        (lambda: pt.Perturb(factors=(0.8, -1)), "factors must be a list of positive numbers"),
        (lambda: pt.Resample(1.5), r"probability must be in \[0, 1\]"),
        (lambda: as_explore(3), "explore must be a strategy"),
        (lambda: as_explore(pt.Perturb), "explore=Perturb is a class: pass an instance, explore=Perturb\\(\\)"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(pt.ConfigError, match=message):
        make()


def test_explore_false_hyperparameters_are_never_changed():
    space = pt.Space({"lr": pt.Float(1e-4, 1e-1, log=True), "width": pt.Int(16, 256, explore=False)})
    rng = np.random.default_rng(0)
    h = {"lr": 0.01, "width": 64}
    for strategy in (pt.Perturb(), pt.Resample(1.0), pt.PerturbOrResample(probability=0.5)):
        for _ in range(20):
            assert strategy.explore(h, space, rng)["width"] == 64
    with pytest.raises(pt.UsageError, match=r"changed \['width'\].*explore=False"):
        as_explore(lambda h, rng: {**h, "width": 32}).explore(h, space, rng)


def test_a_chain_runs_its_stages_in_turn_and_checks_what_functions_return():
    import numpy as np

    space = pt.Space({"lr": pt.Float(1e-4, 1.0, log=True), "batch": pt.Int(8, 512)})
    rng = np.random.default_rng(0)

    def even_batch(hparams):  # Ray Tune's custom_explore_fn: hparams in, hparams out
        return {**hparams, "batch": hparams["batch"] // 2 * 2}

    chain = pt.strategies.as_explore([pt.Perturb(factors=(1.5,)), even_batch])
    assert isinstance(chain, pt.Chain)
    for _ in range(20):
        new = chain.explore({"lr": 0.01, "batch": 33}, space, rng)
        assert new["batch"] % 2 == 0 and new["lr"] == pytest.approx(0.015)
    with pytest.raises(pt.UsageError, match="lambda.*'batch': 1000 is outside"):
        pt.Chain(lambda h: {"batch": 1000}).explore({"lr": 0.01, "batch": 33}, space, rng)
    with pytest.raises(pt.ConfigError, match="at least one"):
        pt.Chain()


def test_a_chain_in_a_run_applies_the_fix_up_after_the_perturbation(tmp_path):
    from tests.test_run import run

    result = run(tmp_path / "run", space={"lr": pt.Float(0.3, 1.0)},
                 explore=[pt.Perturb(), lambda h: {"lr": min(h["lr"], 0.5)}])
    assert result.exploits and all(e.new["lr"] <= 0.5 for e in result.exploits)
    # sources whose lr even a 0.8 perturbation leaves above the cap: the cap is what set it
    assert [e.new["lr"] for e in result.exploits if e.copied["lr"] * 0.8 > 0.5] == pytest.approx(
        [0.5 for e in result.exploits if e.copied["lr"] * 0.8 > 0.5])
    assert any(e.copied["lr"] * 0.8 > 0.5 for e in result.exploits)
