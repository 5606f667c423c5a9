"""Where member state lives: checkpoint files, separate from the run log."""

import os

from poptune.checkpoints.local import LocalCheckpoints
from poptune.checkpoints.refs import split_ref
from poptune.checkpoints.serialize import dumps, loads, resolve


def open_checkpoints(location: str | os.PathLike):
    """The checkpoint store at ``location``: a local folder, or an fsspec URL (``s3://...``)."""
    location = str(location)
    if "://" in location and not location.startswith("file://"):
        from poptune.checkpoints.remote import FsspecCheckpoints

        return FsspecCheckpoints(location)
    return LocalCheckpoints(location.removeprefix("file://"))


__all__ = ["LocalCheckpoints", "dumps", "loads", "open_checkpoints", "resolve", "split_ref"]
