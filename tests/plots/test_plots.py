import math

import pytest

import poptune as pt
from poptune.demo import toy
from poptune.plots import hparam_drift, lineage_graph, save_all, schedule_series, score_curves

from tests.test_run import run


@pytest.fixture(scope="module")
def toy_result(tmp_path_factory):
    return pt.run(toy.train, {**toy.SPACE, "kind": pt.Choice(["a", "b"]), "scale": pt.Float(0.1, 10, log=True)},
                  population=4, steps=40, interval=4, initial=toy.INITIAL,
                  exploit=pt.Truncation(0.25), runner="inline", dir=tmp_path_factory.mktemp("toy"), seed=1,
                  progress=False)


def test_score_curves_hold_every_report_and_exploit_jump(toy_result):
    data = score_curves(toy_result)
    assert sum(len(c["steps"]) for c in data["members"].values()) == len(toy_result.reports)
    assert len(data["exploits"]) == len(toy_result.exploits) > 0
    jump = data["exploits"][0]
    x = toy_result.exploits[0]
    assert jump["from"][0] == x.source_step and jump["to"][0] == x.step + 1
    assert data["best"] == toy_result.best.id


def test_schedule_series_is_a_step_function_ending_at_the_trained_steps(toy_result):
    data = schedule_series(toy_result)
    assert data["end"] == toy_result.lineage()[-1].end
    for series in data["hparams"].values():
        assert len(series["steps"]) == len(series["values"]) == len(toy_result.schedule()) + 1
        assert series["steps"][-1] == data["end"]
    assert data["hparams"]["scale"]["log"] is True
    assert data["hparams"]["kind"]["options"] == ["a", "b"]


def test_lineage_graph_path_walks_members_in_order(toy_result):
    data = lineage_graph(toy_result)
    assert len(data["edges"]) == len(toy_result.exploits)
    assert data["path"][-1][0] == toy_result.best.id
    assert data["path"][-1][2] == toy_result.best.step
    for (a, _, a_end), (b, b_start, _) in zip(data["path"], data["path"][1:]):
        assert a != b or a_end == b_start  # a change of member, or an explore within one


def test_hparam_drift_changes_at_exploits(toy_result):
    data = hparam_drift(toy_result)
    x = toy_result.exploits[0]
    steps = data["h0"]["members"][x.target]["steps"]
    assert x.step in steps and steps[0] == 0
    index = steps.index(x.step)
    assert data["h0"]["members"][x.target]["values"][index] == pytest.approx(x.new["h0"])


def test_every_figure_renders_to_png(toy_result, tmp_path):
    pytest.importorskip("matplotlib")
    paths = save_all(toy_result, tmp_path)
    assert set(paths) == {"scores", "schedule", "lineage", "drift"}
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_nan_scores_do_not_break_plots(run_dir, tmp_path):
    pytest.importorskip("matplotlib")
    from tests import helpers

    result = run(run_dir, helpers.nan_member, population=3, steps=6, interval=2)
    assert any(math.isnan(r.score) for r in result.reports)
    save_all(result, tmp_path)
