"""The PBT state machine: population state (from the log) and exploit/explore decisions."""

from poptune.scheduler.population import FAILED, FINISHED, PENDING, MemberState, Population
from poptune.scheduler.scheduler import Decision, Scheduler, is_ready_step

__all__ = [
    "FAILED",
    "FINISHED",
    "PENDING",
    "Decision",
    "MemberState",
    "Population",
    "Scheduler",
    "is_ready_step",
]
