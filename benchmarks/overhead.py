"""Controller overhead, timed call by call, against a minimal in-memory PBT loop (the floor).

    python -m benchmarks.overhead [--repeats 5] [--name overhead] [--compare OLDER_CHECKOUT]

Workload: 16 members whose train function only reports, 100 steps each, ready every 5 steps,
``Truncation(0.2)`` exploits, a small checkpoint (a list of 16 ints) that ``train`` loads when it
starts, as a real one would. Each repetition runs the **floor** (a 40-line synchronous PBT loop
in memory: the same population, steps, interval and truncation, the checkpoint a list copy),
then poptune with the ``inline`` runner and with the ``processes`` runner (2 workers), each in
a fresh process after an unmeasured warm-up run there; ``--compare`` runs an older checkout's
poptune the same way in the same repetition. poptune's costs are timed call by call
(``time.perf_counter_ns`` around each call, by wrapping the methods):

- **per report, controller, amortised**: the controller's own work for a report that is not
  at a ready step (``Controller.on_report``: record, apply to the state, reply; the mean), plus
  the time of every commit of the run log in the run divided by the reports (**commits per
  run**, each taking **per commit**). Both are the CPU time of the thread doing the work
  (``time.thread_time_ns``): with the inline runner commits run on a background thread, whose
  wall time also counts the member's code running while the commit waits for the GIL (the
  wall time per commit is its own row);
- **per report, as the member sees it** (inline only): ``member.report(...)`` at a step that is
  not ready: argument checks, the message, the controller's work and any commit made there;
- **per report, a run without ready steps**: the same run with ``interval=None`` (no ready
  step, no checkpoint, no decision), its wall time from ``pt.run`` to its return divided by its
  reports: everything a report costs, start-up and the final read of the log included, however
  it is shared between threads and processes;
- **per ready step without exploit** (inline only): ``member.report(...)`` at a ready step whose
  decision changed nothing: the checkpoint file written, the decision, the commit, the reply,
  the previous checkpoint file deleted. **file system alone**: what writing a new small file
  (then renaming it into place) and deleting an old one costs on the same disk, timed in the
  same process: the part of a ready step no controller can avoid while checkpoints are files;
- **per exploit, the decision**: the engine's decision call (rank in the round, copy, explore,
  record) for decisions that exploited; **checkpoint load**: one ``member.checkpoint`` read.
  **checkpoint loads** counts them: ``train`` reloads its state when it is called again, after
  an exploit and whenever its member gave its worker to another member (the inline runner runs
  one member at a time, so every ready step; the processes runner when members outnumber
  workers);
- **inline-tmpfs**: the inline runner with its run directory (log and checkpoints) in
  ``/dev/shm``, a file system in memory (``pt.run(checkpoints=...)`` can put checkpoints there
  alone): what the controller costs when the disk does not;
- **progress display** (inline only): the CPU time of a run of 1,024 no-op members x 10 steps
  without a progress display and with one (``pt.Progress`` rendering to an in-memory terminal
  at its refresh rate): the display must cost the same at every population size per report;
- **first step**: from calling ``pt.run`` to the first report's timestamp; **run**: wall time.

Every cost is also given as a multiple of the floor's matching cost in the same repetition.
Medians over repetitions of each repetition's value.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import poptune as pt

POPULATION, STEPS, INTERVAL, TRUNCATION = 16, 100, 5, 0.2
STATE = list(range(16))  # a small checkpoint
clock = time.perf_counter_ns


def noop(member):
    state = member.checkpoint or STATE  # a real train function starts from its checkpoint
    for _ in member.steps():
        member.report(1.0 + member.hparams["x"], checkpoint=state)


# -- the floor: a minimal synchronous PBT loop in memory ---------------------------------------

def floor(seed: int) -> dict:
    """The same population, steps, interval and truncation as poptune's run, in memory; each
    cost timed call by call (ns lists)."""
    rng = random.Random(seed)
    x = [rng.random() for _ in range(POPULATION)]
    state = [list(STATE) for _ in range(POPULATION)]
    saved: list = [None] * POPULATION
    scores = [-math.inf] * POPULATION
    log: list[tuple[int, int, float]] = []
    times: dict[str, list[int]] = {"report": [], "ready": [], "exploit": []}
    cut = max(1, int(POPULATION * TRUNCATION))
    for step in range(1, STEPS + 1):
        for m in range(POPULATION):
            score = 1.0 + x[m]  # the member's training step (nothing)
            start = clock()
            log.append((m, step, score))  # the report
            scores[m] = score
            if step % INTERVAL:
                times["report"].append(clock() - start)
                continue
            saved[m] = copy.copy(state[m])  # the checkpoint
            times["ready"].append(clock() - start)
        if step % INTERVAL == 0 and step < STEPS:
            start = clock()
            order = sorted(range(POPULATION), key=scores.__getitem__)
            for target, source in zip(order[:cut], order[-cut:]):
                state[target] = copy.copy(saved[source])
                x[target] = min(1.0, max(0.0, x[source] * (0.8 if rng.random() < 0.5 else 1.2)))
                scores[target] = scores[source]
            per = (clock() - start) / cut
            times["exploit"].extend([per] * cut)
    return {"report_us": _median_us(times["report"]), "ready_us": _median_us(times["ready"]),
            "exploit_us": _median_us(times["exploit"])}


# -- poptune, timed call by call ---------------------------------------------------------------

@contextmanager
def timed_calls():
    """Wrap the controller's, engine's, log's and member's methods; yield the timings (ns)."""
    from poptune.controller import Controller
    from poptune.core.engine import Engine
    from poptune.member import Member
    from poptune.store.store import Store

    t: dict = defaultdict(list)
    inside = {"thread": None, "commits": 0}  # (commit CPU time spent inside the current on_report, on its thread)
    originals = {(Controller, "on_report"): Controller.on_report, (Store, "append"): Store.append,
                 (Engine, "_decide"): Engine._decide, (Member, "report"): Member.report,
                 (Member, "_load_ref"): Member._load_ref}

    def on_report(self, report):
        inside["thread"], inside["commits"] = threading.get_ident(), 0
        start = time.thread_time_ns()
        try:
            return originals[Controller, "on_report"](self, report)
        finally:
            inside["thread"] = None
            if not report.ready:  # its own work; commits are shared out over every report
                t["controller_report"].append(time.thread_time_ns() - start - inside["commits"])

    def append(self, events):
        start, start_cpu = clock(), time.thread_time_ns()
        out = originals[Store, "append"](self, events)
        took, cpu = clock() - start, time.thread_time_ns() - start_cpu
        t["commit"].append(took)
        t["commit_cpu"].append(cpu)
        if inside["thread"] == threading.get_ident():
            inside["commits"] += cpu
        return out

    def decide(self, member, step):
        before = self.state[member].exploits
        start = clock()
        out = originals[Engine, "_decide"](self, member, step)
        (t["exploit"] if self.state[member].exploits > before else t["no_exploit"]).append(clock() - start)
        return out

    def member_report(self, score, checkpoint=None, **metrics):
        step = self.step + 1
        ready = self.is_checkpoint_step(step)  # (the last step saves the state too: timed with neither)
        exploits = len(t["exploit"])
        start = clock()
        out = originals[Member, "report"](self, score, checkpoint=checkpoint, **metrics)
        took = clock() - start
        if not ready:
            t["member_report"].append(took)
        elif step < self.budget and len(t["exploit"]) == exploits:
            t["member_ready"].append(took)
        return out

    def load_ref(self, ref):
        start = clock()
        out = originals[Member, "_load_ref"](self, ref)
        t["loads"].append(clock() - start)
        return out

    Controller.on_report, Store.append, Engine._decide = on_report, append, decide
    Member.report, Member._load_ref = member_report, load_ref
    try:
        yield t
    finally:
        for (owner, name), original in originals.items():
            setattr(owner, name, original)


TMPFS = "/dev/shm"  # a memory-backed file system, where Linux has one


def one_run(runner: str, seed: int) -> dict:
    make = pt.runners.Processes(workers=2) if runner == "processes" else "inline"
    where = TMPFS if runner == "inline-tmpfs" else None
    with tempfile.TemporaryDirectory(dir=where) as tmp, timed_calls() as t:
        start_wall = time.time()
        start = time.perf_counter()
        result = pt.run(noop, {"x": pt.Float(0.0, 1.0)}, population=POPULATION, steps=STEPS, interval=INTERVAL,
                        exploit=pt.Truncation(TRUNCATION), runner=make, dir=tmp, seed=seed, progress=False)
        wall = time.perf_counter() - start
        first = min(r.time for r in result.reports) - start_wall
        reports, exploits = len(result.reports), len(result.exploits)
        files = file_system(Path(tmp))
    with tempfile.TemporaryDirectory(dir=where) as tmp:  # reports alone: no ready step, untimed calls
        start = time.perf_counter()
        plain = pt.run(noop, {"x": pt.Float(0.0, 1.0)}, population=POPULATION, steps=STEPS, interval=None,
                       exploit=None, runner=make, dir=tmp, seed=seed, progress=False)
        plain_us = (time.perf_counter() - start) / len(plain.reports) * 1e6
    own = t["controller_report"]
    amortised = (sum(own) / max(len(own), 1) + sum(t["commit_cpu"]) / reports) / 1e3
    return {"controller_report_us": amortised, "plain_run_report_us": plain_us,
            "controller_report_median_us": _median_us(t["controller_report"]),
            "commits": len(t["commit"]), "commit_us": _median_us(t["commit"]),
            "commit_cpu_us": _median_us(t["commit_cpu"]),
            "member_report_us": _median_us(t["member_report"]),
            "member_ready_us": _median_us(t["member_ready"]),
            "exploit_decision_us": _median_us(t["exploit"]),
            "decision_without_exploit_us": _median_us(t["no_exploit"]),
            "checkpoint_loads": len(t["loads"]) if runner != "processes" else None,
            "checkpoint_load_us": _median_us(t["loads"]), "file_system_us": files,
            "reports": reports, "exploits": exploits, "first_step_ms": first * 1e3, "wall_s": wall}


def file_system(folder: Path, count: int = 200) -> float:
    """Median µs to write a new 100-byte file under a temporary name, rename it into place and
    delete the previous one: the file operations of a ready step, without poptune."""
    folder = folder / "fs"
    folder.mkdir()
    times = []
    for i in range(count):
        start = clock()
        fd = os.open(folder / f".tmp-{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, bytes(100))
        os.close(fd)
        os.replace(folder / f".tmp-{i}", folder / f"s{i}.pkl")
        if i:
            os.unlink(folder / f"s{i - 1}.pkl")
        times.append(clock() - start)
    return _median_us(times)


def progress_cost(members: int = 1024, steps: int = 10) -> dict:
    """CPU seconds of an inline run of ``members`` no-op members, without a progress display and
    with one rendering to a terminal (an in-memory one, at its usual refresh rate)."""
    import io

    from rich.console import Console

    out = {}
    for label in ("off", "on"):
        callbacks = [pt.Progress(console=Console(file=io.StringIO(), force_terminal=True, width=120))] \
            if label == "on" else []
        with tempfile.TemporaryDirectory() as tmp:
            cpu, start = time.process_time(), time.perf_counter()
            pt.run(noop, {"x": pt.Float(0.0, 1.0)}, population=members, steps=steps, interval=None, exploit=None,
                   runner="inline", dir=tmp, seed=0, progress=False, callbacks=callbacks)
            out[f"progress_{label}_cpu_s"] = time.process_time() - cpu
            out[f"progress_{label}_wall_s"] = time.perf_counter() - start
    return out


def _median_us(values) -> float | None:
    return float(np.median(values)) / 1e3 if len(values) else None


def worker(runner: str, seed: int, out: Path) -> None:
    """One measured run in this (fresh) process, after an unmeasured warm-up run."""
    one_run(runner, 99)
    measured = one_run(runner, seed)
    if runner == "inline":
        measured.update(progress_cost())
    out.write_text(json.dumps(measured))


def measure(runner: str, seed: int, pythonpath: str | None = None) -> dict:
    """One run in a fresh process (this file as a script, from an empty folder, so that
    ``pythonpath`` decides which poptune it imports)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        env = dict(os.environ)
        root = pythonpath or str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", runner, str(seed), str(out)],
                       check=True, env=env, cwd=tmp)
        return json.loads(out.read_text())


