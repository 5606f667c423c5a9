"""Matchmaking: whom a player meets next.

Each matchmaker is a pure function of the league state (the candidates and their
:class:`~poptune.league.HeadToHead` record) and an explicit ``numpy.random.Generator``:
:meth:`Matchmaking.weights` gives the probability of meeting each candidate, and
:meth:`Matchmaking.choose` draws one with ``rng``. The caller decides who the candidates are
(live members, snapshots kept by retention, the player itself or not).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from poptune.errors import ConfigError
from poptune.league.nash import nash
from poptune.league.payoff import HeadToHead
from poptune.league.players import Player, as_player


class Matchmaking:
    """Protocol: :meth:`weights` over the candidates; :meth:`choose` draws from them."""

    def weights(self, player: Player, candidates: Sequence[Player], stats: HeadToHead | None) -> np.ndarray:
        """Probabilities, one per candidate, summing to 1."""
        raise NotImplementedError

    def choose(self, player, candidates: Sequence, stats: HeadToHead | None, rng: np.random.Generator) -> Player:
        """One opponent for ``player`` among ``candidates``, drawn with ``rng``."""
        if not isinstance(rng, np.random.Generator):
            raise ConfigError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
        player, candidates = as_player(player), _candidates(candidates)
        w = self.weights(player, candidates, stats)
        return candidates[int(rng.choice(len(candidates), p=w))]


class Uniform(Matchmaking):
    """Every candidate equally likely.

    Examples:
        >>> import numpy as np
        >>> Uniform().choose(0, [1, 2, 3], None, np.random.default_rng(0))
        Player(2)
    """

    def weights(self, player, candidates, stats):
        return np.full(len(candidates), 1.0 / len(candidates))

    def __repr__(self) -> str:
        return "Uniform()"


class SelfPlay(Matchmaking):
    """Self-play against the live members, with a share of games against past snapshots.

    Args:
        snapshot_share: Probability of meeting a snapshot, in ``[0, 1]`` (when there are both
            live and snapshot candidates; otherwise whichever exists).
        past: How a snapshot is picked among the snapshot candidates (default :class:`Uniform`).

    Examples:
        >>> from poptune.league import Player
        >>> SelfPlay(0.2).weights(Player(0), [Player(0), Player(1), Player(0, 10), Player(1, 10)], None).tolist()
        [0.4, 0.4, 0.1, 0.1]
    """

    def __init__(self, snapshot_share: float = 0.2, past: Matchmaking | None = None):
        if isinstance(snapshot_share, bool) or not isinstance(snapshot_share, numbers.Real) or not (
                0.0 <= snapshot_share <= 1.0):
            raise ConfigError(f"SelfPlay: snapshot_share must be in [0, 1], got {snapshot_share!r}")
        if past is not None and not isinstance(past, Matchmaking):
            raise ConfigError(f"SelfPlay: past must be a matchmaker such as PFSP(), got {past!r}")
        self.snapshot_share, self.past = float(snapshot_share), past or Uniform()

    def weights(self, player, candidates, stats):
        snapshot = np.array([c.is_snapshot for c in candidates])
        w = np.zeros(len(candidates))
        share = self.snapshot_share if snapshot.any() and not snapshot.all() else float(snapshot.all())
        if share > 0:
            past = [c for c in candidates if c.is_snapshot]
            w[snapshot] = share * self.past.weights(player, past, stats)
        if share < 1:
            w[~snapshot] = (1.0 - share) / (~snapshot).sum()
        return w

    def __repr__(self) -> str:
        return f"SelfPlay({self.snapshot_share:g}, past={self.past!r})"


def hard(p: float) -> float:
    """AlphaStar's ``f_hard(p) = (1 - p)^2``: focus on the opponents the player loses to."""
    return (1.0 - p) ** 2


def variance(p: float) -> float:
    """AlphaStar's ``f_var(p) = p (1 - p)``: focus on opponents of the player's own level."""
    return p * (1.0 - p)


_WEIGHTINGS = {"hard": hard, "variance": variance}


