"""Checkpoint files in a local directory, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from poptune.checkpoints.refs import split_ref
from poptune.errors import CheckpointError


class LocalCheckpoints:
    """Checkpoint files under ``root``, named by member and step.

    A reference (``ref``) is the file's path relative to ``root``, so a run directory can be
    moved. Names carry the session (0 for the first, 1 after the first resume...), so a worker
    orphaned by a crashed session can never overwrite a file the resumed session wrote. Writes go to a temporary file in the same directory, then ``os.replace``: a reader
    sees the old file or the new one, never half of one, even if the writer is killed.

    Example:
        >>> import tempfile
        >>> ckpts = LocalCheckpoints(tempfile.mkdtemp())
        >>> ref = ckpts.ref(3, 8)
        >>> ref
        'm0003/s00000008.pkl'
        >>> ckpts.ref(3, 8, session=2)
        'm0003/s00000008-r2.pkl'
        >>> ckpts.save(ref, b"state")
        >>> ckpts.load(ref)
        b'state'
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @staticmethod
    def ref(member: int, step: int, session: int = 0) -> str:
        suffix = f"-r{session}" if session else ""
        return f"m{member:04d}/s{step:08d}{suffix}.pkl"

    def path(self, ref: str) -> Path:
        """The file of ``ref`` (a ``#member`` suffix names a row of a stacked checkpoint)."""
        return self.root / split_ref(ref)[0]

    def save(self, ref: str, payload: bytes) -> None:
        path = self.path(ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pkl")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def load(self, ref: str) -> bytes:
        try:
            return self.path(ref).read_bytes()
        except FileNotFoundError:
            raise CheckpointError(
                f"checkpoint {self.path(ref)} is missing; was the run directory edited by hand?"
            ) from None

    def delete(self, ref: str) -> None:
        try:
            self.path(ref).unlink()
        except FileNotFoundError:
            pass

    def exists(self, ref: str) -> bool:
        return self.path(ref).exists()