ROWS = [  # (label, key in a run, the floor's matching key or None)
    ("per report, controller, amortised (µs)", "controller_report_us", "report_us"),
    ("per report, as the member sees it (µs)", "member_report_us", "report_us"),
    ("per report, a run without ready steps: its wall time / its reports (µs)", "plain_run_report_us", "report_us"),
    ("per ready step without exploit, as the member sees it (µs)", "member_ready_us", "ready_us"),
    ("file system alone: write a new file, delete the old one (µs)", "file_system_us", None),
    ("per exploit, the decision (µs)", "exploit_decision_us", "exploit_us"),
    ("decision without exploit (µs)", "decision_without_exploit_us", None),
    ("checkpoint load (µs)", "checkpoint_load_us", None),
    ("checkpoint loads per run", "checkpoint_loads", None),
    ("commits per run", "commits", None),
    ("per commit, wall time (µs)", "commit_us", None),
    ("per commit, CPU time of its thread (µs)", "commit_cpu_us", None),
    ("exploits per run", "exploits", None),
    ("1,024 members x 10 steps, no progress display: CPU (s)", "progress_off_cpu_s", None),
    ("the same with a progress display on a terminal: CPU (s)", "progress_on_cpu_s", None),
    ("first step (ms)", "first_step_ms", None),
    ("whole run, 1,600 reports (s)", "wall_s", None),
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--name", default="overhead", help="results file name (benchmarks/results/NAME.json/.md)")
    parser.add_argument("--compare", help="an older poptune checkout, measured side by side")
    parser.add_argument("--worker", nargs=3, metavar=("RUNNER", "SEED", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), Path(args.worker[2]))
        return
    from benchmarks import common

    versions = {"current": None, **({"older": args.compare} if args.compare else {})}
    runners = ["inline", "processes"] + (["inline-tmpfs"] if os.access(TMPFS, os.W_OK) else [])
    reps = []
    for rep in range(args.repeats):  # interleaved: the floor and every runner and version in each repetition
        row = {"floor": floor(rep)}
        for runner in runners:
            for version, path in versions.items():
                row[f"{runner} {version}"] = measure(runner, rep, path)
        reps.append(row)
        print(f"repetition {rep}: {json.dumps(row)}", flush=True)

    def median(who: str, key: str):
        values = [r[who][key] for r in reps if r[who].get(key) is not None]
        return common.median(values) if values else None

    columns = [f"{runner} {version}" for runner in runners for version in versions]
    table = []
    for label, key, floor_key in ROWS:
        row = {"cost": label, "floor (µs)": common.fmt(median("floor", floor_key)) if floor_key else ""}
        for column in columns:
            value = median(column, key)
            text = "-" if value is None else f"{value:,.0f}" if abs(value) >= 100 else common.fmt(value)
            if floor_key and value is not None:  # the ratio in each repetition, then the median
                ratios = [r[column][key] / r["floor"][floor_key] for r in reps if r[column].get(key) is not None]
                text += f" ({common.median(ratios):.0f}x)"
            row[column] = text
        table.append(row)
    path = common.write(
        args.name,
        {"workload": {"population": POPULATION, "steps": STEPS, "interval": INTERVAL, "truncation": TRUNCATION},
         "repeats": args.repeats, "compare": args.compare, "runs": reps, "table": table},
        table,
        title=f"Controller overhead, timed call by call, against the floor loop (medians of {args.repeats} "
              f"repetitions; in brackets: the multiple of the floor's matching cost)",
        notes="Floor: a minimal synchronous PBT loop in memory, same workload, timed call by call in the same "
              "repetition. Each poptune run is a fresh process (after a warm-up run there). `processes`: 2 workers; "
              "its member-side costs run in the workers and are not timed there; its checkpoint loads are not "
              "counted. Goals (issue 17): per report <= 10 µs amortised in the controller, per ready step without "
              "exploit <= 50 µs and no checkpoint reload, per exploit <= 100 µs plus the checkpoint's own load."
              + (f" `older`: poptune at commit {common.commit_of(args.compare)}." if args.compare else ""),
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
