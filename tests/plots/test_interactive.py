import json

import pytest

import poptune as pt
from poptune.demo import toy
from poptune.plots import lineage_graph, score_curves
from poptune.plots.interactive import figures, label
from poptune.plots.scores import lineage_scores


@pytest.fixture(scope="module")
def toy_result(tmp_path_factory):
    return pt.run(toy.train, {**toy.SPACE, "kind": pt.Choice(["a", "b"])}, population=6, steps=24, interval=3,
                  initial=toy.INITIAL, exploit=pt.Truncation(0.25), runner="inline",
                  dir=tmp_path_factory.mktemp("toy"), seed=3, progress=False)


def test_lineage_scores_follow_the_best_models_lineage_not_the_best_members_own_history(toy_result):
    points = lineage_scores(toy_result)
    lineage = toy_result.lineage()
    assert len({m for m, _, _ in points}) > 1  # the model passed through several members
    assert points[-1][:2] == (toy_result.best.id, toy_result.best.step)
    assert [p[1] for p in points if p[0] == lineage[0].member][0] == 1  # starts at the first member's step 1
    score_at = {(r.member, r.step): r.score for r in toy_result.reports}
    assert all(score_at[(m, s)] == score for m, s, score in points)
    own = [(r.member, r.step) for r in toy_result.reports if r.member == toy_result.best.id]
    assert [(m, s) for m, s, _ in points] != own
    assert score_curves(toy_result)["lineage"] == points


def test_lineage_graph_colours_are_score_ranks(toy_result):
    data = lineage_graph(toy_result)
    colors = [c for m in data["members"].values() for c in m["colors"]]
    assert min(colors) == 0.0 and max(colors) == 1.0
    best = max(toy_result.reports, key=lambda r: r.score)
    i = data["members"][best.member]["steps"].index(best.step)
    assert data["members"][best.member]["colors"][i] == 1.0
    assert data["ticks"][-1][1] == pytest.approx(best.score)


def test_figures_have_a_legend_entry_per_member_and_the_lineage_in_red(toy_result):
    figs = figures(toy_result)
    assert set(figs) == {"scores", "schedule", "lineage", "drift"}
    names = [t["name"] for t in figs["scores"]["data"]]
    assert [n for n in names if n.startswith("member ")] == \
        [f"member {m.id}" + (" (best)" if m.id == toy_result.best.id else "") for m in toy_result.members]
    lineage = [t for t in figs["scores"]["data"] if t["name"].startswith("best lineage")]
    assert len(lineage) == 1 and lineage[0]["line"]["color"] == "#dc143c"
    assert lineage[0]["x"] == [s for _, s, _ in lineage_scores(toy_result)]
    hover = figs["scores"]["data"][0]["customdata"][0][1]
    assert "h0=" in hover and "kind=" in hover  # the hyperparameters each point was trained with
    assert figs["drift"]["layout"]["yaxis3"]["categoryarray"] == ["a", "b"]
    json.dumps(figs, allow_nan=True)  # plain data, ready for the page


def test_label_shows_names_literally():
    assert label("</script><b>x</b>") == "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"
    assert label("$x$") == "&#36;x&#36;"
