"""One replay memory for a whole population of off-policy learners (SEARL's shared experience).

Franke et al. 2021 ("Sample-Efficient Automated Deep Reinforcement Learning", arXiv:2009.01555)
let every member of an evolving population of off-policy agents write its transitions into one
replay memory and sample from everyone's, so each environment step serves the whole population.

Ownership and persistence. The memory is a folder of *shards*: ``<directory>/member-<id>/
step-<n>.npz`` holds the transitions member ``id`` collected during its step ``n``. Only that
member writes (or deletes) files under ``member-<id>/``, so there is one writer per file and no
lock. A shard is written atomically (a temporary file, then ``os.replace``): a reader in another
process sees the whole shard or none of it, never half of one.

Readers are asynchronous: :meth:`SharedReplay.refresh` lists every member's shards and loads the
new or replaced ones into this process's memory (shards already loaded are kept, not re-read).
Between refreshes a reader samples from what it last listed; other members' latest steps appear
at the next refresh. The capacity is enforced first in first out: the window is the newest
shards (ordered by step, then member) holding at most ``capacity`` transitions; older shards are
not sampled, and each writer deletes its own evicted shards when it writes.

Resume. poptune resumes (or retries) a member from its last checkpoint and runs the steps after
it again. A re-run step writes the same file name, which replaces the shard of the lost attempt
instead of adding a second one. Call :meth:`SharedReplay.rewind` when ``train`` starts to drop
the shards the member wrote after its checkpoint (and temporary files a kill left behind), so
other members do not sample experience from a future that is being redone. A reader that loaded
such a shard before the rewind keeps sampling it until its next refresh. After ``kill -9`` of
the controller, a worker still inside a step may write that step's shard before it notices (at
its next report) and ends; the resumed member re-runs that step and replaces the shard. Shards
hold transitions only: a member's networks, optimizer and environment live in its checkpoint.
"""

from __future__ import annotations

import io
import numbers
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from poptune.errors import ConfigError
from poptune.files import write_atomic

_SHARD = re.compile(r"step-(\d+)\.npz")
_MEMBER = re.compile(r"member-(\d+)")


