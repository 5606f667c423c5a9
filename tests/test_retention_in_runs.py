"""The retention policy inside real runs: nothing loadable is ever deleted."""

from pathlib import Path

import pytest

from poptune.core import events as ev

from tests.test_run import log, run


def files(run_dir):
    return {str(p.relative_to(Path(run_dir) / "checkpoints")) for p in (Path(run_dir) / "checkpoints").rglob("*.pkl")}


@pytest.mark.parametrize("runner", ["inline", "processes"])
def test_keep_last_deletes_only_unreachable_files(run_dir, runner):
    result = run(run_dir, population=6, steps=24, interval=2, runner=runner)
    deleted = {e.data["ref"] for e in log(run_dir, ev.CHECKPOINT_DELETED)}
    written = {e.data["ref"] for e in log(run_dir, ev.CHECKPOINT)}
    assert deleted and deleted <= written
    assert files(run_dir) == written - deleted
    for member in result.members:  # every member's final model is still loadable
        assert result.checkpoint(member.id) == pytest.approx(member.score)


def test_keep_all_keeps_every_file(run_dir):
    run(run_dir, population=4, steps=12, interval=2, keep_checkpoints="all")
    assert not log(run_dir, ev.CHECKPOINT_DELETED)
    assert files(run_dir) == {e.data["ref"] for e in log(run_dir, ev.CHECKPOINT)}
