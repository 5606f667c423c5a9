"""The processes runner's worker pool: what the parent imports before forking, and the
garbage collector's state around a fork."""

import gc
import multiprocessing as mp
import sys

import pytest

import poptune as pt
from tests.helpers import SPACE, counter

fork_only = pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs the fork start method")


@fork_only
def test_preloaded_modules_are_imported_in_the_parent_before_the_workers_fork(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    seen = tmp_path / "seen"

    def train(member):
        seen.write_text(str("colorsys" in sys.modules))  # inherited from the parent, never imported here
        counter(member)

    pt.run(train, SPACE, population=2, steps=2, exploit=None, runner=pt.runners.Processes(workers=1, preload=["colorsys"]),
           dir=tmp_path / "run", progress=False)
    assert "colorsys" in sys.modules
    assert seen.read_text() == "True"


@fork_only
def test_forking_leaves_the_parents_garbage_collector_as_it_was(tmp_path):
    assert gc.get_freeze_count() == 0
    pt.run(counter, SPACE, population=2, steps=2, exploit=None, runner=pt.runners.Processes(workers=2),
           dir=tmp_path / "run", progress=False)
    assert gc.get_freeze_count() == 0 and gc.isenabled()


@fork_only
def test_preload_misuse_is_a_clear_error(tmp_path):
    with pytest.raises(pt.ConfigError, match=r"preload must be a list of module names"):
        pt.runners.Processes(preload="torch")
    with pytest.raises(pt.ConfigError, match=r"preload=...\): cannot import 'no_such_module_here'"):
        pt.run(counter, SPACE, population=2, steps=2, exploit=None,
               runner=pt.runners.Processes(workers=1, start_method="fork", preload=["no_such_module_here"]),
               dir=tmp_path / "run", progress=False)
