"""What a run found, read back from its log: members, reports, exploits, lineage, schedule."""

from __future__ import annotations

import math
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poptune.checkpoints import loads, open_checkpoints, split_ref
from poptune.core import events as ev
from poptune.league.league import rating_from_description
from poptune.league.outcomes import Match
from poptune.league.players import Player
from poptune.league.state import LeagueState
from poptune.core.state import FAILED, FINISHED, PopulationState
from poptune.errors import PoptuneError, RunLogError, UsageError
from poptune.rundir import checkpoint_location
from poptune.space import Space
from poptune.strategies.fitness import oriented
from poptune.store import Store, store_path


@dataclass(frozen=True)
class MemberRecord:
    """A member at the end of the run (or now, for a run in progress).

    Attributes:
        id: Member id.
        hparams: Hyperparameters it trained with last.
        score: Latest score.
        step: Last reported step.
        generation: Exploits along its lineage.
        parent: Member it copied last, or ``None``.
        status: ``"finished"``, ``"failed"`` or ``"pending"`` (not done yet).
        exploits: Times it copied another member.
        copied: Times other members copied it.
        stopped: It met the run's stop condition and finished before its budget.
    """

    id: int
    hparams: dict
    score: float
    step: int
    generation: int
    parent: int | None
    status: str
    exploits: int
    copied: int
    stopped: bool = False


@dataclass(frozen=True)
class ReportRecord:
    """One step of one member: ``score``, extra ``metrics`` and wall-clock ``time``."""

    member: int
    step: int
    score: float
    metrics: dict = field(default_factory=dict)
    time: float = 0.0


@dataclass(frozen=True)
class ExploitRecord:
    """Member ``target`` copied ``source`` at its step ``step``.

    ``source_step`` is the source's step when its copied state was saved; ``old``, ``copied``
    and ``new`` are the target's hyperparameters before, the source's, and after explore.
    ``info`` says why: the target's ``rank`` among the ``of`` members of its round (0 = worst),
    and whatever the explore strategy recorded.
    """

    target: int
    source: int
    step: int
    source_step: int
    old: dict
    copied: dict
    new: dict
    generation: int
    time: float
    info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LineageRecord:
    """One stretch of a lineage: ``member`` trained the model from ``start`` to ``end``.

    ``start``/``end`` count training steps the model received; ``own_start``/``own_end`` are the
    same stretch in the member's own steps (they differ only when a source was copied while
    ahead or behind). ``hparams`` were in use on the stretch, ``generation`` is the member's
    generation there.
    """

    member: int
    generation: int
    start: int
    end: int
    hparams: dict
    own_start: int = 0
    own_end: int = 0


@dataclass(frozen=True)
class FailureRecord:
    """A failed attempt of a member: the error, its traceback, and whether the worker died."""

    member: int
    step: int
    error: str
    traceback: str
    attempt: int
    crashed: bool
    time: float


