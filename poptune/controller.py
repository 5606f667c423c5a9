"""The controller: the loop that connects a runner to the decision core and the run log.

It moves tasks to free workers and messages to the :class:`~poptune.core.Engine`, sends the
engine's replies back, commits the log (grouped: see :class:`~poptune.recorder.Recorder`), and
handles Ctrl-C. It decides nothing itself.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any
from collections.abc import Callable

from poptune.core.messages import Failure, Idle, Report
from poptune.core.state import FAILED
from poptune.errors import RunFailedError
from poptune.runners.base import Runner
from poptune.rundir import OpenRun, checkpoint_location

TICK_SECONDS = 0.2


class Controller:
    """Runs one session of a run until every member finished or failed.

    Args:
        opened: The run directory, opened by :func:`poptune.rundir.open_run`.
        train: The user's train function.
        runner: Where it runs.
    """

    def __init__(self, opened: OpenRun, train: Callable, runner: Runner):
        self.train, self.runner = train, runner
        self.engine, self.state, self.recorder = opened.engine, opened.state, opened.recorder
        self.checkpoint_location = checkpoint_location(opened.settings.dir, opened.settings.checkpoints)
        self._interrupted = False
        self._held: list[tuple[int, Any]] = []  # ready-step replies waiting for this poll's commit

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> str:
        """Run until done; return ``"finished"``. Raises on Ctrl-C, usage errors, total failure."""
        status = "failed"
        previous_handler = self._catch_ctrl_c()
        engine = self.engine
        try:
            self.runner.start(self.train, self, self.checkpoint_location, len(self.state))
            if self.runner.in_process:
                self.recorder.start_flusher()  # user code on our stack between reports: commits keep going
            engine.start()
            self.recorder.flush()  # decisions a crash left pending are made and kept first
            last_tick = 0.0
            # Wait for train calls to return too: code after the last step may still run.
            while not self.state.done() or engine.busy:
                self._stop_if_interrupted()
                while self.runner.free_slots() > 0:
                    task = engine.next_task()
                    if task is None and engine.release_for_idle_worker():
                        task = engine.next_task()
                    if task is None:
                        break
                    self.runner.submit(task)
                self._send_replies()
                if not engine.busy and not self.state.done():
                    raise RuntimeError(
                        f"poptune internal error: members are waiting but none can run "
                        f"(waiting: {engine.waiting_at}, paced: {sorted(engine.paced)})"
                    )
                self.runner.poll(self.recorder.due_in(TICK_SECONDS))  # (back in time for a due commit)
                self._commit_and_answer()
                if engine.abort is not None:
                    raise engine.abort
                now = time.monotonic()
                if now - last_tick >= TICK_SECONDS:
                    last_tick = now
                    self.recorder.tick()
            if all(s.status == FAILED for s in self.state):
                member = min(engine.errors) if engine.errors else 0
                raise RunFailedError(
                    f"every member failed; member {member} failed with:\n{engine.errors.get(member, '')}"
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
                for sig, handler in (previous_handler or {}).items():
                    signal.signal(sig, handler)

    def _catch_ctrl_c(self):
        """First Ctrl-C or SIGTERM: stop at the next safe point (log and state consistent, status
        ``interrupted``, resumable). A second one: now."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            if self._interrupted:
                raise KeyboardInterrupt
            self._interrupted = True

        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, handler)
        return previous

    def _stop_if_interrupted(self) -> None:
        if self._interrupted:
            raise KeyboardInterrupt

    # -- messages from the runner (the Handler protocol) ----------------------------------------

    def on_report(self, report: Report) -> Any:
        if self.runner.in_process:  # user code is on our stack: stop it here, before recording
            self._stop_if_interrupted()
        reply = self.engine.report(report)
        self._send_replies()
        if self.runner.in_process:
            # user code on our stack runs between reports: a group commit whenever one is due (a
            # kill -9 takes the member with the controller: it redoes what was not committed)
            self.recorder.flush(force=False)
        elif report.ready and reply is not None:
            # the reply tells the worker its checkpoint is saved: it goes out after the commit
            # that follows this poll, one commit for every worker that stopped meanwhile
            self._held.append((report.member, reply))
            return None
        return reply

    def on_failure(self, failure: Failure) -> None:
        # a worker waiting for its reply can only fail by dying: nobody is left to answer
        self._held = [(member, reply) for member, reply in self._held if member != failure.member]
        self.engine.failure(failure)
        self._send_replies()

    def on_idle(self, idle: Idle) -> None:
        self.engine.idle(idle.member)

    def _commit_and_answer(self) -> None:
        """Commit (a group, when one is due; at once when replies wait for it), then answer the
        workers held at their ready steps."""
        if not self._held:
            self.recorder.flush(force=False)
            return
        self.recorder.flush()
        held, self._held = self._held, []
        for member, reply in held:
            self.runner.reply(member, reply)

    def _send_replies(self) -> None:
        replies = self.engine.take_replies()
        if replies:
            self.recorder.flush()  # the decisions they carry are in the log first
        for member, reply in replies:
            self.runner.reply(member, reply)
