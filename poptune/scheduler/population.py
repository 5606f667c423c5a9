"""The population's state, derived from the run log by applying events one by one.

The same reducer serves a live run (the controller applies each event as it appends it) and a
resumed one (it replays the log), so the two can never disagree about where a member stands.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from collections.abc import Iterable, Iterator

from poptune.store import events as ev
from poptune.store.events import Event
from poptune.strategies.base import MemberView, fitness

PENDING, FINISHED, FAILED = "pending", "finished", "failed"


@dataclass
class MemberState:
    """Where one member stands.

    ``step`` is the last reported step. ``ref``/``ref_step`` name the member's current state:
    its own latest checkpoint, or after an exploit the source checkpoint it copied, and the
    step it continues from. ``offset`` is how many more (or fewer) steps of training that state
    has received than ``ref_step`` says, which differs from zero only after copying a source
    that was ahead or behind.
    """

    id: int
    hparams: dict
    generation: int = 0
    parent: int | None = None
    step: int = 0
    score: float = math.nan
    fitness: float = -math.inf
    history: deque = field(default_factory=lambda: deque(maxlen=1))
    ref: str | None = None
    ref_step: int = 0
    offset: int = 0
    status: str = PENDING
    failures: int = 0
    exploits: int = 0
    copied: int = 0

    @property
    def age(self) -> int:
        """Training steps received by the state in ``ref`` (its model time)."""
        return self.ref_step + self.offset

    def view(self) -> MemberView:
        return MemberView(
            id=self.id,
            hparams=dict(self.hparams),
            score=self.score,
            fitness=self.fitness,
            step=self.step,
            history=tuple(self.history) or (self.fitness,),
            generation=self.generation,
        )


class Population:
    """All members' state, kept current by :meth:`apply`.

    Args:
        direction: ``"maximize"`` or ``"minimize"``.
        budget: Steps per member.
        window: How many recent scores each member keeps (for :class:`~poptune.TTest`).
    """

    def __init__(self, direction: str, budget: int, window: int = 1):
        self.direction = direction
        self.budget = budget
        self.window = max(1, window)
        self.members: dict[int, MemberState] = {}

    def __getitem__(self, member: int) -> MemberState:
        return self.members[member]

    def __iter__(self) -> Iterator[MemberState]:
        return iter(self.members.values())

    def __len__(self) -> int:
        return len(self.members)

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        kind, m = event.kind, event.member
        if kind == ev.MEMBER:
            self.members[m] = MemberState(
                id=m,
                hparams=dict(event.data["hparams"]),
                generation=event.data.get("generation", 0),
                history=deque(maxlen=self.window),
            )
        elif kind == ev.REPORT:
            state = self.members[m]
            state.step = event.step
            state.score = event.score
            state.fitness = fitness(event.score, self.direction)
            state.history.append(state.fitness)
        elif kind == ev.CHECKPOINT:
            state = self.members[m]
            state.ref, state.ref_step = event.data["ref"], event.step
        elif kind == ev.EXPLOIT:
            state, data = self.members[m], event.data
            state.hparams = dict(data["new"])
            state.generation = data["generation"]
            state.parent = data["source"]
            state.ref, state.ref_step = data["ref"], event.step
            state.offset = data["source_age"] - event.step
            state.exploits += 1
            self.members[data["source"]].copied += 1
        elif kind == ev.EXPLORE:
            self.members[m].hparams = dict(event.data["new"])
        elif kind == ev.FAILURE:
            self.members[m].failures += 1
        elif kind == ev.FAILED:
            self.members[m].status = FAILED
        elif kind == ev.FINISH:
            self.members[m].status = FINISHED
        elif kind in (ev.RUN, ev.RESUME):
            self._start_session(event.data)

    def _start_session(self, config: dict) -> None:
        # A new session (first run or resume) gives failed members a fresh set of retries (the
        # cause may be fixed) and reopens finished members if the budget grew.
        self.budget = config.get("steps", self.budget)
        for state in self.members.values():
            state.failures = 0
            if state.status == FAILED or (state.status == FINISHED and state.ref_step < self.budget):
                state.status = PENDING

    @property
    def active(self) -> list[MemberState]:
        """Members still training (neither finished nor failed)."""
        return [s for s in self.members.values() if s.status == PENDING]

    def done(self) -> bool:
        return not self.active

    def copyable(self) -> list[MemberView]:
        """Snapshot of the members another member may copy: not failed, with a checkpoint."""
        return [s.view() for s in self.members.values() if s.status != FAILED and s.ref is not None]
