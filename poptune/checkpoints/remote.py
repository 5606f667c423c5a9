"""Checkpoint files at any fsspec location (``s3://``, ``gs://``, ``file://``...), for clusters."""

from __future__ import annotations

import uuid

from poptune.checkpoints.local import LocalCheckpoints
from poptune.checkpoints.refs import inside, split_ref
from poptune.errors import CheckpointLostError, PoptuneError


class FsspecCheckpoints:
    """Checkpoint files under an fsspec URL, with the same interface as ``LocalCheckpoints``.

    Writes are whole-object: to a temporary name then moved (a rename on POSIX file systems; an
    object store's PUT is already atomic). Every worker and the controller must reach the URL.

    Args:
        url: The folder, e.g. ``"s3://bucket/runs/digits/checkpoints"``.
        storage_options: Passed to ``fsspec`` (credentials, endpoint...).

    Examples:
        >>> import tempfile
        >>> store = FsspecCheckpoints("file://" + tempfile.mkdtemp())
        >>> store.save("m0001/s00000004.pkl", b"state")
        >>> store.load("m0001/s00000004.pkl")
        b'state'
    """

    def __init__(self, url: str, storage_options: dict | None = None):
        try:
            import fsspec
        except ImportError:
            raise PoptuneError("checkpoints at a URL need fsspec: pip install 'poptune[ray]'") from None
        self.url = url.rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **(storage_options or {}))

    @staticmethod
    def ref(member: int, step: int, session: int = 0) -> str:
        return LocalCheckpoints.ref(member, step, session)

    def path(self, ref: str) -> str:
        return f"{self.root}/{inside(split_ref(ref)[0])}"

    def save(self, ref: str, payload: bytes) -> None:
        path = self.path(ref)
        parent = path.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        tmp = f"{parent}/.tmp-{uuid.uuid4().hex}"
        self.fs.pipe_file(tmp, payload)
        self.fs.mv(tmp, path)

    def load(self, ref: str) -> bytes:
        try:
            return self.fs.cat_file(self.path(ref))
        except FileNotFoundError:
            raise CheckpointLostError(f"checkpoint {self.url}/{ref} is missing") from None

    def delete(self, ref: str) -> None:
        try:
            self.fs.rm_file(self.path(ref))
        except FileNotFoundError:
            pass

    def exists(self, ref: str) -> bool:
        return self.fs.exists(self.path(ref))

