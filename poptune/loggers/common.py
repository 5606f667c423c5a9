"""What the tracker loggers share: which values are numbers, and the tracker's run ids kept in the
run directory so that a resumed session writes into the same tracker runs."""

from __future__ import annotations

import json
import numbers
from pathlib import Path

from poptune.files import write_atomic


def number(value) -> bool:
    """Whether ``value`` is a real number a tracker can plot (booleans are not)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class TrackerIds:
    """``<run dir>/loggers/<name>.json``: the tracker's run id per key (``"population"``, ``"member-3"``).

    A resumed session reads them back and continues the same tracker runs. The file holds ids
    only (strings), read with ``json``: a run directory is data.
    """

    def __init__(self, run_dir: str | Path, name: str):
        self.path = Path(run_dir) / "loggers" / f"{name}.json"
        try:
            loaded = json.loads(self.path.read_text())
        except (OSError, ValueError):
            loaded = {}
        self.ids = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}

    def get(self, key: str) -> str | None:
        return self.ids.get(key)

    def set(self, key: str, value: str) -> None:
        self.ids[key] = str(value)

    def save(self) -> None:
        self.path.parent.mkdir(exist_ok=True)
        write_atomic(self.path, json.dumps(self.ids, indent=1, sort_keys=True))
