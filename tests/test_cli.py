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


def test_status_piped_to_a_file_shows_whole_values(run_dir, tmp_path):
    import subprocess
    import sys

    space = {"a_rather_long_hyperparameter_name": __import__("poptune").Float(0.01, 1.0), "lr": __import__("poptune").Float(0.01, 1.0)}
    run(run_dir, space=space, population=3, steps=4, interval=2)
    out = subprocess.run([sys.executable, "-m", "poptune.cli", "status", str(run_dir)], capture_output=True, text=True)
    assert out.returncode == 0 and "…" not in out.stdout
    assert out.stdout.count("a_rather_long_hyperparameter_name=") == 3


def test_export_has_generation_and_parent_columns(run_dir, capsys):
    import pandas as pd

    result = run(run_dir, population=4, steps=8, interval=2)
    assert main(["export", str(run_dir)]) == 0
    frame = pd.read_csv(run_dir / "reports.csv")
    x = result.exploits[0]
    after = frame[(frame.member == x.target) & (frame.step == x.step + 1)].iloc[0]
    assert after.generation == x.generation and after.parent == x.source
    assert frame[frame.step == 1].generation.eq(0).all() and frame[frame.step == 1].parent.isna().all()
