import json

from poptune.cli import main

from tests.test_run import run


def test_status_and_best(run_dir, capsys):
    result = run(run_dir, population=3, steps=6, interval=2)
    assert main(["status", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "finished" in out and "member" in out and "lr=" in out
    assert main(["best", str(run_dir)]) == 0
    best = json.loads(capsys.readouterr().out)
    assert best["member"] == result.best.id and best["schedule"][0]["step"] == 0
    assert best["lineage"][-1]["member"] == result.best.id


def test_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert main(["status", str(tmp_path / "nothing")]) == 2
    assert "poptune: error: no poptune run log" in capsys.readouterr().err
