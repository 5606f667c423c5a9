"""Does the discovered schedule alone reproduce the best member? (issue 3)

    python -m benchmarks.replay [--seeds 5] [--replays 3]

For each seed: the demo's PBT run (16 members x 15 epochs on digits with 30% noisy labels),
then ``pt.replay`` of the best member's schedule from scratch, several times with different
seeds (the replay's data order and dropout differ from the lineage's). Compares validation and
test accuracy of the best member with the replays'.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
from pathlib import Path

import poptune as pt
from benchmarks import common
from poptune.demo import compare, digits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--replays", type=int, default=3)
    args = parser.parse_args()
    train = functools.partial(digits.train, data_seed=0, noise=0.3)
    digits.load(0, 0.3)
    rows, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            run_dir = Path(tmp) / f"pbt-{seed}"
            result = pt.run(train, digits.SPACE, population=16, steps=15, interval=1, exploit=pt.Truncation(0.25),
                            dir=run_dir, seed=seed, progress=False)
            best_test = compare.best_held_out(result, "test_accuracy")
            replays = []
            for r in range(args.replays):
                again = pt.replay(train, run_dir, seed=1000 + r, replay_dir=Path(tmp) / f"replay-{seed}-{r}")
                replays.append((again.best.score, compare.best_held_out(again, "test_accuracy")))
            val = [v for v, _ in replays]
            test = [t for _, t in replays]
            raw.append({"seed": seed, "best_val": result.best.score, "best_test": best_test,
                        "trained_steps": result.lineage()[-1].end, "schedule_entries": len(result.schedule()),
                        "replays": replays})
            rows.append({
                "seed": seed,
                "best member val / test": f"{result.best.score:.2%} / {best_test:.2%}",
                "replay val (mean ± std)": f"{statistics.fmean(val):.2%} ± {statistics.stdev(val):.2%}",
                "replay test (mean ± std)": f"{statistics.fmean(test):.2%} ± {statistics.stdev(test):.2%}",
                "schedule changes": len(result.schedule()) - 1,
            })
    test_gap = [statistics.fmean(t for _, t in r["replays"]) - r["best_test"] for r in raw]
    val_gap = [statistics.fmean(v for v, _ in r["replays"]) - r["best_val"] for r in raw]
    notes = (
        f"Mean replay - best member, over seeds: validation {statistics.fmean(val_gap):+.2%}, "
        f"test {statistics.fmean(test_gap):+.2%} (spread of test accuracy between replays of one schedule: "
        f"{statistics.fmean(statistics.stdev(t for _, t in r['replays']) for r in raw):.2%}). The best member's "
        f"validation score is selected as a maximum over 16 members, so it is biased upwards; its test score is not."
    )
    path = common.write("replay", {"runs": raw, "table": rows}, rows,
                        title=f"Replaying the demo's best schedule ({args.replays} replays per seed)", notes=notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
