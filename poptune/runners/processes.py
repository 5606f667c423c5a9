"""Run members in a pool of local worker processes (the default runner).

Workers live for the whole run: after an exploit a worker calls ``train`` again with the new
hyperparameters and the copied state, without starting a process. On Linux workers are
forked, so the train function may be a closure or a lambda and the parent's imports (torch...)
are inherited, which keeps the time to the first step in milliseconds.
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing as mp
import os
import pickle
import signal
import sys
import threading
import time
from multiprocessing import connection
from typing import Any
from collections.abc import Callable

from poptune.checkpoints import open_checkpoints
from poptune.errors import ConfigError
from poptune.runners.base import Handler, Runner
from poptune.core.messages import Failure, Idle, Report, Restart, Task
from poptune.runners.worker import limit_threads, run_task

# what torch imports on the first optimizer step (torch._dynamo: some 800 modules, ~70 MB):
# imported once here, before the workers fork, rather than once in every worker
TORCH_PRELOAD = ("torch._dynamo",)


class Processes(Runner):
    """A pool of worker processes on this machine.

    A population larger than the pool is time-multiplexed: a worker runs a member until its
    next ready step, then takes the least advanced member waiting. A worker that dies (killed,
    segfault, out of memory) is replaced and its member retried from its last checkpoint.

    Args:
        workers: Number of processes; default ``os.cpu_count()``, at most the population.
        start_method: ``"fork"`` (default where available), ``"forkserver"`` or ``"spawn"``.
            With ``"spawn"`` the train function must be importable (defined at module level).
        threads: Math-library threads per worker (torch, OpenMP, MKL); default
            ``cpu_count // workers`` so workers do not oversubscribe the cores.
        preload: Modules to import in this process before the workers start, so that forked
            workers share them instead of each importing its own copy (memory and start-up
            time). Default: when torch is imported here, what torch itself imports on its first
            optimizer step (``torch._dynamo``); ``()`` imports nothing. With ``"forkserver"``
            the fork server imports them; with ``"spawn"`` they are not shared.

    Examples:
        >>> import poptune as pt
        >>> runner = pt.runners.Processes(workers=2)
    """

    name = "processes"

    def __init__(self, workers: int | None = None, start_method: str | None = None, threads: int | None = None,
                 preload: tuple[str, ...] | list[str] | None = None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ConfigError(f"Processes: workers must be a positive integer or None, got {workers!r}")
        methods = mp.get_all_start_methods()
        if start_method is not None and start_method not in methods:
            raise ConfigError(f"Processes: start_method must be one of {methods}, got {start_method!r}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ConfigError(f"Processes: threads must be a positive integer or None, got {threads!r}")
        if preload is not None and (not isinstance(preload, (list, tuple)) or not all(isinstance(m, str) for m in preload)):
            raise ConfigError(f"Processes: preload must be a list of module names such as ['torch'], got {preload!r}")
        self.workers = workers
        self.preload = None if preload is None else tuple(preload)
        self.start_method = start_method or ("fork" if "fork" in methods else "spawn")
        self.threads = threads
        self._pool: list[_Worker] = []

    def start(self, train: Callable, handler: Handler, checkpoint_root: str, population: int) -> None:
        size = min(self.workers or os.cpu_count() or 1, population)
        if self.start_method != "fork":
            try:
                pickle.dumps(train)
            except Exception as err:
                raise ConfigError(
                    f"Processes(start_method={self.start_method!r}): the train function cannot be "
                    f"sent to worker processes ({err}); define it at module level, or use "
                    f"start_method='fork' or runner='inline'"
                ) from None
        self._ctx = mp.get_context(self.start_method)
        self._preload()
        self._train, self._handler, self._root = train, handler, checkpoint_root
        self._thread_count = self.threads or max(1, (os.cpu_count() or 1) // size)
        self._pool = [self._spawn(i) for i in range(size)]

    def _preload(self) -> None:
        modules = self.preload
        if modules is None:
            modules = TORCH_PRELOAD if "torch" in sys.modules else ()
        if not modules or self.start_method == "spawn":
            return
        if self.start_method == "forkserver":
            self._ctx.set_forkserver_preload(list(modules))
            return
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception as err:
                if self.preload is None:
                    continue  # (the default is a courtesy: a torch build without it runs as it is)
                raise ConfigError(f"Processes(preload=...): cannot import {name!r} ({type(err).__name__}: {err}); "
                                  f"install it or leave it out of preload") from err

    def _spawn(self, index: int) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main,
            args=(child, self._train, self._root, self._thread_count),
            name=f"poptune-worker-{index}",
            daemon=True,
        )
        # a forked worker shares this process's memory until either writes to it; the garbage
        # collector's passes would write to every object's header (and copy every page of them):
        # objects that exist now are left out of them in the worker (and here, until it started)
        frozen = self.start_method == "fork"
        if frozen:
            gc.freeze()
        try:
            process.start()
        finally:
            if frozen:
                gc.unfreeze()
        child.close()
        return _Worker(index, process, parent)

    def free_slots(self) -> int:
        return sum(w.member is None for w in self._pool)

    def submit(self, task: Task) -> None:
        worker = next(w for w in self._pool if w.member is None)
        worker.member, worker.step = task.member, task.start
        worker.conn.send(task)

    def poll(self, timeout: float) -> None:
        waitables = [w.conn for w in self._pool] + [w.process.sentinel for w in self._pool]
        ready = set(connection.wait(waitables, timeout))
        for worker in list(self._pool):
            if worker.conn in ready:
                self._drain(worker)
            if worker.process.sentinel in ready or not worker.process.is_alive():
                self._drain(worker)
                self._replace(worker)

    def _drain(self, worker: _Worker) -> None:
        while True:
            try:
                if worker.conn.closed or not worker.conn.poll():
                    return
                message = worker.conn.recv()
            except (EOFError, OSError):
                return
            if isinstance(message, Report):
                worker.step = message.step
                reply = self._handler.on_report(message)
                if message.ready and reply is not None:
                    self._send(worker, reply)
            elif isinstance(message, Failure):
                worker.member = None
                self._handler.on_failure(message)
            elif isinstance(message, Idle):
                worker.member = None
                self._handler.on_idle(message)

    def _send(self, worker: _Worker, reply: Any) -> None:
        try:
            worker.conn.send(reply)
        except (BrokenPipeError, OSError):
            pass  # the worker died; poll() notices and fails its member over
        if isinstance(reply, Restart):
            worker.member = reply.task.member

    def _replace(self, worker: _Worker) -> None:
        worker.conn.close()
        worker.process.join(timeout=5)  # reap it first: the exit code is known only after
        member, step, code = worker.member, worker.step, worker.process.exitcode
        self._pool[self._pool.index(worker)] = self._spawn(worker.index)
        if member is not None:
            self._handler.on_failure(
                Failure(
                    member=member,
                    step=step,
                    error=f"WorkerDied: the worker process running member {member} exited with code {code}",
                    crashed=True,
                    kind="WorkerDied",
                )
            )

    def reply(self, member: int, reply: Any) -> None:
        for worker in self._pool:
            if worker.member == member:
                self._send(worker, reply)
                return

    def stop(self) -> None:
        for worker in self._pool:
            if worker.member is None and worker.process.is_alive():
                try:
                    worker.conn.send(None)
                except (BrokenPipeError, OSError):
                    pass
            else:
                worker.process.kill()  # its segment restarts from the member's checkpoint anyway
        for worker in self._pool:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._pool = []

    def pids(self) -> list[int]:
        """Process ids of the workers (for monitoring, or for tests that kill one)."""
        return [w.process.pid for w in self._pool]

    def describe(self) -> dict:
        return {"name": self.name, "workers": self.workers, "start_method": self.start_method}


def _watch_controller(parent: int, every: float = 0.5) -> None:
    """End this worker within ``every`` seconds of its controller's death, wherever it blocks
    (a pipe whose other end another worker inherited never reports the death)."""

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="poptune-watchdog", daemon=True).start()


class _Worker:
    def __init__(self, index: int, process, conn):
        self.index, self.process, self.conn = index, process, conn
        self.member: int | None = None
        self.step = 0


class _PipeChannel:
    def __init__(self, conn):
        self.conn = conn
        self.parent = os.getppid()

    def alive(self) -> None:
        """Exit if the controller died (this worker was orphaned): nobody reads our reports."""
        if os.getppid() != self.parent:
            os._exit(1)

    def _send(self, message: Any) -> None:
        try:
            self.conn.send(message)
        except (BrokenPipeError, EOFError, OSError):
            os._exit(1)  # the controller is gone: nobody is left to report to

    def report(self, report: Report) -> Any:
        self._send(report)
        if not report.ready:
            return None
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            os._exit(1)

    def failure(self, failure: Failure) -> None:
        self._send(failure)

    def idle(self, idle: Idle) -> None:
        self._send(idle)


def _worker_main(conn, train: Callable, root: str, threads: int) -> None:
    # Ctrl-C and SIGTERM reach the whole process group; the controller alone handles them and
    # stops us. If the controller dies without stopping us, the watchdog ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _watch_controller(os.getppid())
    limit_threads(threads)
    checkpoints = open_checkpoints(root)
    channel = _PipeChannel(conn)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        run_task(train, task, channel, checkpoints)