class Result:
    """A run read back from its directory. Works on finished, interrupted and crashed runs.

    Examples:
        >>> import poptune as pt, tempfile
        >>> def train(member):
        ...     x = member.checkpoint or 0.0
        ...     for step in member.steps():
        ...         x += member.hparams["lr"]
        ...         member.report(x, checkpoint=x)
        >>> run_dir = tempfile.mkdtemp()
        >>> _ = pt.run(train, {"lr": pt.Float(0.01, 0.1)}, population=4, steps=8, interval=2,
        ...            runner="inline", dir=run_dir, seed=0, progress=False)
        >>> result = pt.Result.load(run_dir)
        >>> len(result.reports), result.status
        (32, 'finished')
        >>> result.schedule()[0][0]
        0
    """

    def __init__(self, events: list[ev.Event], run_dir: str | os.PathLike | None = None):
        sessions = [e for e in events if isinstance(e, ev.RunStarted)]
        if not sessions or type(sessions[0]) is not ev.RunStarted:
            where = f" in {run_dir}" if run_dir is not None else ""
            raise RunLogError(f"the run log{where} holds no run configuration: the run was never started there, "
                              f"or its creation was cut short")
        self.dir = Path(run_dir) if run_dir is not None else None
        self.events = events
        self.config: dict = dict(sessions[0].config)
        self.config.update({k: v for k, v in sessions[-1].config.items() if k in ("steps", "interval")})
        self.space = Space.from_description(self.config["space"])
        self.direction: str = self.config["direction"]
        league = self.config.get("league")
        self._rating = rating_from_description(league)
        self._league = (LeagueState(self._rating, league.get("snapshots_every") or 0, league.get("max_snapshots", 0))
                        if league else None)
        self._population = PopulationState(league=self._league)
        self._population.apply_all(events)
        self._index()

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> Result:
        """Read the run in ``run_dir`` (safe while the run is still going)."""
        with Store(store_path(run_dir), readonly=True) as store:
            return cls(store.read(), run_dir)

    def _index(self) -> None:
        latest: dict[tuple[int, int], ev.Reported] = {}
        self._member_events: dict[int, ev.MemberAdded] = {}
        self._exploits_of: dict[int, list[ev.Exploited]] = {}
        self._explores_of: dict[int, list[ev.Explored]] = {}
        self._resets_of: dict[int, list[ev.LeagueReset]] = {}  # a league role's fresh starts
        self._writes: dict[str, list[ev.Checkpointed]] = {}
        for e in self.events:
            if isinstance(e, ev.Reported):
                latest[(e.member, e.step)] = e
            elif isinstance(e, ev.MemberAdded):
                self._member_events[e.member] = e
            elif isinstance(e, ev.Exploited):
                self._exploits_of.setdefault(e.member, []).append(e)
            elif isinstance(e, ev.Explored):
                self._explores_of.setdefault(e.member, []).append(e)
            elif isinstance(e, ev.LeagueReset) and e.reset:
                self._resets_of.setdefault(e.member, []).append(e)
            elif isinstance(e, ev.Checkpointed):
                self._writes.setdefault(e.ref, []).append(e)
        self.reports = [
            ReportRecord(e.member, e.step, e.score, e.metrics, e.time) for _, e in sorted(latest.items())
        ]
        self.members = [
            MemberRecord(
                id=s.id,
                hparams=dict(s.hparams),
                score=s.score,
                step=s.step,
                generation=s.generation,
                parent=s.parent,
                status=s.status,
                exploits=s.exploits,
                copied=s.copied,
                stopped=s.stopped,
            )
            for s in sorted(self._population, key=lambda s: s.id)
        ]
        self.exploits = [
            ExploitRecord(target=e.member, source=e.source, step=e.step, source_step=e.source_step, old=e.old,
                          copied=e.copied, new=e.new, generation=e.generation, time=e.time, info=e.info)
            for e in self.events
            if isinstance(e, ev.Exploited)
        ]
        self.failures = [
            FailureRecord(member=e.member, step=e.step, error=e.error, traceback=e.traceback, attempt=e.attempt,
                          crashed=e.crashed, time=e.time)
            for e in self.events
            if isinstance(e, ev.AttemptFailed)
        ]

    # -- summaries ---------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """``"finished"``, ``"interrupted"``, ``"failed"``, ``"running"`` or ``"crashed"``."""
        last_session = max(i for i, e in enumerate(self.events) if isinstance(e, ev.RunStarted))
        ends = [e for e in self.events[last_session:] if isinstance(e, ev.SessionEnded)]
        if ends:
            return ends[-1].status
        session = self.events[last_session].config
        return "running" if _alive(session.get("pid"), session.get("host")) else "crashed"

    @property
    def best(self) -> MemberRecord:
        """The member with the best latest score (finished members first; NaN never wins)."""
        if not self.members:
            raise PoptuneError("the run has no members yet")
        pool = [m for m in self.members if m.status == FINISHED] or [
            m for m in self.members if m.status != FAILED and m.step > 0
        ] or self.members
        return max(pool, key=lambda m: (oriented(m.score, self.direction), -m.id))

    def best_scores(self) -> dict[int, float]:
        """Each member's best score over its reports (NaN for a member with no finite score)."""
        best: dict[int, float] = {m.id: math.nan for m in self.members}
        for r in self.reports:
            if math.isfinite(r.score) and (math.isnan(best[r.member]) or
                                           oriented(r.score, self.direction) > oriented(best[r.member], self.direction)):
                best[r.member] = r.score
        return best

    def ranked(self) -> list[MemberRecord]:
        """Members from best to worst latest score (NaN last)."""
        return sorted(self.members, key=lambda m: -oriented(m.score, self.direction))

    def member(self, member: int) -> MemberRecord:
        """The record of member ``member``."""
        for record in self.members:
            if record.id == member:
                return record
        raise PoptuneError(f"no member {member}; members are 0..{len(self.members) - 1}")

    # -- lineage and schedule ------------------------------------------------------------------

    def lineage(self, member: int | None = None) -> list[LineageRecord]:
        """The chain of members that trained ``member``'s model (default: the best), oldest first.

        Each record is a stretch trained by one member with one set of hyperparameters; a change
        of member is an exploit, a change of hyperparameters at the same member too (explore).
        """
        m = self.best.id if member is None else self.member(member).id
        state = self._population[m]
        return self._stretches(m, state.step, len(self.events) + 1)

    def schedule(self, member: int | None = None) -> list[tuple[int, dict]]:
        """Hyperparameters along ``member``'s lineage (default: the best): ``[(step, hparams)]``.

        ``hparams`` were in use from training step ``step + 1`` on; the first entry has step 0.
        Replaying this schedule from scratch retraces the lineage (see ``poptune.replay``).
        """
        schedule: list[tuple[int, dict]] = []
        for stretch in self.lineage(member):
            if stretch.end <= stretch.start and schedule:
                continue
            if not schedule or schedule[-1][1] != stretch.hparams:
                schedule.append((stretch.start, dict(stretch.hparams)))
        return schedule

    def _stretches(self, member: int, step: int, before_seq: int) -> list[LineageRecord]:
        """Stretches of the model ``member`` held after training to its step ``step``, as known
        at log position ``before_seq``."""
        exploits = [
            e for e in self._exploits_of.get(member, []) + self._resets_of.get(member, [])
            if e.step < step and (e.seq or 0) < before_seq
        ]
        exploits.sort(key=lambda e: e.seq or 0)
        if not exploits:
            origin = self._member_events[member]
            base, own_start, age, hparams, since = [], 0, 0, origin.hparams, 0
            generation = origin.generation
        elif isinstance(exploits[-1], ev.LeagueReset):  # a fresh start: the lineage begins there
            last = exploits[-1]
            base, own_start, age, hparams, since, generation = [], last.step, 0, last.hparams, last.seq or 0, 0
        else:
            last = exploits[-1]
            written = [w for w in self._writes.get(last.ref, []) if (w.seq or 0) < (last.seq or 0)]
            # (a copied file always has its write in the log when poptune wrote the run)
            base = self._stretches(written[-1].member, written[-1].step, written[-1].seq or 0) if written else []
            own_start, age, hparams, since = last.step, last.source_age, last.new, last.seq or 0
            generation = last.generation
        changes = [
            e
            for e in self._explores_of.get(member, [])
            if own_start <= e.step < step and since < (e.seq or 0) < before_seq
        ]
        stretches = list(base)
        start = own_start
        for change in changes:
            if change.step > start:
                stretches.append(LineageRecord(member, generation, age + start - own_start,
                                               age + change.step - own_start, dict(hparams), start, change.step))
            start, hparams = change.step, change.new
        stretches.append(
            LineageRecord(member, generation, age + start - own_start, age + step - own_start, dict(hparams), start, step)
        )
        return stretches

    # -- data access ---------------------------------------------------------------------------

    def checkpoint(self, member: int | Player | None = None, trust: bool = False) -> Any:
        """Load ``member``'s latest saved state (default: the best member's final model).

        In a league, ``member`` may be a snapshot, ``pt.league.Player(m, step)``: the state
        member ``m`` saved at ``step`` (while the league keeps it: the latest ``max_snapshots``,
        or every one with ``keep_checkpoints="all"``), e.g. to deploy :meth:`nash`'s mixture.

        For a vectorized run: ``{"model": state_dict, "optimizer": ..., "hparams": ...}`` of that
        member alone, ready for ``model.load_state_dict``. The safe loader reads plain data only
        (see :func:`poptune.checkpoints.loads`); ``trust=True`` loads any pickle, for a run
        directory you trust.
        """
        if self.dir is None:
            raise PoptuneError("this result has no run directory to load checkpoints from")
        if isinstance(member, Player) and member.is_snapshot:
            m, ref = member.member, self._saved_at(member)
        else:
            m = self.best.id if member is None else self.member(getattr(member, "member", member)).id
            ref = self._population[m].ref
        if ref is None:
            raise PoptuneError(f"member {m} has no checkpoint yet")
        store = open_checkpoints(checkpoint_location(self.dir, self.config.get("checkpoints")))
        state = loads(store.load(ref), f"member {m}", trusted=trust)
        _, row = split_ref(ref)
        return state.member(row) if row is not None else state  # a row of a stacked (vectorized) checkpoint

    def _saved_at(self, player: Player) -> str:
        refs = [e.ref for e in self.events if isinstance(e, ev.Checkpointed) and e.member == player.member
                and e.step == player.step]
        if not refs:
            raise PoptuneError(f"member {player.member} saved no state at step {player.step}: {player} is not a "
                               f"snapshot of this run")
        if any(isinstance(e, ev.CheckpointDeleted) and e.ref == refs[-1].partition("#")[0] for e in self.events):
            raise PoptuneError(f"the state of {player} was deleted (the league keeps its latest max_snapshots "
                               f"snapshots; keep_checkpoints='all' keeps every one)")
        return refs[-1]

    def origins(self) -> dict[int, dict]:
        """In a staged run (``pt.run(start_from=...)``): where each member started,
        ``{member: {"run": dir, "member": m, "step": s, "ref": ..., "score": ...}}``; ``{}`` otherwise.
        ``pt.Result.load(origin["run"])`` reads the previous stage."""
        return {m: dict(e.origin) for m, e in sorted(self._member_events.items()) if e.origin is not None}

    def hparams_at(self, member: int, step: int) -> dict:
        """Hyperparameters ``member`` trained its step ``step`` with."""
        hparams = self._member_events[member].hparams
        changes = self._exploits_of.get(member, []) + self._explores_of.get(member, [])
        for e in sorted(changes, key=lambda e: e.seq or 0):
            if e.step < step:
                hparams = e.new
        return dict(hparams)

    def generation_at(self, member: int, step: int) -> tuple[int, int | None]:
        """``(generation, parent)`` of ``member`` when it trained its step ``step``: exploits along
        its lineage so far, and the member it copied last (``None`` before any)."""
        origin = self._member_events[member]
        generation, parent = origin.generation, None
        changes = self._exploits_of.get(member, []) + self._resets_of.get(member, [])
        for e in sorted(changes, key=lambda e: e.seq or 0):
            if e.step < step:
                generation, parent = (0, None) if isinstance(e, ev.LeagueReset) else (e.generation, e.source)
        return generation, parent

    def to_pandas(self):
        """Reports as a ``pandas.DataFrame``: member, step, score, time, generation and parent (see
        :meth:`generation_at`), metrics, and the hyperparameters in use as ``hparams/<name>``."""
        try:
            import pandas as pd
        except ImportError:
            raise PoptuneError("to_pandas() needs pandas: pip install 'poptune[pandas]'") from None
        rows = []
        for r in self.reports:
            generation, parent = self.generation_at(r.member, r.step)
            row = {"member": r.member, "step": r.step, "score": r.score, "time": r.time, "generation": generation,
                   "parent": parent}
            row.update(r.metrics)
            row.update({f"hparams/{k}": v for k, v in self.hparams_at(r.member, r.step).items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def untrained(self) -> dict[int, int]:
        """Steps of the budget each failed member never trained: ``{member: steps}``.

        A member that failed for good stopped where it was; the run went on without it (resume
        the run to retry it). Empty when no member failed.
        """
        budget = self.config["steps"]
        return {m.id: budget - m.step for m in self.members if m.status == FAILED}

    # -- leagues ---------------------------------------------------------------------------------

    def _need_league(self) -> LeagueState:
        if self._league is None:
            raise UsageError("this run has no league: matches, ratings and payoffs need pt.run(..., league=pt.League())")
        return self._league

    @property
    def matches(self) -> list[Match]:
        """Every league game, in the order the controller recorded them (each with its step)."""
        return list(self._need_league().matches)

    def ratings(self, over_time: bool = False) -> dict:
        """The players' conservative ratings (``rating.conservative``: Elo, or mu - k*sigma).

        Args:
            over_time: ``False``: ``{player: rating}`` now. ``True``: ``{player: [(games so
                far, rating), ...]}``, a point whenever the player's rating changed: after each of
                its games (numbered in :attr:`matches` order), when it was frozen as a snapshot,
                and when an exploit gave a member its source's rating.
        """
        league = self._need_league()
        if self._rating is None:
            used = self.config["league"].get("rating_repr", "unknown")
            raise UsageError(f"the run's rating ({used}) cannot be rebuilt here; rate "
                             f"result.matches yourself, e.g. rating.rate_all(result.matches)")
        if not over_time:
            return league.conservative()
        return league.history()

    def payoff(self, players: list | None = None, unseen: float = math.nan):
        """The league's win-rate matrix: ``(players, P, counts)`` where ``P[i, j]`` is the share
        of games ``players[i]`` won against ``players[j]`` (draws count half) over ``counts[i, j]``
        games; pairs that never met get ``unseen``. Default players: everyone who played, sorted."""
        from poptune.league.payoff import payoff

        matches = self._need_league().matches
        if players is None:
            players = sorted({p for m in matches for p in m.players})
        matrix, counts = payoff(matches, players, unseen=unseen)
        return list(players), matrix, counts

    def nash(self, players: list | None = None, unseen: float = 0.5) -> dict:
        """The Nash mixture of the league's meta-game: ``{player: weight}``, from :meth:`payoff`
        (pairs that never met count as even, ``unseen``). A mixture to deploy or to play against."""
        from poptune.league.nash import nash

        players, matrix, _ = self.payoff(players, unseen=unseen)
        if not players:
            return {}
        weights = nash(matrix)
        return {p: float(w) for p, w in zip(players, weights)}

    def summary(self) -> str:
        """A few lines: status, best member, its hyperparameters, members that failed."""
        best = self.best
        lines = [
            f"run {self.dir} ({self.status}): {len(self.members)} members x {self.config['steps']} steps, "
            f"{len(self.exploits)} exploits, {len(self.failures)} failures",
            f"best: member {best.id} score {best.score:.6g} at step {best.step}, hparams {best.hparams}",
        ]
        untrained = self.untrained()
        if untrained:
            lines.append(f"{len(untrained)} members failed for good (members {sorted(untrained)}): "
                         f"{sum(untrained.values())} steps of their budgets were never trained; resume the run to "
                         f"retry them")
        return "\n".join(lines)

    def __repr__(self) -> str:
        try:
            best = self.best
            return f"<Result {self.dir} status={self.status} best=member {best.id} score={best.score:.6g}>"
        except PoptuneError:
            return f"<Result {self.dir} status={self.status}>"


def _alive(pid: Any, host: Any) -> bool:
    if not isinstance(pid, int) or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
