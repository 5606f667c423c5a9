import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import poptune as pt
from poptune.errors import ConfigError
from poptune.family.shared_replay import SharedReplay

ROOT = Path(__file__).resolve().parents[2]


def shard(value, rows=10):
    return {"obs": np.full((rows, 2), value, np.float32), "action": np.full(rows, value, np.int64)}


def test_every_member_samples_every_members_transitions(tmp_path):
    writers = [SharedReplay(tmp_path, capacity=1000) for _ in range(3)]  # one per process, in effect
    for member, replay in enumerate(writers):
        replay.write(member, 1, **shard(member))
    reader = writers[0]
    reader.refresh()
    assert reader.sources() == {0: 10, 1: 10, 2: 10} and len(reader) == 30
    batch = reader.sample(3000, np.random.default_rng(0))
    assert set(np.unique(batch["action"])) == {0, 1, 2}
    assert np.all(batch["obs"][:, 0] == batch["action"])  # rows stay whole: fields of one transition
    private = SharedReplay(tmp_path, capacity=1000, members=[1])
    private.refresh()
    assert private.sources() == {1: 10}
    assert set(np.unique(private.sample(100, np.random.default_rng(0))["action"])) == {1}


def test_a_reader_sees_others_new_shards_only_after_refresh(tmp_path):
    reader, writer = SharedReplay(tmp_path, capacity=100), SharedReplay(tmp_path, capacity=100)
    reader.write(0, 1, **shard(0))
    writer.write(1, 1, **shard(1))
    assert reader.sources() == {0: 10}  # listed when it wrote, before member 1's shard existed
    reader.refresh()
    assert reader.sources() == {0: 10, 1: 10}


def test_a_rerun_step_replaces_its_shard_in_every_reader(tmp_path):
    writer, reader = SharedReplay(tmp_path, capacity=100), SharedReplay(tmp_path, capacity=100)
    writer.write(0, 3, **shard(1))
    reader.refresh()
    assert set(reader.sample(50, np.random.default_rng(0))["action"]) == {1}
    writer.write(0, 3, **shard(2, rows=4))  # the same step again, after a resume
    assert sorted(p.name for p in (tmp_path / "member-0").iterdir()) == ["step-3.npz"]
    reader.refresh()
    assert len(reader) == 4 and set(reader.sample(50, np.random.default_rng(0))["action"]) == {2}


def test_capacity_keeps_the_newest_shards_and_writers_delete_only_their_own(tmp_path):
    a, b = SharedReplay(tmp_path, capacity=25), SharedReplay(tmp_path, capacity=25)
    a.write(0, 1, **shard(1))
    b.write(1, 1, **shard(1))
    a.write(0, 2, **shard(2))  # window: (2, member 0), (1, member 1); (1, member 0) is evicted
    assert a.sources() == {0: 10, 1: 10} and len(a) == 20
    assert not (tmp_path / "member-0" / "step-1.npz").exists()
    b.write(1, 2, **shard(2))  # window: (2, 0), (2, 1); member 1 deletes its own step 1
    a.write(0, 3, **shard(3))  # window: (3, 0), (2, 1)
    assert a.sources() == {0: 10, 1: 10}
    assert set(a.sample(200, np.random.default_rng(0))["action"]) == {2, 3}
    assert sorted(p.name for p in (tmp_path / "member-1").iterdir()) == ["step-2.npz"]  # member 0 left it
    big = SharedReplay(tmp_path, capacity=5)
    big.refresh()
    assert len(big) == 10  # the newest shard is kept whole even when it exceeds the capacity


def test_rewind_drops_the_shards_after_the_checkpoint_and_leftover_temporary_files(tmp_path):
    replay = SharedReplay(tmp_path, capacity=1000)
    for step in range(1, 6):
        replay.write(0, step, **shard(step))
    replay.write(1, 5, **shard(9))
    (tmp_path / "member-0" / ".tmp-abc.npz").write_bytes(b"half a shard")
    assert replay.rewind(0, 3) == 2
    assert sorted(p.name for p in (tmp_path / "member-0").iterdir()) == ["step-1.npz", "step-2.npz", "step-3.npz"]
    assert replay.sources() == {0: 30, 1: 10}  # other members' shards are not this member's to delete
    assert replay.rewind(7, 0) == 0


def test_bad_arguments_name_the_argument(tmp_path):
    with pytest.raises(ConfigError, match="capacity"):
        SharedReplay(tmp_path, capacity=0)
    replay = SharedReplay(tmp_path, capacity=10)
    with pytest.raises(ConfigError, match="no transitions"):
        replay.sample(4, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="same non-zero length"):
        replay.write(0, 1, obs=np.zeros((3, 2)), action=np.zeros(2))
    with pytest.raises(ConfigError, match="member"):
        replay.write(-1, 1, obs=np.zeros(3))
    with pytest.raises(ConfigError, match="Python objects"):
        replay.write(0, 1, obs=np.array([{}, None]))
    with pytest.raises(ConfigError, match="batch"):
        replay.sample(0, np.random.default_rng(0))


