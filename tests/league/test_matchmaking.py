from collections import Counter

import numpy as np
import pytest
from scipy.stats import chisquare

from poptune.errors import ConfigError
from poptune.league import PFSP, HeadToHead, Match, Nash, Player, SelfPlay, Uniform, as_match

N = 20_000


def _record(win_rates):
    """Player 0's record: against Player(i + 1) it won win_rates[i] of 10 games (None: never met)."""
    matches = []
    for i, p in enumerate(win_rates):
        if p is not None:
            wins = round(10 * p)
            matches += [as_match([0, i + 1], 1)] * wins + [as_match([0, i + 1], 0)] * (10 - wins)
    return HeadToHead.from_matches(matches)


def _counts(matchmaker, player, candidates, stats, seed=0, n=N):
    rng = np.random.default_rng(seed)
    drawn = Counter(matchmaker.choose(player, candidates, stats, rng) for _ in range(n))
    return np.array([drawn[Player(c) if isinstance(c, int) else c] for c in candidates])


def _fits(counts, probabilities):
    """The chi-square p-value of counts under probabilities (a zero-probability entry must be 0)."""
    probabilities = np.asarray(probabilities, dtype=float)
    if counts[probabilities == 0].any():
        return 0.0
    keep = probabilities > 0
    return chisquare(counts[keep], probabilities[keep] / probabilities[keep].sum() * counts.sum()).pvalue


@pytest.mark.parametrize("weighting, f", [("hard", lambda p: (1 - p) ** 2), ("variance", lambda p: p * (1 - p))])
def test_pfsp_draws_in_proportion_to_alphastars_weighting(weighting, f):
    rates = [0.2, 0.5, 0.8, None, 1.0]  # None: never met, counts as the prior 0.5
    stats, candidates = _record(rates), [1, 2, 3, 4, 5]
    expected = np.array([f(0.5 if p is None else p) for p in rates])
    expected /= expected.sum()
    np.testing.assert_allclose(PFSP(weighting).weights(Player(0), [Player(c) for c in candidates], stats), expected)
    counts = _counts(PFSP(weighting), 0, candidates, stats)
    assert _fits(counts, expected) > 1e-3
    assert _fits(counts, np.full(5, 0.2)) < 1e-9  # the check can fail: uniform draws would not pass
    if weighting == "hard":
        assert counts[0] > 2 * counts[1] > 4 * counts[2] and counts[4] == 0  # harder opponents more often


def test_pfsp_takes_a_function_a_prior_and_falls_back_to_uniform():
    stats = _record([1.0, 1.0])
    assert PFSP().weights(Player(0), [Player(1), Player(2)], stats).tolist() == [0.5, 0.5]  # beats everyone
    w = PFSP(lambda p: 1.0 + p, prior=0.0).weights(Player(0), [Player(1), Player(3)], stats)
    np.testing.assert_allclose(w, [2 / 3, 1 / 3])
    with pytest.raises(ConfigError, match="finite number >= 0"):
        PFSP(lambda p: -1.0).weights(Player(0), [Player(1)], stats)
    with pytest.raises(ConfigError, match="weighting"):
        PFSP("easy")
    with pytest.raises(ConfigError, match="prior"):
        PFSP(prior=2)


def test_uniform_is_uniform():
    counts = _counts(Uniform(), 0, [1, 2, 3, 4], None)
    assert _fits(counts, np.full(4, 0.25)) > 1e-3


def test_self_play_gives_snapshots_their_share():
    live = [Player(0), Player(1)]
    snaps = [Player(0, 10), Player(0, 20), Player(1, 10)]
    counts = _counts(SelfPlay(0.2), 0, live + snaps, None)
    assert _fits(counts, [0.4, 0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3]) > 1e-3
    assert SelfPlay(0.2).weights(Player(0), live, None).tolist() == [0.5, 0.5]
    assert SelfPlay(0.2).weights(Player(0), snaps, None).sum() == pytest.approx(1.0)
    assert SelfPlay(0.0).weights(Player(0), live + snaps, None)[2:].sum() == 0.0
    # the past is picked by another matchmaker: PFSP favours the snapshot that beats player 0
    stats = HeadToHead.from_matches([as_match([0, Player(0, 10)], 0), as_match([0, Player(0, 20)], 1)])
    w = SelfPlay(0.5, past=PFSP()).weights(Player(0), [Player(1), Player(0, 10), Player(0, 20)], stats)
    assert w.tolist() == [0.5, 0.5, 0.0]


def test_nash_matchmaking_follows_the_meta_game():
    # snapshots that cycle like rock-paper-scissors, and one that loses to all of them
    rock, paper, scissors, weak = Player(0, 1), Player(0, 2), Player(0, 3), Player(0, 4)
    games = [Match([w, l], [1, 2]) for w, l in [(paper, rock), (scissors, paper), (rock, scissors)]]
    games += [Match([s, weak], [1, 2]) for s in (rock, paper, scissors)]
    counts = _counts(Nash(), 0, [rock, paper, scissors, weak], HeadToHead.from_matches(games), n=3000)
    assert counts[3] == 0 and _fits(counts[:3], np.full(3, 1 / 3)) > 1e-3


def test_choices_are_reproducible_from_the_seed_and_validated():
    stats = _record([0.3, 0.6, None])
    draws = [_counts(PFSP(), 0, [1, 2, 3], stats, seed=7, n=50) for _ in range(2)]
    assert draws[0].tolist() == draws[1].tolist()
    with pytest.raises(ConfigError, match="Generator"):
        Uniform().choose(0, [1], None, 42)
    with pytest.raises(ConfigError, match="non-empty"):
        Uniform().choose(0, [], None, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="repeat"):
        Uniform().choose(0, [1, Player(1)], None, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="snapshot_share"):
        SelfPlay(1.5)
