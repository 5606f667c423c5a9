"""The Nash mixture of a league's meta-game.

A league's players form a symmetric zero-sum game: picking player ``i`` against ``j`` pays
``S[i, j] = (M[i, j] - M[j, i]) / 2``, the antisymmetric part of a payoff matrix ``M``. For a
win-rate matrix (``P[i, j] + P[j, i] = 1``) that is ``P[i, j] - 0.5``, the edge over an even
game; for a matrix already antisymmetric (exact expected payoffs, ``A = -A.T``) it is ``A``.
Either input gives the same equilibrium.

The game's value is 0: some mixture no player beats. :func:`nash` finds one with the max-min
linear program (``scipy.optimize.linprog``) and, among the equilibria (there are many when
players duplicate each other, as snapshots often do), returns one closest to uniform.
:func:`exploitability` measures any mixture: how much the best single player beats it by.
"""

from __future__ import annotations

import numpy as np

from poptune.errors import ConfigError, PoptuneError


def meta_game(payoff) -> np.ndarray:
    """The antisymmetric meta-game ``(M - M.T) / 2`` of a square payoff matrix, checked.

    Examples:
        >>> meta_game([[0.5, 0.75], [0.25, 0.5]])
        array([[ 0.  ,  0.25],
               [-0.25,  0.  ]])
    """
    M = np.asarray(payoff, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ConfigError(f"payoff must be a non-empty square matrix (players x players), got shape {M.shape}")
    bad = ~np.isfinite(M)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise ConfigError(
            f"payoff has {int(bad.sum())} entries that are not finite (first at [{i}, {j}]): usually pairs "
            "that never met; build it with payoff(matches, players, unseen=0.5) or have those pairs play")
    return (M - M.T) / 2.0


def maxmin(game) -> tuple[np.ndarray, float]:
    """The row player's max-min mixture and the value of a zero-sum matrix game.

    ``game[i, j]`` is what the row player wins playing ``i`` against column ``j``. Solves
    ``max_x min_j (x @ game)[j]`` over mixtures ``x`` as a linear program.

    Examples:
        >>> x, v = maxmin([[3.0, -1.0], [-1.0, 1.0]])  # matching pennies, lopsided
        >>> x.round(3).tolist(), round(v, 3)
        ([0.333, 0.667], 0.333)
    """
    G = np.asarray(game, dtype=float)
    if G.ndim != 2 or 0 in G.shape or not np.isfinite(G).all():
        raise ConfigError(f"game must be a non-empty finite matrix, got shape {G.shape}")
    m, n = G.shape
    # variables (x_1..x_m, v): maximize v subject to v <= (x @ G)[j] for every column j
    c = np.zeros(m + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-G.T, np.ones((n, 1))])
    A_eq = np.append(np.ones(m), 0.0)[None]
    bounds = [(0, None)] * m + [(None, None)]
    res = _linprog(c, A_ub, np.zeros(n), A_eq, bounds)
    return _mixture(res.x[:m]), float(res.x[-1])


def nash(payoff) -> np.ndarray:
    """A Nash mixture of the symmetric zero-sum meta-game of ``payoff``.

    Args:
        payoff: Square matrix: win rates (:func:`~poptune.league.payoff`, no NaN) or an
            antisymmetric matrix of expected payoffs.

    Returns:
        The mixture: ``n`` probabilities summing to 1, no player beating it (to
        about 1e-10, the solver's tolerance).

    Examples:
        >>> rps = [[0.5, 0.0, 1.0], [1.0, 0.5, 0.0], [0.0, 1.0, 0.5]]  # P[i, j]: i beats j
        >>> nash(rps).round(6).tolist()
        [0.333333, 0.333333, 0.333333]
        >>> nash([[0.5, 0.8], [0.2, 0.5]]).round(6).tolist()  # player 0 dominates
        [1.0, 0.0]
    """
    S = meta_game(payoff)
    n = len(S)
    if n == 1:
        return np.ones(1)
    x, _ = maxmin(S)
    # The value of a symmetric zero-sum game is 0. Among the mixtures no player beats, the one
    # closest to uniform: variables (x, t), minimize t subject to |x_i - 1/n| <= t and
    # (x @ S)[j] >= 0. (No slack: the tie-break would spend it moving weight onto beaten players.)
    c = np.append(np.zeros(n), 1.0)
    eye, ones = np.eye(n), np.ones((n, 1))
    A_ub = np.vstack([np.hstack([eye, -ones]), np.hstack([-eye, -ones]), np.hstack([-S.T, np.zeros((n, 1))])])
    b_ub = np.concatenate([np.full(n, 1.0 / n), np.full(n, -1.0 / n), np.zeros(n)])
    A_eq = np.append(np.ones(n), 0.0)[None]
    try:
        res = _linprog(c, A_ub, b_ub, A_eq, [(0, None)] * (n + 1))
    except PoptuneError:
        return x  # the tie-break is a nicety; the max-min mixture is an equilibrium already
    spread = _mixture(res.x[:n])
    return spread if (S @ spread).max() <= max((S @ x).max(), 0.0) + 1e-12 else x


def exploitability(payoff, mixture) -> float:
    """How much the best single player beats ``mixture`` by in the meta-game of ``payoff``.

    ``max_i (S @ mixture)[i]`` with ``S`` the antisymmetric part (see :func:`meta_game`): 0 for a
    Nash mixture, more for a mixture some player exploits. For win rates it is the best
    response's expected win rate minus 0.5.

    Examples:
        >>> rps = [[0.5, 0.0, 1.0], [1.0, 0.5, 0.0], [0.0, 1.0, 0.5]]
        >>> exploitability(rps, [1, 0, 0]), exploitability(rps, [1/3, 1/3, 1/3])
        (0.5, 0.0)
    """
    S = meta_game(payoff)
    x = np.asarray(mixture, dtype=float)
    if x.shape != (len(S),) or not np.isfinite(x).all() or (x < 0).any() or not np.isclose(x.sum(), 1.0):
        raise ConfigError(f"mixture must be {len(S)} probabilities summing to 1, got {mixture!r}")
    return float(max(0.0, (S @ x).max()))


def _linprog(c, A_ub, b_ub, A_eq, bounds):
    from scipy.optimize import linprog

    # HiGHS's default feasibility tolerance (1e-7) would let a beaten player keep ~1e-8 weight
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0], bounds=bounds, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if res.status != 0:
        raise PoptuneError(f"the meta-game's linear program failed: {res.message}")
    return res


def _mixture(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, None)
    return x / x.sum()


__all__ = ["exploitability", "maxmin", "meta_game", "nash"]
