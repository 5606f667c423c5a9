"""The run log in one SQLite file: two operations, append and read.

SQLite in WAL mode lets the controller (the single writer) append while ``poptune status``
and :meth:`poptune.Result.load` read the same file. A committed append survives the writer
being killed; ``synchronous=NORMAL`` trades the last transactions on power loss for commits
of ~20 microseconds.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path
from collections.abc import Iterable, Sequence

from poptune.core import events as ev
from poptune.core.events import Event
from poptune.errors import DiskFullError, PoptuneError, RunDirError, RunLogError
from poptune.files import FILE_MODE

FILENAME = "poptune.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    member INTEGER,
    step INTEGER,
    score REAL,
    data TEXT NOT NULL
);
"""  # (no index on kind: it cost each append a third of its time, and a run is read whole; no
# AUTOINCREMENT: rows are never deleted, so the rowid alias counts up all the same, without a
# second table written on every insert. Logs made with it read and append as before.)


_JSON = json.JSONEncoder(separators=(",", ":"))  # one encoder: json.dumps with options builds one per call


def _row(event: Event) -> tuple:
    time, kind, member, step, score, data = ev.encode(event)
    return time, kind, member, step, score, _JSON.encode(data) if data else "{}"


def store_path(run_dir: str | os.PathLike) -> Path:
    """Where the log of the run in ``run_dir`` lives."""
    return Path(run_dir) / FILENAME


class Store:
    """Append-only event log of one run.

    Args:
        path: The SQLite file. Created (with its directory) unless ``readonly``.
        readonly: Open for reading only; the file must exist.

    Examples:
        >>> import tempfile
        >>> from poptune.core.events import Reported
        >>> from poptune.store import Store
        >>> store = Store(tempfile.mkdtemp() + "/poptune.db")
        >>> store.append([Reported(member=0, step=1, score=0.5)])
        >>> [(e.kind, e.member, e.score) for e in store.read()]
        [('report', 0, 0.5)]
        >>> store.close()
    """

    def __init__(self, path: str | os.PathLike, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if readonly:
            if not self.path.is_file():
                raise RunLogError(f"no poptune run log at {self.path}")
            self._db = self._open_readonly()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            for file in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                if file.is_file() and not file.is_symlink():
                    os.chmod(file, FILE_MODE)  # the permission policy of poptune.files
        except (sqlite3.DatabaseError, OSError) as err:
            raise self._named(err) from err

    def _open_readonly(self) -> sqlite3.Connection:
        """Open for reading, never writing: a run on read-only media, or copied without its
        ``-wal``/``-shm`` files, opens as it is (``immutable``) when SQLite cannot read it there."""
        base = self.path.resolve().as_uri()
        for query in ("?mode=ro", "?mode=ro&immutable=1"):
            db = sqlite3.connect(base + query, uri=True, isolation_level=None, check_same_thread=False)
            try:
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return db
            except sqlite3.OperationalError as err:  # cannot create the -shm file beside it, say
                db.close()
                last = err
            except sqlite3.DatabaseError as err:
                db.close()
                raise self._named(err) from err
        raise self._named(last) from last

    def _named(self, err: BaseException) -> PoptuneError:
        """The poptune error for what SQLite or the OS said."""
        text = str(err)
        if isinstance(err, sqlite3.OperationalError) and "full" in text or getattr(err, "errno", None) == errno.ENOSPC:
            return DiskFullError(f"no space left for the run log {self.path} ({text}); free some space, then "
                                 f"resume the run (resume=True): what was committed is kept")
        if isinstance(err, (PermissionError, sqlite3.OperationalError)) and (
                "readonly" in text or "unable to open" in text or isinstance(err, PermissionError)):
            return RunDirError(f"cannot write the run log {self.path} ({text}): the directory is not writable; "
                               f"choose another dir (pt.Result.load reads a run without writing)")
        if isinstance(err, OSError):
            return RunDirError(f"cannot use {self.path.parent} as a run directory ({text}); choose another dir")
        return RunLogError(
            f"the run log {self.path} is damaged or not a poptune log ({text}). Its checkpoint files are "
            f"untouched (load one with poptune.checkpoints.loads); start over in another dir, or pass "
            f"overwrite=True to replace it"
        )

    def append(self, events: Iterable[Event]) -> None:
        """Append ``events`` in one transaction and set their ``seq``."""
        if self.readonly:
            raise PoptuneError(f"{self.path} is open read-only")
        events = list(events)
        if not events:
            return
        cursor = self._db.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany("INSERT INTO events(time, kind, member, step, score, data) VALUES (?, ?, ?, ?, ?, ?)",
                               map(_row, events))
            # the only writer, inside one transaction: the rows got consecutive seqs
            last = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
            cursor.execute("COMMIT")
            for offset, event in enumerate(events, start=last - len(events) + 1):
                ev.set_seq(event, offset)
        except BaseException as err:
            if self._db.in_transaction:
                try:
                    cursor.execute("ROLLBACK")
                except sqlite3.DatabaseError:
                    pass  # (SQLite may have rolled back already)
            if isinstance(err, sqlite3.DatabaseError):
                raise self._named(err) from err
            raise

    def empty(self) -> bool:
        """Whether the log holds no event (a creation cut short leaves such a log)."""
        try:
            return self._db.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None
        except sqlite3.OperationalError as err:
            if "no such table" in str(err):
                return True
            raise self._named(err) from err
        except sqlite3.DatabaseError as err:
            raise self._named(err) from err

    def read(self, after: int = 0, kinds: Sequence[str] | None = None) -> list[Event]:
        """Events with ``seq > after`` in log order, optionally only of ``kinds``.

        A log whose creation was cut short (its table not made yet) reads as empty.
        """
        query = "SELECT seq, time, kind, member, step, score, data FROM events WHERE seq > ?"
        args: list = [after]
        if kinds:
            query += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        try:
            rows = self._db.execute(query + " ORDER BY seq", args).fetchall()
        except sqlite3.OperationalError as err:
            if "no such table" in str(err):
                return []
            raise self._named(err) from err
        except sqlite3.DatabaseError as err:
            raise self._named(err) from err
        try:
            return [ev.decode(t, kind, member, step, score, json.loads(data), seq)
                    for seq, t, kind, member, step, score, data in rows]
        except (ValueError, TypeError, KeyError) as err:
            raise RunLogError(f"the run log {self.path} holds an event this poptune cannot read ({err})") from err

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
