"""The PBT state machine: when a member is ready, and what it does then.

Logic only. The scheduler reads the population (kept current from the run log) and returns
:class:`Decision` objects; the controller records them as events and applies them. It never
touches processes, files or the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from poptune.errors import ConfigError, UsageError
from poptune.scheduler.population import PENDING, Population
from poptune.space import Space
from poptune.strategies.base import Exploit, Explore


def is_ready_step(
    step: int, interval: int | None, burn_in: int, budget: int, ready_at: tuple[int, ...] | None = None
) -> bool:
    """Whether a member that has just reported ``step`` is ready (exploit/explore point).

    Ready steps are the multiples of ``interval`` from ``burn_in`` on, before the budget's end;
    ``ready_at`` (a schedule's change steps) replaces that rule when given.

    Example:
        >>> [s for s in range(1, 13) if is_ready_step(s, 4, 0, 12)]
        [4, 8]
        >>> [s for s in range(1, 13) if is_ready_step(s, 4, 6, 12)]
        [8]
    """
    if step >= budget:
        return False
    if ready_at is not None:
        return step in ready_at
    return interval is not None and step % interval == 0 and step >= burn_in


@dataclass
class Decision:
    """What a ready member does: keep training (``source is None``), copy ``source``, or change
    its hyperparameters in place (``source == member``: a schedule, or explore without exploit).

    Attributes:
        member: The target.
        step: The target's step.
        source: Member copied, or ``None``.
        source_step: Step at which the source's copied state was saved.
        source_age: Training steps that state has received.
        ref: Checkpoint the target loads.
        old: Target's hyperparameters before.
        copied: Source's hyperparameters.
        new: Hyperparameters after explore.
        generation: Target's generation after the exploit.
    """

    member: int
    step: int
    source: int | None = None
    source_step: int | None = None
    source_age: int | None = None
    ref: str | None = None
    old: dict | None = None
    copied: dict | None = None
    new: dict | None = None
    generation: int | None = None

    @property
    def in_place(self) -> bool:
        return self.source == self.member

    def event_data(self) -> dict[str, Any]:
        """The ``data`` of the exploit event that records this decision."""
        if self.in_place:
            return {"old": self.old, "new": self.new}
        return {
            "source": self.source,
            "source_step": self.source_step,
            "source_age": self.source_age,
            "ref": self.ref,
            "old": self.old,
            "copied": self.copied,
            "new": self.new,
            "generation": self.generation,
        }


class Scheduler:
    """Decides exploit and explore for ready members.

    Asynchronous by default: a ready member is compared with the latest scores of the others,
    whatever their step. With ``synchronous=True`` ready members wait until every active member
    reaches the same step, then all decide on one snapshot (generational PBT).

    Args:
        population: The live population state.
        space: The search space (explore stays inside it).
        exploit: Exploit strategy, or ``None`` to never exploit (random search).
        explore: Explore strategy.
        synchronous: Generational mode.
        rng: Random generator for every decision.
        schedule: ``{step: hparams}``: instead of PBT, every member switches to ``hparams``
            after ``step`` (a fixed schedule; how :func:`poptune.replay` retraces a lineage).
    """

    def __init__(
        self,
        population: Population,
        space: Space,
        exploit: Exploit | None,
        explore: Explore,
        synchronous: bool,
        rng: np.random.Generator,
        schedule: dict[int, dict] | None = None,
    ):
        self.population = population
        self.space = space
        self.exploit = exploit
        self.explore = explore
        self.synchronous = synchronous
        self.rng = rng
        self.schedule = schedule
        self._waiting: dict[int, set[int]] = {}  # step -> members waiting at that barrier

    def ready(self, member: int, step: int) -> list[Decision]:
        """Member ``member`` is ready at ``step``; return the decisions that can be made now.

        Asynchronous mode returns one decision, for ``member``. Synchronous mode returns nothing
        until the barrier at ``step`` is complete, then one decision per waiting member.
        """
        if self.schedule is not None:
            return [self._scheduled(member, step)]
        if not self.synchronous:
            return [self._decide(member, step, self.population.copyable())]
        self._waiting.setdefault(step, set()).add(member)
        return self.release()

    def release(self) -> list[Decision]:
        """Decide for every complete barrier (call again after a member fails or finishes)."""
        decisions = []
        active = {s.id for s in self.population.active}
        for step in sorted(self._waiting):
            waiting = self._waiting[step] & active
            if waiting and waiting >= active:
                del self._waiting[step]
                snapshot = self.population.copyable()
                for member in self.rng.permutation(sorted(waiting)):
                    decisions.append(self._decide(int(member), step, snapshot))
            elif not waiting:
                del self._waiting[step]
        return decisions

    def is_waiting(self, member: int) -> bool:
        return any(member in waiting for waiting in self._waiting.values())

    def _scheduled(self, member: int, step: int) -> Decision:
        state = self.population[member]
        new = self.schedule.get(step)
        if new is None or new == state.hparams:
            return Decision(member=member, step=step)
        return Decision(
            member=member,
            step=step,
            source=member,
            source_step=state.ref_step,
            source_age=state.age,
            ref=state.ref,
            old=dict(state.hparams),
            copied=dict(state.hparams),
            new=dict(new),
            generation=state.generation,
        )

    def _explore_in_place(self, member: int, step: int) -> Decision:
        state = self.population[member]
        new = self._explored(state.hparams)
        return Decision(member=member, step=step, source=member, source_step=state.ref_step, source_age=state.age,
                        ref=state.ref, old=dict(state.hparams), copied=dict(state.hparams), new=new,
                        generation=state.generation)

    def _explored(self, hparams: dict) -> dict:
        new = self.explore.explore(dict(hparams), self.space, self.rng)
        try:
            return self.space.validate(new, f"explore strategy {self.explore!r}")
        except ConfigError as err:
            raise UsageError(str(err)) from None

    def _decide(self, member: int, step: int, snapshot: list) -> Decision:
        state = self.population[member]
        keep = Decision(member=member, step=step)
        if self.exploit is None or state.status != PENDING:
            return keep
        views = {v.id: v for v in snapshot}
        target = views.get(member) or state.view()
        if member not in views:
            snapshot = [*snapshot, target]
        chosen = self.exploit.select(target, snapshot, self.rng)
        if chosen is None:
            return keep
        if chosen.id == member and getattr(self.exploit, "in_place", False):
            return self._explore_in_place(member, step)
        if chosen.id == member or chosen.id not in views:
            raise UsageError(
                f"exploit strategy {self.exploit!r} chose member {chosen.id} for member {member}; "
                f"it must choose another member of the population it was given, or None"
            )
        source = self.population[chosen.id]
        copied = dict(source.hparams)
        new = self._explored(copied)
        return Decision(
            member=member,
            step=step,
            source=source.id,
            source_step=source.ref_step,
            source_age=source.age,
            ref=source.ref,
            old=dict(state.hparams),
            copied=copied,
            new=new,
            generation=source.generation + 1,
        )
