import os
import pickle

import pytest

import poptune as pt
from poptune.checkpoints import LocalCheckpoints, dumps, loads, resolve


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    ckpts = LocalCheckpoints(tmp_path)
    ref = ckpts.ref(1, 4)
    ckpts.save(ref, b"first")
    ckpts.save(ref, b"second")
    assert ckpts.load(ref) == b"second"
    assert os.listdir(tmp_path / "m0001") == ["s00000004.pkl"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    ckpts = LocalCheckpoints(tmp_path)
    ref = ckpts.ref(0, 4)
    ckpts.save(ref, b"good")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        ckpts.save(ref, b"bad")
    monkeypatch.undo()
    assert ckpts.load(ref) == b"good"
    assert os.listdir(tmp_path / "m0000") == ["s00000004.pkl"]


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(pt.CheckpointLostError, match="is missing"):
        LocalCheckpoints(tmp_path).load("m0000/s00000001.pkl")


@pytest.mark.parametrize("ref", ["../outside.pkl", "/etc/passwd", "m0000/../../x.pkl", "C:/x.pkl", ""])
def test_a_reference_outside_the_checkpoint_folder_is_refused(tmp_path, ref):
    store = LocalCheckpoints(tmp_path / "checkpoints")
    (tmp_path / "outside.pkl").write_bytes(b"secret")
    with pytest.raises(pt.RunLogError, match="outside its checkpoint folder"):
        store.load(ref)
    with pytest.raises(pt.RunLogError):
        store.delete(ref)
    assert (tmp_path / "outside.pkl").exists()


def test_serialization_errors_name_the_member():
    assert loads(dumps({"w": [1, 2]}, "m"), "m") == {"w": [1, 2]}
    with pytest.raises(pt.CheckpointError, match="member 3 at step 8: the checkpoint cannot be pickled"):
        dumps(lambda: 0, "member 3 at step 8")
    with pytest.raises(pt.CheckpointLostError, match="cannot be read back"):
        loads(b"not a pickle", "member 3")
    assert resolve(lambda: 5) == 5 and resolve(5) == 5
    assert pickle.loads(dumps(5, "m")) == 5
