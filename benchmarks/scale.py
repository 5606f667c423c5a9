"""Cost of the decision core against population size: no-op members, inline runner.

    python -m benchmarks.scale [--sizes 16 256 1024 10000] [--repeats 3] [--compare PATH]

Each run trains N members whose train function only reports (a float as checkpoint), 20 steps,
ready every 5 steps, ``Truncation(0.2)`` and ``PerturbOrResample()`` (the defaults), in a fresh
process, after a small unmeasured warm-up run in that process (imports and first calls would
otherwise weigh on the small sizes' few calls). Costs are timed call by call inside the run
(``time.perf_counter_ns`` around each call):

- per report: the engine's handling of one report (record, apply to the state, indexes), and
  the controller's whole ``on_report`` (that plus the SQLite commit the inline runner makes
  after every report);
- per decision: one ready member's decision (rank in its round, exploit, explore, record).

Also the whole run's wall time, the process's peak RSS and the run log's size. Medians over
repeats of each run's median (and 99th percentile). ``--compare PATH`` also runs an older
poptune checkout (whole-run wall time, RSS and log size only: it has no core to time) on the
sizes up to ``--compare-max`` in the same benchmark run (its decisions are timed as calls of
its scheduler's ``ready``, one asynchronous decision each, and its reports as the controller's
``on_report``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS, INTERVAL = 20, 5


def noop(member):
    x = member.checkpoint or 0.0
    lr = member.hparams["lr"]
    for _ in member.steps():
        x += lr
        member.report(x, checkpoint=x)


def _timed(owner, name: str, sink: list, when=None):
    """Wrap ``owner.name`` so each call's duration (ns) lands in ``sink``."""
    original = getattr(owner, name)
    clock = time.perf_counter_ns

    def wrapper(self, *args, **kwargs):
        start = clock()
        out = original(self, *args, **kwargs)
        if when is None or when(*args):
            sink.append(clock() - start)
        return out

    setattr(owner, name, wrapper)