class PFSP(Matchmaking):
    """Prioritized fictitious self-play (AlphaStar): meet candidate ``c`` with probability
    proportional to ``f(p_c)``, ``p_c`` the player's win rate against ``c``.

    A pair that never met counts as ``prior``. If every weight is 0 (the player beats everyone
    under ``"hard"``), the draw falls back to uniform.

    Args:
        weighting: ``"hard"`` (``(1 - p)^2``), ``"variance"`` (``p (1 - p)``), or a function
            ``f(p) -> weight >= 0``.
        prior: The win rate assumed against a candidate not met yet, in ``[0, 1]``.

    Examples:
        >>> from poptune.league import Match
        >>> stats = HeadToHead.from_matches([Match([0, 1], [1, 2]), Match([0, 2], [2, 1])])
        >>> PFSP("hard").weights(Player(0), [Player(1), Player(2), Player(3)], stats).tolist()
        [0.0, 0.8, 0.2]
    """

    def __init__(self, weighting: str | Callable[[float], float] = "hard", prior: float = 0.5):
        if isinstance(weighting, str):
            if weighting not in _WEIGHTINGS:
                raise ConfigError(f"PFSP: weighting must be 'hard', 'variance' or a function f(win_rate) -> weight, "
                                  f"got {weighting!r}")
            self._f = _WEIGHTINGS[weighting]
        elif callable(weighting):
            self._f = weighting
        else:
            raise ConfigError(f"PFSP: weighting must be 'hard', 'variance' or a function f(win_rate) -> weight, "
                              f"got {weighting!r}")
        if isinstance(prior, bool) or not isinstance(prior, numbers.Real) or not 0.0 <= prior <= 1.0:
            raise ConfigError(f"PFSP: prior must be a win rate in [0, 1], got {prior!r}")
        self.weighting, self.prior = weighting, float(prior)

    def weights(self, player, candidates, stats):
        stats = stats or HeadToHead()
        w = np.empty(len(candidates))
        for i, c in enumerate(candidates):
            value = self._f(stats.win_rate(player, c, self.prior))
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"PFSP: weighting {self._name()} returned {value!r}; it must return a finite "
                                  "number >= 0")
            w[i] = value
        total = w.sum()
        return w / total if total > 0 else np.full(len(candidates), 1.0 / len(candidates))

    def _name(self) -> str:
        return repr(self.weighting) if isinstance(self.weighting, str) else getattr(self._f, "__qualname__", "f")

    def __repr__(self) -> str:
        return f"PFSP({self._name()}, prior={self.prior:g})"


class Nash(Matchmaking):
    """Opponents drawn from the Nash mixture of the candidates' payoff matrix (NeuPL, PSRO).

    The player trains against the mixture no candidate beats; a pair that never met counts as
    ``prior``. Solving the meta-game costs two small linear programs (milliseconds); the last
    solution is kept, so draws while the record does not change cost only the payoff matrix.

    Args:
        prior: The win rate assumed between candidates that never met, in ``[0, 1]``.

    Examples:
        >>> from poptune.league import Match
        >>> games = [Match([a, b], [1, 2]) for a, b in [(0, 2), (1, 0), (2, 1), (0, 3), (1, 3), (2, 3)]]
        >>> Nash().weights(Player(9), [Player(0), Player(1), Player(2), Player(3)],
        ...                HeadToHead.from_matches(games)).round(3).tolist()
        [0.333, 0.333, 0.333, 0.0]
    """

    def __init__(self, prior: float = 0.5):
        if isinstance(prior, bool) or not isinstance(prior, numbers.Real) or not 0.0 <= prior <= 1.0:
            raise ConfigError(f"Nash: prior must be a win rate in [0, 1], got {prior!r}")
        self.prior = float(prior)
        self._last: tuple[bytes, np.ndarray] | None = None

    def weights(self, player, candidates, stats):
        P, _ = (stats or HeadToHead()).matrix(candidates, unseen=self.prior)
        key = P.tobytes()
        if self._last is None or self._last[0] != key:
            self._last = (key, nash(P))
        return self._last[1].copy()

    def __repr__(self) -> str:
        return f"Nash(prior={self.prior:g})"


def _candidates(candidates) -> list[Player]:
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence) or not candidates:
        raise ConfigError(f"candidates must be a non-empty list of players, got {candidates!r}")
    out = [as_player(c, "candidates[]") for c in candidates]
    if len(set(out)) != len(out):
        raise ConfigError(f"candidates must not repeat a player, got {[str(c) for c in out]}")
    return out


__all__ = ["Matchmaking", "Nash", "PFSP", "SelfPlay", "Uniform", "hard", "variance"]
