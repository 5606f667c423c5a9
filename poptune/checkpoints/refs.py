"""Checkpoint references: a file's path under the checkpoint root, ``#row`` for a stacked file."""

from __future__ import annotations


def split_ref(ref: str) -> tuple[str, int | None]:
    """``(file, row)`` of a checkpoint reference: ``"f.pkl#3"`` is row 3 of a stacked file.

    Example:
        >>> split_ref("population/s00000004.pkl#3"), split_ref("m0001/s00000004.pkl")
        (('population/s00000004.pkl', 3), ('m0001/s00000004.pkl', None))
    """
    file, _, row = ref.partition("#")
    return file, (int(row) if row else None)
