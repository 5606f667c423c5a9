"""Deep GA (mutation-only GA on a seed-chain genome) as a PBT run, against independent climbers
and random search over seeds at equal training episodes.

    python -m benchmarks.deep_ga [--seeds 5] [--budgets 96 320]

Runs ``examples/deep_ga.py`` on CartPole-v1 with a 4-64-64-2 MLP policy: 8 members, ready every
``steps // 8`` steps, at each budget (evaluations per method; each evaluation is 3 fixed training
episodes). Every method keeps the genome with the best training fitness; the table reports that
policy's mean return over 30 held-out episodes, and the genome's size against the network's.
Writes ``results/deep_ga.json`` and ``results/deep_ga.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import common

POPULATION = 8


def run_all(seeds: int, budgets: list[int], root: Path) -> list[dict]:
    ex = common.example("deep_ga")
    rows = []
    for budget in budgets:
        steps = budget // POPULATION
        interval = max(1, steps // 8)
        for seed in range(seeds):
            started = time.monotonic()
            row = {"budget": budget, "seed": seed,
                   **ex.compare(seed, POPULATION, steps, interval, root / f"b{budget}"),
                   "random policy": {"held_out": ex.random_policy(seed)}}
            row["seconds"] = time.monotonic() - started
            print(f"budget {budget} seed {seed}: " + ", ".join(
                f"{m} {v['held_out']:.1f}" for m, v in row.items() if isinstance(v, dict)), flush=True)
            rows.append(row)
    return rows


def summary(rows: list[dict], episodes: int) -> list[dict]:
    table = []
    for budget in sorted({r["budget"] for r in rows}):
        group = [r for r in rows if r["budget"] == budget]
        for method in ("Deep GA (PBT)", "independent climbers", "random search over seeds", "random policy"):
            held = [r[method]["held_out"] for r in group]
            mean, std = common.mean_std(held)
            found = [r[method] for r in group if "train" in r[method]]
            table.append({
                "training episodes": budget * episodes,
                "method": method,
                "held-out return, mean ± std": f"{mean:.1f} ± {std:.1f}",
                "per seed": ", ".join(f"{v:.0f}" for v in held),
                "train fitness 500 reached": f"{sum(f['train'] >= 500 for f in found)}/{len(group)}" if found else "",
                "genome bytes (mutations)": (f"{statistics.fmean(f['genome_bytes'] for f in found):.0f} "
                                             f"({statistics.fmean(f['mutations'] for f in found):.1f})") if found else "",
            })
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budgets", type=int, nargs="+", default=[96, 320],
                        help="evaluations per method (default 96 320)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_all(args.seeds, args.budgets, Path(tmp))
    seconds = time.monotonic() - started
    ex = common.example("deep_ga")
    network = rows[0]["Deep GA (PBT)"]["network_bytes"]
    notes = (f"`python -m benchmarks.deep_ga --seeds {args.seeds} --budgets {' '.join(map(str, args.budgets))}`, "
             f"{seconds:.0f} s, runner inline. {ex.ENV}, MLP 4-{ex.HIDDEN}-{ex.HIDDEN}-2 (tanh, argmax action): "
             f"{network} bytes of float32 parameters. Each evaluation is {ex.EPISODES} fixed training episodes; "
             f"the kept genome is scored on {len(ex.HELD_OUT)} held-out episodes. {POPULATION} members; Deep GA: "
             f"Truncation(0.25), PerturbOrResample on sigma in [{ex.SPACE['sigma'].low}, {ex.SPACE['sigma'].high}], "
             f"elitism (a child replaces its parent if it scores no worse). Genome: 8 bytes per seed and per "
             f"recorded sigma.")
    path = common.write("deep_ga", {"rows": rows, "seeds": args.seeds, "budgets": args.budgets, "seconds": seconds,
                                    "population": POPULATION, "episodes": ex.EPISODES, "network_bytes": network},
                        summary(rows, ex.EPISODES), "Deep GA: a mutation-only GA on a seed-chain genome", notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
