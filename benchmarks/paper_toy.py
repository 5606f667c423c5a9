"""The PBT paper's toy problem (section 4.1, figure 2): PBT, exploit only, explore only, grid search.

    python -m benchmarks.paper_toy [--seeds 20]

Runs ``examples/toy.py``'s four methods over the seeds; writes the table (final Q, Q at earlier
steps, steps until Q >= 1.19) and the figure ``results/paper_toy.png``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from benchmarks import common

NEAR_OPTIMUM = 1.19


def summarize(results: dict) -> tuple[list[dict], dict]:
    toy = common.example("toy")
    table, raw = [], {}
    for method, runs in results.items():
        curves = np.array([toy.curves(r) for r in runs])
        reached = [int(np.argmax(c >= NEAR_OPTIMUM)) + 1 if (c >= NEAR_OPTIMUM).any() else None for c in curves]
        raw[method] = {"final": curves[:, -1].tolist(), "at_25": curves[:, 24].tolist(), "at_50": curves[:, 49].tolist(),
                       "steps_to_1.19": reached}
        hit = [s for s in reached if s is not None]
        row = {"method": method}
        for label, values in (("Q at step 25", curves[:, 24]), ("Q at step 50", curves[:, 49]),
                              (f"final Q (step {curves.shape[1]})", curves[:, -1])):
            mean, std = common.mean_std(values)
            row[label] = f"{mean:.3f} ± {std:.3f}"
        row[f"seeds reaching Q >= {NEAR_OPTIMUM}"] = f"{len(hit)}/{len(runs)}"
        row["steps to get there (median)"] = f"{np.median(hit):.0f}" if hit else "never"
        table.append(row)
    return table, raw


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args(argv)
    toy = common.example("toy")
    with tempfile.TemporaryDirectory() as tmp:
        results = toy.compare(args.seeds, Path(tmp))
        table, raw = summarize(results)
        figure = toy.figure(results)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    figure.savefig(common.RESULTS / "paper_toy.png", dpi=90)
    path = common.write(
        "paper_toy", {"seeds": args.seeds, "steps": toy.STEPS, "interval": toy.INTERVAL, "runs": raw}, table,
        title=f"PBT paper toy problem, 2 members x {toy.STEPS} steps, ready every {toy.INTERVAL} ({args.seeds} seeds, mean ± std)",
        notes="Q is the better member's true objective (maximum 1.2). Figure: `results/paper_toy.png`.",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
