"""The issue's point 3: naive self-play on rock-paper-scissors cycles, but the Nash mixture of
its snapshots, computed from played matches, is (nearly) unexploitable."""

import numpy as np

from poptune.league import Match, Player, Uniform, nash, payoff
from poptune.league.games import rps


def _self_play(steps=260, lr=0.1, every=10):
    """Multiplicative weights against its own current strategy; a snapshot every ``every`` steps.

    260 steps end part-way through a cycle, so a plain average of the snapshots is lopsided."""
    logits, snapshots, last = np.array([2.0, 0.0, 0.0]), {}, []
    for step in range(1, steps + 1):
        x = np.exp(logits - logits.max())
        x /= x.sum()
        logits = logits + lr * rps.GAME @ x  # the gradient of payoff(x, y) at y = x: ascent on itself
        if step % every == 0:
            snapshots[Player(0, step)] = x
        last.append(x)
    return snapshots, last


def _league_matches(snapshots, rng, games=100):
    """Every snapshot meets opponents picked by Uniform matchmaking; outcomes are sampled games."""
    players, matches, matchmaker = list(snapshots), [], Uniform()
    for a in players:
        for _ in range(games):
            b = matchmaker.choose(a, [p for p in players if p != a], None, rng)
            outcome = rps.play(snapshots[a], snapshots[b], rng)
            matches.append(Match([a, b], {1.0: [1, 2], 0.5: [1, 1], 0.0: [2, 1]}[outcome]))
    return players, matches


def test_last_iterate_cycles_but_the_nash_mixture_of_snapshots_is_nearly_unexploitable():
    snapshots, last = _self_play()
    # the last iterate keeps cycling: far from uniform and exploitable all along the end of the run
    tail = [rps.exploitability(x) for x in last[-100:]]
    assert min(tail) > 0.25
    assert len({int(np.argmax(x)) for x in last[-100:]}) == 3  # it visits rock, paper and scissors
    players, matches = _league_matches(snapshots, np.random.default_rng(0))
    P, counts = payoff(matches, players, unseen=0.5)
    w = nash(P)
    deployed = w @ np.array([snapshots[p] for p in players])
    assert rps.exploitability(deployed) < 0.1
    # exact payoffs tell the same story, closer
    exact = np.array([[rps.payoff(snapshots[a], snapshots[b]) for b in players] for a in players])
    assert rps.exploitability(nash(exact) @ np.array([snapshots[p] for p in players])) < 0.02
    # the Nash weights matter: the plain average of the snapshots is lopsided, exploitably
    assert rps.exploitability(np.mean([snapshots[p] for p in players], axis=0)) > 0.05
    # and it beats trusting any single snapshot
    assert rps.exploitability(deployed) < min(rps.exploitability(x) for x in snapshots.values()) / 3
