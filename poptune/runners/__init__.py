"""Where user code runs: in the calling process, local worker processes, or Ray actors."""

from poptune.runners.base import Handler, Runner
from poptune.runners.inline import Inline
from poptune.runners.processes import Processes
from poptune.runners.ray_runner import Ray  # imports ray only when started

__all__ = ["Handler", "Inline", "Processes", "Ray", "Runner"]
