import numpy as np
import pytest

import poptune as pt


def test_sample_covers_domains_and_constants():
    space = pt.Space({"lr": pt.Float(0.1, 1.0), "batch": 64, "act": pt.Choice(["relu"])})
    assert space.sample(np.random.default_rng(0)) == {
        "lr": pytest.approx(space.sample(np.random.default_rng(0))["lr"]),
        "batch": 64,
        "act": "relu",
    }
    assert list(space.domains) == ["lr", "act"]


def test_complete_fills_missing_names_and_validates():
    space = pt.Space({"lr": pt.Float(0.1, 1.0), "width": pt.Int(1, 4)})
    full = space.complete({"lr": 0.5}, np.random.default_rng(0), "initial[0]")
    assert full["lr"] == 0.5 and 1 <= full["width"] <= 4
    with pytest.raises(pt.ConfigError, match=r"initial\[0\]: unknown hyperparameter\(s\) \['lr2'\]"):
        space.complete({"lr2": 0.5}, np.random.default_rng(0), "initial[0]")
    with pytest.raises(pt.ConfigError, match=r"initial\[1\]: hyperparameter 'lr': 5 is outside"):
        space.complete({"lr": 5.0}, np.random.default_rng(0), "initial[1]")


@pytest.mark.parametrize(
    "entries, message",
    [
        ({}, "at least one"),
        ({"lr": [1, 2]}, r"space\['lr'\]: expected pt.Float"),
        ({3: pt.Float(0, 1)}, "names must be non-empty strings"),
        ([("lr", 1)], "must be a dict"),
    ],
)
def test_bad_spaces_are_named(entries, message):
    with pytest.raises(pt.ConfigError, match=message):
        pt.Space(entries)


def test_description_round_trip():
    space = pt.Space({"lr": pt.Float(0.1, 1.0, log=True), "batch": 64})
    again = pt.Space.from_description(space.describe())
    assert again.describe() == space.describe()
