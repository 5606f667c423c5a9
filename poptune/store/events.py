"""Event kinds of the run log and the :class:`Event` record.

The log is the run's memory: every fact about a run is one event, appended once, never
changed. Results, plots, resume and replay are all derived by reading events back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

RUN = "run"  # data: the run's configuration (first event of a run)
RESUME = "resume"  # data: configuration of a resumed session
MEMBER = "member"  # member created; data: hparams, generation
REPORT = "report"  # one step of one member; score, data: metrics
CHECKPOINT = "checkpoint"  # a member's state was saved; data: ref
CHECKPOINT_DELETED = "checkpoint_deleted"  # data: ref (retention policy)
EXPLOIT = "exploit"  # target copies source; data: source, source_step, ref, old, copied, new
EXPLORE = "explore"  # a member changes hyperparameters in place (a schedule); data: old, new
FAILURE = "failure"  # train raised or its worker died; data: error, traceback, attempt
FAILED = "failed"  # a member gave up after its retries; data: error
FINISH = "finish"  # a member reached its budget
END = "end"  # the session ended; data: status ("finished", "interrupted", "failed")

KINDS = (RUN, RESUME, MEMBER, REPORT, CHECKPOINT, CHECKPOINT_DELETED, EXPLOIT, EXPLORE, FAILURE, FAILED, FINISH, END)


@dataclass
class Event:
    """One entry of the run log.

    Attributes:
        kind: One of the kinds above.
        member: The member it concerns, if any.
        step: The member's step, if any.
        score: The reported score (report events).
        data: Anything else, JSON-serializable.
        time: Wall-clock time (seconds since the epoch) when it happened.
        seq: Position in the log, set by the store.
    """

    kind: str
    member: int | None = None
    step: int | None = None
    score: float | None = None
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)
    seq: int | None = None
