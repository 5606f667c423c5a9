"""Rock-paper-scissors: a strategy is three probabilities (rock, paper, scissors).

The smallest game where naive self-play cycles: the best response to rock is paper, to paper
scissors, to scissors rock. The only equilibrium is uniform, exploitability 0.

Examples:
    >>> import numpy as np
    >>> from poptune.league.games import rps
    >>> rps.payoff(rps.PAPER, rps.ROCK), rps.best_response(rps.ROCK).tolist(), rps.exploitability(rps.ROCK)
    (1.0, [0.0, 1.0, 0.0], 1.0)
"""

from __future__ import annotations

import numpy as np

from poptune.errors import ConfigError

ROCK, PAPER, SCISSORS = np.eye(3)
#: ``GAME[i, j]``: what pure strategy ``i`` wins against ``j`` (+1 win, -1 loss, 0 draw)
GAME = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
#: ``WIN_RATE[i, j]``: probability that ``i`` beats ``j``, a draw counting half
WIN_RATE = (GAME + 1.0) / 2.0
UNIFORM = np.full(3, 1.0 / 3.0)


def strategy(x) -> np.ndarray:
    """``x`` checked as a mixed strategy: 3 probabilities summing to 1."""
    x = np.asarray(x, dtype=float)
    if x.shape[-1:] != (3,) or not np.isfinite(x).all() or (x < -1e-12).any() or not np.allclose(x.sum(-1), 1.0):
        raise ConfigError(f"a rock-paper-scissors strategy is 3 probabilities summing to 1, got {x!r}")
    return x


def payoff(x, y) -> float:
    """What ``x`` wins against ``y`` on average (+1 win, -1 loss)."""
    return float(strategy(x) @ GAME @ strategy(y))


def best_response(x) -> np.ndarray:
    """The pure strategy that wins most against ``x`` (the first one on ties)."""
    return np.eye(3)[int(np.argmax(GAME @ strategy(x)))]


def exploitability(x) -> float:
    """What the best response wins against ``x``: 0 for uniform, 1 for a pure strategy."""
    return float(max(0.0, (GAME @ strategy(x)).max()))


def play(x, y, rng: np.random.Generator) -> float:
    """One game: ``x``'s outcome, 1 (win), 0 (loss) or 0.5 (draw)."""
    a, b = rng.choice(3, p=strategy(x)), rng.choice(3, p=strategy(y))
    return float(WIN_RATE[a, b])


__all__ = ["GAME", "PAPER", "ROCK", "SCISSORS", "UNIFORM", "WIN_RATE", "best_response", "exploitability", "payoff",
           "play", "strategy"]
