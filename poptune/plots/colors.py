"""Colours of the pictures: a score scale that resolves the top of the range, a colour per member.

A linear colour scale from the worst to the best score spends most of its colours on the
early, poor scores: when most reports lie in 0.90-0.95 and a few early ones near 0.15, every
good score gets the same colour. :class:`ScoreScale` colours by *rank* instead (the share of
reported scores that are worse), so each tenth of the reports gets a tenth of the colours,
and its tick labels name the real scores at those ranks.

Example:
    >>> from poptune.plots.colors import ScoreScale
    >>> scale = ScoreScale([0.15, 0.9, 0.91, 0.92, 0.95], "maximize")
    >>> [round(scale.position(s), 2) for s in (0.15, 0.91, 0.95)]
    [0.0, 0.5, 1.0]
"""

from __future__ import annotations

import bisect
import colorsys
import math
from collections.abc import Iterable, Sequence

# Ranks (0 = worst, 1 = best) where the colour bar names the score: denser near the top.
TICKS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)

# tab10 (matplotlib's default cycle) with its red swapped for a dark blue: red is the best
# lineage's colour in every picture, and a member must not look like it.
_TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#393b79", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf")
LINEAGE = "#dc143c"  # crimson: the best model's lineage


class ScoreScale:
    """Maps a score to its rank among ``scores``: 0 for the worst, 1 for the best.

    Args:
        scores: Every score to colour (NaN and infinities are left out of the ranking).
        direction: ``"maximize"`` or ``"minimize"``: which end is best.

    A score's position is the share of the other scores that are worse (ties share the middle
    rank), so the positions are spread evenly whatever the scores' distribution.
    """

    def __init__(self, scores: Iterable[float], direction: str = "maximize"):
        if direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
        sign = 1.0 if direction == "maximize" else -1.0
        self._sign = sign
        self._sorted = sorted(sign * float(s) for s in scores if s is not None and math.isfinite(s))

    def __len__(self) -> int:
        return len(self._sorted)

    def position(self, score: float | None) -> float | None:
        """Rank of ``score`` in [0, 1] (1 = best); ``None`` for a missing or non-finite score."""
        if score is None or not math.isfinite(score) or not self._sorted:
            return None
        n = len(self._sorted)
        if n == 1:
            return 1.0
        x = self._sign * float(score)
        below = bisect.bisect_left(self._sorted, x)
        ties = bisect.bisect_right(self._sorted, x) - below
        rank = below + (ties - 1) / 2 if ties else below - 0.5
        return min(1.0, max(0.0, rank / (n - 1)))

    def score_at(self, position: float) -> float:
        """The score at rank ``position`` (0 = worst, 1 = best), interpolated between reports."""
        if not self._sorted:
            return math.nan
        i = position * (len(self._sorted) - 1)
        lo = math.floor(i)
        hi = min(lo + 1, len(self._sorted) - 1)
        value = self._sorted[lo] + (self._sorted[hi] - self._sorted[lo]) * (i - lo)
        return self._sign * value

    def ticks(self, positions: Sequence[float] = TICKS) -> list[tuple[float, float]]:
        """``[(position, score)]`` for a colour bar: the scores found at those ranks."""
        return [(p, self.score_at(p)) for p in positions] if self._sorted else []


def member_colors(members: Iterable[int]) -> dict[int, str]:
    """A stable, distinct ``#rrggbb`` colour per member id, never a red (the lineage's colour).

    Up to 10 members: tab10 without its red. More: hues spread from orange to purple in
    golden-ratio steps (neighbouring ids far apart), alternating two lightnesses.

    Example:
        >>> member_colors([0, 1])
        {0: '#1f77b4', 1: '#ff7f0e'}
    """
    ids = sorted(members)
    if len(ids) <= len(_TAB10):
        return dict(zip(ids, _TAB10))
    out = {}
    for i, m in enumerate(ids):
        hue = 0.1 + 0.77 * ((i * 0.618033988749895) % 1.0)  # (0.1-0.87: no red at either end)
        r, g, b = colorsys.hls_to_rgb(hue, 0.35 if i % 2 else 0.5, 0.75)
        out[m] = f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
    return out
