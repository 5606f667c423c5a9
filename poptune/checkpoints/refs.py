"""Checkpoint references: a file's path under the checkpoint root, ``#row`` for a stacked file."""

from __future__ import annotations

from poptune.errors import RunLogError


def split_ref(ref: str) -> tuple[str, int | None]:
    """``(file, row)`` of a checkpoint reference: ``"f.pkl#3"`` is row 3 of a stacked file.

    Examples:
        >>> split_ref("population/s00000004.pkl#3"), split_ref("m0001/s00000004.pkl")
        (('population/s00000004.pkl', 3), ('m0001/s00000004.pkl', None))
    """
    file, _, row = ref.partition("#")
    return file, (int(row) if row else None)


def inside(file: str) -> str:
    """``file`` if it is a relative path that stays inside the checkpoint folder, else refused.

    References come from the run log, and a log may come from elsewhere: one that names
    ``../../secret`` or an absolute path must not be read, or deleted by the retention policy.

    Examples:
        >>> inside("m0001/s00000004.pkl")
        'm0001/s00000004.pkl'
        >>> inside("../outside.pkl")
        Traceback (most recent call last):
        ...
        poptune.errors.RunLogError: the run log names the checkpoint '../outside.pkl', outside its checkpoint folder; refused
    """
    parts = [part for part in file.split("/") if part not in ("", ".")]
    if not parts or file.startswith("/") or ".." in parts or "\\" in file or ":" in parts[0]:
        raise RunLogError(f"the run log names the checkpoint {file!r}, outside its checkpoint folder; refused")
    return file
