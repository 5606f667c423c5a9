"""Which checkpoint files may be deleted: those no member can ever load again."""

from __future__ import annotations

from collections import Counter

from poptune.errors import ConfigError

KEEP = ("last", "all")


class Retention:
    """Tracks, per member, the checkpoint holding its current state.

    A member's current state is its own latest checkpoint, or after an exploit the source's
    checkpoint it copied; it is what the member resumes from. A file is also *held* while a
    round that may still copy it is open. A file is deletable once no member points at it, no
    round holds it, and it is not a final checkpoint. References count by file: ``file#3``
    (member 3 of a stacked checkpoint) keeps ``file``.

    Args:
        keep: ``"last"`` deletes files as soon as they are unreachable; ``"all"`` never deletes.

    Examples:
        >>> r = Retention("last")
        >>> r.point(0, "a"), r.point(1, "a"), r.point(0, "b"), r.point(1, "c")
        ([], [], [], ['a'])
        >>> r.hold("c"), r.point(1, "d"), r.release("c")
        (None, [], ['c'])
    """

    def __init__(self, keep: str = "last"):
        if keep not in KEEP:
            raise ConfigError(f"keep_checkpoints must be one of {KEEP}, got {keep!r}")
        self.keep = keep
        self._current: dict[int, str] = {}
        self._count: Counter[str] = Counter()
        self._pinned: set[str] = set()
        self._kept: set[str] = set()  # unreachable, kept because keep == "all"

    def point(self, member: int, ref: str) -> list[str]:
        """Member's current state is now ``ref``; return the files that became deletable."""
        ref = ref.partition("#")[0]
        old = self._current.get(member)
        if old == ref:
            return []
        self._current[member] = ref
        self._count[ref] += 1
        return [] if old is None else self._drop(old)

    def leave(self, member: int) -> list[str]:
        """Member holds no saved state any more (it restarts from scratch); return the files
        that became deletable."""
        old = self._current.pop(member, None)
        return [] if old is None else self._drop(old)

    def hold(self, ref: str) -> None:
        """Keep ``ref``'s file until a matching :meth:`release` (an open round may copy it)."""
        self._count[ref.partition("#")[0]] += 1

    def release(self, ref: str) -> list[str]:
        """Undo one :meth:`hold`; return the files that became deletable."""
        return self._drop(ref.partition("#")[0])

    def _drop(self, file: str) -> list[str]:
        self._count[file] -= 1
        if self._count[file] > 0:
            return []
        del self._count[file]
        if file in self._pinned:
            return []
        if self.keep == "all":
            self._kept.add(file)
            return []
        return [file]

    def set_keep(self, keep: str) -> list[str]:
        """Change the policy (a resumed run may); return the files that became deletable."""
        if keep not in KEEP:
            raise ConfigError(f"keep_checkpoints must be one of {KEEP}, got {keep!r}")
        self.keep = keep
        if keep == "all":
            return []
        kept, self._kept = sorted(self._kept - set(self._count)), set()
        return kept

    def pin(self, ref: str) -> None:
        """Never delete ``ref``'s file (final checkpoints stay for the user)."""
        self._pinned.add(ref.partition("#")[0])
