"""Writing files the safe way: atomically, never through a link, with one permission policy.

Everything poptune writes into a run directory or next to it (checkpoints, the HTML report,
plots, exports) goes through :func:`write_atomic`: the data lands in a temporary file in the
same folder, which then replaces the target with ``os.replace``. A reader sees the old file or
the new one, never half of one; and a link planted at the target (``report.html ->
~/.bashrc``) is replaced, not followed. Files get the permissions any new file of the process
gets (``0o666`` minus the umask), directories ``0o777`` minus the umask: the same policy for the
log, checkpoints and reports.
"""

from __future__ import annotations

import itertools
import os
import secrets
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # read once at import: os.umask is process-wide state


def write_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically; a link at ``path`` is replaced, never followed.

    The temporary file is named by this process (its pid, a random token drawn once per
    process, a counter) and created exclusively (``O_EXCL``), so no two writers share one, on
    one machine or across machines sharing a file system; a name left over from a killed
    writer is skipped.

    Examples:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "report.html"
        >>> write_atomic(target, "<html></html>").read_text()
        '<html></html>'
    """
    path = Path(path)
    write_atomic_str(os.fspath(path), data)
    return path


def write_atomic_str(path: str, data: bytes | str) -> None:
    """:func:`write_atomic` for a path given as a string (the checkpoint writer's fast path)."""
    payload = data.encode() if isinstance(data, str) else data
    folder, name = os.path.split(path)
    suffix = os.path.splitext(name)[1]
    for attempt in range(_ATTEMPTS):
        tmp = os.path.join(folder, f".tmp-{os.getpid()}-{_TOKEN}-{next(_COUNTER)}{suffix}")
        try:
            fd = os.open(tmp, _CREATE, FILE_MODE)
            break
        except FileExistsError:
            if attempt == _ATTEMPTS - 1:
                raise
    try:
        with os.fdopen(fd, "wb") as f:  # (closes the descriptor, whatever happens next)
            os.fchmod(f.fileno(), FILE_MODE)  # the policy, whatever the umask is now
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


_ATTEMPTS = 100  # names taken in a row before giving up (as tempfile.mkstemp)
_TOKEN = secrets.token_hex(4)
_COUNTER = itertools.count()
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