def worker(size: int, out: Path) -> None:
    """One run in this (fresh) process; its measurements go to ``out`` as JSON."""
    import poptune as pt

    with tempfile.TemporaryDirectory() as tmp:  # warm-up (imports, first calls), not measured
        pt.run(noop, {"lr": pt.Float(0.01, 1.0)}, population=16, steps=STEPS, interval=INTERVAL, runner="inline",
               dir=Path(tmp) / "warm-up", seed=1, progress=False)
    timings: dict[str, list[int]] = {"engine_report": [], "controller_report": [], "decision": []}
    from poptune.controller import Controller

    plain = lambda report: not report.ready  # noqa: E731  (ready reports also decide)
    _timed(Controller, "on_report", timings["controller_report"], plain)
    try:
        from poptune.core.engine import Engine

        _timed(Engine, "report", timings["engine_report"], plain)
        _timed(Engine, "_decide", timings["decision"])
    except ImportError:  # poptune 0.1: its scheduler decided for one member per call of ready()
        from poptune.scheduler import Scheduler

        _timed(Scheduler, "ready", timings["decision"])
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        started = time.perf_counter()
        result = pt.run(noop, {"lr": pt.Float(0.01, 1.0)}, population=size, steps=STEPS, interval=INTERVAL,
                        runner="inline", dir=run_dir, seed=0, progress=False)
        seconds = time.perf_counter() - started
        log_bytes = sum(p.stat().st_size for p in run_dir.glob("poptune.db*"))
        reports, exploits = len(result.reports), len(result.exploits)
    summary = {"size": size, "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "log_mb": log_bytes / 2**20, "reports": reports, "exploits": exploits}
    for name, values in timings.items():
        values = sorted(values)
        summary[f"{name}_us"] = values[len(values) // 2] / 1000 if values else None
        summary[f"{name}_p99_us"] = values[int(len(values) * 0.99)] / 1000 if values else None
        summary[f"{name}_calls"] = len(values)
    out.write_text(json.dumps(summary))


def measure(size: int, pythonpath: str | None = None) -> dict:
    """One run in a fresh process (this file as a script, from an empty folder, so that
    ``pythonpath`` decides which poptune it imports)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        env = dict(os.environ)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", str(size), str(out)], check=True,
                       env=env, cwd=tmp)
        return json.loads(out.read_text())


def median_of(runs: list[dict], key: str):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def figure(rows: list[dict], path: Path) -> None:
    """Cost per call against N, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for key, label in (("decision_us", "per decision"), ("engine_report_us", "per report (engine)"),
                       ("controller_report_us", "per report (with its SQLite commit)")):
        ax.plot(sizes, [r[key] for r in rows], "o-", label=label)
    older = [r for r in rows if r.get("compare_decision_us") is not None]
    if older:
        ax.plot([r["size"] for r in older], [r["compare_decision_us"] for r in older], "o--", color="tab:grey",
                label="per decision, older checkout")
    ax.set(xscale="log", yscale="log", xlabel="population size N", ylabel="µs per call (median)", ylim=(1, 1e4),
           title="Decision core cost vs population size (inline, no-op members)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[16, 256, 1024, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare", help="an older poptune checkout to run side by side")
    parser.add_argument("--compare-max", type=int, default=1024, help="largest size to run the older checkout on")
    parser.add_argument("--worker", nargs=2, metavar=("SIZE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(int(args.worker[0]), Path(args.worker[1]))
        return
    from benchmarks import common
    raw: dict[str, dict[int, list[dict]]] = {"current": {}, "compare": {}}
    for repeat in range(args.repeats):  # interleaved: drift on a shared machine hits every size alike
        for size in args.sizes:
            raw["current"].setdefault(size, []).append(measure(size))
            print(f"repeat {repeat} N={size}: {raw['current'][size][-1]}", flush=True)
            if args.compare and size <= args.compare_max:
                raw["compare"].setdefault(size, []).append(measure(size, args.compare))
                print(f"  older checkout: {raw['compare'][size][-1]}", flush=True)
    rows = []
    for size, runs in raw["current"].items():
        row = {"size": size, **{k: median_of(runs, k) for k in runs[0] if k != "size"}}
        older = raw["compare"].get(size)
        row["compare_seconds"] = median_of(older, "seconds") if older else None
        row["compare_decision_us"] = median_of(older, "decision_us") if older else None
        row["compare_report_us"] = median_of(older, "controller_report_us") if older else None
        rows.append(row)
    base = rows[0]["decision_us"]
    table = []
    for r in rows:
        entry = {
            "N": r["size"],
            "per report, engine (µs)": f"{r['engine_report_us']:.1f} (p99 {r['engine_report_p99_us']:.0f})",
            "per report with commit (µs)": f"{r['controller_report_us']:.1f} (p99 {r['controller_report_p99_us']:.0f})",
            "per decision (µs)": f"{r['decision_us']:.1f} (p99 {r['decision_p99_us']:.0f})",
            "decision vs N=16": f"{r['decision_us'] / base:.2f}x",
            "whole run (s)": f"{r['seconds']:.2f}",
            "peak RSS (MB)": f"{r['peak_rss_mb']:.0f}",
            "log (MB)": f"{r['log_mb']:.1f}",
            "reports / exploits": f"{r['reports']:.0f} / {r['exploits']:.0f}",
        }
        if args.compare:
            older = r["compare_seconds"] is not None
            entry["older: per decision (µs)"] = f"{r['compare_decision_us']:.0f}" if older else "-"
            entry["older: per report with commit (µs)"] = f"{r['compare_report_us']:.1f}" if older else "-"
            entry["older: whole run (s)"] = f"{r['compare_seconds']:.2f}" if older else "-"
        table.append(entry)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    figure(rows, common.RESULTS / "scale.png")
    path = common.write(
        "scale", {"steps": STEPS, "interval": INTERVAL, "repeats": args.repeats, "compare": args.compare,
                  "rows": rows, "runs": {k: {str(n): v for n, v in d.items()} for k, d in raw.items()}},
        table,
        title=f"Decision core vs population size: inline, no-op members, {STEPS} steps, ready every {INTERVAL} "
              f"(medians of {args.repeats} runs, each timed call by call)",
        notes="Figure: `results/scale.png`.",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
