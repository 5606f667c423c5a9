import numpy as np
import pytest

from poptune.errors import ConfigError
from poptune.league.games import rps


def test_rock_paper_scissors():
    assert rps.payoff(rps.PAPER, rps.ROCK) == 1.0 and rps.payoff(rps.ROCK, rps.PAPER) == -1.0
    assert rps.best_response(rps.SCISSORS).tolist() == rps.ROCK.tolist()
    assert rps.exploitability(rps.UNIFORM) == pytest.approx(0.0) and rps.exploitability([0.5, 0.5, 0]) == 0.5
    np.testing.assert_allclose(rps.WIN_RATE + rps.WIN_RATE.T, 1.0)
    rng = np.random.default_rng(0)
    wins = np.mean([rps.play([0.6, 0.4, 0.0], rps.SCISSORS, rng) for _ in range(4000)])
    assert wins == pytest.approx(0.6 * 1 + 0.4 * 0, abs=0.03)
    with pytest.raises(ConfigError, match="3 probabilities"):
        rps.payoff([1, 0], rps.ROCK)
