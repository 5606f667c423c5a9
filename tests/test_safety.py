"""Failure behaviour and safety: every row of the fail-safe issue's two tables, a test each.

What goes wrong around a run (a second session on its directory, a killed or terminated
controller, a damaged log or checkpoint, a full disk, read-only media) ends in a run that
continues or a named error; a run directory from elsewhere is data: reading or resuming it
never runs its code or touches files outside it.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import poptune as pt
from poptune.core import events as ev
from poptune.lock import RunLock
from poptune.store import Store, store_path

from tests import helpers
from tests.test_run import run

ROOT = Path(__file__).resolve().parents[1]


# -- helpers ---------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def start_script(run_dir, *args):
    return subprocess.Popen([sys.executable, "-m", "tests.resume_script", str(run_dir), *args], cwd=ROOT,
                            env={**os.environ, "POPTUNE_TEST_SLEEP": "0.05"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def reports(run_dir) -> int:
    try:
        with Store(store_path(run_dir), readonly=True) as store:
            return len(store.read(kinds=[ev.REPORT]))
    except pt.PoptuneError:
        return 0


@contextlib.contextmanager
def tmpfs(tmp_path, size: str):
    """A small file system of its own (to fill it, or make it read-only); skipped where the test
    process may not mount one."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("needs root on Linux to mount a tmpfs")
    point = tmp_path / "fs"
    point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                      capture_output=True).returncode != 0:
        pytest.skip("this machine does not let tests mount a tmpfs")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def remount(point, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(point)], check=True, capture_output=True)


# -- one run per directory ---------------------------------------------------------------------


def test_a_second_session_on_a_live_run_directory_is_refused_naming_the_holder(run_dir):
    with RunLock(run_dir):
        with pytest.raises(pt.RunDirError, match=f"another session is using this run directory: pid {os.getpid()} on "):
            run(run_dir)
        with pytest.raises(pt.RunDirError, match="another session"):
            run(run_dir, overwrite=True)  # would delete a live run
    assert run(run_dir).status == "finished"
    with RunLock(run_dir):
        assert pt.Result.load(run_dir).status == "finished"  # reading takes no lock


def test_the_lock_of_a_killed_session_does_not_block_the_next(run_dir):
    code = f"from poptune.lock import RunLock; import time; lock = RunLock({str(run_dir)!r}).acquire(); " \
           f"print('locked', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"locked"
    with pytest.raises(pt.RunDirError, match=f"pid {holder.pid}"):
        run(run_dir)
    holder.kill()
    holder.wait()
    assert run(run_dir).status == "finished"


def test_a_file_where_the_directory_should_be_is_a_named_error(tmp_path):
    (tmp_path / "taken").write_text("not a directory")
    with pytest.raises(pt.RunDirError, match="is a file, not a directory"):
        run(tmp_path / "taken")


# -- a controller that dies or is told to stop -------------------------------------------------


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@linux_only
def test_workers_exit_soon_after_their_controller_is_killed(run_dir):
    proc = start_script(run_dir)
    wait_for(lambda: reports(run_dir) >= 8)
    workers = children(proc.pid)
    assert len(workers) == 2
    proc.send_signal(signal.SIGKILL)  # the controller alone, not its process group
    proc.wait()
    wait_for(lambda: not any(alive(w) for w in workers), timeout=5)


@linux_only
def test_sigterm_stops_a_run_like_ctrl_c_and_it_resumes(run_dir):
    proc = start_script(run_dir)
    wait_for(lambda: reports(run_dir) >= 8)
    workers = children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and b"KeyboardInterrupt" in err
    assert pt.Result.load(run_dir).status == "interrupted"
    wait_for(lambda: not any(alive(w) for w in workers), timeout=5)
    resumed = run(run_dir, helpers.counter, population=4, steps=40, interval=4, resume=True)
    assert resumed.status == "finished" and len(resumed.reports) == 160


# -- damaged files -------------------------------------------------------------------------------


