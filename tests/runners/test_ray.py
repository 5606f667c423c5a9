"""The Ray runner: PBT through actors, a killed actor, a hanging member, resume (marker: ray)."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

import poptune as pt  # noqa: E402
from poptune.demo import toy  # noqa: E402
from poptune.core import events as ev  # noqa: E402
from poptune.store import Store, store_path  # noqa: E402

from tests import helpers  # noqa: E402

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, object_store_memory=80 * 1024**2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def raw_reports(run_dir):
    with Store(store_path(run_dir), readonly=True) as store:
        return store.read(kinds=[ev.REPORT])


def test_the_paper_toy_through_ray_actors(run_dir):
    result = pt.run(toy.train, toy.SPACE, population=2, steps=200, interval=4, initial=toy.INITIAL,
                    explore=toy.explore, exploit=pt.Truncation(0.5), runner="ray", dir=run_dir, seed=0, progress=False)
    assert result.best.score > 1.19 and result.exploits
    assert result.config["runner"]["name"] == "ray"


def test_a_small_torch_model_through_ray_actors(run_dir):
    pytest.importorskip("torch")
    import functools

    from poptune.demo import digits

    train = functools.partial(digits.train, noise=0.0)
    result = pt.run(train, digits.SPACE, population=4, steps=3, interval=1, runner=pt.runners.Ray(),
                    dir=run_dir, seed=0, progress=False)
    assert result.best.score > 0.8 and len(result.reports) == 12


class KillOneActor(pt.Callback):
    """Kills a worker actor's process (SIGKILL, by pid) once the run has some reports."""

    def __init__(self, runner, after):
        self.runner, self.after, self.reports, self.killed = runner, after, 0, None

    def on_event(self, event, population):
        if event.kind == "report":
            self.reports += 1
            if self.reports == self.after and self.killed is None:
                self.killed = self.runner.pids()[0]
                os.kill(self.killed, signal.SIGKILL)


def test_a_killed_actor_costs_at_most_one_interval_of_one_member(run_dir):
    runner = pt.runners.Ray()
    killer = KillOneActor(runner, after=30)
    result = pt.run(helpers.counter_with_sleep, helpers.SPACE, population=4, steps=24, interval=4, runner=runner,
                    dir=run_dir, seed=0, progress=False, callbacks=[killer])
    assert killer.killed is not None
    crashed = [f for f in result.failures if f.crashed]
    assert len(crashed) == 1 and "died" in crashed[0].error
    assert Counter((r.member, r.step) for r in result.reports) == Counter(
        {(m, s): 1 for m in range(4) for s in range(1, 25)})
    raw = Counter((e.member, e.step) for e in raw_reports(run_dir))
    redone = [key for key, count in raw.items() if count > 1]
    assert all(member == crashed[0].member for member, _ in redone) and len(redone) <= 4  # one interval


def hangs_once(member, marker):
    marker = Path(marker)
    x = member.checkpoint or 0.0
    for step in member.steps():
        if member.id == 1 and step == 3 and not marker.exists():
            marker.write_text("hung")
            time.sleep(600)
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


def test_a_member_that_stops_reporting_is_timed_out_and_retried(run_dir, tmp_path):
    import functools

    start = time.monotonic()  # ray workers do not see this process's later environment: pass the path
    result = pt.run(functools.partial(hangs_once, marker=str(tmp_path / "marker")), helpers.SPACE, population=2, steps=8, interval=2,
                    runner=pt.runners.Ray(task_timeout=3), dir=run_dir, seed=0, progress=False)
    assert time.monotonic() - start < 60
    assert [(f.member, f.crashed) for f in result.failures] == [(1, True)]
    assert "sent nothing for 3s" in result.failures[0].error
    assert all(m.step == 8 for m in result.members)


