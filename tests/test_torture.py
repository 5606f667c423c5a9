"""The small version of benchmarks/torture.py: SIGKILL of a run's whole process group, while
its directory is being created and in the middle of the run; every resume finishes, and
nothing is lost, duplicated, corrupt or left running."""

import sys

import pytest

from benchmarks import torture

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@pytest.mark.parametrize("runner", ["inline", "processes"])
@pytest.mark.parametrize("at_creation, delay", [(True, 0.0), (False, 0.5)], ids=["creating", "running"])
def test_a_killed_run_resumes_with_nothing_lost(tmp_path, runner, at_creation, delay):
    outcome = torture.one_kill(tmp_path / "run", runner, delay, at_creation=at_creation, settle=2.0)
    assert outcome["resume_ok"], outcome["error"]
    assert not outcome["finished_before_kill"]
    assert (outcome["lost"], outcome["duplicated"], outcome["missing"], outcome["corrupt"], outcome["orphans"]) == \
           (0, 0, 0, 0, 0), outcome
