import pytest

from poptune.plots.colors import LINEAGE, ScoreScale, member_colors


def test_score_scale_spreads_the_top_of_the_range_that_a_linear_scale_squashes():
    scores = [0.15, 0.3] + [round(0.90 + 0.005 * i, 3) for i in range(11)]  # most reports near the top
    scale = ScoreScale(scores, "maximize")
    linear = lambda s: (s - 0.15) / (0.95 - 0.15)  # noqa: E731
    assert linear(0.95) - linear(0.90) < 0.07
    assert scale.position(0.95) - scale.position(0.90) > 0.7  # distinct colours for the good scores
    assert scale.position(0.15) == 0.0 and scale.position(0.95) == 1.0
    assert scale.position(float("nan")) is None
    assert [round(s, 3) for _, s in scale.ticks((0.0, 1.0))] == [0.15, 0.95]


def test_score_scale_for_minimize_puts_the_lowest_score_on_top():
    scale = ScoreScale([3.0, 1.0, 2.0], "minimize")
    assert scale.position(1.0) == 1.0 and scale.position(3.0) == 0.0
    assert scale.score_at(1.0) == 1.0
    with pytest.raises(ValueError, match="direction"):
        ScoreScale([1.0], "up")


def test_ties_share_a_rank():
    scale = ScoreScale([1.0, 2.0, 2.0, 3.0])
    assert scale.position(2.0) == pytest.approx(0.5)


@pytest.mark.parametrize("n", [4, 16, 40])
def test_member_colors_are_distinct_stable_and_never_red(n):
    colors = member_colors(range(n))
    assert len(set(colors.values())) == n
    assert member_colors(reversed(range(n))) == colors
    for color in colors.values():
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
        assert not (r > 150 and g < 90 and b < 110), color  # nothing like the lineage's crimson
    assert LINEAGE not in colors.values()
