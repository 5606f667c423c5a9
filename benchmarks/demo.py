"""The README's headline: the demo's comparison (PBT vs random search on digits), repeated.

    python -m benchmarks.demo [--seeds 5] [--repeats 2] [--noise 0.3 0.0]

Exactly what ``poptune demo`` runs (16 members x 15 epochs, interval 1, ``Truncation(0.25)``,
the processes runner with a worker per core; random search is the same run without exploit,
so the same initial members), for every seed, repeated: asynchronous decisions on a worker pool
depend on the order in which members arrive, so a rerun with the same seeds is not the same run,
and a claim has to hold over reruns. ``--noise 0.0`` is clean digits (an easy task). Writes
``results/demo.json`` and ``results/demo.md``; the README's table comes from them.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import tempfile
import time
from pathlib import Path

import poptune as pt
from benchmarks import common
from poptune.demo import compare, digits

POPULATION, EPOCHS, INTERVAL = 16, 15, 1


def run_all(seeds: int, repeats: int, noises: list[float], root: Path) -> list[dict]:
    rows = []
    for noise in noises:
        digits.load(0, noise)  # once, before the workers fork
        train = functools.partial(digits.train, data_seed=0, noise=noise)
        for repeat in range(repeats):
            for seed in range(seeds):
                started = time.monotonic()
                pbt, random = compare.run_pair(
                    train, digits.SPACE, seed, (root / f"pbt-{noise}-{repeat}-{seed}", root / f"random-{noise}-{repeat}-{seed}"),
                    metric="test_accuracy", population=POPULATION, steps=EPOCHS, interval=INTERVAL,
                    runner=pt.runners.Processes(), exploit=pt.Truncation(0.25),
                )
                rows.append({"noise": noise, "repeat": repeat, "seed": seed, "pbt": pbt.held_out,
                             "random": random.held_out, "pbt_val": pbt.score, "random_val": random.score,
                             "seconds": time.monotonic() - started})
                print(f"noise {noise:.0%} repeat {repeat} seed {seed}: PBT {pbt.held_out:.2%}, "
                      f"random search {random.held_out:.2%}", flush=True)
    return rows


def summary(rows: list[dict]) -> list[dict]:
    table = []
    for noise in dict.fromkeys(r["noise"] for r in rows):
        for repeat in [*dict.fromkeys(r["repeat"] for r in rows), "all"]:
            chosen = [r for r in rows if r["noise"] == noise and (repeat == "all" or r["repeat"] == repeat)]
            if repeat == "all" and len({r["repeat"] for r in chosen}) < 2:
                continue
            for method in ("pbt", "random"):
                values = [r[method] for r in chosen]
                table.append({
                    "labels randomized": f"{noise:.0%}",
                    "run": "all reruns pooled" if repeat == "all" else f"rerun {repeat}",
                    "method": "PBT" if method == "pbt" else "random search",
                    "test accuracy, mean ± std": f"{100 * statistics.fmean(values):.2f}% ± "
                                                 f"{100 * statistics.stdev(values) if len(values) > 1 else 0:.2f}",
                    "validation accuracy": f"{100 * statistics.fmean(r[method + '_val'] for r in chosen):.2f}%",
                    "per seed": ", ".join(f"{100 * v:.2f}" for v in values),
                    "PBT better on": (f"{sum(r['pbt'] > r['random'] for r in chosen)}/{len(chosen)} seeds "
                                      f"(ties {sum(r['pbt'] == r['random'] for r in chosen)})" if method == "pbt" else ""),
                })
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2, help="reruns of every seed (default 2)")
    parser.add_argument("--noise", type=float, nargs="+", default=[0.3, 0.0],
                        help="shares of randomized training labels (default 0.3 0.0)")
    parser.add_argument("--table-only", action="store_true", help="rewrite results/demo.md from results/demo.json")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.table_only:
        saved = json.loads((common.RESULTS / "demo.json").read_text())
        rows, seconds = saved["rows"], saved["seconds"]
        args.seeds, args.repeats, args.noise = saved["seeds"], saved["repeats"], saved["noise"]
    else:
        with tempfile.TemporaryDirectory() as tmp:
            rows = run_all(args.seeds, args.repeats, args.noise, Path(tmp))
        seconds = time.monotonic() - started
    table = summary(rows)
    notes = (f"`python -m benchmarks.demo --seeds {args.seeds} --repeats {args.repeats} --noise "
             f"{' '.join(str(n) for n in args.noise)}`, {seconds:.0f} s. What `poptune demo` runs: "
             f"{POPULATION} members x {EPOCHS} epochs per run, interval {INTERVAL}, Truncation(0.25), processes runner; "
             "random search is the same run without exploit (same seeds, same initial members). Test accuracy of the "
             "member with the best validation accuracy. A rerun repeats every seed: asynchronous decisions depend on "
             "the order in which members arrive.")
    path = common.write("demo", {"rows": rows, "seeds": args.seeds, "repeats": args.repeats, "noise": args.noise,
                                 "seconds": seconds},
                        table, "The demo's comparison, rerun (digits, PBT vs random search at equal compute)", notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
