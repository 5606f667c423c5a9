"""What a member sees of an opponent: who it is, its hyperparameters, its saved state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from poptune.league.players import Player

_UNSET = object()


class Opponent:
    """An opponent drawn for a member (``member.opponent()``), to play and report against.

    Attributes:
        player: The :class:`~poptune.league.Player`: a live member (``step`` is ``None``) or a
            snapshot of one.
        hparams: Its hyperparameters (for a snapshot: those it had when the snapshot was taken).
        is_self: It is the member itself (plain self-play): play against your current model;
            ``checkpoint`` is ``None``.

    ``checkpoint`` is the state the opponent saved (loaded on first access, with the same safe
    loader as ``member.checkpoint``), or ``None`` when it is the member itself or a member that
    has not saved a state yet: build that one fresh from ``hparams``.
    """

    def __init__(self, player: Player, hparams: dict, ref: str | None, load: Callable[[str], Any], is_self: bool):
        self.player, self.hparams, self.ref, self.is_self = player, dict(hparams), ref, is_self
        self._load, self._checkpoint = load, _UNSET

    @property
    def checkpoint(self) -> Any:
        """The opponent's saved state (``None``: itself, or nothing saved yet)."""
        if self._checkpoint is _UNSET:
            self._checkpoint = None if self.ref is None else self._load(self.ref)
        return self._checkpoint

    def __repr__(self) -> str:
        return f"Opponent({self.player!r}{', self' if self.is_self else ''})"


__all__ = ["Opponent"]
