"""Who plays in a league: a live member, or a frozen snapshot of a member at a past step."""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass
from typing import Union

from poptune.errors import ConfigError


@functools.total_ordering
@dataclass(frozen=True)
class Player:
    """One player of a league: member ``member`` as it trains now, or its snapshot at ``step``.

    Hashable, so it keys rating states and head-to-head records. Players sort by member, then
    snapshots by step, then the live member.

    Args:
        member: The member's id.
        step: ``None`` for the live member; the step of a frozen snapshot (a checkpoint kept by
            retention) otherwise.

    Examples:
        >>> Player(3), Player(3, 200)
        (Player(3), Player(3, 200))
        >>> Player(3, 200).is_snapshot, str(Player(3, 200)), sorted([Player(3), Player(3, 200), Player(1)])
        (True, 'm3@200', [Player(1), Player(3, 200), Player(3)])
    """

    member: int
    step: int | None = None

    def __post_init__(self):
        if not _is_int(self.member) or self.member < 0:
            raise ConfigError(f"Player: member must be a member's id (an int >= 0), got {self.member!r}")
        if self.step is not None and (not _is_int(self.step) or self.step < 0):
            raise ConfigError(f"Player({self.member}): step must be None (the live member) or an int >= 0, "
                              f"got {self.step!r}")
        object.__setattr__(self, "member", int(self.member))
        if self.step is not None:
            object.__setattr__(self, "step", int(self.step))

    @property
    def is_snapshot(self) -> bool:
        """Whether this is a frozen snapshot (``step`` is set) rather than the live member."""
        return self.step is not None

    @property
    def live(self) -> Player:
        """The live member this player is (or was a snapshot of)."""
        return Player(self.member)

    def _key(self):
        return (self.member, self.step is None, self.step or 0)

    def __lt__(self, other):
        if not isinstance(other, Player):
            return NotImplemented
        return self._key() < other._key()

    def __repr__(self) -> str:
        return f"Player({self.member})" if self.step is None else f"Player({self.member}, {self.step})"

    def __str__(self) -> str:
        return f"m{self.member}" if self.step is None else f"m{self.member}@{self.step}"

    def to_json(self) -> int | list[int]:
        """A JSON value for the run log: the member's id, or ``[member, step]`` for a snapshot.

        Examples:
            >>> Player(2).to_json(), Player(2, 50).to_json(), Player.from_json([2, 50])
            (2, [2, 50], Player(2, 50))
        """
        return self.member if self.step is None else [self.member, self.step]

    @classmethod
    def from_json(cls, value) -> Player:
        """The player :meth:`to_json` wrote."""
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return cls(value[0], value[1])
        return cls(value)


PlayerLike = Union[Player, int]


def as_player(value: PlayerLike, name: str = "player") -> Player:
    """A :class:`Player` from itself or a live member's id (an int).

    A snapshot is always a ``Player(member, step)``, never a bare tuple: in a match, a tuple or
    list is a team.

    Examples:
        >>> as_player(4), as_player(Player(4, 10))
        (Player(4), Player(4, 10))
    """
    if isinstance(value, Player):
        return value
    if _is_int(value):
        return Player(int(value))
    raise ConfigError(f"{name} must be a member's id (an int) or a poptune.league.Player(member, step), got {value!r}"
                      + ("; a snapshot is Player(member, step), not a tuple" if isinstance(value, tuple) else ""))


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


__all__ = ["Player", "PlayerLike", "as_player"]
