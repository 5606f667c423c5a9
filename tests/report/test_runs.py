import pytest

import poptune as pt
from poptune.report.runs import find_runs, group_of, group_runs, load_runs


@pytest.mark.parametrize("name, group", [
    ("pbt-seed3", "pbt"), ("random_seed12", "random"), ("pbt_3", "pbt"), ("pbt-s2", "pbt"), ("run-rep4", "run"),
    ("lr0.1/seed2", "lr0.1"), ("lr0.1", "lr0.1"), ("resnet50-seed1", "resnet50"), ("exp3", "exp3"),
    ("compare/pbt-seed1", "compare/pbt"), ("demo", "demo"),
])
def test_group_of_strips_only_a_seed_or_repetition_suffix(name, group):
    assert group_of(name) == group


def test_a_run_without_a_seed_suffix_joins_the_one_group_with_its_settings():
    assert group_runs(["demo", "pbt-seed1", "random-seed0", "random-seed1"], ["A", "A", "B", "B"]) == \
        ["pbt", "pbt", "random", "random"]
    # settings that fit no group, or two groups: it stays alone
    assert group_runs(["demo", "pbt-seed1"], ["A", "B"])[0] == "demo"
    assert group_runs(["demo", "pbt-seed1", "other-seed1"], ["A", "A", "A"])[0] == "demo"


def test_the_demos_compare_folder_brings_the_demos_own_run(demo_runs):
    found = find_runs([demo_runs / "compare"])
    assert [name for _, name in found] == ["demo", "pbt-seed1", "random-seed0", "random-seed1"]
    assert found[0][0] == demo_runs
    runs = load_runs([demo_runs / "compare"])
    assert [r.group for r in runs] == ["pbt", "pbt", "random", "random"]
    assert all(isinstance(r.result, pt.Result) for r in runs)


def test_runs_given_one_by_one_are_named_relative_to_their_common_folder(demo_runs):
    compare = demo_runs / "compare"
    names = [n for _, n in find_runs([compare / "pbt-seed1", compare / "random-seed1"])]
    assert names == ["pbt-seed1", "random-seed1"]
    # the same run twice (as itself and inside a folder) counts once
    assert len(find_runs([compare / "pbt-seed1", compare])) == 4


def test_a_folder_without_runs_is_an_error_that_says_what_to_pass(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(pt.PoptuneError, match="holds no poptune run"):
        find_runs([tmp_path / "empty"])
    with pytest.raises(pt.PoptuneError, match="is not a directory"):
        find_runs([tmp_path / "missing"])
