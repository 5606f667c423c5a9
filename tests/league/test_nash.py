import numpy as np
import pytest

from poptune.errors import ConfigError
from poptune.league import exploitability, maxmin, meta_game, nash
from poptune.league.games import rps


def test_rock_paper_scissors_nash_is_uniform():
    x = nash(rps.WIN_RATE)
    np.testing.assert_allclose(x, 1 / 3, atol=1e-9)
    assert exploitability(rps.WIN_RATE, x) < 1e-9
    np.testing.assert_allclose(nash(rps.GAME), x, atol=1e-9)  # an antisymmetric matrix gives the same game


def test_a_dominated_strategy_gets_no_weight():
    # a fourth strategy: a worse rock (loses to rock, paper beats it, beats scissors less often)
    P = np.full((4, 4), 0.5)
    P[:3, :3] = rps.WIN_RATE
    P[3, :3] = [0.3, 0.0, 0.8]
    P[:3, 3] = 1 - P[3, :3]
    x = nash(P)
    assert x[3] < 1e-9
    np.testing.assert_allclose(x[:3], 1 / 3, atol=1e-7)


def test_duplicates_share_the_weight():
    P = rps.WIN_RATE[np.ix_([0, 0, 1, 2], [0, 0, 1, 2])]
    np.testing.assert_allclose(nash(P), [1 / 6, 1 / 6, 1 / 3, 1 / 3], atol=1e-7)


@pytest.mark.parametrize("seed", range(5))
def test_random_antisymmetric_games_have_value_zero_and_no_pure_strategy_beats_the_mixture(seed):
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(12, 12))
    A = B - B.T
    x, value = maxmin(A)
    assert abs(value) < 1e-9
    mixture = nash(A)
    assert mixture.min() >= 0 and mixture.sum() == pytest.approx(1.0)
    assert (A @ mixture).max() <= 1e-9  # no pure strategy beats it
    # and a random mixture is beaten: the check above can fail
    assert exploitability(A, rng.dirichlet(np.ones(12))) > 1e-3


def test_maxmin_of_a_rectangular_game():
    x, value = maxmin([[1.0, -1.0, 0.5], [-1.0, 1.0, 0.5]])
    np.testing.assert_allclose(x, [0.5, 0.5], atol=1e-9)
    assert value == pytest.approx(0.0)


def test_nan_and_bad_shapes_are_refused_with_the_fix():
    P = rps.WIN_RATE.copy()
    P[0, 2] = np.nan
    with pytest.raises(ConfigError, match=r"unseen=0.5"):
        nash(P)
    with pytest.raises(ConfigError, match="square"):
        meta_game(np.ones((2, 3)))
    with pytest.raises(ConfigError, match="mixture"):
        exploitability(rps.WIN_RATE, [0.5, 0.5])
    assert nash([[0.5]]).tolist() == [1.0]