@pytest.mark.parametrize("leftover", ["empty file", "schema only"])
def test_a_directory_whose_creation_was_cut_short_starts_afresh(run_dir, leftover):
    run_dir.mkdir(parents=True)
    if leftover == "empty file":
        store_path(run_dir).write_bytes(b"")
    else:
        Store(store_path(run_dir)).close()
    with pytest.raises(pt.RunLogError, match="no run configuration"):
        pt.Result.load(run_dir)
    assert run(run_dir).status == "finished"


def test_a_lost_checkpoint_fails_its_member_and_the_run_and_its_resume_go_on(run_dir):
    class Damage(pt.Callback):
        """Truncate member 1's checkpoint of step 4 when the last member saves its own there."""

        def on_event(self, event, population):
            if event.kind == "checkpoint" and event.member == 2 and event.step == 4:
                path = Path(run_dir) / "checkpoints" / population[1].ref
                path.write_bytes(path.read_bytes()[:10])

    with pytest.warns(UserWarning, match="member 1 failed"):
        result = run(run_dir, population=3, steps=12, interval=4, exploit=None, callbacks=[Damage()])
    assert result.status == "finished" and result.member(1).status == "failed"
    assert "CheckpointLostError" in result.failures[-1].error and "cannot be read back" in result.failures[-1].error
    assert all(result.member(m).status == "finished" and result.member(m).step == 12 for m in (0, 2))
    with pytest.warns(UserWarning, match="member 1 failed"):
        again = run(run_dir, population=3, steps=12, interval=4, exploit=None, resume=True)
    assert again.status == "finished"


def test_a_damaged_run_log_is_a_named_error_everywhere(run_dir):
    run(run_dir)
    for name in ("poptune.db-wal", "poptune.db-shm"):
        (Path(run_dir) / name).unlink(missing_ok=True)
    store_path(run_dir).write_bytes(b"this is not a database" * 100)
    with pytest.raises(pt.RunLogError, match="is damaged or not a poptune log"):
        pt.Result.load(run_dir)
    with pytest.raises(pt.RunLogError, match="is damaged"):
        run(run_dir, resume=True)
    cli = subprocess.run([sys.executable, "-m", "poptune.cli", "status", str(run_dir)], capture_output=True,
                         text=True, cwd=ROOT)
    assert cli.returncode == 2 and "is damaged" in cli.stderr and "Traceback" not in cli.stderr


def big_state(member):
    """A member whose checkpoints are 80 KB: a small file system fills up within a few steps."""
    x = member.checkpoint["x"] if member.checkpoint else 0.0
    for _ in member.steps():
        x += member.hparams["lr"]
        member.report(x, checkpoint=lambda x=x: {"x": x, "weights": np.random.default_rng(0).random(10_000)})


def test_a_full_disk_stops_the_run_with_a_named_error_and_it_resumes_once_space_is_freed(tmp_path):
    with tmpfs(tmp_path, "600k") as fs:
        settings = dict(space=helpers.SPACE, population=2, steps=40, interval=2, keep_checkpoints="all",
                        dir=fs / "run", seed=0, progress=False, runner="inline")
        with pytest.raises(pt.DiskFullError, match="no space left"):
            pt.run(big_state, settings.pop("space"), **settings)
        before = pt.Result.load(fs / "run")
        assert before.reports
        remount(fs, "size=50m")
        result = pt.run(big_state, helpers.SPACE, resume=True, **settings)
        assert result.status == "finished" and all(m.step == 40 for m in result.members)
        kept = {(r.member, r.step, r.score) for r in before.reports}
        assert kept <= {(r.member, r.step, r.score) for r in result.reports}  # nothing reported is lost


def test_a_run_on_read_only_media_reads_and_refuses_to_run(tmp_path):
    with tmpfs(tmp_path, "20m") as fs:
        run(fs / "run")
        remount(fs, "ro")
        result = pt.Result.load(fs / "run")
        assert result.status == "finished" and len(result.reports) == 48
        cli = subprocess.run([sys.executable, "-m", "poptune.cli", "status", str(fs / "run")], capture_output=True,
                             text=True, cwd=ROOT)
        assert cli.returncode == 0, cli.stderr
        with pytest.raises(pt.RunDirError, match="is not writable"):
            run(fs / "run", resume=True)


