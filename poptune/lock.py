"""One live session per run directory.

Two processes writing the same run (a second ``pt.run`` on the same ``dir``, a ``resume`` while
the run still goes) would write the same checkpoint names and delete each other's files. A
session therefore holds an operating-system lock on ``<dir>/poptune.lock`` (``filelock``) while
it runs; the lock dies with its process, so a run killed with ``kill -9`` never leaves a stale
lock behind. Who holds it (pid, host, start time) is written next to it, for the error message.
Reading a run (:class:`~poptune.Result`, ``poptune status``) takes no lock.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
from pathlib import Path

from filelock import FileLock, Timeout

from poptune.errors import RunDirError

LOCK, HOLDER = "poptune.lock", "poptune.lock.json"


class RunLock:
    """The lock of the run in ``run_dir`` (created if needed).

    Examples:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> with RunLock(d):
        ...     try:
        ...         RunLock(d).acquire()
        ...     except RunDirError as err:
        ...         print(str(err).split(":")[0])
        another session is using this run directory
    """

    def __init__(self, run_dir: str | os.PathLike):
        self.dir = Path(run_dir)
        self._lock: FileLock | None = None

    def acquire(self) -> RunLock:
        """Take the lock, or raise :class:`RunDirError` naming the session that holds it."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise RunDirError(f"dir={str(self.dir)!r} is a file, not a directory; choose another dir") from None
        except OSError as err:
            raise RunDirError(f"dir={str(self.dir)!r} cannot be created here ({err.strerror}); "
                              f"choose a directory you can write to") from None
        if not self.dir.is_dir():
            raise RunDirError(f"dir={str(self.dir)!r} is not a directory; choose another dir")
        lock = FileLock(str(self.dir / LOCK), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise RunDirError(
                f"another session is using this run directory: {self._holder()}. Wait for it to end, "
                f"stop it (Ctrl-C), or choose another dir; its lock goes away with its process"
            ) from None
        except OSError as err:  # permission denied, a read-only file system...
            raise RunDirError(f"dir={str(self.dir)!r} is not writable ({err.strerror}); choose a directory you "
                              f"can write to (to read a run there, use pt.Result.load)") from None
        self._lock = lock
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": datetime.datetime.now().isoformat(timespec="seconds")}
        try:
            (self.dir / HOLDER).write_text(json.dumps(holder))
        except OSError:
            pass  # only the error message of a second session would miss it
        return self

    def _holder(self) -> str:
        try:
            holder = json.loads((self.dir / HOLDER).read_text())
            return f"pid {holder['pid']} on {holder['host']}, since {holder['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "a session whose details are unknown"

    def release(self) -> None:
        if self._lock is not None:
            try:
                (self.dir / HOLDER).unlink(missing_ok=True)
            except OSError:
                pass
            self._lock.release()
            self._lock = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
