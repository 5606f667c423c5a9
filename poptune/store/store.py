"""The run log in one SQLite file: two operations, append and read.

SQLite in WAL mode lets the controller (the single writer) append while ``poptune status``
and :meth:`poptune.Result.load` read the same file. A committed append survives the writer
being killed; ``synchronous=NORMAL`` trades the last transactions on power loss for commits
of ~20 microseconds.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from collections.abc import Iterable, Sequence

from poptune.core import events as ev
from poptune.core.events import Event
from poptune.errors import PoptuneError

FILENAME = "poptune.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    member INTEGER,
    step INTEGER,
    score REAL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind);
"""


def store_path(run_dir: str | os.PathLike) -> Path:
    """Where the log of the run in ``run_dir`` lives."""
    return Path(run_dir) / FILENAME


class Store:
    """Append-only event log of one run.

    Args:
        path: The SQLite file. Created (with its directory) unless ``readonly``.
        readonly: Open for reading only; the file must exist.

    Example:
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
            if not self.path.exists():
                raise PoptuneError(f"no poptune run log at {self.path}")
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def append(self, events: Iterable[Event]) -> None:
        """Append ``events`` in one transaction and set their ``seq``."""
        if self.readonly:
            raise PoptuneError(f"{self.path} is open read-only")
        events = list(events)
        if not events:
            return
        cursor = self._db.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            for event in events:
                time, kind, member, step, score, data = ev.encode(event)
                cursor.execute(
                    "INSERT INTO events(time, kind, member, step, score, data) VALUES (?, ?, ?, ?, ?, ?)",
                    (time, kind, member, step, score, json.dumps(data, separators=(",", ":"))),
                )
                ev.set_seq(event, cursor.lastrowid)
            cursor.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                cursor.execute("ROLLBACK")
            raise

    def read(self, after: int = 0, kinds: Sequence[str] | None = None) -> list[Event]:
        """Events with ``seq > after`` in log order, optionally only of ``kinds``."""
        query = "SELECT seq, time, kind, member, step, score, data FROM events WHERE seq > ?"
        args: list = [after]
        if kinds:
            query += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        rows = self._db.execute(query + " ORDER BY seq", args).fetchall()
        return [ev.decode(t, kind, member, step, score, json.loads(data), seq)
                for seq, t, kind, member, step, score, data in rows]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
