"""The decision core's flow: which member runs next, what a member at a stop does, who waits.

Runners only move work and messages; every choice is made here, as a function of the state
(the reduced log) and the run's seed:

- **dispatch**: a free worker takes the least advanced member that can run;
- **readiness**: a task says where the member next stops (a ready step or its budget);
- **comparison**: at a ready step ``t`` a member is ranked in the round of ``t``; nobody is
  ever compared with a score from another step. A round decides once every member has reached
  ``t``. In asynchronous mode it may decide earlier, once a *quorum* of the population has
  reached ``t`` (half by default, at least two members), but only when waiting for the rest
  would leave a worker idle: while other members can use the workers, waiting costs nothing and
  the round fills up. Later arrivals then decide on arrival, against everyone already there.
- **waiting**: a member that waits gives its worker to a member that can run, or keeps it
  (blocked) when none can; **pacing**: a member more than ``max_lag`` steps ahead of the least
  advanced one waits after its decision;
- **failures**: a failed attempt restarts from the member's last checkpoint, until ``retries``.

Every event goes through ``record`` (the recorder, which applies it to the state, shows it to
callbacks and commits it); so does every decision. The per-report and per-decision work is
O(log n) in the population size.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from poptune.core import events as ev
from poptune.core.decide import Decider
from poptune.core.messages import STOP, YIELD, Continue, Failure, Report, Restart, Task
from poptune.core.state import FINISHED, PENDING, PopulationState
from poptune.errors import CheckpointError, DiskFullError, RunLogError, StrategyError, UsageError

TASK_STREAM = 2  # the rng stream of task seeds: SeedSequence([seed, 2, member, step, attempt])
LEAGUE_STREAM = 7  # opponent draws: SeedSequence([seed, 7, member, step, attempt])
_FATAL = {"CheckpointError": CheckpointError, "DiskFullError": DiskFullError,  # errors that stop the run
          "RunLogError": RunLogError}


def quorum_size(quorum: float, alive: int) -> int:
    """How many members must have reached a ready step before its first decisions.

    Examples:
        >>> [quorum_size(0.5, n) for n in (1, 2, 3, 4, 16)]
        [1, 2, 2, 2, 8]
    """
    return min(alive, max(2, math.ceil(quorum * alive)))


class Engine:
    """Drives one session of a run from the state and the strategies.

    Args:
        state: The live population state (the recorder applies every event to it).
        decider: Makes each decision.
        record: Records events (applies them to ``state``, then commits them).
        synchronous: Generational mode: a round decides once every member has reached it.
        quorum: Asynchronous mode: the share of the population that must reach a ready step
            before its first decisions.
        max_lag: A decided member further ahead of the least advanced one waits (``None``: never).
        retries: Failed attempts of a member before it is marked failed.
        seed: The run's seed (task seeds derive from it).
        session: The session number (checkpoint names carry it).
        can_hold: Whether a waiting member may keep its worker, blocked (``False`` for a runner
            whose member runs on the caller's own stack).
        trusted: Members load checkpoints with full pickle (``trust_checkpoints=True``).
        stop: The run's stop condition (:mod:`poptune.stopping`).
        league: A :class:`~poptune.League`: the engine draws each member's opponents when it
            starts a stretch of training (recorded as an event), and records the matches that
            come with reports.
    """

    def __init__(self, state: PopulationState, decider: Decider, record: Callable[[list[ev.Event]], None], *,
                 synchronous: bool = False, quorum: float = 0.5, max_lag: int | None = None, retries: int = 2,
                 seed: int = 0, session: int = 0, can_hold: bool = True, trusted: bool = False,
                 stop: Callable[[Any], bool] | None = None, league: Any = None):
        self.state, self.decider, self._record = state, decider, record
        self.synchronous, self.quorum, self.max_lag, self.retries = synchronous, quorum, max_lag, retries
        self.seed, self.session, self.can_hold, self.trusted = seed, session, can_hold, trusted
        self.stop = stop  # the run's stop condition (poptune.stopping), checked on every report
        self.league = league  # a pt.League: opponents are drawn whenever a member starts a stretch
        self.stopping: set[int] = set()  # met it: finishes at its next ready step
        self.on_worker: set[int] = set()  # a worker runs it (or holds it blocked)
        self.waiting: dict[int, set[int]] = {}  # ready step -> members waiting for their decision there
        self.waiting_at: dict[int, int] = {}  # member -> that step
        self.paced: set[int] = set()  # decided, but too far ahead: waits for the others
        self._paced_heap: list[tuple[int, int]] = []
        self.owed: set[int] = set()  # blocked on a worker: its reply comes later
        self._runnable: list[tuple[int, int]] = []  # (ref_step, member), stale entries skipped
        self._replies: list[tuple[int, Any]] = []
        self._changed: set[int] = set()  # decided a change since its worker last started it
        self.abort: BaseException | None = None
        self.errors: dict[int, str] = {}
        # a runner on the caller's stack runs one member at a time: its order must be a function
        # of the state, so a resumed run replays it exactly (ties between equally advanced
        # members go to the lowest id); other runners keep a member on its worker in a tie
        self._strict_order = not can_hold
        self._claimed = False

    # -- start ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Place every member still training: at its pending decision, or ready to run."""
        for state in self.state:
            if state.status != PENDING:
                continue
            step = state.ref_step
            if self.state.rule.is_ready(step) and state.decided < step:
                # it stopped there and the session ended before its decision was recorded
                round = self.state.rounds.get(step)
                if not self.decider.compares:
                    self._decide(state.id, step)
                elif round is not None and state.id in round.entries:
                    self._wait(state.id, step)  # its round decides once everyone is placed
                    continue
            self._push(state.id)
        self._release_rounds()

    def claim_all(self) -> None:
        """Mark every member as on a worker (an engine that steps the whole population itself)."""
        self.on_worker.update(s.id for s in self.state if s.status == PENDING)
        self._claimed = True  # (its loop pairs league members itself: no draws)

    # -- dispatch ------------------------------------------------------------------------------

    def next_task(self) -> Task | None:
        """The task for a free worker: the least advanced member that can run, or ``None``."""
        member = self._peek()
        if member is None:
            return None
        heapq.heappop(self._runnable)
        self.on_worker.add(member)
        return self.task(member)

    def task(self, member: int) -> Task:
        """The task that runs ``member`` from its current state."""
        self._changed.discard(member)
        state = self.state[member]
        seed = np.random.SeedSequence([self.seed, TASK_STREAM, member, state.ref_step, state.failures])
        return Task(member=member, hparams=dict(state.hparams), ref=state.ref, start=state.ref_step,
                    stop=self.state.rule.next_stop(state.ref_step), budget=self.state.budget,
                    seed=int(seed.generate_state(1)[0]), generation=state.generation, attempt=state.failures,
                    session=self.session, trusted=self.trusted, opponents=self._draw(member),
                    population=len(self.state))

    def _draw(self, member: int) -> tuple:
        """A league's opponents for ``member`` from its current step, recorded; ``()`` without a league."""
        if self.league is None or self._claimed:
            return ()
        state, league = self.state[member], self.state.league
        seed = np.random.SeedSequence([self.seed, LEAGUE_STREAM, member, state.ref_step, state.failures])
        try:
            players = league.draw(member, self.state.live_players(), self.league.matchmaking, self.league.opponents,
                                  np.random.default_rng(seed))
        except Exception as err:
            raise StrategyError(f"matchmaking {self.league.matchmaking!r} raised {type(err).__name__}: {err} (member "
                                f"{member}, step {state.ref_step})") from err
        out, refs = [], []
        for player in players:
            if player.is_snapshot:
                snapshot = league.snapshots[player]
                ref, hparams = snapshot.ref, snapshot.hparams
            elif player.member == member:
                ref, hparams = None, dict(state.hparams)  # its own current model
            else:
                other = self.state[player.member]
                ref, hparams = other.ref, dict(other.hparams)
                frozen = league.snapshot_of(ref)
                if frozen is not None:  # the state it plays with is a snapshot: the games rate that state
                    player, hparams = frozen.player, dict(frozen.hparams)
            out.append((player.to_json(), hparams, ref))
            refs.append(ref)
        self._record([ev.OpponentsDrawn(member=member, step=state.ref_step, opponents=[p for p, _, _ in out],
                                        refs=refs)])
        return tuple(out)

    def _can_run(self, member: int) -> bool:
        return (self.state[member].status == PENDING and member not in self.on_worker
                and member not in self.waiting_at and member not in self.paced)

    def _push(self, member: int) -> None:
        if self._can_run(member):
            heapq.heappush(self._runnable, (self.state[member].ref_step, member))

    def _peek(self) -> int | None:
        heap = self._runnable
        while heap:
            step, member = heap[0]
            if self._can_run(member) and self.state[member].ref_step == step:
                return member
            heapq.heappop(heap)
        return None

    @property
    def busy(self) -> bool:
        """Whether a worker still runs (or holds) a member."""
        return bool(self.on_worker)

    # -- messages from workers -----------------------------------------------------------------

    def report(self, report: Report) -> Any:
        """Record a report. At a ready step return the reply, or ``None``: the member is held
        on its worker and its reply comes through :meth:`take_replies`."""
        m, step = report.member, report.step
        events: list[ev.Event] = [ev.MatchPlayed(member=m, step=step, teams=match["teams"], ranks=match["ranks"])
                                  for match in report.matches]  # first: the step's fitness reads their ratings
        events.append(ev.Reported(member=m, step=step, score=report.score, metrics=report.metrics, time=report.time))
        if report.ref is not None:
            events.append(ev.Checkpointed(member=m, step=step, ref=report.ref))
        if report.final:
            events.append(ev.MemberFinished(member=m, step=step, ref=report.ref))
        elif self.stop is not None and m not in self.stopping and self._meets_stop(report):
            self.stopping.add(m)
        stops = report.ready and m in self.stopping
        if stops:
            events.append(ev.MemberFinished(member=m, step=step, ref=report.ref, stopped=True))
        self._record(events)
        if stops:
            self.stopping.discard(m)
            self._release_rounds()  # one member fewer to wait for
            self._release_paced()
            return STOP
        if report.final or not report.ready:
            if step - 1 in self.waiting:  # it moved past a round others wait at (after a resume)
                self._release_rounds()
            if self._paced_heap:
                self._release_paced()
            return None
        if not self.state.rule.is_ready(step):
            raise RuntimeError(f"poptune internal error: member {m} stopped at step {step}, which is not a ready step")
        self._arrive(m, step)
        self._release_rounds()
        self._release_paced()
        return self._reply_now(m)

    def _meets_stop(self, report: Report) -> bool:
        from poptune.result import ReportRecord

        record = ReportRecord(report.member, report.step, report.score, dict(report.metrics), report.time)
        try:
            return bool(self.stop(record))
        except UsageError:
            raise
        except Exception as err:
            raise StrategyError(f"stop condition {self.stop!r} raised {type(err).__name__}: {err} (member "
                                f"{report.member}, step {report.step})") from err

    def failure(self, failure: Failure) -> None:
        """A failed attempt of a member: retry it from its last checkpoint, or give up on it."""
        m = failure.member
        state = self.state[m]
        self.on_worker.discard(m)
        self.owed.discard(m)
        self._record([ev.AttemptFailed(member=m, step=failure.step, error=failure.error,
                                       traceback=failure.traceback, attempt=state.failures + 1,
                                       crashed=failure.crashed, error_type=failure.kind)])
        if failure.usage:
            error_class = _FATAL.get(failure.kind, UsageError)
            self.abort = error_class(failure.error.split(": ", 1)[-1])
            return
        if state.status == FINISHED:
            return  # code after the last step raised; every step is already recorded
        self.errors.setdefault(m, failure.traceback or failure.error)
        if state.failures > self.retries:
            self._record([ev.MemberFailed(member=m, step=failure.step, error=failure.error)])
            step = self.waiting_at.pop(m, None)
            if step is not None:
                self.waiting[step].discard(m)
            self.paced.discard(m)
            self._release_rounds()  # fewer members to wait for
            self._release_paced()
            return
        self._push(m)  # unless it waits for its decision: its checkpoint there is saved

    def idle(self, member: int) -> None:
        """``train`` returned: the member's worker is free."""
        self.on_worker.discard(member)
        self.owed.discard(member)
        self._push(member)

    def take_replies(self) -> list[tuple[int, Any]]:
        """Replies for members held on their workers, released since the last call."""
        if not self._replies:
            return []
        out, self._replies = self._replies, []
        return out

    # -- decisions -----------------------------------------------------------------------------

    def _arrive(self, member: int, step: int) -> None:
        """``member`` stopped at ready step ``step``: decide now, or wait for the round."""
        if self.state[member].decided >= step:
            return  # done with this step already (it runs it again after a failure or a resume)
        if self.decider.compares:
            round = self.state.rounds.get(step)
            if round is None or member not in round.entries:
                return  # not in a round (nothing to rank it in): it goes on as it is
            # if it waited, would its worker have nothing to do? then a quorum is enough
            if not self._decidable(round, idle=self._peek() is None):
                self._wait(member, step)
                return
            if step in self.waiting:  # the round decides: everyone waiting there with it
                self._release_round(step)
        self._decide(member, step)

    def _wait(self, member: int, step: int) -> None:
        self.waiting.setdefault(step, set()).add(member)
        self.waiting_at[member] = step

    def _decidable(self, round, idle: bool = False) -> bool:
        """Whether a round may decide: once every member alive reached it (stopped there or is
        past it); asynchronously also once a quorum did, if waiting for the rest would leave a
        worker ``idle``."""
        alive = self.state.alive
        if round.reached >= alive:
            return True
        return idle and not self.synchronous and round.reached >= quorum_size(self.quorum, alive)

    def release_for_idle_worker(self) -> bool:
        """A worker is free and no member can run: the oldest round that has a quorum decides
        (asynchronous mode). Return whether a member can run now."""
        for step in sorted(self.waiting):
            round = self.state.rounds.get(step)
            if round is None or self._decidable(round, idle=True):
                self._release_round(step)
                break
        return self._peek() is not None

    def _release_rounds(self) -> None:
        for step in sorted(self.waiting):
            round = self.state.rounds.get(step)
            if not self.waiting[step]:
                del self.waiting[step]  # (its members failed)
            elif round is None or self._decidable(round):
                self._release_round(step)

    def _release_round(self, step: int) -> None:
        """Everyone waiting at ``step`` decides (the round is complete, or may decide now)."""
        round = self.state.rounds.get(step)
        for member in sorted(self.waiting.pop(step, ())):
            del self.waiting_at[member]
            if round is not None:  # (else nobody is left to rank it with)
                self._decide(member, step)
            self._released(member)

    def _decide(self, member: int, step: int) -> None:
        events = []
        fired = self.decider.league_event(member, step)  # a league role's reset rule comes first
        if fired is not None:
            events.append(fired)
        if fired is None or not fired.reset:
            event = self.decider.decide(member, step)
            if event is not None:
                events.append(event)
        if events:
            self._record(events)
            if any(isinstance(e, (ev.Exploited, ev.Explored)) or (isinstance(e, ev.LeagueReset) and e.reset)
                   for e in events):
                self._changed.add(member)  # its worker must call train again
        if self.max_lag is not None:
            low = self.state.min_step()
            if low is not None and step - low > self.max_lag:
                self.paced.add(member)
                heapq.heappush(self._paced_heap, (step, member))

    def _release_paced(self) -> None:
        if not self._paced_heap:
            return
        low = self.state.min_step()
        while self._paced_heap:
            step, member = self._paced_heap[0]
            if member in self.paced and low is not None and step - low > self.max_lag:
                return
            heapq.heappop(self._paced_heap)
            if member in self.paced:
                self.paced.discard(member)
                self._released(member)

    def _released(self, member: int) -> None:
        """``member`` waited and may go on: answer its worker, or let it be dispatched."""
        if member in self.waiting_at or member in self.paced:
            return
        if member in self.owed:
            self.owed.discard(member)
            self._replies.append((member, self._placement(member)))
        else:
            self._push(member)  # after its worker reports it idle, if it still has one

    def _reply_now(self, member: int) -> Any:
        """The reply to the member that just stopped (it may have to wait)."""
        if member in self.waiting_at or member in self.paced:
            if self.can_hold and self._peek() is None:
                self.owed.add(member)  # nobody else could use its worker: it waits on it
                return None
            return YIELD
        return self._placement(member)

    def _placement(self, member: int) -> Any:
        """Keep the worker, or yield it to a member that is further behind."""
        state = self.state[member]
        other = self._peek()
        if other is not None:
            mine, theirs = state.ref_step, self.state[other].ref_step
            if mine > theirs or (self._strict_order and mine == theirs and member > other):
                return YIELD
        if member in self._changed:
            return Restart(self.task(member))
        return Continue(stop=self.state.rule.next_stop(state.ref_step), opponents=self._draw(member))
