
import pytest

from tests.helpers import load_example

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")


def test_small_kickstarting_run_learns_faster_with_the_teacher_and_records_the_weights(tmp_path):
    ks = load_example("kickstarting")
    size = ks.SMALL
    teacher = ks.make_teacher(tmp_path / "teacher.pt")
    teacher_test = ks.accuracy(teacher.module, ks.X_TEST, ks.Y_TEST)
    assert 0.8 < teacher_test < 0.93  # a weak teacher, as the setting needs
    runs = ks.compare(0, size["population"], size["steps"], size["interval"], tmp_path, teacher)
    assert set(runs) == set(ks.methods(size["steps"]))
    # the weight each step trained with is what the method says
    assert {c["w"] for c in runs["w = 0 (no teacher)"]["curve"]} == {0.0}
    assert {c["w"] for c in runs["w = 3"]["curve"]} == {3.0}
    decay = [c["w"] for c in runs["w decay 1 -> 0"]["curve"]]
    assert decay[0] == 1.0 and decay == sorted(decay, reverse=True) and decay[-1] < 1.0
    # the teacher speeds up early learning: after one step a large weight is well ahead of none
    assert runs["w = 3"]["anytime"][1] > runs["w = 0 (no teacher)"]["anytime"][1] + 0.03
    assert all(0.7 < r["test"] <= 1.0 for r in runs.values())


def test_the_reported_pbt_weights_follow_the_runs_schedule(tmp_path):
    ks = load_example("kickstarting")
    teacher = ks.make_teacher(tmp_path / "teacher.pt")
    result = ks.run_method(teacher, None, 1, 4, 4, 2, tmp_path / "pbt")
    curve = ks.lineage_curve(result)
    assert [c["step"] for c in curve] == [1, 2, 3, 4]
    changes = dict(result.schedule())
    assert len(changes) > 1  # PBT changed the weight along this lineage
    for c in curve:
        hparams = changes[max(s for s in changes if s < c["step"])]
        w = hparams["kick_weight"]
        assert c["w"] == (w if w >= ks.FLOOR else 0.0)
