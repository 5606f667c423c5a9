"""Rounds: what the population looked like at one ready step.

When a member reports a ready step ``t`` (with the checkpoint saved there), it joins the round
of ``t`` with that score, its hyperparameters then, and that checkpoint. Decisions at ``t`` rank
and copy from the round, never from later or earlier states, so members at different progress
are never compared (see the README's concepts). A round keeps its members sorted by
``(fitness, tie)``, where ``tie`` is drawn once per round and member from the run's seed: rank
queries cost O(log n) and ties are broken the same way for every decision of the round.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from typing import Any

from poptune.strategies.views import MemberView

_MASK = (1 << 64) - 1


def mix(*values: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): cheap, stable across runs and platforms.

    Examples:
        >>> mix(0, 4, 1) == mix(0, 4, 1) != mix(0, 4, 2)
        True
    """
    h = 0x9E3779B97F4A7C15
    for value in values:
        h = (h ^ (value & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & _MASK
        h ^= h >> 29
    return h


def tie(seed: int, step: int, member: int) -> float:
    """The tie-break of ``member`` in the round of ``step``: uniform in [0, 1), fixed by the seed."""
    return mix(seed, step, member) / 2.0**64


class Entry:
    """One member in one round: what it was at the round's step."""

    __slots__ = ("member", "step", "score", "fitness", "ref", "age", "hparams", "generation", "history",
                 "recent", "metrics", "key", "_view")

    def __init__(self, member: int, step: int, score: float, fitness: float, ref: str, age: int,
                 hparams: Mapping[str, Any], generation: int, history: tuple, recent: tuple,
                 metrics: Mapping[str, Any], tie: float):
        self.member, self.step, self.score, self.fitness = member, step, score, fitness
        self.ref, self.age, self.hparams, self.generation = ref, age, hparams, generation
        self.history, self.recent, self.metrics = history, recent, metrics
        self.key = (fitness, tie, member)
        self._view: MemberView | None = None

    def view(self) -> MemberView:
        if self._view is None:
            self._view = MemberView(
                id=self.member, hparams=dict(self.hparams), score=self.score, fitness=self.fitness,
                step=self.step, history=self.history or (self.fitness,), generation=self.generation,
                metrics=self.metrics,
            )
        return self._view


class Round:
    """The members that reached ready step ``step``, ranked; and who is done with it.

    ``entries`` are the members that stopped at ``step`` (ranked in ``order``); ``decided`` the
    members done with the round: decided there, or past ``step`` without stopping there (a
    member that was past it when the round opened, after a resume that changed the ready
    steps, say). ``reached`` counts both: the members that will not arrive any more.
    """

    __slots__ = ("step", "entries", "order", "decided", "outside")

    def __init__(self, step: int):
        self.step = step
        self.entries: dict[int, Entry] = {}
        self.order: list[tuple[float, float, int]] = []  # (fitness, tie, member), worst first
        self.decided: set[int] = set()
        self.outside = 0  # decided members without an entry

    @property
    def reached(self) -> int:
        """Members that stopped here or are past this step."""
        return len(self.entries) + self.outside

    def add(self, entry: Entry) -> None:
        old = self.entries.get(entry.member)
        if old is not None:  # the same step reported again (a re-run after a failure)
            self.order.pop(bisect.bisect_left(self.order, old.key))
        elif entry.member in self.decided:
            self.outside -= 1
        self.entries[entry.member] = entry
        bisect.insort(self.order, entry.key)

    def mark(self, member: int) -> None:
        """``member`` is done with this round."""
        if member not in self.decided:
            self.decided.add(member)
            if member not in self.entries:
                self.outside += 1

    def unmark(self, member: int) -> None:
        """``member`` is not done with this round after all (it will run through it again)."""
        if member in self.decided:
            self.decided.discard(member)
            if member not in self.entries:
                self.outside -= 1

    def remove(self, member: int) -> None:
        self.unmark(member)
        entry = self.entries.pop(member, None)
        if entry is not None:
            self.order.pop(bisect.bisect_left(self.order, entry.key))

    # -- RankedMembers (what a PopulationView reads) -------------------------------------------

    def size(self) -> int:
        return len(self.order)

    def at(self, rank: int) -> MemberView:
        return self.entries[self.order[rank][2]].view()

    def rank_of(self, member: int) -> int:
        return bisect.bisect_left(self.order, self.entries[member].key)

    def first_rank_above(self, fitness: float) -> int:
        return bisect.bisect_right(self.order, (fitness, math.inf, math.inf))

    def __repr__(self) -> str:
        return f"Round(step={self.step}, members={len(self.entries)}, decided={len(self.decided)})"
