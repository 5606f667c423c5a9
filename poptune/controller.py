"""The controller: the loop between a runner, the scheduler, the run log and the checkpoints.

Every fact goes through the :class:`~poptune.recorder.Recorder` (the single writer of the run
log), committed once per poll cycle (every report for the inline runner).
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any
from collections.abc import Callable

import numpy as np

from poptune.errors import CheckpointError, RunFailedError, UsageError
from poptune.runners.base import Runner
from poptune.runners.messages import CONTINUE, YIELD, Failure, Idle, Report, Restart, Task
from poptune.rundir import OpenRun, checkpoint_location
from poptune.scheduler import FAILED, FINISHED, Decision
from poptune.store import Event
from poptune.store import events as ev

TICK_SECONDS = 0.2


class Controller:
    """Runs one session of a run until every member finished or failed.

    Args:
        opened: The run directory, opened by :func:`poptune.rundir.open_run`.
        train: The user's train function.
        runner: Where it runs.
    """

    def __init__(self, opened: OpenRun, train: Callable, runner: Runner):
        s = opened.settings
        self.train, self.runner = train, runner
        self.scheduler, self.population = opened.scheduler, opened.population
        self.recorder, self.checkpoints = opened.recorder, opened.checkpoints
        self.checkpoint_location = checkpoint_location(s.dir, s.checkpoints)
        self.budget, self.interval, self.burn_in = s.steps, s.interval, s.burn_in
        self.seed, self.session, self.retries = opened.seed, opened.session, s.retries
        # a fixed schedule's change steps replace the interval rule
        self.ready_at = tuple(step for step, _ in s.schedule[1:]) if s.schedule is not None else None
        # a ready member this many steps ahead of the least advanced one waits (None: never)
        self.max_lag = s.max_lag
        self.running: set[int] = set()  # on a worker (including blocked at a barrier)
        self.parked: set[int] = set()  # at a barrier, off any worker
        self.blocked: set[int] = set()  # at a barrier, on a worker waiting for its reply
        self.paced: dict[int, Any] = {}  # ahead of the others: its reply waits here
        self._abort: BaseException | None = None
        self._errors: dict[int, str] = {}
        self._interrupted = False

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> str:
        """Run until done; return ``"finished"``. Raises on Ctrl-C, usage errors, total failure."""
        status = "failed"
        previous_handler = self._catch_ctrl_c()
        try:
            self.runner.start(self.train, self, self.checkpoint_location, len(self.population))
            last_tick = 0.0
            # Wait for train calls to return too: code after the last step may still run.
            while not self.population.done() or self.running:
                self._stop_if_interrupted()
                self._dispatch()
                if not self.running and not self.population.done():
                    raise RuntimeError(
                        f"poptune internal error: members {[s.id for s in self.population.active]} "
                        f"are waiting but none can run (parked: {sorted(self.parked)})"
                    )
                self.runner.poll(TICK_SECONDS)
                self.recorder.flush()
                if self._abort is not None:
                    raise self._abort
                now = time.monotonic()
                if now - last_tick >= TICK_SECONDS:
                    last_tick = now
                    self.recorder.tick()
            if all(s.status == FAILED for s in self.population):
                member = min(self._errors) if self._errors else 0
                raise RunFailedError(
                    f"every member failed; member {member} failed with:\n{self._errors.get(member, '')}"
                    f"\nThe run directory keeps all reports; fix the cause and resume with resume=True."
                )
            status = "finished"
            return status
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            try:
                self.runner.stop()
                self.recorder.end(status)
            finally:
                if previous_handler is not None:
                    signal.signal(signal.SIGINT, previous_handler)

    def _catch_ctrl_c(self):
        """First Ctrl-C: stop at the next safe point (log and state consistent). Second: now."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            if self._interrupted:
                raise KeyboardInterrupt
            self._interrupted = True

        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, handler)
        return previous

    def _stop_if_interrupted(self) -> None:
        if self._interrupted:
            raise KeyboardInterrupt

    def _dispatch(self) -> None:
        while self.runner.free_slots() > 0:
            waiting = self._runnable()
            if not waiting:
                return
            state = min(waiting, key=lambda s: (s.ref_step, s.id))
            self.running.add(state.id)
            self.runner.submit(self.task(state.id))

    def _runnable(self):
        return [s for s in self.population.active if s.id not in self.running and s.id not in self.parked]

    def task(self, member: int) -> Task:
        """The task that runs ``member`` from its current state."""
        state = self.population[member]
        seed = np.random.SeedSequence([self.seed, 2, member, state.ref_step, state.failures])
        return Task(
            member=member,
            hparams=dict(state.hparams),
            ref=state.ref,
            start=state.ref_step,
            budget=self.budget,
            interval=self.interval,
            burn_in=self.burn_in,
            seed=int(seed.generate_state(1)[0]),
            generation=state.generation,
            attempt=state.failures,
            session=self.session,
            ready_at=self.ready_at,
        )

    # -- messages from the runner --------------------------------------------------------------

    def on_report(self, report: Report) -> Any:
        if self.runner.in_process:  # user code is on our stack: stop it here, before recording
            self._stop_if_interrupted()
        m = report.member
        events = [Event(ev.REPORT, m, report.step, report.score, report.metrics, time=report.time)]
        if report.ref is not None:
            events.append(Event(ev.CHECKPOINT, m, report.step, data={"ref": report.ref}))
        if report.final:
            events.append(Event(ev.FINISH, m, report.step, data={"ref": report.ref}))
        self.recorder.record(events)
        if report.ref is not None:
            self.recorder.point(m, report.ref)
        if self.runner.in_process:
            self.recorder.flush()  # user code runs between reports: commit each one
        self._release_paced()
        if report.final:
            self.recorder.retention.pin(report.ref)
            self._deliver(self.scheduler.release(), current=None)
            return None
        if not report.ready:
            return None
        reply = self._deliver(self.scheduler.ready(m, report.step), current=m)
        if reply is not None:
            if reply != YIELD and self._too_far_ahead(m, report.step) and not self.runner.in_process:
                self.paced[m] = reply  # its worker waits; no other member needs it
                return None
            return reply
        # Waiting at a barrier: give the worker to a member that can run, else hold it.
        if self._runnable():
            self.parked.add(m)
            return YIELD
        self.blocked.add(m)
        return None

    def on_failure(self, failure: Failure) -> None:
        m = failure.member
        self.running.discard(m)
        self.blocked.discard(m)
        self.paced.pop(m, None)
        state = self.population[m]
        data = {
            "error": failure.error,
            "traceback": failure.traceback,
            "attempt": state.failures + 1,
            "crashed": failure.crashed,
            "kind": failure.kind,
        }
        self.recorder.record([Event(ev.FAILURE, m, failure.step, data=data)])
        if failure.usage:
            error_class = CheckpointError if failure.kind == "CheckpointError" else UsageError
            self._abort = error_class(failure.error.split(": ", 1)[-1])
            return
        if state.status == FINISHED:
            return  # code after the last step raised; every step is already recorded
        self._errors.setdefault(m, failure.traceback or failure.error)
        if state.failures > self.retries:
            self.recorder.record([Event(ev.FAILED, m, failure.step, data={"error": failure.error})])
            self.parked.discard(m)
            self._deliver(self.scheduler.release(), current=None)
        elif self.scheduler.is_waiting(m):
            self.parked.add(m)  # its checkpoint at the barrier is saved; it waits off-worker
        self._release_paced()

    def on_idle(self, idle: Idle) -> None:
        self.running.discard(idle.member)
        self._release_paced()

    # -- pacing --------------------------------------------------------------------------------

    def _too_far_ahead(self, member: int, step: int) -> bool:
        if self.max_lag is None:
            return False
        others = [s.step for s in self.population.active if s.id != member]
        return bool(others) and step - min(others) > self.max_lag

    def _release_paced(self) -> None:
        for m in list(self.paced):
            if not self._too_far_ahead(m, self.population[m].step):
                self.runner.reply(m, self.paced.pop(m))

    # -- helpers -------------------------------------------------------------------------------

    def _deliver(self, decisions: list[Decision], current: int | None) -> Any:
        """Record decisions, then answer each decided member; return the reply for ``current``."""
        for decision in decisions:
            if decision.in_place:
                self.recorder.record([Event(ev.EXPLORE, decision.member, decision.step, data=decision.event_data())])
            elif decision.source is not None:
                self.recorder.record([Event(ev.EXPLOIT, decision.member, decision.step, data=decision.event_data())])
                self.recorder.point(decision.member, decision.ref)
        answer = None
        for decision in decisions:
            m = decision.member
            if m in self.parked:
                self.parked.discard(m)  # it runs from its new state when a worker is free
                continue
            reply = self._placement(m, exploited=decision.source is not None)
            if m == current:
                answer = reply
            elif m in self.blocked:
                self.blocked.discard(m)
                self.runner.reply(m, reply)
        return answer

    def _placement(self, member: int, exploited: bool) -> Any:
        """Keep the worker, or yield it to a member that is further behind."""
        step = self.population[member].ref_step
        if any(s.ref_step < step for s in self._runnable() if s.id != member):
            return YIELD
        return Restart(self.task(member)) if exploited else CONTINUE
