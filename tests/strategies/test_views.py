import math

import numpy as np
import pytest

from poptune.strategies import MemberView, PopulationView, Segment


def views(*fitness):
    return [MemberView(i, {"x": i}, f, f, 4, (f,)) for i, f in enumerate(fitness)]


def test_a_list_is_ranked_worst_first_with_random_ties():
    orders = {tuple(m.id for m in PopulationView(views(0.5, 0.5, 0.1, 0.9), rng=np.random.default_rng(s)))
              for s in range(20)}
    assert orders == {(2, 0, 1, 3), (2, 1, 0, 3)}


def test_rank_queries():
    pop = PopulationView(views(0.5, -math.inf, 0.1, 0.9, 0.7), rng=np.random.default_rng(0))
    assert [m.id for m in pop] == [1, 2, 0, 4, 3]
    assert pop.rank(3) == 4 and pop.rank(pop[0]) == 0 and pop.member(4).id == 4
    assert [m.id for m in pop.top(2)] == [4, 3] and [m.id for m in pop.bottom(2)] == [1, 2]
    assert pop.first_rank_above(-math.inf) == 1 and pop.first_rank_above(0.7) == 4
    assert pop.first_rank_above(2.0) == 5
    assert 3 in pop and 9 not in pop and pop[-1].id == 3 and [m.id for m in pop[1:3]] == [2, 0]
    with pytest.raises(KeyError, match="member 9 is not in this population view"):
        pop.rank(9)
    with pytest.raises(IndexError):
        pop[5]


def test_without_a_run_the_history_is_empty():
    pop = PopulationView(views(0.1, 0.2))
    assert pop.history(0) == () and pop.training() == () and pop.all_ids() == (0, 1)
    assert pop.current(1).id == 1


def test_a_segment_knows_its_steps():
    segment = Segment(member=0, start=4, hparams={}, scores=(0.1, 0.2, 0.3))
    assert segment.end == 7 and segment.steps == (5, 6, 7) and math.isnan(segment.origin_score)
