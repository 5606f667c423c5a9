"""The conformance suite: every engine (inline, processes, vectorized session; Ray in
tests/runners/test_ray.py) makes the decisions of the one decision core.

Each run's log is replayed through the core (tests/conformance.py); synchronous runs of a
deterministic train function must give the same decisions on every runner, and a run killed
with SIGKILL and resumed must give the decisions of the run that was never interrupted.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import poptune as pt

from tests import conformance, helpers

ROOT = Path(__file__).resolve().parents[1]
RUNNERS = {
    "inline": lambda: "inline",
    "processes-2": lambda: pt.runners.Processes(workers=2),  # fewer workers than members
    "processes-6": lambda: pt.runners.Processes(workers=6),  # a worker per member
}
COMMON = dict(population=6, steps=24, interval=4, seed=3, progress=False)


def run(run_dir, runner, train=helpers.tied_counter, **kw):
    settings = {**COMMON, "exploit": pt.Truncation(0.25), "explore": pt.Perturb(), **kw}
    return pt.run(train, helpers.SPACE, runner=RUNNERS[runner](), dir=run_dir, **settings)


def vectorized(run_dir, **kw):
    """The same counter as a vectorized population: x += lr by SGD on the loss -x, float64."""
    torch = pytest.importorskip("torch")
    settings = {**COMMON, "exploit": pt.Truncation(0.25), "explore": pt.Perturb(), **kw}
    model = pt.vectorized.Functional(lambda p, x: p["x"], lambda g: {"x": torch.zeros(1, dtype=torch.float64)})
    pop = pt.vectorized.Population(model, settings.pop("population"), optimizer=pt.vectorized.SGD(lr="lr"),
                                   dtype=torch.float64, device="cpu")
    settings.pop("synchronous", None)  # a vectorized population is synchronous by nature
    with pt.vectorized.Session(pop, helpers.SPACE, dir=run_dir, **settings) as session:
        for _ in session.steps():
            pop.step(-pop.params["x"][:, 0])  # d(-x)/dx = -1: SGD adds lr
            session.report([round(x, 1) for x in pop.params["x"][:, 0].tolist()])
    return session.result()


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("synchronous", [False, True], ids=["async", "sync"])
def test_every_runner_makes_the_cores_decisions(tmp_path, runner, synchronous):
    run(tmp_path / "run", runner, synchronous=synchronous)
    assert conformance.check(tmp_path / "run", pt.Truncation(0.25), pt.Perturb()) >= 5 * 6


@pytest.mark.parametrize("runner", RUNNERS)
def test_ties_failures_and_a_resume_keep_the_log_conformant(tmp_path, runner, monkeypatch):
    monkeypatch.setenv("POPTUNE_TEST_MARKER", str(tmp_path / "marker"))
    first = run(tmp_path / "run", runner, train=helpers.tied_counter_flaky, exploit=pt.Tournament(), steps=12)
    assert [f.member for f in first.failures] == [1]
    run(tmp_path / "run", runner, train=helpers.tied_counter_flaky, exploit=pt.Tournament(), resume=True)
    assert conformance.check(tmp_path / "run", pt.Tournament(), pt.Perturb()) > 0


def test_the_vectorized_session_makes_the_cores_decisions(tmp_path):
    vectorized(tmp_path / "run")
    assert conformance.check(tmp_path / "run", pt.Truncation(0.25), pt.Perturb()) == 5 * 6


def test_synchronous_runs_decide_the_same_on_every_runner(tmp_path):
    runs = {name: run(tmp_path / name, name, synchronous=True) for name in RUNNERS}
    runs["vectorized"] = vectorized(tmp_path / "vectorized")
    reference = conformance.decisions(tmp_path / "inline")
    assert sum(d[2] == "exploit" for d in reference) >= 5
    for name in runs:
        assert conformance.decisions(tmp_path / name) == reference, name
    scores = {name: [(r.member, r.step, r.score) for r in result.reports] for name, result in runs.items()}
    assert all(s == scores["inline"] for s in scores.values())


def test_an_asynchronous_population_of_two_decides_like_a_synchronous_one(tmp_path):
    # two members: the quorum is both, so the rounds are complete whatever the runner
    settings = dict(population=2, exploit=pt.Truncation(0.5))
    run(tmp_path / "sync", "inline", synchronous=True, **settings)
    for name in RUNNERS:
        run(tmp_path / name, name, **settings)
        assert conformance.decisions(tmp_path / name) == conformance.decisions(tmp_path / "sync"), name


def _kill_and_resume(run_dir, kill_after):
    """Run the script until ``kill_after`` reports are in the log, SIGKILL it, resume to the end."""
    killed = conformance.kill_and_resume("tests.determinism_script", run_dir, kill_after)
    assert sum(e.kind == "report" for e in killed) < 6 * 24


@pytest.mark.parametrize("synchronous", [False, True], ids=["async", "sync"])
def test_a_killed_and_resumed_inline_run_decides_as_the_uninterrupted_one(tmp_path, synchronous):
    env = {"POPTUNE_TEST_SYNC": "1" if synchronous else "0", "POPTUNE_TEST_SLEEP": "0.002"}
    os.environ.update(env)
    try:
        subprocess.run([sys.executable, "-m", "tests.determinism_script", str(tmp_path / "whole")], cwd=ROOT,
                       check=True, capture_output=True, timeout=120)
        reference = conformance.decisions(tmp_path / "whole")
        assert sum(d[2] == "exploit" for d in reference) >= 5
        for i, kill_after in enumerate((13, 58, 101)):
            _kill_and_resume(tmp_path / f"killed-{i}", kill_after)
            assert conformance.decisions(tmp_path / f"killed-{i}") == reference, f"killed after {kill_after} reports"
            conformance.check(tmp_path / f"killed-{i}", pt.Truncation(0.25), pt.Perturb())
    finally:
        for key in env:
            os.environ.pop(key, None)


def test_with_one_worker_waiting_is_free_so_asynchronous_rounds_are_complete(tmp_path):
    run(tmp_path / "async", "inline")
    run(tmp_path / "sync", "inline", synchronous=True)
    assert conformance.decisions(tmp_path / "async") == conformance.decisions(tmp_path / "sync")
