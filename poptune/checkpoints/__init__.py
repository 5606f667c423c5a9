"""Where member state lives: checkpoint files, separate from the run log."""

import os

from poptune.checkpoints.local import LocalCheckpoints
from poptune.checkpoints.serialize import dumps, loads, resolve


def split_ref(ref: str) -> tuple[str, int | None]:
    """``(file, row)`` of a checkpoint reference: ``"f.pkl#3"`` is row 3 of a stacked file.

    Example:
        >>> split_ref("population/s00000004.pkl#3"), split_ref("m0001/s00000004.pkl")
        (('population/s00000004.pkl', 3), ('m0001/s00000004.pkl', None))
    """
    file, _, row = ref.partition("#")
    return file, (int(row) if row else None)


def open_checkpoints(location: str | os.PathLike):
    """The checkpoint store at ``location``: a local folder, or an fsspec URL (``s3://...``)."""
    location = str(location)
    if "://" in location and not location.startswith("file://"):
        from poptune.checkpoints.remote import FsspecCheckpoints

        return FsspecCheckpoints(location)
    return LocalCheckpoints(location.removeprefix("file://"))


__all__ = ["LocalCheckpoints", "dumps", "loads", "open_checkpoints", "resolve", "split_ref"]
