"""Non-neural members: PBT over databases of in-context examples, against random subsets and
hill-climbers at equal validation evaluations.

    python -m benchmarks.incontext [--seeds 10] [--budget 768]

Runs ``examples/incontext_examples.py`` (the toy k-NN "agent" reading a prompt database of 16
examples drawn from a noisy pool): PBT at three population sizes with the same budget (breadth
against depth), the same run without exploit (independent climbers), random subsets (a fresh
random database per evaluation, the best kept), and one greedy hill-climber holding the whole
budget in one chain, with hand-picked settings and with settings drawn from the space. Every
method picks its database by validation accuracy; the table reports the held-out test accuracy
of that database. Writes ``results/incontext.json`` and ``results/incontext.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import common

POPULATIONS = (4, 8, 16)  # at an equal budget: 192, 96 and 48 steps per member
READY_EVERY = 12  # ready periods per member's budget: interval = steps // READY_EVERY


def run_all(seeds: int, budget: int, root: Path) -> list[dict]:
    ex = common.example("incontext_examples")
    rows = []
    for seed in range(seeds):
        started = time.monotonic()
        row = {"seed": seed}
        for population in POPULATIONS:
            steps = budget // population
            interval = max(1, steps // READY_EVERY)
            row[f"PBT, {population} members"] = ex.best_of(ex.run_pbt(seed, population, steps, interval,
                                                                      root / f"pbt{population}-{seed}"))
        steps = budget // 16
        row["independent climbers, 16 members"] = ex.best_of(ex.run_pbt(seed, 16, steps, max(1, steps // READY_EVERY),
                                                                        root / f"climbers-{seed}", exploit=False))
        row["random subsets"] = ex.random_subsets(seed, budget)
        row["hill-climber, settings from the space"] = ex.hill_climber(seed, budget)
        row["hill-climber, hand-picked settings"] = ex.hill_climber(seed, budget, ex.CLIMBER)
        row["one random database (k=3)"] = {"validation": None, "k": 3, "test": ex.accuracy(
            ex.random_database(np.random.default_rng([seed, 3])), 3, "test")}
        row["seconds"] = time.monotonic() - started
        print(f"seed {seed}: " + ", ".join(f"{m} {v['test']:.3f}" for m, v in row.items() if isinstance(v, dict)),
              flush=True)
        rows.append(row)
    return rows


def summary(rows: list[dict]) -> list[dict]:
    methods = [m for m, v in rows[0].items() if isinstance(v, dict)]
    reference = "PBT, 8 members"
    table = []
    for method in methods:
        test = [r[method]["test"] for r in rows]
        val = [r[method]["validation"] for r in rows if r[method]["validation"] is not None]
        mean, std = common.mean_std(test)
        wins = sum(r[reference]["test"] > r[method]["test"] for r in rows)
        ties = sum(r[reference]["test"] == r[method]["test"] for r in rows)
        table.append({
            "method": method,
            "test accuracy, mean ± std": f"{100 * mean:.1f}% ± {100 * std:.1f}",
            "validation accuracy": f"{100 * statistics.fmean(val):.1f}%" if val else "",
            "per seed": ", ".join(f"{100 * v:.1f}" for v in test),
            f"{reference} better on": "" if method == reference else f"{wins}/{len(rows)} (ties {ties})",
        })
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=768, help="validation evaluations per method (default 768)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_all(args.seeds, args.budget, Path(tmp))
    seconds = time.monotonic() - started
    ex = common.example("incontext_examples")
    notes = (f"`python -m benchmarks.incontext --seeds {args.seeds} --budget {args.budget}`, {seconds:.0f} s, "
             f"runner inline. {args.budget} validation evaluations per method and seed; databases of {ex.SIZE} "
             f"examples from a pool of {ex.POOL} ({ex.POOL_ERRORS:.0%} wrong answers), validation batch "
             f"{ex.VALIDATION}, held-out test {ex.TEST}. PBT: Truncation(0.25), PerturbOrResample, ready "
             f"{READY_EVERY} times per member. Hand-picked settings: {ex.CLIMBER}.")
    path = common.write("incontext", {"rows": rows, "seeds": args.seeds, "budget": args.budget, "seconds": seconds,
                                      "populations": POPULATIONS, "climber": ex.CLIMBER},
                        summary(rows), "Non-neural members: PBT over databases of in-context examples", notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
