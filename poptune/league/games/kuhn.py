"""Kuhn poker with exact values, best responses and exploitability, in numpy.

Three cards (J < Q < K), one each; both players ante 1. Player 1 checks or bets 1. After a
check, player 2 checks (showdown for 1) or bets; player 1 then folds or calls (showdown for 2).
After a bet, player 2 folds or calls (showdown for 2).

A policy plays both seats: 12 probabilities of the aggressive action (bet or call), by card
(J, Q, K) within each block of three:

====== ======================================== =========================
index  information set                          probability of
====== ======================================== =========================
0:3    player 1, first to act                   bet
3:6    player 1, checked and facing a bet       call
6:9    player 2, facing a bet                   call
9:12   player 2, after a check                  bet
====== ======================================== =========================

Functions broadcast over leading axes (``(..., 12)`` arrays). The game's value is -1/18 for
player 1. :func:`exploitability` is the NashConv over two (what a best response gains against the
policy, averaged over the two seats): 0 exactly at an equilibrium.

Examples:
    >>> from poptune.league.games import kuhn
    >>> round(kuhn.expected_value(kuhn.equilibrium(), kuhn.equilibrium()) * 18, 9)
    -1.0
    >>> round(kuhn.exploitability(kuhn.equilibrium(1 / 6)), 12), round(kuhn.exploitability(kuhn.uniform()), 6)
    (0.0, 0.458333)
"""

from __future__ import annotations

import itertools

import numpy as np

from poptune.errors import ConfigError

GAME_VALUE = -1.0 / 18.0  # player 1's expected winnings at equilibrium
_C1, _C2 = np.array(list(itertools.permutations(range(3), 2))).T  # the 6 deals, each 1/6
_S = np.sign(_C1 - _C2).astype(float)  # +1 where player 1 holds the higher card
_SIGN = np.sign(np.subtract.outer(np.arange(3), np.arange(3))).astype(float)  # [c1, c2]
_DEAL = 1.0 - np.eye(3)  # a card pair is dealt with probability 1/6 unless equal


def policy(x) -> np.ndarray:
    """``x`` checked as a policy: ``(..., 12)`` probabilities."""
    x = np.asarray(x, dtype=float)
    if x.shape[-1:] != (12,) or not np.isfinite(x).all() or (x < 0).any() or (x > 1).any():
        raise ConfigError(f"a Kuhn poker policy is 12 probabilities in [0, 1] (see poptune.league.games.kuhn), "
                          f"got shape {x.shape}")
    return x


def uniform() -> np.ndarray:
    """Every action with probability 1/2."""
    return np.full(12, 0.5)


def equilibrium(alpha: float = 0.0) -> np.ndarray:
    """The equilibrium with player 1's bluffing rate ``alpha`` in ``[0, 1/3]`` (Kuhn, 1950)."""
    if not 0.0 <= alpha <= 1.0 / 3.0 + 1e-12:
        raise ConfigError(f"kuhn.equilibrium: alpha must be in [0, 1/3], got {alpha!r}")
    return np.array([alpha, 0.0, 3 * alpha, 0.0, alpha + 1 / 3, 1.0, 0.0, 1 / 3, 1.0, 1 / 3, 0.0, 1.0])


def expected_value(x, y) -> np.ndarray | float:
    """Player 1's expected winnings when ``x`` sits as player 1 and ``y`` as player 2."""
    x, y = policy(x), policy(y)
    bet, call1 = x[..., _C1], x[..., 3 + _C1]  # (..., 6): one entry per deal
    call2, bet2 = y[..., 6 + _C2], y[..., 9 + _C2]
    after_bet = (1 - call2) + call2 * 2 * _S
    after_check = (1 - bet2) * _S + bet2 * ((1 - call1) * -1 + call1 * 2 * _S)
    value = (bet * after_bet + (1 - bet) * after_check).mean(-1)
    return float(value) if np.ndim(value) == 0 else value


def payoff(x, y) -> np.ndarray | float:
    """What ``x`` wins against ``y`` per hand, averaged over the two seats (antisymmetric)."""
    return 0.5 * (expected_value(x, y) - expected_value(y, x))


