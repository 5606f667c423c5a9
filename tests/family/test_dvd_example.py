"""The DvD example's CI run: on the deceptive task diversity finds the global optimum that
independent members miss."""

import pytest

from tests.helpers import load_example

pytest.importorskip("torch")


def test_small_run_dvd_escapes_the_local_optimum_that_independent_members_fall_into():
    dvd = load_example("dvd")
    results = dvd.main(["--small"])["deceptive"]
    independent, fixed, bandit = (results[m][0] for m in dvd.METHODS)
    assert independent["best"] == pytest.approx(dvd.LOCAL[2], abs=0.05)  # stuck on the broad bump
    assert not independent["found"] and fixed["found"] and bandit["found"]
    assert bandit["best"] > 1.9  # the narrow bump (height 2) reached
    assert set(bandit["choices"]) == set(dvd.ARMS)  # the bandit tried both weights
    assert len(bandit["choices"]) == dvd.SMALL["steps"] // dvd.INTERVAL


def test_unimodal_task_has_no_second_bump():
    dvd = load_example("dvd")
    torch = pytest.importorskip("torch")
    far = torch.tensor([dvd.GLOBAL[0]])
    assert dvd.reward(far, "deceptive").item() > 1.9 and dvd.reward(far, "unimodal").item() < 0.01
