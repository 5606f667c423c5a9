"""The decision core: typed events, the state they reduce to, and every PBT decision.

- :mod:`~poptune.core.events`: the facts of a run (frozen dataclasses, JSON codec);
- :mod:`~poptune.core.state`: the population state, reduced from events, with the indexes
  decisions need (rounds, segments, retention, pacing);
- :mod:`~poptune.core.decide`: one decision, a pure function of the state and the seed;
- :mod:`~poptune.core.engine`: dispatch, stops, waiting, pacing and failures;
- :mod:`~poptune.core.messages`: what runners carry between the engine and the workers.

Runners, the controller and the vectorized session are adapters around it: they move work and
messages, and never decide.
"""

from poptune.core import events
from poptune.core.decide import Decider
from poptune.core.engine import Engine
from poptune.core.ready import ReadyRule, is_ready_step
from poptune.core.state import FAILED, FINISHED, PENDING, MemberState, PopulationState

__all__ = [
    "FAILED",
    "FINISHED",
    "PENDING",
    "Decider",
    "Engine",
    "MemberState",
    "PopulationState",
    "ReadyRule",
    "events",
    "is_ready_step",
]