def _best(x) -> tuple[np.ndarray, float, float]:
    x = policy(x)
    if x.ndim != 1:
        raise ConfigError(f"best responses take one policy at a time, got shape {x.shape}")
    b1, c1, c2, b2 = x[0:3], x[3:6], x[6:9], x[9:12]
    # player 1 against x's player-2 half; rows: own card, columns: the other's card
    call_vs_fold = _DEAL * b2[None] * (2 * _SIGN + 1)  # calling a bet after a check, over folding
    call1 = call_vs_fold.sum(1) > 0
    check = (_DEAL * (1 - b2[None]) * _SIGN).sum(1) + np.where(call1, (_DEAL * b2[None] * 2 * _SIGN).sum(1),
                                                                 -(_DEAL * b2[None]).sum(1))
    bet = (_DEAL * ((1 - c2[None]) + c2[None] * 2 * _SIGN)).sum(1)
    bet1 = bet > check
    value1 = np.maximum(bet, check).sum() / 6
    # player 2 against x's player-1 half; rows: player 1's card, columns: own card; payoffs to player 2
    call = (_DEAL * b1[:, None] * -2 * _SIGN).sum(0)
    fold = -(_DEAL * b1[:, None]).sum(0)
    raise_ = (_DEAL * (1 - b1[:, None]) * ((1 - c1[:, None]) - c1[:, None] * 2 * _SIGN)).sum(0)
    stay = (_DEAL * (1 - b1[:, None]) * -_SIGN).sum(0)
    call2, bet2 = call > fold, raise_ > stay
    value2 = (np.maximum(call, fold).sum() + np.maximum(raise_, stay).sum()) / 6
    br = np.concatenate([bet1, call1, call2, bet2]).astype(float)
    return br, float(value1), float(value2)


def best_response(x) -> np.ndarray:
    """A pure policy maximizing :func:`payoff` against ``x`` (both seats)."""
    return _best(x)[0]


def best_response_values(x) -> tuple[float, float]:
    """What a best response wins against ``x`` per hand: as player 1, and as player 2."""
    _, v1, v2 = _best(x)
    return v1, v2


def exploitability(x) -> float:
    """``max_y payoff(y, x)``: the best response's winnings against ``x``, averaged over the seats."""
    _, v1, v2 = _best(x)
    return max(0.0, (v1 + v2) / 2)


def average(policies, weights) -> np.ndarray:
    """The policy that plays like the mixture ``weights`` of ``policies`` (Kuhn's theorem).

    Each information set averages the policies weighted by how often each reaches it: a mixed
    strategy over snapshots (a league's Nash mixture) becomes one policy to deploy and measure.

    Examples:
        >>> import numpy as np
        >>> a, b = np.zeros(12), np.ones(12)
        >>> average([a, b], [0.5, 0.5])[:6].tolist()  # b never checks, so only a reaches 3:6
        [0.5, 0.5, 0.5, 0.0, 0.0, 0.0]
    """
    X = policy(policies)
    w = np.asarray(weights, dtype=float)
    if X.ndim != 2 or w.shape != (len(X),) or (w < 0).any() or not np.isclose(w.sum(), 1.0):
        raise ConfigError(f"average: weights must be {len(X)} probabilities summing to 1 (one per policy), "
                          f"got {weights!r}")
    reach = np.ones_like(X)
    reach[:, 3:6] = 1.0 - X[:, 0:3]  # player 1 reaches "checked, facing a bet" only if it checked
    mass = w @ reach
    out = (w[:, None] * reach * X).sum(0) / np.where(mass > 0, mass, 1.0)
    return np.where(mass > 0, out, w @ X)


def play(x, y, rng: np.random.Generator) -> int:
    """One hand, ``x`` as player 1 and ``y`` as player 2: player 1's winnings (-2, -1, 1 or 2)."""
    x, y = policy(x), policy(y)
    c1, c2 = rng.permutation(3)[:2]
    s = 1 if c1 > c2 else -1
    if rng.random() < x[c1]:
        return 2 * s if rng.random() < y[6 + c2] else 1
    if rng.random() >= y[9 + c2]:
        return s
    return 2 * s if rng.random() < x[3 + c1] else -1


__all__ = ["GAME_VALUE", "average", "best_response", "best_response_values", "equilibrium", "expected_value",
           "exploitability", "payoff", "play", "policy", "uniform"]
