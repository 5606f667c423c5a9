import os

import pytest

from poptune import files
from poptune.files import FILE_MODE, write_atomic


def test_a_temporary_name_left_by_a_killed_writer_is_skipped(tmp_path, monkeypatch):
    counter = iter(range(7, 100))
    monkeypatch.setattr(files, "_COUNTER", counter)
    stale = tmp_path / f".tmp-{os.getpid()}-{files._TOKEN}-7.pkl"
    stale.write_bytes(b"half of an old write")
    write_atomic(tmp_path / "s1.pkl", b"new")
    assert (tmp_path / "s1.pkl").read_bytes() == b"new"
    assert stale.read_bytes() == b"half of an old write"  # not written through, not taken over
    assert next(counter) == 9  # it moved on to the next name


def test_a_failed_replace_leaves_neither_the_temporary_file_nor_a_new_target(tmp_path, monkeypatch):
    def fail(src, dst):
        raise OSError("no")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="no"):
        write_atomic(tmp_path / "s1.pkl", b"data")
    assert os.listdir(tmp_path) == []


def test_a_link_at_the_target_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "report.html").symlink_to(outside)
    write_atomic(tmp_path / "run" / "report.html", "<html></html>")
    assert outside.read_text() == "keep"
    assert not (tmp_path / "run" / "report.html").is_symlink()
    assert (tmp_path / "run" / "report.html").stat().st_mode & 0o777 == FILE_MODE
