"""Where member state lives: checkpoint files, separate from the run log."""

from poptune.checkpoints.local import LocalCheckpoints
from poptune.checkpoints.retention import Retention
from poptune.checkpoints.serialize import dumps, loads, resolve

__all__ = ["LocalCheckpoints", "Retention", "dumps", "loads", "resolve"]
