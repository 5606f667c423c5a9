"""What strategies read: one member (:class:`MemberView`), the population it is compared with
(:class:`PopulationView`), and each member's history (:class:`Segment`). All read-only.

In a run, a ready member at step ``t`` is compared with every member that has reached step
``t``, each as it was *at* ``t`` (score, hyperparameters, checkpoint): the round of step ``t``.
The view lists them from worst to best fitness, ties in an order drawn once per round, and
answers rank queries in O(log n), so a decision costs the same at 16 members or 10,000.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol
from collections.abc import Iterator, Mapping, Sequence

import numpy as np


@dataclass(frozen=True)
class MemberView:
    """A read-only snapshot of one member, as strategies see it.

    Attributes:
        id: Member id.
        hparams: Hyperparameters (at the round's step, for a member of a round).
        score: Reported score, as reported.
        fitness: What ranks members, higher is better: by default the score oriented by the
            run's direction (``-score`` when minimizing); NaN and infinite scores become
            ``-inf``, so they rank worst.
        step: The step of that score.
        history: Recent fitness values of the model it holds, oldest first (length set by the
            exploit strategy's ``window``; at least the latest).
        generation: Number of exploits along this member's lineage.
        metrics: The extra metrics reported with that score.
    """

    id: int
    hparams: Mapping[str, Any]
    score: float
    fitness: float
    step: int
    history: tuple[float, ...]
    generation: int = 0
    metrics: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Segment:
    """A stretch of one member's training under unchanged hyperparameters.

    It starts after the member's step ``start``, from the state of member ``origin`` (``None``:
    a fresh start; the member itself after an in-place explore; the source after an exploit),
    whose score at that point was ``origin_score`` (NaN for a fresh start). ``scores`` are the
    scores of steps ``start + 1``, ``start + 2``, ... as reported; ``fitness`` the same steps'
    fitness (higher is better, ``-inf`` for a non-finite score), ``origin_fitness`` the origin's.

    Examples:
        >>> s = Segment(member=2, start=8, hparams={"lr": 0.1}, scores=(0.5, 0.6), origin=0, origin_score=0.45)
        >>> s.end, s.steps
        (10, (9, 10))
    """

    member: int
    start: int
    hparams: Mapping[str, Any]
    scores: tuple[float, ...]
    origin: int | None = None
    origin_score: float = math.nan
    fitness: tuple[float, ...] = ()
    origin_fitness: float = math.nan

    @property
    def end(self) -> int:
        """The last step of the segment (``start`` if it has no report yet)."""
        return self.start + len(self.scores)

    @property
    def steps(self) -> tuple[int, ...]:
        return tuple(range(self.start + 1, self.end + 1))


class RankedMembers(Protocol):
    """What backs a :class:`PopulationView`: members in rank order, worst first."""

    def size(self) -> int: ...

    def at(self, rank: int) -> MemberView: ...

    def rank_of(self, member: int) -> int:
        """Rank of ``member`` (0 = worst); ``KeyError`` if it is not there."""


class History(Protocol):
    """The population beyond one round (a run's live state provides it)."""

    def segments(self, member: int) -> tuple[Segment, ...]: ...

    def training(self, step: int) -> tuple[MemberView, ...]: ...

    def current(self, member: int) -> MemberView: ...

    def ids(self) -> tuple[int, ...]: ...


class PopulationView(Sequence[MemberView]):
    """The members a ready member is compared with, from worst to best. Read-only.

    Index it like a list (``view[-1]`` is the best), or ask for ranks; the history of every
    member and the members still training are there for strategies that need more than the
    latest scores.

    Args:
        members: A list of :class:`MemberView` (ranked here, ties broken with ``rng``), or a
            ranked backend (a run's round).
        step: The round's step: every member in the view is at it.
        history: The run's history (segments, members still training); empty without one.
        rng: Breaks ties when ``members`` is a list.

    Examples:
        >>> import numpy as np
        >>> pop = PopulationView([MemberView(i, {}, s, s, 4, (s,)) for i, s in enumerate([0.5, 0.1, 0.9])])
        >>> [m.id for m in pop], pop.rank(0), pop[-1].id
        ([1, 0, 2], 1, 2)
    """

    def __init__(
        self,
        members: Sequence[MemberView] | RankedMembers,
        *,
        step: int | None = None,
        history: History | None = None,
        rng: np.random.Generator | None = None,
    ):
        if isinstance(members, PopulationView):
            members = members._ranked
        elif not hasattr(members, "rank_of"):
            members = _ListRanking(list(members), rng)
        self._ranked = members
        self.step = step
        self._history = history

    # -- sequence ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._ranked.size()

    def __getitem__(self, index):
        n = self._ranked.size()
        if isinstance(index, slice):
            return [self._ranked.at(i) for i in range(*index.indices(n))]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"rank {index} out of range for a population of {n}")
        return self._ranked.at(index)

    def __iter__(self) -> Iterator[MemberView]:
        for i in range(self._ranked.size()):
            yield self._ranked.at(i)

    def __contains__(self, member: object) -> bool:
        key = member.id if isinstance(member, MemberView) else member
        try:
            self._ranked.rank_of(key)  # type: ignore[arg-type]
        except (KeyError, TypeError):
            return False
        return True

    # -- queries -------------------------------------------------------------------------------

    def rank(self, member: int | MemberView) -> int:
        """Rank of ``member``: 0 for the worst, ``len(view) - 1`` for the best."""
        key = member.id if isinstance(member, MemberView) else int(member)
        try:
            return self._ranked.rank_of(key)
        except KeyError:
            raise KeyError(f"member {key} is not in this population view") from None

    def member(self, member: int) -> MemberView:
        """The view of member ``member``."""
        return self._ranked.at(self.rank(member))

    def top(self, k: int) -> list[MemberView]:
        """The ``k`` best members, worst of them first."""
        n = len(self)
        return self[max(0, n - k):]

    def bottom(self, k: int) -> list[MemberView]:
        """The ``k`` worst members, worst first."""
        return self[: max(0, k)]

    def first_rank_above(self, fitness: float) -> int:
        """The lowest rank whose fitness is above ``fitness`` (``len(view)`` if none)."""
        fast = getattr(self._ranked, "first_rank_above", None)
        if fast is not None:
            return fast(fitness)
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._ranked.at(mid).fitness > fitness:
                hi = mid
            else:
                lo = mid + 1
        return lo

    # -- beyond the round ----------------------------------------------------------------------

    def history(self, member: int) -> tuple[Segment, ...]:
        """Every segment ``member`` trained, oldest first (empty without a run's history)."""
        return self._history.segments(member) if self._history is not None else ()

    def training(self) -> tuple[MemberView, ...]:
        """Members still training towards this step (not in the view yet), as they are now."""
        if self._history is None or self.step is None:
            return ()
        return self._history.training(self.step)

    def current(self, member: int) -> MemberView:
        """Member ``member`` as it is now (latest report and hyperparameters)."""
        if self._history is None:
            return self.member(member)
        return self._history.current(member)

    def all_ids(self) -> tuple[int, ...]:
        """Every member of the run, whether in this view or not."""
        if self._history is None:
            return tuple(m.id for m in self)
        return self._history.ids()

    def __repr__(self) -> str:
        return f"PopulationView(step={self.step}, members={len(self)})"


class _ListRanking:
    """A list of views ranked by fitness; ties in a random order (never by position)."""

    def __init__(self, members: list[MemberView], rng: np.random.Generator | None):
        if rng is not None and len(members) > 1:
            members = [members[i] for i in rng.permutation(len(members))]
        self._order = sorted(members, key=lambda m: _sortable(m.fitness))
        self._rank = {m.id: i for i, m in enumerate(self._order)}

    def size(self) -> int:
        return len(self._order)

    def at(self, rank: int) -> MemberView:
        return self._order[rank]

    def rank_of(self, member: int) -> int:
        return self._rank[member]


def _sortable(fitness: float) -> float:
    return -math.inf if math.isnan(fitness) else fitness


def as_population(population: Sequence[MemberView], rng: np.random.Generator | None = None) -> PopulationView:
    """``population`` as a :class:`PopulationView` (a list is ranked, ties broken with ``rng``)."""
    if isinstance(population, PopulationView):
        return population
    return PopulationView(population, rng=rng)


__all__ = ["MemberView", "PopulationView", "Segment", "as_population"]