def test_members_that_failed_for_good_are_told_with_the_steps_they_never_trained(run_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("POPTUNE_TEST_MARKER", str(tmp_path / "marker"))
    with pytest.warns(UserWarning, match="1 of 3 members failed and stopped training, leaving 6 steps"):
        result = run(run_dir, helpers.always_fails_member_0, population=3, steps=8, interval=4, retries=0)
    assert result.untrained() == {0: 6}  # it failed at step 3: steps 3 to 8 never trained
    assert "1 members failed for good (members [0]): 6 steps of their budgets were never trained" in result.summary()


# -- a run directory is data -------------------------------------------------------------------


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "code ran"))


def test_a_crafted_checkpoint_is_refused_and_runs_nothing(run_dir, tmp_path):
    result = run(run_dir)
    marker = tmp_path / "marker"
    ref = result._population[result.best.id].ref
    (Path(run_dir) / "checkpoints" / ref).write_bytes(__import__("pickle").dumps(Payload(marker)))
    with pytest.raises(pt.CheckpointError, match="pathlib.Path.write_text object, which poptune's safe loader refuses"):
        result.checkpoint()
    with pytest.raises(pt.CheckpointError):
        run(run_dir, steps=16, resume=True)  # the member that loads it stops the run
    assert not marker.exists()
    result.checkpoint(trust=True)  # the explicit opt-in: full pickle
    assert marker.read_text() == "code ran"


def test_references_out_of_the_run_directory_are_never_read_or_deleted(run_dir, tmp_path):
    run(run_dir)
    victim = tmp_path / "victim.pkl"
    victim.write_bytes(__import__("pickle").dumps(1.0))
    with Store(store_path(run_dir)) as store:
        store.append([ev.Checkpointed(member=0, step=12, ref=str(victim)),
                      ev.Checkpointed(member=1, step=12, ref="../../victim.pkl")])
    result = pt.Result.load(run_dir)
    for member in (0, 1):
        with pytest.raises(pt.RunLogError, match="outside its checkpoint folder"):
            result.checkpoint(member)
    with pytest.raises(pt.RunLogError, match="outside its checkpoint folder"):
        run(run_dir, steps=16, resume=True)
    assert victim.exists()


def test_writes_replace_links_instead_of_following_them(run_dir, tmp_path):
    run(run_dir)
    target = tmp_path / "bashrc"
    target.write_text("precious")
    (Path(run_dir) / "report.html").symlink_to(target)
    (Path(run_dir) / "reports.csv").symlink_to(target)
    for command in (["report", str(run_dir)], ["export", str(run_dir)]):
        done = subprocess.run([sys.executable, "-m", "poptune.cli", *command], capture_output=True, text=True,
                              cwd=ROOT)
        assert done.returncode == 0, done.stderr
    assert target.read_text() == "precious"
    assert not (Path(run_dir) / "report.html").is_symlink() and "<html" in (Path(run_dir) / "report.html").read_text()


def test_one_permission_policy_for_the_log_checkpoints_and_reports(run_dir):
    old = os.umask(0o027)
    try:
        run(run_dir)
        from poptune.report import write_report

        write_report(run_dir)
    finally:
        os.umask(old)
    files = [store_path(run_dir), Path(run_dir) / "report.html", *sorted((Path(run_dir) / "checkpoints").rglob("*.pkl"))]
    modes = {oct(f.stat().st_mode & 0o777) for f in files}
    from poptune.files import FILE_MODE

    assert modes == {oct(FILE_MODE)}


def test_names_that_look_like_math_or_html_are_shown_as_text(run_dir):
    pytest.importorskip("matplotlib")
    space = {"$\\frac{$": pt.Float(0.01, 1.0), "act": pt.Choice(["<script>alert(1)</script>", "relu"])}

    def train(member):
        x = member.checkpoint or 0.0
        for _ in member.steps():
            x += member.hparams["$\\frac{$"]
            member.report(x, checkpoint=x, **{"<img src=x onerror=alert(1)>": 1.0})

    pt.run(train, space, population=3, steps=6, interval=2, runner="inline", dir=run_dir, seed=0, progress=False)
    from poptune.plots import save_all
    from poptune.report import write_report

    assert len(save_all(pt.Result.load(run_dir), Path(run_dir) / "plots")) == 4
    page = write_report(run_dir).read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
