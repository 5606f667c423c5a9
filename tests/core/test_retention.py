import pytest

import poptune as pt
from poptune.core.retention import Retention


def test_a_file_is_released_when_nobody_points_at_it():
    r = Retention("last")
    assert r.point(0, "a") == []
    assert r.point(1, "b") == []
    assert r.point(1, "a") == ["b"]  # member 1 copied member 0's state
    assert r.point(0, "c") == []  # member 1 still holds "a"
    assert r.point(1, "d") == ["a"]


def test_pinned_and_keep_all_are_never_released():
    r = Retention("last")
    r.point(0, "final")
    r.pin("final")
    assert r.point(0, "next") == []
    keep_all = Retention("all")
    keep_all.point(0, "a")
    assert keep_all.point(0, "b") == []


def test_bad_policy():
    with pytest.raises(pt.ConfigError, match="keep_checkpoints must be one of"):
        Retention("some")


def test_a_held_file_outlives_its_members_until_released():
    r = Retention("last")
    r.point(0, "a")
    r.hold("a")  # an open round may still copy it
    assert r.point(0, "b") == []
    assert r.release("a") == ["a"]


def test_rows_of_a_stacked_file_count_as_the_file():
    r = Retention("last")
    r.point(0, "f#0")
    r.point(1, "f#1")
    assert r.point(0, "g#0") == []
    assert r.point(1, "g#1") == ["f"]


def test_switching_from_keep_all_to_last_releases_what_was_kept():
    r = Retention("all")
    r.point(0, "a")
    assert r.point(0, "b") == []
    assert r.set_keep("last") == ["a"]
    assert r.point(0, "c") == ["b"]
