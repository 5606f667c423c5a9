"""Run members in Ray actors: on this machine or on an existing Ray cluster (extra ``ray``).

The controller stays where ``pt.run`` is called, the single writer of the run log. Members run
in worker actors that live for the whole run (after an exploit an actor calls ``train`` again
in place: no process start). Messages from actors go through one mailbox actor, numbered per
sender so they are processed in the order they were sent. An actor that dies (killed, out of
memory, node lost) fails its member over to a fresh actor, from the member's last checkpoint.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
import warnings
from typing import Any
from collections.abc import Callable

from poptune.checkpoints import open_checkpoints
from poptune.errors import ConfigError, PoptuneError
from poptune.runners.base import Handler, Runner
from poptune.core.messages import Failure, Idle, Report, Restart, Task
from poptune.runners.worker import limit_threads, run_task

CANCEL = "cancel"  # reply to a worker whose member the controller gave up on
START_TIMEOUT = 120  # seconds for the worker actors to come up


class Ray(Runner):
    """Members as Ray actors.

    Args:
        address: ``None`` starts a local Ray (stopped again at the end); ``"auto"`` or
            ``"ray://host:10001"`` joins a running cluster. Ignored if Ray is already initialized.
        resources_per_member: Resources of one worker actor, e.g. ``{"num_cpus": 1, "num_gpus": 1}``.
        max_concurrent: How many members run at once (default: as many as the cluster's CPUs
            allow, at most the population).
        task_timeout: Seconds a running member may go without reporting before its actor is
            killed and the member retried (default: no limit; Ray detects dead actors itself).
        init_kwargs: Extra arguments for ``ray.init`` when this runner starts Ray.

    Checkpoints must be reachable from every node: on one machine the run directory is; on a
    cluster pass ``pt.run(..., checkpoints="s3://bucket/path")`` (any fsspec URL) or a shared
    file system path.

    Examples:
        >>> import poptune as pt
        >>> runner = pt.runners.Ray(resources_per_member={"num_cpus": 1})
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        resources_per_member: dict | None = None,
        max_concurrent: int | None = None,
        task_timeout: float | None = None,
        init_kwargs: dict | None = None,
    ):
        resources = dict(resources_per_member or {"num_cpus": 1, "num_gpus": 0})
        for key, value in resources.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"Ray: resources_per_member[{key!r}] must be a number >= 0, got {value!r}")
        if max_concurrent is not None and (isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int)
                                           or max_concurrent < 1):
            raise ConfigError(f"Ray: max_concurrent must be a positive integer or None, got {max_concurrent!r}")
        if task_timeout is not None and not (isinstance(task_timeout, (int, float)) and task_timeout > 0):
            raise ConfigError(f"Ray: task_timeout must be a positive number of seconds or None, got {task_timeout!r}")
        self.address, self.resources, self.max_concurrent = address, resources, max_concurrent
        self.task_timeout, self.init_kwargs = task_timeout, dict(init_kwargs or {})
        self._owns_ray = False
        self._actors: list[_Slot] = []
        self._senders: dict[str, _Slot] = {}  # the live actors, by the id their messages carry

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, train: Callable, handler: Handler, checkpoint_root: str, population: int) -> None:
        ray = _ray()
        if not ray.is_initialized():
            kwargs = {"include_dashboard": False, "log_to_driver": True, **self.init_kwargs}
            ray.init(address=self.address, **kwargs)
            self._owns_ray = True
        self._ray, self._handler, self._train, self._root = ray, handler, train, checkpoint_root
        capacity = self._capacity(population)
        size = max(1, min(self.max_concurrent or capacity, population))
        if size > capacity:
            # an actor that cannot be placed would hold its member (and a synchronous barrier) forever
            warnings.warn(
                f"Ray: max_concurrent={self.max_concurrent} but the cluster fits {capacity} actors of "
                f"{self.resources} now; running {capacity} at once (add nodes, or ask for fewer resources)",
                stacklevel=2,
            )
            size = capacity
        cpus = self.resources.get("num_cpus", 1)
        self._threads = max(1, int(cpus)) if cpus else 1
        self._mailbox = ray.remote(_Mailbox).options(max_concurrency=size + 8, num_cpus=0).remote()
        self._worker_class = ray.remote(_Worker).options(
            num_cpus=self.resources.get("num_cpus", 1),
            num_gpus=self.resources.get("num_gpus", 0),
            resources={k: v for k, v in self.resources.items() if k not in ("num_cpus", "num_gpus")} or None,
            max_restarts=0,
        )
        self._actors = [self._spawn() for _ in range(size)]
        try:
            ray.get([slot.actor.ready.remote() for slot in self._actors], timeout=START_TIMEOUT)
        except ray.exceptions.GetTimeoutError:
            self.stop()
            raise PoptuneError(
                f"Ray: the {size} worker actors did not start within {START_TIMEOUT}s; check that the cluster "
                f"has the resources_per_member {self.resources} free"
            ) from None

    def _capacity(self, population: int) -> int:
        available = self._ray.cluster_resources()
        limits = [population]
        for key, need in self.resources.items():
            if need:
                have = available.get({"num_cpus": "CPU", "num_gpus": "GPU"}.get(key, key), 0)
                limits.append(int(have // need))
        return max(1, min(limits))

    def _spawn(self) -> _Slot:
        sender = uuid.uuid4().hex
        actor = self._worker_class.remote(self._train, self._mailbox, self._root, sender, self._threads)
        # Asked now, queued before any run(): a busy actor could not answer later.
        slot = self._senders[sender] = _Slot(actor, actor.pid.remote(), sender)
        return slot

    def stop(self) -> None:
        ray = getattr(self, "_ray", None)
        if ray is None:
            return
        for slot in self._actors:
            ray.kill(slot.actor, no_restart=True)
        if getattr(self, "_mailbox", None) is not None:
            ray.kill(self._mailbox, no_restart=True)
        self._actors = []
        self._senders = {}
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False

    # -- work ----------------------------------------------------------------------------------

    def free_slots(self) -> int:
        return sum(not slot.busy for slot in self._actors)

    def submit(self, task: Task) -> None:
        # A slot is busy from here until its segment's last message (Idle or Failure) arrives,
        # not until its run() call returns: the call may return before the mailbox has
        # delivered that message, and freeing the slot then would let the member be dispatched
        # while the engine still counts it as running (or the late Idle free it a second time).
        slot = next(s for s in self._actors if not s.busy)
        slot.member, slot.step, slot.seen, slot.held = task.member, task.start, time.monotonic(), False
        slot.busy = True
        slot.ref = slot.actor.run.remote(task)

    def poll(self, timeout: float) -> None:
        ray = self._ray
        for sender, message in ray.get(self._mailbox.take.remote(timeout)):
            self._deliver(sender, message)
        pending = [s.ref for s in self._actors if s.ref is not None]
        if not pending:
            return
        done, _ = ray.wait(pending, num_returns=len(pending), timeout=0)
        for slot in [s for s in self._actors if s.ref in done]:
            try:
                ray.get(slot.ref)
                slot.ref = None  # the call returned; its Idle or Failure message frees the slot
            except Exception as err:  # the actor died: RayActorError, WorkerCrashedError, OOM...
                if slot.busy:
                    self._fail_over(slot, f"{type(err).__name__}: the Ray actor running member {slot.member} "
                                          f"died ({err})")
                else:  # it died after its segment ended: nothing was lost, replace it
                    self._replace(slot)
        if self.task_timeout is not None:
            now = time.monotonic()
            for slot in self._actors:
                # a member waiting for the controller's answer (a round, pacing) is not silent
                if slot.busy and slot.ref is not None and not slot.held and now - slot.seen > self.task_timeout:
                    self._fail_over(slot, f"TaskTimeout: member {slot.member} sent nothing for "
                                          f"{self.task_timeout:g}s; its actor was killed")

    def _deliver(self, sender: str, message: Any) -> None:
        slot = self._senders.get(sender)
        if slot is None or not slot.busy:
            return  # sent by an actor failed over since: its member runs elsewhere now
        slot.seen = time.monotonic()
        if isinstance(message, Report):
            slot.step = message.step
            reply = self._handler.on_report(message)
            if message.ready and reply is not None:
                self.reply(message.member, reply)
            elif message.ready:
                slot.held = True  # its answer comes later, through reply()
        elif isinstance(message, (Failure, Idle)):  # the segment ended: the slot is free again
            slot.busy, slot.held = False, False
            if isinstance(message, Failure):
                self._handler.on_failure(message)
            else:
                self._handler.on_idle(message)

    def _fail_over(self, slot: _Slot, error: str) -> None:
        member, step = slot.member, slot.step
        self._replace(slot)
        self._mailbox.answer.remote(member, CANCEL)  # release a wait the dead actor left behind
        self._handler.on_failure(Failure(member=member, step=step, error=error, crashed=True, kind="WorkerDied"))

    def _replace(self, slot: _Slot) -> None:
        """Kill the slot's actor and put a fresh one in its place."""
        self._senders.pop(slot.sender, None)  # whatever it still sends is stale
        self._ray.kill(slot.actor, no_restart=True)
        self._actors[self._actors.index(slot)] = self._spawn()

    def reply(self, member: int, reply: Any) -> None:
        self._mailbox.answer.remote(member, reply)
        for slot in self._actors:
            if slot.member == member and slot.busy:
                slot.held, slot.seen = False, time.monotonic()
                if isinstance(reply, Restart):
                    slot.step = reply.task.start

    def pids(self) -> list[int]:
        """Process ids of the worker actors (for monitoring, or tests that kill one)."""
        return self._ray.get([slot.pid for slot in self._actors])

    def describe(self) -> dict:
        return {"name": self.name, "address": self.address, "resources_per_member": self.resources,
                "max_concurrent": self.max_concurrent}


class _Slot:
    def __init__(self, actor, pid, sender: str):
        self.actor, self.pid, self.sender = actor, pid, sender
        self.ref = None  # the latest run() call, until it returns
        self.busy = False  # a segment runs here: from submit until its Idle or Failure message
        self.member: int | None = None
        self.step = 0
        self.seen = 0.0
        self.held = False  # blocked at a ready step until the controller answers


class _Mailbox:
    """Actor: messages from workers to the controller, and the controller's answers.

    Threaded (several calls at once), so messages carry a per-sender sequence number and are
    released in order.
    """

    def __init__(self):
        self._cv = threading.Condition()
        self._next: dict[str, int] = {}
        self._held: dict[str, dict[int, Any]] = {}
        self._queue: list = []
        self._replies: dict[int, Any] = {}

    def _accept(self, sender: str, seq: int, message: Any) -> None:
        held = self._held.setdefault(sender, {})
        held[seq] = message
        expected = self._next.get(sender, 1)
        while expected in held:
            self._queue.append((sender, held.pop(expected)))
            expected += 1
        self._next[sender] = expected
        self._cv.notify_all()

    def put(self, sender: str, seq: int, message: Any) -> None:
        with self._cv:
            self._accept(sender, seq, message)

    def ask(self, sender: str, seq: int, message: Any) -> Any:
        member = message.member
        with self._cv:
            self._replies.pop(member, None)
            self._accept(sender, seq, message)
            self._cv.wait_for(lambda: member in self._replies)
            return self._replies.pop(member)

    def answer(self, member: int, reply: Any) -> None:
        with self._cv:
            self._replies[member] = reply
            self._cv.notify_all()

    def take(self, timeout: float) -> list:
        with self._cv:
            if not self._queue:
                self._cv.wait(timeout)
            out, self._queue = self._queue, []
            return out


class _Worker:
    """Actor: runs members' segments, one at a time, for the whole run."""

    def __init__(self, train: Callable, mailbox, root: str, sender: str, threads: int):
        limit_threads(threads)
        self.train, self.checkpoints = train, open_checkpoints(root)
        self.channel = _RayChannel(mailbox, sender)

    def ready(self) -> bool:
        return True

    def pid(self) -> int:
        return os.getpid()

    def run(self, task: Task) -> int:
        run_task(self.train, task, self.channel, self.checkpoints)
        return task.member


class _RayChannel:
    def __init__(self, mailbox, sender: str):
        self.mailbox, self.sender, self.seq = mailbox, sender, 0

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def report(self, report: Report) -> Any:
        if not report.ready:
            self.mailbox.put.remote(self.sender, self._next(), report)
            return None
        reply = _ray().get(self.mailbox.ask.remote(self.sender, self._next(), report))
        if reply == CANCEL:
            raise PoptuneError(f"member {report.member} was failed over by the controller")
        return reply

    def alive(self) -> None:
        pass  # actors die with the driver that owns them

    def failure(self, failure: Failure) -> None:
        self.mailbox.put.remote(self.sender, self._next(), failure)

    def idle(self, idle: Idle) -> None:
        self.mailbox.put.remote(self.sender, self._next(), idle)


def _ray():
    try:
        import ray
    except ImportError:
        raise PoptuneError("the Ray runner needs ray: pip install 'poptune[ray]'") from None
    return ray
