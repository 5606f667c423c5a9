"""Checkpoint files in a local directory, written atomically."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from poptune.checkpoints.refs import inside, split_ref
from poptune.errors import CheckpointLostError, DiskFullError
from poptune.files import write_atomic_str


class LocalCheckpoints:
    """Checkpoint files under ``root``, named by member and step.

    A reference (``ref``) is the file's path relative to ``root``, so a run directory can be
    moved. Names carry the session (0 for the first, 1 after the first resume...), so a worker
    orphaned by a crashed session can never overwrite a file the resumed session wrote. Writes
    go to a temporary file in the same directory, then ``os.replace``
    (:func:`poptune.files.write_atomic`): a reader sees the old file or the new one, never half
    of one, even if the writer is killed.

    Examples:
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
        self._root = os.fspath(self.root)

    @staticmethod
    def ref(member: int, step: int, session: int = 0) -> str:
        suffix = f"-r{session}" if session else ""
        return f"m{member:04d}/s{step:08d}{suffix}.pkl"

    def path(self, ref: str) -> Path:
        """The file of ``ref`` (a ``#member`` suffix names a row of a stacked checkpoint), always
        inside ``root``: a reference from a log that points elsewhere is refused."""
        return Path(self._file(ref))

    def _file(self, ref: str) -> str:
        # (strings, not Paths: this runs twice per ready step, and pathlib's parsing is most of it)
        return os.path.join(self._root, inside(split_ref(ref)[0]))

    def save(self, ref: str, payload: bytes) -> None:
        path = self._file(ref)
        try:
            try:
                write_atomic_str(path, payload)
            except FileNotFoundError:  # the member's first checkpoint: its folder is made once
                os.makedirs(os.path.dirname(path), exist_ok=True)
                write_atomic_str(path, payload)
        except OSError as err:
            if err.errno == errno.ENOSPC:
                raise DiskFullError(f"no space left for checkpoint {path}; free some space, then resume the "
                                    f"run (resume=True): every checkpoint saved before is kept") from None
            raise

    def load(self, ref: str) -> bytes:
        path = self._file(ref)
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise CheckpointLostError(f"checkpoint {path} is missing; was the run directory edited by hand?") from None

    def delete(self, ref: str) -> None:
        try:
            os.unlink(self._file(ref))
        except FileNotFoundError:
            pass

    def exists(self, ref: str) -> bool:
        return os.path.exists(self._file(ref))