def test_a_write_interrupted_before_its_rename_leaves_the_previous_shard(tmp_path, monkeypatch):
    replay = SharedReplay(tmp_path, capacity=100)
    replay.write(0, 1, **shard(1))

    def killed(*args):
        raise KeyboardInterrupt  # the process dies between writing the data and publishing it

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        replay.write(0, 1, **shard(2))
    monkeypatch.undo()
    reader = SharedReplay(tmp_path, capacity=100)
    reader.refresh()
    assert set(reader.sample(50, np.random.default_rng(0))["action"]) == {1}


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from poptune.family.shared_replay import SharedReplay
    replay = SharedReplay(sys.argv[1], capacity=10**9)
    for step in range(1, 10**6):
        replay.write(0, step, obs=np.full((20_000, 4), step, np.float32))
        print(step, flush=True)
""")


def test_a_writer_killed_mid_write_leaves_only_whole_shards_to_readers(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)
    reader = SharedReplay(tmp_path, capacity=10**9)
    try:
        while int(proc.stdout.readline() or 0) < 5:
            pass
        end = time.monotonic() + 1.5
        while time.monotonic() < end:  # read while it writes
            reader.refresh()
            assert all(len(arrays["obs"]) == 20_000 for _, arrays in reader._loaded.values())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    reader.refresh()
    for step, _, path in reader._window:
        obs = reader._loaded[path][1]["obs"]
        assert obs.shape == (20_000, 4) and np.all(obs == step)
    assert SharedReplay(tmp_path, capacity=10**9).rewind(0, 10**6) == 0  # temporary files cleaned, shards kept


def shared_train(member, replay_dir, fail_at=None, marker=None):
    """A stand-in for an off-policy learner: every step writes 5 transitions, samples all members'."""
    replay = SharedReplay(replay_dir, capacity=10_000)
    replay.rewind(member.id, member.step)
    attempt = 1 if marker is None or not Path(marker).exists() else 2
    for step in member.steps():
        replay.write(member.id, step, member=np.full(5, member.id), step=np.full(5, step), attempt=np.full(5, attempt))
        if fail_at == step and member.id == 0 and attempt == 1:
            Path(marker).touch()
            raise RuntimeError("crash after the shard, before the report")
        replay.refresh()
        batch = replay.sample(64, np.random.default_rng(member.seed))
        member.report(float(batch["step"].mean()), checkpoint={"step": step},
                      replay_members=len(replay.sources()), replay=len(replay))


@pytest.mark.parametrize("runner", ["inline", "processes"])
def test_members_of_a_run_share_one_memory_and_a_retried_step_replaces_its_shard(tmp_path, runner):
    import functools

    steps, population = 6, 3
    train = functools.partial(shared_train, replay_dir=str(tmp_path / "replay"), fail_at=4,
                              marker=str(tmp_path / "crashed"))
    result = pt.run(train, {"x": pt.Float(0, 1)}, population=population, steps=steps, interval=2, runner=runner,
                    dir=tmp_path / "run", seed=0, progress=False, retries=1)
    assert (tmp_path / "crashed").exists()  # member 0 crashed at step 4 and was retried from step 2
    for member in range(population):
        names = sorted(p.name for p in (tmp_path / "replay" / f"member-{member}").iterdir())
        assert names == [f"step-{s}.npz" for s in range(1, steps + 1)]  # one shard per step, no duplicate
    reader = SharedReplay(tmp_path / "replay", capacity=10_000)
    reader.refresh()
    assert len(reader) == 5 * steps * population
    data = reader.sample(10_000, np.random.default_rng(0))
    redone = data["attempt"][(data["member"] == 0) & (data["step"] >= 3)]
    assert redone.size and np.all(redone == 2)  # the steps after the checkpoint are the retry's
    assert max(r.metrics["replay_members"] for r in result.reports) == population
    assert max(r.metrics["replay"] for r in result.reports if r.step == 1) > 5  # others' shards seen already


SCRIPT = textwrap.dedent("""
    import functools, sys, time
    import poptune as pt
    sys.path.insert(0, sys.argv[2])
    from tests.family.test_shared_replay import shared_train

    def slow(member, replay_dir):
        time.sleep(0.05)
        shared_train(member, replay_dir)

    pt.run(functools.partial(slow, replay_dir=sys.argv[1] + "/replay"), {"x": pt.Float(0, 1)}, population=3,
           steps=40, interval=4, runner=pt.runners.Processes(workers=2), dir=sys.argv[1] + "/run", seed=0,
           progress=False, resume="resume" in sys.argv[3:])
""")


def test_kill_9_then_resume_leaves_one_shard_per_member_and_step(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path), str(ROOT)], cwd=ROOT)
    deadline = time.monotonic() + 60
    while len(list((tmp_path / "replay").glob("member-*/step-*.npz"))) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # its workers notice the lost controller at their next report, and end
    proc.wait()
    assert len(list((tmp_path / "replay").glob("member-*/step-*.npz"))) < 120, "the run ended before the kill"
    subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), str(ROOT), "resume"], cwd=ROOT, check=True,
                   timeout=120)
    for member in range(3):
        names = sorted(p.name for p in (tmp_path / "replay" / f"member-{member}").iterdir())
        assert names == sorted(f"step-{s}.npz" for s in range(1, 41))
    reader = SharedReplay(tmp_path / "replay", capacity=10**6)
    reader.refresh()
    assert reader.sources() == {0: 200, 1: 200, 2: 200}
    data = reader.sample(20_000, np.random.default_rng(0))
    for member in range(3):
        steps = data["step"][data["member"] == member]
        assert set(steps) == set(range(1, 41))
