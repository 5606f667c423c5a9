"""The population's state, derived from the run log by applying events one by one (a reducer).

The same reducer serves a live run (every event is applied as it is recorded), a resumed one
(it replays the log) and :class:`~poptune.Result` (reading a run back), so they can never
disagree about where a member stands. For a live run it also keeps the indexes decisions need,
updated in O(log n) or better per event:

- the open rounds (:mod:`poptune.core.rounds`): members ranked at each ready step;
- each member's segments (its history under unchanged hyperparameters), for strategies;
- which checkpoint files no member and no open round can load any more (retention);
- the least advanced member's step (pacing).
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, deque
from collections.abc import Iterable, Iterator

from poptune.core import events as ev
from poptune.errors import PoptuneError, StrategyError, UsageError
from poptune.core.ready import ReadyRule
from poptune.core.retention import Retention
from poptune.core.rounds import Entry, Round, tie
from poptune.league.outcomes import Match
from poptune.league.players import Player
from poptune.league.state import LeagueState
from poptune.strategies.fitness import Fitness, Rated, Score
from poptune.strategies.views import MemberView, PopulationView, Segment

PENDING, FINISHED, FAILED = "pending", "finished", "failed"
STOPPED = 2**62  # ``decided`` of a member that met the stop condition: past every ready step
_INFINITE = (math.inf, -math.inf)


class MemberState:
    """Where one member stands.

    ``step`` is the last reported step. ``ref``/``ref_step`` name the member's current state:
    its own latest checkpoint, or after an exploit the source checkpoint it copied, and the
    step it continues from. ``offset`` is how many more (or fewer) steps of training that state
    has received than ``ref_step`` says (non-zero only in logs of poptune 0.1, which could copy
    a source at another step). ``decided``: it has decided at, or moved past, every ready step up
    to this one. ``stopped``: it met the run's stop condition and is finished before its budget.
    """

    __slots__ = ("id", "hparams", "generation", "parent", "step", "score", "fitness", "metrics", "history",
                 "recent", "ref", "ref_step", "offset", "status", "failures", "exploits", "copied", "decided",
                 "segments", "stopped")

    def __init__(self, id: int, hparams: dict, generation: int, window: int, fitness_window: int):
        self.id, self.hparams, self.generation = id, hparams, generation
        self.parent: int | None = None
        self.step, self.score, self.fitness = 0, math.nan, -math.inf
        self.metrics: dict = {}
        self.history: deque = deque(maxlen=window)  # recent fitness of the model it holds
        self.recent: deque = deque(maxlen=fitness_window)  # recent scores of that model
        self.ref: str | None = None
        self.ref_step = self.offset = 0
        self.status = PENDING
        self.failures = self.exploits = self.copied = self.decided = 0
        self.segments: list[_Segment] = [_Segment(0, hparams, None, math.nan)]
        self.stopped = False

    @property
    def age(self) -> int:
        """Training steps received by the state in ``ref`` (its model time)."""
        return self.ref_step + self.offset

    def view(self) -> MemberView:
        return MemberView(id=self.id, hparams=dict(self.hparams), score=self.score, fitness=self.fitness,
                          step=self.step, history=tuple(self.history) or (self.fitness,),
                          generation=self.generation, metrics=self.metrics)

    def __repr__(self) -> str:
        return f"MemberState(id={self.id}, step={self.step}, score={self.score}, status={self.status!r})"


class _Segment:
    # ``recent``/``history``: the member's windows when the segment began, so a re-run of some
    # of its steps (after a failure or a resume) rebuilds them without the discarded scores
    __slots__ = ("start", "hparams", "origin", "origin_score", "origin_fitness", "scores", "fitness", "recent",
                 "history")

    def __init__(self, start: int, hparams: dict, origin: int | None, origin_score: float,
                 recent: tuple = (), history: tuple = (), origin_fitness: float = math.nan):
        self.start, self.hparams, self.origin, self.origin_score = start, hparams, origin, origin_score
        self.origin_fitness = origin_fitness
        self.scores, self.fitness = array("d"), array("d")
        self.recent, self.history = recent, history

    def frozen(self, member: int) -> Segment:
        return Segment(member=member, start=self.start, hparams=dict(self.hparams), scores=tuple(self.scores),
                       origin=self.origin, origin_score=self.origin_score, fitness=tuple(self.fitness),
                       origin_fitness=self.origin_fitness)


class PopulationState:
    """All members' state, kept current by :meth:`apply`.

    Args:
        fitness: What ranks members (default: the score, oriented by the run's direction).
        window: How many recent fitness values each member keeps (for :class:`~poptune.TTest`).
        live: Keep the indexes a running engine needs (rounds, retention, pacing). ``False``
            (reading a finished log) applies the same facts without them.

    Examples:
        >>> from poptune.core import events as ev
        >>> state = PopulationState()
        >>> state.apply_all([ev.RunStarted(config={"steps": 4, "direction": "maximize"}),
        ...                  ev.MemberAdded(member=0, hparams={"lr": 0.1}),
        ...                  ev.Reported(member=0, step=1, score=0.5)])
        >>> state[0].step, state[0].fitness
        (1, 0.5)
    """

    def __init__(self, fitness: Fitness | None = None, window: int = 1, live: bool = False,
                 league: LeagueState | None = None):
        self.fitness = fitness or Score()
        self.league = league  # a self-play league's players, matches and ratings (poptune.league)
        self._rated = league is not None and isinstance(self.fitness, Rated)
        self._plain_score = type(self.fitness) is Score
        self._maximize = True
        self.window = max(1, window)
        self.live = live
        self.members: list[MemberState] = []
        self.config: dict = {}
        self.direction = "maximize"
        self.budget = 0
        self.rule = ReadyRule(None, 0, 0)
        self.seed = 0
        self.rounds: dict[int, Round] = {}
        self.retention = Retention("last")
        self.released: dict[str, int | None] = {}  # deletable files (ref -> member) not yet deleted
        self.alive = 0  # members not failed
        self.training_count = 0  # members still training
        self._at: Counter[int] = Counter()  # steps of members still training
        self._min = 0
        self._handlers = {
            ev.RunStarted: self._session, ev.RunResumed: self._session, ev.MemberAdded: self._member,
            ev.Reported: self._report, ev.Checkpointed: self._checkpoint, ev.Exploited: self._exploit,
            ev.Explored: self._explore, ev.Kept: self._keep, ev.AttemptFailed: self._failure,
            ev.MemberFailed: self._failed, ev.MemberFinished: self._finish,
            ev.CheckpointDeleted: self._deleted, ev.MatchPlayed: self._match, ev.OpponentsDrawn: self._drawn,
            ev.LeagueReset: self._league_reset,
        }

    # -- access --------------------------------------------------------------------------------

    def __getitem__(self, member: int) -> MemberState:
        return self.members[member]

    def __iter__(self) -> Iterator[MemberState]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)

    @property
    def active(self) -> list[MemberState]:
        """Members still training (neither finished nor failed). O(n): not for hot paths."""
        return [s for s in self.members if s.status == PENDING]

    def done(self) -> bool:
        """Whether every member has finished or failed."""
        return self.training_count == 0

    def min_step(self) -> int | None:
        """Step of the least advanced member still training (``None`` if none is)."""
        if not self._at:
            return None
        while self._at.get(self._min, 0) == 0:
            self._min += 1
        return self._min

    def round_view(self, step: int) -> PopulationView:
        """The round of ``step`` as strategies read it."""
        return PopulationView(self.rounds[step], step=step, history=self)

    # -- History (what a PopulationView reads beyond its round) ---------------------------------

    def segments(self, member: int) -> tuple[Segment, ...]:
        return tuple(s.frozen(member) for s in self.members[member].segments)

    def training(self, step: int) -> tuple[MemberView, ...]:
        return tuple(s.view() for s in self.members if s.status == PENDING and s.step < step)

    def current(self, member: int) -> MemberView:
        return self.members[member].view()

    def ids(self) -> tuple[int, ...]:
        return tuple(range(len(self.members)))

    # -- the reducer ---------------------------------------------------------------------------

    def apply_all(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: ev.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _session(self, event: ev.RunStarted) -> None:
        # A new session (first run or resume) gives failed members a fresh set of retries (the
        # cause may be fixed) and reopens finished members if the budget grew.
        config = event.config
        self.config = config
        self.direction = config.get("direction", self.direction)
        self._maximize = self.direction == "maximize"
        self.budget = config.get("steps", self.budget)
        self.rule = ReadyRule.from_config({**config, "steps": self.budget})
        self.seed = int(config.get("seed") or 0)
        for file in self.retention.set_keep(config.get("keep_checkpoints", self.retention.keep)):
            self.released[file] = None
        for state in self.members:
            state.failures = 0
            if state.status == FAILED or (state.status == FINISHED and state.ref_step < self.budget
                                          and not state.stopped):
                if state.status == FAILED:
                    self.alive += 1
                state.status = PENDING
                self.training_count += 1
                self._at[state.step] += 1
                self._min = min(self._min, state.step)
        if self.league is not None and isinstance(event, ev.RunResumed):
            # they go on from their checkpoints and play those games again
            self.league.discard({s.id: s.ref_step for s in self.members if s.status == PENDING})
        if self.live and isinstance(event, ev.RunResumed):
            self._realign_rounds()

    def _realign_rounds(self) -> None:
        """A resumed session restarts every member from its checkpoint, maybe with other ready
        steps or budget: what each member is done with follows from where it restarts."""
        for state in self.members:
            if state.status == FAILED or state.stopped:
                continue
            step = state.ref_step
            round = self.rounds.get(step)
            pending = (self.rule.is_ready(step) and round is not None and state.id in round.entries
                       and state.id not in round.decided)
            state.decided = step - 1 if pending else step  # it goes on from its checkpoint
        for step in sorted(self.rounds):
            round = self.rounds[step]
            for state in self.members:
                if state.status == FAILED:
                    continue
                if state.decided >= step:
                    round.mark(state.id)
                else:
                    round.unmark(state.id)
            self._close_if_complete(step)

    def _member(self, event: ev.MemberAdded) -> None:
        state = MemberState(event.member, dict(event.hparams), event.generation, self.window, self.fitness.window)
        if event.member != len(self.members):
            raise PoptuneError(f"the run log is damaged: member {event.member} added after {len(self.members)} members")
        self.members.append(state)
        self.alive += 1
        self.training_count += 1
        self._at[0] += 1
        self._min = 0

    def _report(self, event: ev.Reported) -> None:
        state, step, score = self.members[event.member], event.step, event.score
        if state.status == PENDING:
            at = self._at
            count = at[state.step] - 1
            if count:
                at[state.step] = count
            else:
                del at[state.step]
            at[step] += 1
            if step < self._min:
                self._min = step
        segment = state.segments[-1]
        again = step - 1 - segment.start != len(segment.scores)  # a re-run (after a failure or a resume)
        if again:
            segment = self._rewind(state, step)
        if self.league is not None:
            self.league.reported(state.id, step, again)
        state.step, state.score, state.metrics = step, score, event.metrics
        state.recent.append(score)
        if self._rated:  # a league: the member's conservative rating, after the matches reported with this step
            value = self.league.fitness(state.id)
        elif self._plain_score:  # the default fitness, inlined: this runs for every report
            value = -math.inf if score != score or score in _INFINITE else (score if self._maximize else -score)
        else:
            try:
                value = self.fitness.value(score, event.metrics, state.recent, self.direction)
            except UsageError:
                raise
            except Exception as err:
                raise StrategyError(f"fitness {self.fitness!r} raised {type(err).__name__}: {err} (member "
                                    f"{state.id}, step {step})") from err
        state.fitness = value if value == value else -math.inf  # NaN ranks worst
        state.history.append(state.fitness)
        segment.scores.append(score)
        segment.fitness.append(state.fitness)
        if self.live and state.decided < step - 1:  # it moved past every round before this step
            if state.decided == step - 2:  # the usual case: only the step before can be one
                if step - 1 in self.rounds:
                    self._decided(state.id, step - 1)
            else:
                for passed in [t for t in self.rounds if state.decided < t < step]:
                    self._decided(state.id, passed)
            state.decided = step - 1

    @staticmethod
    def _rewind(state: MemberState, step: int) -> _Segment:
        """Forget what ``state`` reported from ``step`` on (it runs those steps again)."""
        while step <= state.segments[-1].start and len(state.segments) > 1:  # from before it began
            state.segments.pop()
        segment = state.segments[-1]
        kept = max(0, step - 1 - segment.start)
        del segment.scores[kept:]
        del segment.fitness[kept:]
        state.recent.clear()
        state.recent.extend(segment.recent)
        state.recent.extend(segment.scores)
        state.history.clear()
        state.history.extend(segment.history)
        state.history.extend(segment.fitness)
        return segment

    def _checkpoint(self, event: ev.Checkpointed) -> None:
        state = self.members[event.member]
        state.ref, state.ref_step = event.ref, event.step
        if self.league is not None:
            held, released = self.league.checkpoint(state.id, event.step, event.ref, state.hparams)
            if self.live:
                for ref in held:
                    self.retention.hold(ref)
                for ref in released:
                    self._release(ref, state.id)
        if not self.live:
            return
        self._point(state.id, event.ref)
        if state.status == PENDING and self.rule.is_ready(event.step) and state.decided < event.step:
            round = self.rounds.get(event.step)
            if round is None:
                round = self.rounds[event.step] = self._open(event.step)
            self.retention.hold(event.ref)
            old = round.entries.get(state.id)
            round.add(Entry(state.id, event.step, state.score, state.fitness, event.ref, state.age, state.hparams,
                            state.generation, tuple(state.history), tuple(state.recent), state.metrics,
                            tie(self.seed, event.step, state.id)))
            if old is not None:
                self._release(old.ref, state.id)

    def _exploit(self, event: ev.Exploited) -> None:
        state, source = self.members[event.member], self.members[event.source]
        state.hparams = dict(event.new)
        state.generation = event.generation
        state.parent = event.source
        state.ref, state.ref_step = event.ref, event.step
        state.offset = event.source_age - event.step
        state.exploits += 1
        source.copied += 1
        if self.league is not None:
            self.league.exploit(state.id, source.id)
        round = self.rounds.get(event.step)
        entry = round.entries.get(event.source) if round is not None else None
        origin_score = entry.score if entry is not None else source.score
        origin_fitness = entry.fitness if entry is not None else source.fitness
        if entry is not None:  # the model it now holds has the source's recent past
            state.history.clear()
            state.history.extend(entry.history)
            state.recent.clear()
            state.recent.extend(entry.recent)
        state.segments.append(_Segment(event.step, state.hparams, event.source, origin_score, tuple(state.recent),
                                       tuple(state.history), origin_fitness))
        if self.live:
            self._point(state.id, event.ref)
            self._decided(state.id, event.step)

    def _explore(self, event: ev.Explored) -> None:
        state = self.members[event.member]
        state.hparams = dict(event.new)
        state.segments.append(_Segment(event.step, state.hparams, state.id, state.score, tuple(state.recent),
                                       tuple(state.history), state.fitness))
        if self.live:
            self._decided(state.id, event.step)

    def _keep(self, event: ev.Kept) -> None:
        if self.live:
            self._decided(event.member, event.step)

    def _failure(self, event: ev.AttemptFailed) -> None:
        state = self.members[event.member]
        state.failures += 1
        if self.league is not None and state.status == PENDING:  # it restarts from its checkpoint
            self.league.discard({state.id: state.ref_step})

    def _failed(self, event: ev.MemberFailed) -> None:
        state = self.members[event.member]
        if state.status == FAILED:
            return
        self._league_done(state.id)
        self._stop_training(state)
        state.status = FAILED
        self.alive -= 1
        if not self.live:
            return
        for step in list(self.rounds):
            round = self.rounds[step]
            entry = round.entries.get(state.id)
            round.remove(state.id)
            if entry is not None:
                self._release(entry.ref, state.id)
            self._close_if_complete(step)

    def _finish(self, event: ev.MemberFinished) -> None:
        state = self.members[event.member]
        self._league_done(state.id)
        self._stop_training(state)
        state.status = FINISHED
        if event.stopped:  # done with every round from here on: nobody waits for it
            state.stopped = True
            state.decided = STOPPED
            if self.live:
                for step in sorted(t for t in self.rounds if t >= event.step):
                    self.rounds[step].mark(state.id)
                    self._close_if_complete(step)
        if self.live and event.ref:
            self.retention.pin(event.ref)

    def _deleted(self, event: ev.CheckpointDeleted) -> None:
        self.released.pop(event.ref, None)

    # -- leagues (poptune.league) ---------------------------------------------------------------

    def _match(self, event: ev.MatchPlayed) -> None:
        if self.league is not None:
            self.league.match(event.member, Match.from_dict({"teams": event.teams, "ranks": event.ranks,
                                                              "step": event.step}))

    def _drawn(self, event: ev.OpponentsDrawn) -> None:
        if self.league is None:
            return
        opponents = [(Player.from_json(p), ref) for p, ref in zip(event.opponents, event.refs)]
        released = self.league.drawn(event.member, opponents)
        if self.live:  # the states it will load stay until its next draw
            for _, ref in opponents:
                if ref:
                    self.retention.hold(ref)
            for ref in released:
                self._release(ref, event.member)

    def _league_reset(self, event: ev.LeagueReset) -> None:
        state = self.members[event.member]
        if self.league is not None:
            held, released = self.league.freeze(state.id, event.step, event.ref, event.hparams)
            if self.live:
                for ref in held:
                    self.retention.hold(ref)
                for ref in released:
                    self._release(ref, state.id)
            if event.reset:
                self.league.reset(state.id, event.step)
        if not event.reset:
            return
        # a fresh start from this step: no saved state, no lineage, no past
        state.ref, state.ref_step, state.offset = None, event.step, 0
        state.generation, state.parent = 0, None
        state.hparams = dict(event.hparams)
        state.history.clear()
        state.recent.clear()
        state.segments.append(_Segment(event.step, state.hparams, None, math.nan))
        if self.live:
            for file in self.retention.leave(state.id):
                self.released[file] = state.id
            self._decided(state.id, event.step)

    def _league_done(self, member: int) -> None:
        if self.league is not None:
            released = self.league.done(member)
            if self.live:
                for ref in released:
                    self._release(ref, member)

    def live_players(self) -> list[int]:
        """League candidates among the members: those not failed that have saved a state."""
        return [s.id for s in self.members if s.status != FAILED and s.ref is not None]

    # -- indexes -------------------------------------------------------------------------------

    def _stop_training(self, state: MemberState) -> None:
        if state.status == PENDING:
            self.training_count -= 1
            self._at[state.step] -= 1
            if not self._at[state.step]:
                del self._at[state.step]

    def _point(self, member: int, ref: str) -> None:
        for file in self.retention.point(member, ref):
            self.released[file] = member

    def _release(self, ref: str, member: int | None) -> None:
        for file in self.retention.release(ref):
            self.released[file] = member

    def _open(self, step: int) -> Round:
        """A new round; the members already past its step (a resume that changed the ready
        steps, a member restarted from further on) are done with it from the start."""
        round = Round(step)
        for state in self.members:
            if state.status != FAILED and state.decided >= step:
                round.mark(state.id)
        return round

    def _decided(self, member: int, step: int) -> None:
        state = self.members[member]
        state.decided = max(state.decided, step)
        round = self.rounds.get(step)
        if round is not None:
            round.mark(member)
            self._close_if_complete(step)

    def _close_if_complete(self, step: int) -> None:
        round = self.rounds[step]
        if len(round.decided) < self.alive:
            return
        del self.rounds[step]  # nobody can copy from it any more
        for entry in round.entries.values():
            self._release(entry.ref, entry.member)

    def take_released(self) -> list[tuple[int | None, str]]:
        """Files that became deletable, to delete once the events releasing them are committed."""
        out = [(member, ref) for ref, member in self.released.items()]
        self.released.clear()
        return out


__all__ = ["FAILED", "FINISHED", "PENDING", "MemberState", "PopulationState"]
