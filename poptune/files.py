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

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # read once at import: os.umask is process-wide state


def write_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically; a link at ``path`` is replaced, never followed.

    Examples:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "report.html"
        >>> write_atomic(target, "<html></html>").read_text()
        '<html></html>'
    """
    path = Path(path)
    payload = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
