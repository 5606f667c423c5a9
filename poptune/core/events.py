"""The facts of a run: typed, frozen events and their JSON codec.

The run log is a sequence of these events, appended once and never changed. Everything else
(the live population state, resume, results, plots, replay) is derived by reading them back.
Each event is stored as one row: ``kind``, ``member``, ``step``, ``score`` and a JSON ``data``
object holding the remaining fields; :func:`encode` and :func:`decode` convert both ways.

A kind this version does not know decodes to :class:`UnknownEvent`, so a log written by a
newer poptune (with kinds added later, such as match results) still reads.

Examples:
    >>> from poptune.core import events as ev
    >>> row = ev.encode(ev.Reported(member=0, step=3, score=0.5, metrics={"loss": 0.1}, time=1.0))
    >>> row
    (1.0, 'report', 0, 3, 0.5, {'loss': 0.1})
    >>> ev.decode(*row)
    Reported(member=0, step=3, score=0.5, metrics={'loss': 0.1})
"""

from __future__ import annotations

import dataclasses
import math
import time as _time
from dataclasses import dataclass, field
from typing import Any, ClassVar

RUN = "run"
RESUME = "resume"
MEMBER = "member"
REPORT = "report"
CHECKPOINT = "checkpoint"
CHECKPOINT_DELETED = "checkpoint_deleted"
EXPLOIT = "exploit"
EXPLORE = "explore"
KEEP = "keep"
FAILURE = "failure"
FAILED = "failed"
FINISH = "finish"
END = "end"
MATCH = "match"
OPPONENTS = "opponents"
LEAGUE_RESET = "league_reset"

_COLUMNS = ("member", "step", "score")


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event: when it happened (``time``, seconds since the epoch) and its
    position in the log (``seq``, set when it is appended)."""

    kind: ClassVar[str] = ""
    time: float = field(default_factory=_time.time, kw_only=True, repr=False, compare=False)
    seq: int | None = field(default=None, kw_only=True, repr=False, compare=False)

    @property
    def data(self) -> dict[str, Any]:
        """The stored ``data`` object (the fields that are not columns)."""
        return self._data()

    def _data(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in _data_fields(type(self))}

    @classmethod
    def _from_row(cls, member, step, score, data: dict) -> Event:
        names = {f.name for f in _data_fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        for column, value in (("member", member), ("step", step), ("score", score)):
            if column in cls.__dataclass_fields__:
                kwargs[column] = value
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class RunStarted(Event):
    """The first event of a run: its configuration."""

    kind: ClassVar[str] = RUN
    config: dict = field(default_factory=dict)

    def _data(self):
        return dict(self.config)

    @classmethod
    def _from_row(cls, member, step, score, data):
        return cls(config=dict(data))


@dataclass(frozen=True, slots=True)
class RunResumed(RunStarted):
    """A later session of the same run (``resume=True``): its configuration."""

    kind: ClassVar[str] = RESUME


@dataclass(frozen=True, slots=True)
class MemberAdded(Event):
    """A member joins the population with these hyperparameters (and, in a staged run, the
    previous run's member whose state it starts from, ``origin``)."""

    kind: ClassVar[str] = MEMBER
    member: int = 0
    hparams: dict = field(default_factory=dict)
    generation: int = 0
    step: int = 0
    origin: dict | None = None  # a staged run: the previous run's member it starts from (poptune.stages)

    def _data(self):
        data = {"hparams": self.hparams, "generation": self.generation}
        if self.origin is not None:
            data["origin"] = self.origin
        return data


@dataclass(frozen=True, slots=True)
class Reported(Event):
    """One step of one member: its score and extra metrics."""

    kind: ClassVar[str] = REPORT
    member: int = 0
    step: int = 0
    score: float = math.nan
    metrics: dict = field(default_factory=dict)

    def _data(self):
        return dict(self.metrics)

    @classmethod
    def _from_row(cls, member, step, score, data):
        # SQLite stores NaN as NULL: a report always has a score, so NULL means NaN.
        return cls(member=member, step=step, score=math.nan if score is None else score, metrics=dict(data))


@dataclass(frozen=True, slots=True)
class Checkpointed(Event):
    """A member's state after ``step`` was saved as ``ref``."""

    kind: ClassVar[str] = CHECKPOINT
    member: int = 0
    step: int = 0
    ref: str = ""


@dataclass(frozen=True, slots=True)
class CheckpointDeleted(Event):
    """The file of ``ref`` was deleted (no member could load it any more)."""

    kind: ClassVar[str] = CHECKPOINT_DELETED
    member: int | None = None
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Exploited(Event):
    """At its ready step ``step``, ``member`` (the target) copied ``source``.

    ``ref`` is the copied checkpoint, saved by the source at ``source_step`` after
    ``source_age`` steps of training. ``old``, ``copied`` and ``new`` are the target's
    hyperparameters before, the source's, and the result of explore. ``info`` says why (the
    target's rank in its round, the round's size, what explore reported).
    """

    kind: ClassVar[str] = EXPLOIT
    member: int = 0
    step: int = 0
    source: int = 0
    source_step: int = 0
    source_age: int = 0
    ref: str = ""
    old: dict = field(default_factory=dict)
    copied: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)
    generation: int = 0
    info: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Explored(Event):
    """At ``step``, ``member`` changed its hyperparameters in place (explore without copying,
    or a fixed schedule)."""

    kind: ClassVar[str] = EXPLORE
    member: int = 0
    step: int = 0
    old: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Kept(Event):
    """At its ready step ``step``, ``member`` was compared and keeps training as it is."""

    kind: ClassVar[str] = KEEP
    member: int = 0
    step: int = 0
    info: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AttemptFailed(Event):
    """``train`` raised, or the worker running it died (``crashed``)."""

    kind: ClassVar[str] = FAILURE
    member: int = 0
    step: int = 0
    error: str = ""
    traceback: str = ""
    attempt: int = 0
    crashed: bool = False
    error_type: str = "Exception"

    def _data(self):
        return {"error": self.error, "traceback": self.traceback, "attempt": self.attempt,
                "crashed": self.crashed, "kind": self.error_type}

    @classmethod
    def _from_row(cls, member, step, score, data):
        return cls(member=member, step=step, error=data.get("error", ""), traceback=data.get("traceback", ""),
                   attempt=data.get("attempt", 0), crashed=data.get("crashed", False),
                   error_type=data.get("kind", "Exception"))


