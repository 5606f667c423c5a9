"""What travels between the controller and the workers that run user code.

Controller to worker: a :class:`Task` (run this member from this state), and at ready points
a reply (:data:`CONTINUE`, :data:`YIELD` or a :class:`Restart`). Worker to controller:
:class:`Report`, :class:`Failure`, :class:`Idle`. All are small picklable records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Task:
    """Run member ``member`` from the state in ``ref`` (``None``: fresh start) at step ``start``.

    ``interval``, ``burn_in`` and ``budget`` (or an explicit ``ready_at``) let the worker tell
    ready steps from the others, so that it serializes checkpoints only where they are needed.
    """

    member: int
    hparams: dict
    ref: str | None
    start: int
    budget: int
    interval: int | None
    burn_in: int
    seed: int
    generation: int = 0
    attempt: int = 0
    session: int = 0
    ready_at: tuple[int, ...] | None = None


@dataclass
class Report:
    """One reported step. ``ref`` names the checkpoint saved with it (ready and final steps)."""

    member: int
    step: int
    score: float
    metrics: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0
    ref: str | None = None
    ready: bool = False
    final: bool = False


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


CONTINUE = "continue"  # reply: keep training, same hyperparameters, same call of train
YIELD = "yield"  # reply: stop this call of train; the member waits for a free worker