def test_checkpoints_at_a_url(run_dir, tmp_path):
    pytest.importorskip("fsspec")
    url = (tmp_path / "remote").as_uri()
    result = pt.run(helpers.counter, helpers.SPACE, population=2, steps=6, interval=2, runner="ray", dir=run_dir,
                    seed=0, progress=False, checkpoints=url)
    assert not (run_dir / "checkpoints").exists()
    assert any((tmp_path / "remote").rglob("*.pkl"))
    assert result.checkpoint() == pytest.approx(result.best.score)


def test_synchronous_mode_parks_members_when_actors_are_fewer(run_dir):
    with pytest.warns(UserWarning, match="fits 2 actors"):
        result = pt.run(helpers.counter, helpers.SPACE, population=3, steps=8, interval=2, synchronous=True,
                        runner=pt.runners.Ray(max_concurrent=3), dir=run_dir, seed=0, progress=False)
    assert result.exploits and all(m.step == 8 for m in result.members)


def test_synchronous_mode_with_deferred_replies(run_dir):
    result = pt.run(helpers.counter, helpers.SPACE, population=2, steps=8, interval=2, synchronous=True,
                    runner="ray", dir=run_dir, seed=0, progress=False)
    assert result.exploits and all(m.step == 8 for m in result.members)


@pytest.fixture
def private_ray_dir():
    """A temp dir for a subprocess's own Ray; its processes are killed at the end (a SIGKILLed
    driver leaves its local cluster's agents behind)."""
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="ptray-", dir="/tmp")  # short: Ray puts unix sockets in it
    yield path
    # Ray's agents rename themselves (ray::...), but their open log files give them away.
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if any(path in os.readlink(fd) for fd in (proc / "fd").iterdir()):
                os.kill(int(proc.name), signal.SIGKILL)
        except OSError:
            pass
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_the_controller_killed_then_resumed_on_ray(run_dir, private_ray_dir):
    env = {**os.environ, "POPTUNE_TEST_SLEEP": "0.02"}
    command = [sys.executable, "-m", "tests.runners.ray_script", str(run_dir), private_ray_dir]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        try:
            if len(raw_reports(run_dir)) >= 40:
                break
        except Exception:
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = [(e.member, e.step, e.score) for e in raw_reports(run_dir)]
    again = subprocess.run([*command, "resume"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    after = [(e.member, e.step, e.score) for e in raw_reports(run_dir)]
    assert after[: len(before)] == before
    result = pt.Result.load(run_dir)
    assert result.status == "finished"
    assert Counter((r.member, r.step) for r in result.reports) == Counter(
        {(m, s): 1 for m in range(4) for s in range(1, 31)})


@pytest.mark.parametrize("synchronous", [False, True], ids=["async", "sync"])
def test_the_ray_runner_makes_the_cores_decisions(tmp_path, synchronous):
    from tests import conformance

    settings = dict(population=6, steps=24, interval=4, seed=3, progress=False, exploit=pt.Truncation(0.25),
                    explore=pt.Perturb(), synchronous=synchronous)
    pt.run(helpers.tied_counter, helpers.SPACE, runner=pt.runners.Ray(max_concurrent=2), dir=tmp_path / "ray",
           **settings)
    assert conformance.check(tmp_path / "ray", pt.Truncation(0.25), pt.Perturb()) >= 5 * 6
    if synchronous:  # complete rounds: the same decisions as any other runner
        pt.run(helpers.tied_counter, helpers.SPACE, runner="inline", dir=tmp_path / "inline", **settings)
        assert conformance.decisions(tmp_path / "ray") == conformance.decisions(tmp_path / "inline")


def test_pb2_through_ray_actors(tmp_path):
    from tests import conformance
    from tests.strategies.test_pb2 import moving_target

    pt.run(moving_target, {"lr": pt.Float(1e-4, 0.02)}, population=4, steps=24, interval=4, exploit=pt.Truncation(0.25),
           explore=pt.PB2(), runner=pt.runners.Ray(max_concurrent=2), dir=tmp_path / "run", seed=0, progress=False)
    assert conformance.check(tmp_path / "run", pt.Truncation(0.25), pt.PB2()) > 0