@dataclass(frozen=True, slots=True)
class MemberFailed(Event):
    """``member`` gave up after its retries; the run goes on without it."""

    kind: ClassVar[str] = FAILED
    member: int = 0
    step: int = 0
    error: str = ""


@dataclass(frozen=True, slots=True)
class MemberFinished(Event):
    """``member`` reached its budget, or met the run's stop condition (``stopped``) at ``step``;
    ``ref`` is its final checkpoint."""

    kind: ClassVar[str] = FINISH
    member: int = 0
    step: int = 0
    ref: str | None = None
    stopped: bool = False


@dataclass(frozen=True, slots=True)
class SessionEnded(Event):
    """The session ended: ``"finished"``, ``"interrupted"`` or ``"failed"``."""

    kind: ClassVar[str] = END
    status: str = "finished"


@dataclass(frozen=True, slots=True)
class MatchPlayed(Event):
    """A league game ``member`` reported with its step ``step``: teams of players (a live
    member's id, or ``[member, step]`` for a snapshot) and their ranks (lower is better)."""

    kind: ClassVar[str] = MATCH
    member: int = 0
    step: int = 0
    teams: list = field(default_factory=list)
    ranks: list = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OpponentsDrawn(Event):
    """The controller drew ``member``'s league opponents for its training from ``step`` on:
    ``opponents`` are players as in :class:`MatchPlayed`, ``refs`` the states they play with
    (``None``: the member's own current model, or a member with no saved state yet)."""

    kind: ClassVar[str] = OPPONENTS
    member: int = 0
    step: int = 0
    opponents: list = field(default_factory=list)
    refs: list = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LeagueReset(Event):
    """At its ready step ``step``, a league role's rule fired for ``member`` (``why``:
    ``"beat"`` or ``"timeout"``): its state there, ``ref``, joins the league as a snapshot and,
    if ``reset``, the member restarts from scratch (no checkpoint) with ``hparams``."""

    kind: ClassVar[str] = LEAGUE_RESET
    member: int = 0
    step: int = 0
    ref: str = ""
    hparams: dict = field(default_factory=dict)
    reset: bool = True
    why: str = ""


