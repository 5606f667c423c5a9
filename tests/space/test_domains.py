import math

import numpy as np
import pytest

import poptune as pt
from poptune.space.domains import domain_from_description


@pytest.fixture
def rng():
    return np.random.default_rng(0)


class TestFloat:
    def test_samples_stay_in_bounds_and_cover_log_scale(self, rng):
        lr = pt.Float(1e-4, 1e-1, log=True)
        values = np.array([lr.sample(rng) for _ in range(2000)])
        assert values.min() >= 1e-4 and values.max() <= 1e-1
        # log-uniform: a quarter of the draws lie in each decade-and-a-bit quarter of log space
        share_below_1e3 = np.mean(values < 1e-3)
        assert 0.28 < share_below_1e3 < 0.39  # expected 1/3

    def test_linear_samples_are_uniform(self, rng):
        values = np.array([pt.Float(0.0, 1.0).sample(rng) for _ in range(2000)])
        assert 0.45 < values.mean() < 0.55

    def test_perturb_multiplies_and_clips(self, rng):
        dom = pt.Float(0.0, 1.0)
        assert dom.perturb(0.5, 1.2, rng) == pytest.approx(0.6)
        assert dom.perturb(0.9, 1.2, rng) == 1.0
        assert dom.perturb(0.5, 0.8, rng) == pytest.approx(0.4)

    def test_values_are_python_floats(self, rng):
        assert type(pt.Float(0.0, 1.0).sample(rng)) is float

    @pytest.mark.parametrize(
        "args, message",
        [
            ((0.1, 0.01), "low must be < high"),
            ((0.0, 1.0, True), "log=True needs low > 0"),
            (("a", 1.0), "low must be a number"),
            ((0.0, math.inf), "high must be finite"),
        ],
    )
    def test_bad_arguments_are_named(self, args, message):
        with pytest.raises(pt.ConfigError, match=message):
            pt.Float(*args)

    def test_validate_names_the_hyperparameter(self):
        with pytest.raises(pt.ConfigError, match="'lr': 2 is outside"):
            pt.Float(0.0, 1.0).validate(2.0, "lr")


class TestInt:
    def test_samples_include_both_ends(self, rng):
        values = {pt.Int(1, 3).sample(rng) for _ in range(200)}
        assert values == {1, 2, 3}

    def test_log_samples_are_ints_in_bounds(self, rng):
        dom = pt.Int(16, 256, log=True)
        values = [dom.sample(rng) for _ in range(500)]
        assert all(type(v) is int and 16 <= v <= 256 for v in values)
        assert np.median(values) < 100  # log scale: median near 64

    def test_perturb_rounds_and_always_moves(self, rng):
        dom = pt.Int(1, 10)
        assert dom.perturb(5, 1.2, rng) == 6
        assert dom.perturb(2, 1.2, rng) == 3  # 2.4 rounds back to 2: move one unit up
        assert dom.perturb(2, 0.8, rng) == 1
        assert dom.perturb(10, 1.2, rng) == 10  # clipped

    def test_validate_accepts_integral_floats_only(self):
        dom = pt.Int(1, 10)
        assert dom.validate(3.0, "n") == 3
        with pytest.raises(pt.ConfigError, match="expected an integer"):
            dom.validate(3.5, "n")

    def test_bad_arguments(self):
        with pytest.raises(pt.ConfigError, match="low must be an integer"):
            pt.Int(1.5, 3)
        with pytest.raises(pt.ConfigError, match="log=True needs low >= 1"):
            pt.Int(0, 3, log=True)


class TestChoice:
    def test_perturb_moves_to_a_neighbour(self, rng):
        dom = pt.Choice([16, 32, 64])
        assert dom.perturb(32, 1.2, rng) == 64
        assert dom.perturb(32, 0.8, rng) == 16
        assert dom.perturb(64, 1.2, rng) == 32  # at the end: the only neighbour
        assert pt.Choice(["only"]).perturb("only", 1.2, rng) == "only"

    def test_bool_and_int_options_are_told_apart(self):
        dom = pt.Choice([True, 1])
        assert dom.validate(1, "x") == 1 and type(dom.validate(1, "x")) is int
        assert dom.validate(True, "x") is True

    def test_bad_arguments(self):
        with pytest.raises(pt.ConfigError, match="must not be empty"):
            pt.Choice([])
        with pytest.raises(pt.ConfigError, match="must be distinct"):
            pt.Choice([1, 1])
        with pytest.raises(pt.ConfigError, match="must be a list"):
            pt.Choice("abc")
        with pytest.raises(pt.ConfigError, match="numbers, strings"):
            pt.Choice([object()])
        with pytest.raises(pt.ConfigError, match="is not one of"):
            pt.Choice(["a"]).validate("b", "act")


@pytest.mark.parametrize(
    "domain", [pt.Float(1e-4, 1e-1, log=True), pt.Int(1, 9), pt.Choice(["a", 2, None])]
)
def test_description_round_trip(domain):
    assert domain_from_description(domain.describe()) == domain
