import io

from rich.console import Console

import poptune as pt

from tests import helpers
from tests.test_run import run


def test_plain_log_lines_when_not_a_terminal(run_dir):
    buffer = io.StringIO()
    progress = pt.Progress(console=Console(file=buffer, force_terminal=False, width=200))
    run(run_dir, population=4, steps=10, interval=2, callbacks=[progress])
    out = buffer.getvalue()
    assert "4 members x 10 steps" in out
    assert "copies member" in out  # one line per exploit
    assert "40/40 steps (100%)" in out
    assert "run finished" in out


def test_terminal_table_shows_every_member(run_dir):
    buffer = io.StringIO()
    progress = pt.Progress(console=Console(file=buffer, force_terminal=True, width=200))
    run(run_dir, population=3, steps=6, interval=2, callbacks=[progress])
    out = buffer.getvalue()
    for column in ("member", "step", "score", "best", "gen", "exploits", "hyperparameters"):
        assert column in out
    assert "6/6 done" in out and "lr=" in out


def test_failures_are_shown(run_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("POPTUNE_TEST_MARKER", str(tmp_path / "marker"))
    buffer = io.StringIO()
    progress = pt.Progress(console=Console(file=buffer, force_terminal=False, width=200))
    run(run_dir, helpers.flaky, population=3, steps=8, interval=4, callbacks=[progress])
    assert "member 1 failed at step 5 (attempt 1): RuntimeError: transient failure" in buffer.getvalue()
