"""Where user code runs: in the calling process, or in local worker processes."""

from poptune.runners.base import Handler, Runner
from poptune.runners.inline import Inline
from poptune.runners.processes import Processes

__all__ = ["Handler", "Inline", "Processes", "Runner"]
