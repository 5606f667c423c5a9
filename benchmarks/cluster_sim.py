"""The controller driving a simulated cluster: how many workers' reports and decisions it keeps up with.

    python -m benchmarks.cluster_sim [--workers 1000] [--repeats 3]

A Ray cluster of a thousand workers cannot run on this machine; its controller can. This
benchmark replaces the runner with :class:`SimulatedCluster`: ``workers`` mock workers that
follow the worker protocol exactly (a task runs a member from its state to its next stop; a
report per step; at a ready step the worker waits for the reply and continues, restarts with
a new task after an exploit, or yields its slot), but train nothing: a step takes
``step_seconds`` of simulated work, with ±20% jitter so that workers drift apart, and the score
is a deterministic function of the member's hyperparameter and step. Each member's
checkpoint at a stop is named in the log as a real worker's would be; no file is written, since
the controller never reads checkpoint bytes (workers write and load them). The population is
one member per worker, 100 steps, ready every 10 steps, ``Truncation(0.2)``, asynchronous.

Two measurements, each a fresh run:

- **saturation** (``step_seconds = 0``): every worker reports as soon as the controller has
  taken its previous report; the reports and decisions per second the controller sustains
  (from the first report to the last: ``pt.run`` also opens the run and, at its end, reads the
  whole log back into a ``Result``), and the share of that time in ``on_report`` and commits;
- **demand**: each worker steps every ``step_seconds`` (0.2 s, 0.1 s, 0.05 s, 0.02 s): the run's
  wall time against the steps' own time (100 steps of ``step_seconds``; the difference is the
  controller's cost plus the protocol's own waiting: members wait at a ready step for a quorum
  of the population to reach it), the share of the run the controller was busy, and the lag of
  a report (from when its step ended to when the controller recorded it; median and p99).

What it does not model: the transport (Ray's RPC and object store cost the workers and the
raylet, not the controller's Python thread, but a report's latency adds to the lag), and
checkpoint files (see ``benchmarks/checkpoint_transfer.py`` for moving them between actors).
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Any

import poptune as pt
from poptune.core.messages import STOP, YIELD, Continue, Idle, Report, Restart, Task
from poptune.runners.base import Runner

STEPS, INTERVAL = 100, 10


class _MockWorker:
    def __init__(self, index: int):
        self.index = index
        self.task: Task | None = None
        self.step = 0
        self.stop = 0
        self.waiting = False  # at a ready step, its reply deferred


class SimulatedCluster(Runner):
    """``workers`` mock workers that follow the worker protocol and train nothing."""

    name = "simulated"

    def __init__(self, workers: int, step_seconds: float, seed: int = 0):
        self.workers, self.step_seconds = workers, step_seconds
        self.rng = random.Random(seed)
        self.lags: list[float] = []  # seconds from a step's end to its report being recorded
        self.first = self.last = 0.0  # when the first and the last report were recorded

    def start(self, train, handler, checkpoint_root: str, population: int) -> None:
        self.handler = handler
        self.pool = [_MockWorker(i) for i in range(min(self.workers, population))]
        self.idle = list(self.pool)
        self.due: list[tuple[float, int]] = []  # (when its current step ends, worker index)

    def free_slots(self) -> int:
        return len(self.idle)

    def submit(self, task: Task) -> None:
        worker = self.idle.pop()
        self._begin(worker, task, time.perf_counter())

    def _begin(self, worker: _MockWorker, task: Task, now: float) -> None:
        worker.task, worker.step, worker.stop, worker.waiting = task, task.start, task.stop, False
        self._schedule(worker, now)

    def _schedule(self, worker: _MockWorker, now: float) -> None:
        work = self.step_seconds * (0.8 + 0.4 * self.rng.random()) if self.step_seconds else 0.0
        heapq.heappush(self.due, (now + work, worker.index))

    def poll(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while True:
            now = time.perf_counter()
            if not self.due or self.due[0][0] > now:
                if now >= deadline or not self.due:
                    if not self.due:
                        time.sleep(max(0.0, min(deadline - now, 0.001)))
                    return
                time.sleep(min(self.due[0][0], deadline) - now)
                continue
            ended, index = heapq.heappop(self.due)
            self._step(self.pool[index], ended)
            if self.idle:
                return  # the controller hands out the freed slot first

    def _step(self, worker: _MockWorker, ended: float) -> None:
        task = worker.task
        worker.step += 1
        step, member = worker.step, task.member
        final = step == task.budget
        ready = not final and step == worker.stop
        score = task.hparams["x"] * step / task.budget + 1e-3 * math.sin(step + member)
        ref = f"m{member:04d}/s{step:08d}.pkl" if (ready or final) else None
        reply = self.handler.on_report(Report(member, step, score, {}, time.time(), ref=ref, ready=ready, final=final))
        now = time.perf_counter()
        self.lags.append(now - ended)
        self.first, self.last = self.first or now, now
        if final:
            self._free(worker)
        elif ready:
            if reply is None:
                worker.waiting = True  # answered later through reply()
            else:
                self._answer(worker, reply)
        else:
            self._schedule(worker, time.perf_counter())

    def _answer(self, worker: _MockWorker, reply: Any) -> None:
        now = time.perf_counter()
        worker.waiting = False
        if isinstance(reply, Continue):
            worker.stop = reply.stop
            self._schedule(worker, now)
        elif isinstance(reply, Restart):
            self._begin(worker, reply.task, now)
        elif reply in (YIELD, STOP):
            self._free(worker)
        else:
            raise RuntimeError(f"unexpected reply {reply!r}")

    def _free(self, worker: _MockWorker) -> None:
        member = worker.task.member
        worker.task = None
        self.idle.append(worker)
        self.handler.on_idle(Idle(member))

    def reply(self, member: int, reply: Any) -> None:
        worker = next(w for w in self.pool if w.task is not None and w.task.member == member and w.waiting)
        self._answer(worker, reply)

    def stop(self) -> None:
        self.due.clear()


@contextmanager
def split_time():
    """Time spent in the engine (decisions, state), in commits, and in the whole controller."""
    from poptune.controller import Controller
    from poptune.store.store import Store

    spent: dict[str, float] = defaultdict(float)
    originals = {"on_report": Controller.on_report, "append": Store.append}

    def on_report(self, report):
        start = time.perf_counter()
        try:
            return originals["on_report"](self, report)
        finally:
            spent["on_report"] += time.perf_counter() - start

    def append(self, events):
        start = time.perf_counter()
        try:
            return originals["append"](self, events)
        finally:
            spent["commits"] += time.perf_counter() - start

    Controller.on_report, Store.append = on_report, append
    try:
        yield spent
    finally:
        Controller.on_report, Store.append = originals["on_report"], originals["append"]


def one_run(workers: int, step_seconds: float, seed: int) -> dict:
    runner = SimulatedCluster(workers, step_seconds, seed)
    with tempfile.TemporaryDirectory() as tmp, split_time() as spent:
        start = time.perf_counter()
        result = pt.run(lambda member: None, {"x": pt.Float(0.0, 1.0)}, population=workers, steps=STEPS,
                        interval=INTERVAL, exploit=pt.Truncation(0.2), runner=runner, dir=tmp, seed=seed,
                        progress=False)
        wall = time.perf_counter() - start
        reports, exploits = len(result.reports), len(result.exploits)
    decisions = workers * (STEPS // INTERVAL - 1)
    lags = sorted(runner.lags)
    span = runner.last - runner.first  # the training itself: without start-up and the final read of the log
    return {
        "workers": workers, "step_seconds": step_seconds, "wall_s": wall, "span_s": span, "reports": reports,
        "exploits": exploits, "decisions": decisions, "reports_per_s": reports / span, "decisions_per_s": decisions / span,
        "lag_median_ms": statistics.median(lags) * 1e3, "lag_p99_ms": lags[int(len(lags) * 0.99)] * 1e3,
        "controller_busy": (spent["on_report"] + spent["commits"]) / span,
        "commits_share": spent["commits"] / max(spent["on_report"] + spent["commits"], 1e-9),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--step-seconds", type=float, nargs="+", default=[0.2, 0.1, 0.05, 0.02],
                        help="seconds of simulated work per step, one demand run each")
    args = parser.parse_args(argv)
    from benchmarks import common

    settings = [0.0] + list(args.step_seconds)
    runs: dict[float, list[dict]] = {s: [] for s in settings}
    for repeat in range(args.repeats):
        for step_seconds in settings:
            runs[step_seconds].append(one_run(args.workers, step_seconds, repeat))
            print(f"repeat {repeat} step {step_seconds}s: {runs[step_seconds][-1]}", flush=True)
    table = []
    for step_seconds, reps in runs.items():
        med = {k: common.median([r[k] for r in reps]) for k in reps[0] if isinstance(reps[0][k], (int, float))}
        table.append({
            "workers": args.workers,
            "step (s)": "as fast as taken" if not step_seconds else common.fmt(step_seconds),
            "the steps' own time (s)": "-" if not step_seconds else common.fmt(STEPS * step_seconds),
            "first to last report (s)": common.fmt(med["span_s"]),
            "pt.run (s)": common.fmt(med["wall_s"]),
            "reports/s": f"{med['reports_per_s']:,.0f}",
            "decisions/s": f"{med['decisions_per_s']:,.0f}",
            "report lag, median (ms)": common.fmt(med["lag_median_ms"]),
            "report lag, p99 (ms)": common.fmt(med["lag_p99_ms"]),
            "controller busy": f"{med['controller_busy']:.0%}",
            "of which commits": f"{med['commits_share']:.0%}",
        })
    path = common.write(
        "cluster_sim", {"workers": args.workers, "steps": STEPS, "interval": INTERVAL, "repeats": args.repeats,
                        "runs": {str(k): v for k, v in runs.items()}, "table": table},
        table, title=f"The controller and {args.workers} simulated workers (medians of {args.repeats} runs)",
        notes=f"One member per worker, {STEPS} steps, ready every {INTERVAL}, Truncation(0.2), asynchronous; mock "
              f"workers follow the worker protocol and train nothing; no transport latency and no checkpoint files "
              f"are simulated. Rates and 'controller busy' (the share of the time in on_report and commits) are over "
              f"the span from the first report to the last.",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