class SharedReplay:
    """A replay memory the members of a population write to and sample from, across processes.

    Args:
        directory: The memory's folder (created if missing); every process of the run names
            the same one, e.g. ``<run dir>/replay``.
        capacity: Transitions kept, at most: the newest shards that fit (whole shards, at least
            the newest one).
        members: Sample only these members' shards (``[member.id]`` gives a private memory
            with the same files and code); ``None``: every member's.

    Examples:
        >>> import tempfile, numpy as np
        >>> replay = SharedReplay(tempfile.mkdtemp(), capacity=100)
        >>> for member in (0, 1):
        ...     _ = replay.write(member, 1, obs=np.full((3, 2), member, np.float32), action=np.zeros(3, np.int64))
        >>> replay.refresh(), len(replay)
        (2, 6)
        >>> batch = replay.sample(4, np.random.default_rng(0))
        >>> batch["obs"].shape, batch["action"].dtype
        ((4, 2), dtype('int64'))
        >>> SharedReplay(replay.directory, capacity=100, members=[1]).refresh()
        1
    """

    def __init__(self, directory: str | os.PathLike, capacity: int, *, members=None):
        if isinstance(capacity, bool) or not isinstance(capacity, numbers.Integral) or capacity < 1:
            raise ConfigError(f"SharedReplay: capacity must be a positive integer (transitions), got {capacity!r}; "
                              f"e.g. capacity=100_000")
        if members is not None:
            members = frozenset(_as_member(m, "SharedReplay(members)") for m in members)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.capacity = int(capacity)
        self.members = members
        self._loaded: dict[Path, tuple[tuple, dict[str, np.ndarray]]] = {}  # path -> (file identity, arrays)
        self._window: list[tuple[int, int, Path]] = []  # (step, member, path), oldest first
        self._batch: dict[str, np.ndarray] | None = None  # the window's arrays, concatenated

    def write(self, member: int, step: int, /, **arrays: Any) -> Path:
        """Save the transitions ``member`` collected during ``step`` as one shard, atomically.

        Writing the same ``(member, step)`` again replaces the shard (a re-run step after a
        resume). Then deletes this member's own shards that fell out of the window.

        Args:
            member: The writing member's id (``member.id``); only it may write this shard.
            step: The step the transitions belong to (``step`` from ``member.steps()``).
            **arrays: One array per field (``obs=..., action=..., reward=...``), all with the
                same length (the number of transitions, at least 1) along the first axis.

        Returns:
            The shard's path.
        """
        member, step = _as_member(member, "SharedReplay.write(member)"), _as_member(step, "SharedReplay.write(step)")
        if not arrays:
            raise ConfigError("SharedReplay.write: no arrays given; pass the fields, e.g. write(id, step, obs=o, "
                              "action=a, reward=r, next_obs=o2, done=d)")
        arrays = {name: np.asarray(value) for name, value in arrays.items()}
        lengths = {name: (len(a) if a.ndim else None) for name, a in arrays.items()}
        if len(set(lengths.values())) != 1 or None in lengths.values() or not next(iter(lengths.values())):
            raise ConfigError(f"SharedReplay.write: every array needs the same non-zero length along axis 0 (one "
                              f"row per transition), got lengths {lengths}")
        objects = [name for name, a in arrays.items() if a.dtype.hasobject]
        if objects:
            raise ConfigError(f"SharedReplay.write: {objects} hold Python objects; pass numeric arrays (shards are "
                              f"read back without pickle)")
        folder = self.directory / f"member-{member}"
        folder.mkdir(exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        path = write_atomic(folder / f"step-{step}.npz", buffer.getvalue())
        self._loaded[path] = (_identity(path.stat()), arrays)
        self._index()
        self._prune(member)
        return path

    def rewind(self, member: int, step: int) -> int:
        """Delete ``member``'s shards of steps after ``step`` and its leftover temporary files.

        Call it where ``train`` starts, with ``member.step`` (the checkpoint it resumes from).

        Returns:
            The number of shards deleted.
        """
        member, step = _as_member(member, "SharedReplay.rewind(member)"), _as_member(step, "SharedReplay.rewind(step)")
        folder, deleted = self.directory / f"member-{member}", 0
        if not folder.is_dir():
            return 0
        for path in folder.iterdir():
            match = _SHARD.fullmatch(path.name)
            if path.name.startswith(".tmp-") or (match and int(match.group(1)) > step):
                path.unlink(missing_ok=True)
                self._loaded.pop(path, None)
                deleted += bool(match)
        self._index()
        return deleted

    def refresh(self) -> int:
        """List every member's shards, load the new or replaced ones; returns the shards in the window."""
        self._index()
        return len(self._window)

    def sample(self, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw ``batch`` transitions uniformly, with replacement, from the window as last listed.

        Raises:
            ConfigError: ``batch`` is not a positive integer, or the memory holds no shard yet.
        """
        if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or batch < 1:
            raise ConfigError(f"SharedReplay.sample: batch must be a positive integer, got {batch!r}")
        data = self._arrays()
        rows = rng.integers(len(self), size=int(batch))
        return {name: values[rows] for name, values in data.items()}

    def __len__(self) -> int:
        """The transitions in the window."""
        return sum(len(next(iter(self._loaded[path][1].values()))) for _, _, path in self._window)

    def sources(self) -> dict[int, int]:
        """Transitions in the window per member id (what sampling draws from)."""
        counts: dict[int, int] = {}
        for _, member, path in self._window:
            counts[member] = counts.get(member, 0) + len(next(iter(self._loaded[path][1].values())))
        return counts

    def _index(self) -> None:
        """Re-list the shards (loading what changed) and recompute the window, newest first."""
        found: list[tuple[int, int, Path]] = []
        for folder in self.directory.iterdir():
            match = _MEMBER.fullmatch(folder.name)
            if not match or (self.members is not None and int(match.group(1)) not in self.members):
                continue
            for path in folder.iterdir():
                shard = _SHARD.fullmatch(path.name)
                if shard and self._load(path):
                    found.append((int(shard.group(1)), int(match.group(1)), path))
        listed = {path for *_, path in found}
        for path in [p for p in self._loaded if p not in listed]:
            del self._loaded[path]  # deleted by its writer: forget it
        window, total = [], 0
        for key in sorted(found, reverse=True):
            size = len(next(iter(self._loaded[key[2]][1].values())))
            if window and total + size > self.capacity:
                break
            window.append(key)
            total += size
        window.reverse()
        if window != self._window:
            self._window, self._batch = window, None

    def _load(self, path: Path) -> bool:
        try:
            with open(path, "rb") as f:  # the identity and the contents come from one open file
                identity = _identity(os.fstat(f.fileno()))
                cached = self._loaded.get(path)
                if cached is None or cached[0] != identity:
                    with np.load(f) as data:
                        self._loaded[path] = (identity, {name: data[name] for name in data.files})
                    self._batch = None
        except FileNotFoundError:
            return False  # deleted by its writer since the listing
        return True

    def _arrays(self) -> dict[str, np.ndarray]:
        if not self._window:
            raise ConfigError(f"SharedReplay.sample: no transitions in {self.directory} yet; write() a shard (and "
                              f"refresh()) before sampling")
        if self._batch is None:
            parts = [self._loaded[path][1] for *_, path in self._window]
            names = set(parts[0])
            for (_, _, path), part in zip(self._window, parts):
                if set(part) != names:
                    raise ConfigError(f"SharedReplay: shard {path} has fields {sorted(part)}, others have "
                                      f"{sorted(names)}; every member must write the same fields")
            self._batch = {name: np.concatenate([part[name] for part in parts]) for name in sorted(names)}
        return self._batch

    def _prune(self, member: int) -> None:
        """Delete this member's shards older than the window (only the owner deletes its files)."""
        if not self._window:
            return
        oldest = self._window[0][:2]
        for path in list((self.directory / f"member-{member}").iterdir()):
            match = _SHARD.fullmatch(path.name)
            if match and (int(match.group(1)), member) < oldest:
                path.unlink(missing_ok=True)
                self._loaded.pop(path, None)


def _identity(stat: os.stat_result) -> tuple:
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _as_member(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConfigError(f"{where}: expected a non-negative integer, got {value!r}; pass member.id or the step "
                          f"from member.steps()")
    return int(value)