@dataclass(frozen=True, slots=True)
class UnknownEvent(Event):
    """An event of a kind this version does not know (written by a newer poptune)."""

    name: str = ""
    member: int | None = None
    step: int | None = None
    score: float | None = None
    payload: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.name

    def _data(self):
        return dict(self.payload)


KINDS: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (RunStarted, RunResumed, MemberAdded, Reported, Checkpointed, CheckpointDeleted, Exploited,
                Explored, Kept, AttemptFailed, MemberFailed, MemberFinished, SessionEnded, MatchPlayed, OpponentsDrawn,
                LeagueReset)
}
DECISIONS = (EXPLOIT, EXPLORE, KEEP)


def register(cls: type[Event]) -> type[Event]:
    """Make a new kind of event readable from the log (use as a class decorator).

    A frozen dataclass deriving from :class:`Event` with a unique ``kind``; its ``member``,
    ``step`` and ``score`` fields (if any) are stored as columns, the rest as JSON data.

    Examples:
        >>> from dataclasses import dataclass
        >>> @register
        ... @dataclass(frozen=True, slots=True)
        ... class MatchPlayed(Event):
        ...     kind: ClassVar[str] = "example_match"
        ...     member: int = 0
        ...     opponent: int = 0
        ...     outcome: float = 0.5
        >>> decode(*encode(MatchPlayed(member=1, opponent=2, outcome=1.0, time=0.0)))
        MatchPlayed(member=1, opponent=2, outcome=1.0)
    """
    if not (isinstance(cls, type) and issubclass(cls, Event) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"register() takes a dataclass deriving from Event, got {cls!r}")
    known = KINDS.get(cls.kind)
    same = known is not None and (known.__module__, known.__qualname__) == (cls.__module__, cls.__qualname__)
    if not cls.kind or (known is not None and not same):  # (a class defined again, in a notebook, replaces itself)
        raise ValueError(f"event kind {cls.kind!r} of {cls.__name__} is empty or already taken")
    KINDS[cls.kind] = cls
    return cls


def _data_fields(cls: type) -> tuple[dataclasses.Field, ...]:
    cached = _FIELDS.get(cls)
    if cached is None:
        cached = _FIELDS[cls] = tuple(
            f for f in dataclasses.fields(cls) if f.name not in ("time", "seq", *_COLUMNS)
        )
    return cached


_FIELDS: dict[type, tuple[dataclasses.Field, ...]] = {}


def encode(event: Event) -> tuple[float, str, int | None, int | None, float | None, dict]:
    """``(time, kind, member, step, score, data)``: the stored row of ``event``."""
    return (
        event.time,
        event.kind,
        getattr(event, "member", None),
        getattr(event, "step", None),
        getattr(event, "score", None),
        event._data(),
    )


def decode(time: float, kind: str, member: int | None, step: int | None, score: float | None, data: dict,
           seq: int | None = None) -> Event:
    """The event stored as this row (see :func:`encode`)."""
    cls = KINDS.get(kind)
    if cls is None:
        event = UnknownEvent(name=kind, member=member, step=step, score=score, payload=dict(data))
    else:
        event = cls._from_row(member, step, score, data)
    object.__setattr__(event, "time", time)
    object.__setattr__(event, "seq", seq)
    return event


def set_seq(event: Event, seq: int) -> None:
    """Record ``event``'s position in the log (the store calls this once, on append)."""
    object.__setattr__(event, "seq", seq)


__all__ = [
    "AttemptFailed",
    "CheckpointDeleted",
    "Checkpointed",
    "DECISIONS",
    "Event",
    "Exploited",
    "Explored",
    "KINDS",
    "Kept",
    "LeagueReset",
    "MatchPlayed",
    "MemberAdded",
    "MemberFailed",
    "MemberFinished",
    "OpponentsDrawn",
    "Reported",
    "RunResumed",
    "RunStarted",
    "SessionEnded",
    "UnknownEvent",
    "decode",
    "encode",
    "register",
    "set_seq",
]
