"""poptune: Population Based Training as a library.

Examples:
    >>> import poptune as pt
    >>> space = {"lr": pt.Float(1e-4, 1e-1, log=True), "width": pt.Int(16, 256, log=True)}
"""

__version__ = "0.2.0"

from poptune import league, loggers, runners, strategies
from poptune.core import events
from poptune.strategies import fitness
from poptune.callbacks import Callback
from poptune.errors import (
    CheckpointError,
    CheckpointLostError,
    ConfigError,
    DiskFullError,
    PoptuneError,
    RunDirError,
    RunFailedError,
    RunLogError,
    StrategyError,
    UsageError,
)
from poptune.member import Member
from poptune.progress import Progress
from poptune.result import ExploitRecord, FailureRecord, LineageRecord, MemberRecord, ReportRecord, Result
from poptune.replay import replay
from poptune.run import run
from poptune.space import Choice, Float, Int, Space
from poptune.torch_state import checkpoint as torch_checkpoint
from poptune.torch_state import restore as torch_restore
from poptune.stopping import Stop
from poptune.league.league import League
from poptune.stages import StartFrom
from poptune.strategies import (
    Chain,
    Exploit,
    Explore,
    ExploreContext,
    ExploreOnly,
    MemberView,
    PB2,
    Perturb,
    PerturbOrResample,
    PopulationView,
    Resample,
    Segment,
    Tournament,
    Truncation,
    TTest,
)

__all__ = [
    "Callback",
    "Chain",
    "CheckpointError",
    "CheckpointLostError",
    "Choice",
    "ConfigError",
    "DiskFullError",
    "ExploitRecord",
    "Exploit",
    "Explore",
    "ExploreContext",
    "FailureRecord",
    "ExploreOnly",
    "Float",
    "Int",
    "League",
    "StartFrom",
    "LineageRecord",
    "Member",
    "MemberRecord",
    "MemberView",
    "PB2",
    "Perturb",
    "PerturbOrResample",
    "PopulationView",
    "PoptuneError",
    "Progress",
    "ReportRecord",
    "Resample",
    "Result",
    "RunDirError",
    "RunFailedError",
    "RunLogError",
    "Segment",
    "Space",
    "Stop",
    "StrategyError",
    "TTest",
    "Tournament",
    "Truncation",
    "UsageError",
    "__version__",
    "events",
    "league",
    "fitness",
    "loggers",
    "replay",
    "run",
    "runners",
    "strategies",
    "torch_checkpoint",
    "torch_restore",
]


def __getattr__(name: str):
    # torch- and matplotlib-backed parts load on first use: `import poptune` stays light.
    if name in ("vectorized", "plots", "report"):
        import importlib

        return importlib.import_module(f"poptune.{name}")
    raise AttributeError(f"module 'poptune' has no attribute {name!r}")
