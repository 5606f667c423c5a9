"""What travels between the controller and the workers that run user code.

Controller to worker: a :class:`Task` (run this member from this state until this stop), and
at each ready stop a reply (:class:`Continue`, :data:`YIELD` or a :class:`Restart`). Worker to
controller: :class:`Report`, :class:`Failure`, :class:`Idle`. All are small picklable records.
The worker decides nothing: the core tells it where it stops next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Task:
    """Run member ``member`` from the state in ``ref`` (``None``: fresh start) after step ``start``.

    At step ``stop`` (a ready step, or ``budget``) the member saves its state and, before its
    budget, waits for a reply; it serializes its state nowhere else.
    """

    member: int
    hparams: dict
    ref: str | None
    start: int
    stop: int
    budget: int
    seed: int
    generation: int = 0
    attempt: int = 0
    session: int = 0
    trusted: bool = False  # load checkpoints with full pickle (trust_checkpoints=True)
    opponents: tuple = ()  # league runs: (player as JSON, hparams, ref or None) per opponent drawn
    population: int = 0  # league runs: members in the run (players a match may name)


@dataclass
class Report:
    """One reported step. ``ref`` names the checkpoint saved with it (at a stop); ``ready`` says
    the worker waits for a reply (a stop before the budget); ``final`` marks the budget's end."""

    member: int
    step: int
    score: float
    metrics: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0
    ref: str | None = None
    ready: bool = False
    final: bool = False
    matches: tuple = ()  # league runs: the matches played since the last report (Match.to_dict())


@dataclass
class Failure:
    """The train function raised, or the worker running it died.

    ``usage`` marks a misuse of the member handle (not retried); ``crashed`` a dead worker.
    """

    member: int
    step: int
    error: str
    traceback: str = ""
    usage: bool = False
    crashed: bool = False
    kind: str = "Exception"


@dataclass
class Idle:
    """The train function returned normally: the worker is free again."""

    member: int


@dataclass
class Restart:
    """Reply at a ready point: stop this call of ``train`` and call it again with ``task``."""

    task: Task


@dataclass(frozen=True)
class Continue:
    """Reply at a ready point: keep training in the same call of ``train``; stop next at ``stop``
    (in a league, against ``opponents``, as in :class:`Task`)."""

    stop: int
    opponents: tuple = ()


YIELD = "yield"  # reply: stop this call of train; the member waits for a free worker
STOP = "stop"  # reply: the member met the run's stop condition; it is finished
