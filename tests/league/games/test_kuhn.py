import itertools

import numpy as np
import pytest

from poptune.errors import ConfigError
from poptune.league.games import kuhn

PURE = np.array(list(itertools.product([0.0, 1.0], repeat=12)))  # (4096, 12): every pure policy


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1 / 6, 1 / 3])
def test_the_equilibrium_family_has_value_minus_one_eighteenth_and_no_exploitability(alpha):
    eq = kuhn.equilibrium(alpha)
    assert kuhn.expected_value(eq, eq) == pytest.approx(kuhn.GAME_VALUE, abs=1e-12)
    assert kuhn.exploitability(eq) == pytest.approx(0.0, abs=1e-12)
    assert kuhn.payoff(PURE, eq).max() == pytest.approx(0.0, abs=1e-12)  # brute force agrees


def test_uniform_policy_exploitability_three_ways():
    u = kuhn.uniform()
    assert kuhn.exploitability(u) == pytest.approx(11 / 24, abs=1e-12)  # OpenSpiel's NashConv 0.91667 over 2
    assert kuhn.payoff(PURE, u).max() == pytest.approx(11 / 24, abs=1e-12)
    v1, v2 = kuhn.best_response_values(u)
    assert kuhn.expected_value(PURE, u).max() == pytest.approx(v1) and -kuhn.expected_value(u, PURE).min() == \
        pytest.approx(v2)


@pytest.mark.parametrize("seed", range(4))
def test_best_response_matches_brute_force_on_random_policies(seed):
    x = np.random.default_rng(seed).random(12)
    assert kuhn.payoff(kuhn.best_response(x), x) == pytest.approx(kuhn.payoff(PURE, x).max(), abs=1e-12)
    assert kuhn.exploitability(x) > 0.05
    assert kuhn.payoff(x, x) == pytest.approx(0.0) and kuhn.payoff(x, PURE[5]) == pytest.approx(-kuhn.payoff(PURE[5], x))


def test_average_plays_like_the_mixture():
    rng = np.random.default_rng(3)
    policies, w = rng.random((4, 12)), rng.dirichlet(np.ones(4))
    avg = kuhn.average(policies, w)
    mixture_vs_pure = w @ kuhn.payoff(policies[:, None], PURE[None])  # (4096,): linear in the mixture
    np.testing.assert_allclose(kuhn.payoff(avg, PURE), mixture_vs_pure, atol=1e-12)
    assert kuhn.exploitability(avg) == pytest.approx(-mixture_vs_pure.min(), abs=1e-12)
    assert not np.allclose(avg, w @ policies)  # naive averaging would be wrong: the test can fail


def test_sampled_hands_average_to_the_expected_value():
    rng = np.random.default_rng(0)
    x, y = kuhn.uniform(), kuhn.equilibrium(0.2)
    hands = np.array([kuhn.play(x, y, rng) for _ in range(20_000)])
    assert abs(hands.mean() - kuhn.expected_value(x, y)) < 4 * hands.std() / np.sqrt(len(hands))


def test_bad_policies():
    with pytest.raises(ConfigError, match="12 probabilities"):
        kuhn.exploitability(np.full(11, 0.5))
    with pytest.raises(ConfigError, match="alpha"):
        kuhn.equilibrium(0.5)
    with pytest.raises(ConfigError, match="weights"):
        kuhn.average([kuhn.uniform()], [0.5])
