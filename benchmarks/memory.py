"""Memory of the worker pool and the cost of ``import poptune``.

    python -m benchmarks.memory [--repeats 3] [--compare OLDER_CHECKOUT]

The demo's PBT run (the digits task of ``poptune demo``: 16 members x 15 epochs, ready every
epoch, ``Truncation(0.25)``, the processes runner with a worker per core) runs in a fresh
process while this one samples the process tree every 0.1 s from ``/proc/<pid>/smaps_rollup``
and keeps the peaks of:

- **RSS, summed over the tree**: what ``top`` shows added up; it counts a page shared by the
  controller and its forked workers (torch's libraries, the parent's imports) once per process;
- **PSS, summed over the tree**: each shared page split among the processes sharing it: the
  tree's real footprint;
- **private, summed**: pages only one process holds (what ending it would free); **one worker's
  private**: the largest worker's.

Variants, side by side in each repetition: ``current`` (the default ``Processes()``: torch's
optimizer machinery is imported before the workers fork, and the garbage collector leaves the
parent's objects alone in the workers), ``current, preload=()`` (no preloading) and, with
``--compare``, an older checkout's poptune. ``import poptune``: a fresh interpreter's
``-X importtime`` total, median of 5, for each version.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POPULATION, EPOCHS, INTERVAL = 16, 15, 1


def worker(variant: str, run_dir: str) -> None:
    """The demo's PBT run of seed 0, in this (fresh) process."""
    import functools

    import torch  # noqa: F401  (the demo imports it in the parent, as a user's script does)

    import poptune as pt
    from poptune.demo import digits

    digits.load(0, 0.3)
    runner = pt.runners.Processes(preload=()) if variant == "no-preload" else pt.runners.Processes()
    pt.run(functools.partial(digits.train, data_seed=0, noise=0.3), digits.SPACE, population=POPULATION,
           steps=EPOCHS, interval=INTERVAL, exploit=pt.Truncation(0.25), runner=runner, dir=run_dir, seed=0,
           progress=False)


def _children(pid: int) -> list[int]:
    try:
        kids = [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [grandchild for kid in kids for grandchild in _children(kid)]


def _rollup(pid: int) -> dict[str, int] | None:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+):\s+(\d+) kB", text, flags=re.M)}


def measure(variant: str, pythonpath: str | None) -> dict:
    """Run the workload in a fresh process; peaks of the tree's memory (MB) and the wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        root = pythonpath or str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", variant, f"{tmp}/run"],
                                env=env, cwd=tmp)
        peak = {"rss_mb": 0.0, "pss_mb": 0.0, "private_mb": 0.0, "worker_private_mb": 0.0}
        while proc.poll() is None:
            totals, workers = {"rss_mb": 0, "pss_mb": 0, "private_mb": 0}, []
            for pid in [proc.pid] + _children(proc.pid):
                r = _rollup(pid)
                if r is None:
                    continue
                private = r.get("Private_Clean", 0) + r.get("Private_Dirty", 0)
                totals["rss_mb"] += r.get("Rss", 0)
                totals["pss_mb"] += r.get("Pss", 0)
                totals["private_mb"] += private
                if pid != proc.pid:
                    workers.append(private)
            for key, kb in totals.items():
                peak[key] = max(peak[key], kb / 1024)
            peak["worker_private_mb"] = max(peak["worker_private_mb"], max(workers, default=0) / 1024)
            time.sleep(0.1)
        if proc.returncode:
            raise RuntimeError(f"the {variant} run failed with exit code {proc.returncode}")
        return {**peak, "seconds": time.perf_counter() - start}


def import_seconds(pythonpath: str | None, repeats: int = 5) -> float:
    """Median of ``repeats`` fresh interpreters' ``import poptune`` (``-X importtime`` total)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = (pythonpath or str(Path(__file__).resolve().parents[1])) + os.pathsep + env.get(
        "PYTHONPATH", "")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import poptune"], env=env, cwd=tmp,
                                 capture_output=True, text=True, check=True).stderr
            line = next(line for line in reversed(err.splitlines()) if line.rstrip().endswith("| poptune"))
            times.append(int(line.split("|")[1]) / 1e6)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare", help="an older poptune checkout, measured side by side")
    parser.add_argument("--worker", nargs=2, metavar=("VARIANT", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return
    from benchmarks import common

    variants = {"current": ("current", None), "current, preload=()": ("no-preload", None)}
    if args.compare:
        variants["older"] = ("current", args.compare)  # (its Processes() has no preload argument)
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    for repeat in range(args.repeats):  # interleaved: drift on a shared machine hits every variant alike
        for name, (variant, path) in variants.items():
            runs[name].append(measure(variant, path))
            print(f"repeat {repeat} {name}: {runs[name][-1]}", flush=True)
    imports = {"current": import_seconds(None)}
    if args.compare:
        imports["older"] = import_seconds(args.compare)
    table = []
    for name, reps in runs.items():
        row = {"variant": name}
        for key, label in (("rss_mb", "tree RSS, summed (MB)"), ("pss_mb", "tree PSS (MB)"),
                           ("private_mb", "tree private (MB)"), ("worker_private_mb", "one worker's private (MB)"),
                           ("seconds", "run (s)")):
            value = common.median([r[key] for r in reps])
            row[label] = common.fmt(value) if key == "seconds" else f"{value:,.0f}"
        version = "older" if name == "older" else "current"
        row["import poptune (ms)"] = common.fmt(imports[version] * 1e3)
        table.append(row)
    path = common.write(
        "memory", {"workload": {"population": POPULATION, "epochs": EPOCHS, "interval": INTERVAL,
                                "workers": os.cpu_count()}, "repeats": args.repeats, "compare": args.compare,
                   "runs": runs, "imports": imports, "table": table},
        table, title=f"Memory of the demo's PBT run, processes runner (peaks, medians of {args.repeats} runs)",
        notes="Sampled every 0.1 s from /proc/<pid>/smaps_rollup over the controller and its workers. RSS counts "
              "every shared page once per process; PSS splits it among them." +
              (f" `older`: poptune at commit {common.commit_of(args.compare)}." if args.compare else ""))
    print(path.read_text())


if __name__ == "__main__":
    main()
