"""The league's part of the population state: players, snapshots, matches, ratings.

A reducer like :class:`~poptune.core.state.PopulationState`, which owns one and feeds it the
events that concern it (matches, opponent draws, checkpoints, exploits), so a live run, a
resumed one and a :class:`~poptune.Result` derive the same ratings from the same log. It
also answers the engine's one question, which opponents a member meets next
(:meth:`LeagueState.draw`), and tells the population state which checkpoint files the league
holds (snapshots and drawn opponents' states are never deleted while in use).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poptune.league.outcomes import Match
from poptune.league.payoff import HeadToHead
from poptune.league.players import Player
from poptune.league.ratings import Rating


@dataclass(frozen=True)
class Snapshot:
    """A member's state saved at ``step``: a frozen opponent."""

    player: Player
    ref: str
    hparams: dict


class LeagueState:
    """Players, snapshots, head-to-head records and ratings, updated event by event.

    Args:
        rating: The rating system (``None`` while reading a log whose rating cannot be rebuilt:
            matches and records are still kept).
        snapshots_every: Snapshot steps (``0``: none).
        max_snapshots: Snapshots kept as opponents.
    """

    def __init__(self, rating: Rating | None, snapshots_every: int = 0, max_snapshots: int = 32):
        self.rating = rating
        self.snapshots_every, self.max_snapshots = snapshots_every, max_snapshots
        self.ratings: dict[Player, object] = {}
        self.record = HeadToHead()
        self.matches: list[Match] = []
        self.snapshots: dict[Player, Snapshot] = {}  # oldest first
        self.draws: dict[int, list[tuple[Player, str | None]]] = {}  # member -> its current opponents (and refs)
        # what the ratings are a fold of, in log order: ("match", reporter, step, Match),
        # ("snapshot", Player) and ("exploit", target, source); a step run again drops the
        # matches its earlier run reported, and the ratings are folded again
        self._ops: list[tuple] = []
        self._batch = 0
        self.own: dict[int, HeadToHead] = {}  # member -> the games it reported since its last reset
        self.since: dict[int, int] = {}  # member -> the step of its last reset (roles)  # index in _ops where the matches of the next report begin

    # -- facts ---------------------------------------------------------------------------------

    def match(self, reporter: int, match: Match) -> None:
        """A game ``reporter`` reported with its step ``match.step``."""
        self._record(("match", reporter, match.step, match))

    def reported(self, member: int, step: int, again: bool) -> None:
        """``member`` reported ``step`` (``again``: it runs that step again, after a failure or a
        resume): the games its earlier run of ``step`` and later steps reported no longer count."""
        if again:
            self._drop(lambda i, op: i < self._batch and op[0] == "match" and op[1] == member and op[2] >= step)
        self._batch = len(self._ops)

    def discard(self, after: dict[int, int]) -> None:
        """Each ``member`` in ``after`` goes back to its state at step ``after[member]`` (a failed
        attempt, a resumed session): the games it reported with later steps no longer count (it
        plays them again). One fold of the ratings, however many members."""
        self._drop(lambda i, op: op[0] == "match" and op[1] in after and op[2] > after[op[1]])
        self._batch = len(self._ops)

    def history(self) -> dict[Player, list[tuple[int, float]]]:
        """Every rating change: ``{player: [(games so far, conservative rating), ...]}``."""
        if self.rating is None:
            return {}
        replay, out = LeagueState(self.rating), {}
        for op in self._ops:
            for player in replay._apply(op):
                out.setdefault(player, []).append((len(replay.matches), self.rating.conservative(replay.ratings[player])))
        return dict(sorted(out.items()))

    def _record(self, op: tuple) -> None:
        self._ops.append(op)
        self._apply(op)

    def _apply(self, op: tuple) -> tuple[Player, ...]:
        """Apply one fact to the ratings, records and matches; return the players it re-rated."""
        if op[0] == "match":
            match = op[3]
            self.matches.append(match)
            self.record.add(match)
            self.own.setdefault(op[1], HeadToHead()).add(match)
            if self.rating is not None:
                self.ratings = self.rating.update(self.ratings, match)
            return match.players
        if op[0] == "reset":  # a new player in the member's place: fresh rating and record
            player = Player(op[1])
            self.record.forget(player)
            self.own[op[1]] = HeadToHead()
            self.since[op[1]] = op[2]
            if self.rating is not None:
                self.ratings = {**self.ratings, player: self.rating.initial()}
            return (player,)
        # a snapshot starts as the member it froze was rated; an exploit target as its source
        player, source = (op[1], op[1].live) if op[0] == "snapshot" else (Player(op[1]), Player(op[2]))
        if op[0] == "exploit":  # it holds the source's policy: the source's games since its reset are its own
            self.own[op[1]] = (self.own.get(op[2]) or HeadToHead()).renamed(Player(op[2]), Player(op[1]))
            self.since[op[1]] = self.since.get(op[2], 0)
        if self.rating is not None:
            self.ratings = {**self.ratings, player: self.ratings.get(source, self.rating.initial())}
        return (player,)

    def _drop(self, dropped) -> None:
        """Forget the facts ``dropped(index, op)`` names, and fold the rest again."""
        kept = [op for i, op in enumerate(self._ops) if not dropped(i, op)]
        if len(kept) != len(self._ops):
            self._ops = kept
            self._refold()

    def _refold(self) -> None:
        self.ratings, self.record, self.matches, self.own, self.since = {}, HeadToHead(), [], {}, {}
        for op in self._ops:
            self._apply(op)

    def checkpoint(self, member: int, step: int, ref: str, hparams: dict) -> tuple[list[str], list[str]]:
        """A member saved its state at ``step``: a snapshot if ``step`` is a snapshot step.
        Returns the files to hold and to release."""
        every = self.snapshots_every
        if not every or step % every:
            return [], []
        return self.freeze(member, step, ref, hparams)

    def freeze(self, member: int, step: int, ref: str, hparams: dict) -> tuple[list[str], list[str]]:
        """Keep ``member``'s state at ``step`` as a snapshot (a snapshot step, or a role's rule
        fired). Returns the files to hold and to release."""
        if not self.max_snapshots:
            return [], []
        player = Player(member, step)
        if player in self.snapshots and self.snapshots[player].ref == ref:
            return [], []  # (a snapshot step at which a role's rule fires too)
        held, released = [ref], []
        old = self.snapshots.pop(player, None)
        if old is not None:  # the step was run again (after a failure or a resume)
            released.append(old.ref)
        self.snapshots[player] = Snapshot(player, ref, dict(hparams))
        if old is None:
            self._record(("snapshot", player))
        while len(self.snapshots) > self.max_snapshots:
            oldest = next(iter(self.snapshots))
            released.append(self.snapshots.pop(oldest).ref)
        return held, released

    def snapshot_of(self, ref: str | None) -> Snapshot | None:
        """The snapshot kept in file ``ref``, if one is."""
        if ref is None:
            return None
        for snapshot in reversed(self.snapshots.values()):  # (few, and the latest are the likeliest)
            if snapshot.ref == ref:
                return snapshot
        return None

    def reset(self, member: int, step: int) -> None:
        """``member`` restarts from scratch at ``step`` (a role's reset): a new player."""
        self._record(("reset", member, step))

    def exploit(self, target: int, source: int) -> None:
        """``target`` now holds ``source``'s policy: it takes the source's rating."""
        self._record(("exploit", target, source))

    def drawn(self, member: int, opponents: list[tuple[Player, str | None]]) -> list[str]:
        """``member`` meets ``opponents`` next; returns the files its previous draw held."""
        old = self.draws.get(member, [])
        self.draws[member] = list(opponents)
        return [ref for _, ref in old if ref]

    def done(self, member: int) -> list[str]:
        """``member`` finished or failed: the files its last draw held."""
        return [ref for _, ref in self.draws.pop(member, []) if ref]

    # -- what the engine and strategies read ---------------------------------------------------

    def fitness(self, member: int) -> float:
        """The conservative rating of live ``member`` (its fitness in the league)."""
        if self.rating is None:
            return float("nan")
        return self.rating.fitness(self.ratings, Player(member))

    def candidates(self, member: int, live: list[int]) -> list[Player]:
        """Who ``member`` may meet: itself, the ``live`` members (those with a saved state) and
        the snapshots."""
        players = [Player(member)] + [Player(m) for m in live if m != member]
        return players + list(self.snapshots)

    def draw(self, member: int, live: list[int], matchmaking, count: int, rng: np.random.Generator) -> list[Player]:
        """``count`` opponents for ``member``, drawn by ``matchmaking``."""
        candidates = self.candidates(member, live)
        return [matchmaking.choose(Player(member), candidates, self.record, rng) for _ in range(count)]

    def conservative(self) -> dict[Player, float]:
        """Every rated player's conservative rating."""
        if self.rating is None:
            return {}
        return {p: self.rating.conservative(r) for p, r in sorted(self.ratings.items())}


__all__ = ["LeagueState", "Snapshot"]
