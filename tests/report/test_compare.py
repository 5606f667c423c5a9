import re

import pytest

from poptune.cli import main
from poptune.report import write_comparison


def _row(html, first_cell):
    match = re.search(rf"<tr><td class='text'>{re.escape(first_cell)}</td>(.*?)</tr>", html)
    assert match, first_cell
    return re.findall(r"<td[^>]*>(.*?)</td>", match.group(1))


def test_cli_report_of_the_demos_compare_folder_writes_a_comparison(demo_runs, capsys):
    assert main(["report", str(demo_runs / "compare")]) == 0
    out = demo_runs / "compare" / "compare.html"
    assert capsys.readouterr().out.strip() == str(out)
    html = out.read_text()
    assert "comparison of 4 runs in 2 groups" in html
    assert "Equal budgets: every run was given 4 members x 8 steps" in html
    assert "Every run trained all of its steps" in html
    pbt, random = _row(html, "pbt"), _row(html, "random")
    assert pbt[0] == "2" and pbt[1] == "PBT" and "(n=2)" in pbt[2]
    assert random[0] == "2" and random[1] == "random search"
    assert "Group pbt minus group random" in html and "standard error" in html
    for run in ("demo", "pbt-seed1", "random-seed0", "random-seed1"):
        assert f"<td class='text'>{run}</td>" in html
    for name in ("final", "curves", "distribution"):
        assert f"id='plot-{name}'" in html


def test_group_mean_and_std_are_those_of_the_runs_final_best_scores(demo_runs, tmp_path):
    import statistics

    import poptune as pt

    html = write_comparison([demo_runs / "compare"], tmp_path / "c.html").read_text()
    scores = [pt.Result.load(d).best.score for d in (demo_runs, demo_runs / "compare" / "pbt-seed1")]
    shown = _row(html, "pbt")[2]
    assert shown.startswith(f"{statistics.fmean(scores):.4g} ± {statistics.stdev(scores):.2g}")


def test_report_of_several_run_dirs_compares_them(demo_runs, tmp_path):
    compare = demo_runs / "compare"
    assert main(["report", str(compare / "pbt-seed1"), str(compare / "random-seed1"),
                 "--out", str(tmp_path / "two.html")]) == 0
    html = (tmp_path / "two.html").read_text()
    assert "comparison of 2 runs in 2 groups" in html and "a group of one run says nothing" in html


def test_runs_of_different_directions_are_not_compared(demo_runs, tmp_path):
    import poptune as pt

    def train(member):
        for _ in member.steps():
            member.report(member.hparams["x"], checkpoint=0)

    pt.run(train, {"x": pt.Float(0, 1)}, population=2, steps=2, direction="minimize", exploit=None, runner="inline",
           dir=tmp_path / "min", progress=False)
    with pytest.raises(pt.PoptuneError, match="do not share a direction"):
        write_comparison([demo_runs, tmp_path / "min"], tmp_path / "c.html")
