"""A self-play league on Kuhn poker against one learner, at equal compute (``examples/kuhn_league.py``).

    python -m benchmarks.league_kuhn [--seeds 5]

Runs the example's comparison for every seed (4,800 exact policy updates per method: a league of
8 members x 60 steps x 10 updates, with and without PBT, and one self-play learner given all
4,800), then sweeps self-play's fixed learning rate over the range the league's members are
drawn from (the same seeds), which is where the example's ``GOOD_LR`` comes from and what a
learning rate drawn at random from that range gives. Every number is the exact exploitability
of the deployed policy (uniform policy: 0.458; equilibrium: 0). Writes
``results/league_kuhn.json`` and ``results/league_kuhn.md``. About 2 minutes on 2 cores
(inline runner).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import common

kuhn_league = common.example("kuhn_league")
SWEEP = np.geomspace(*kuhn_league.LR_RANGE, 9)  # 0.01, 0.032, 0.1, ... 100


def cell(values: list[float]) -> str:
    mean, std = common.mean_std(values)
    return f"{mean:.3f} ± {std:.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for seed in range(args.seeds):
            runs.append(kuhn_league.compare(seed, Path(tmp)))
            print(f"seed {seed}: " + ", ".join(f"{m} / {d} {v:.3f}" for (m, d), v in runs[-1].items()), flush=True)
    compared = time.monotonic() - started
    sweep = {float(lr): [kuhn_league.self_play(float(lr), seed) for seed in range(args.seeds)] for lr in SWEEP}
    seconds = time.monotonic() - started

    table = []
    for key in runs[0]:
        values = [r[key] for r in runs]
        table.append({"method": key[0], "deployed policy": key[1], "exploitability, mean ± std": cell(values),
                      "per seed": ", ".join(f"{v:.3f}" for v in values)})
    for lr, results in sweep.items():
        table.append({"method": f"self-play, lr = {lr:.3g} (sweep)", "deployed policy": "last iterate / snapshot average",
                      "exploitability, mean ± std": f"{cell([r['last iterate'] for r in results])} / "
                                                    f"{cell([r['snapshot average'] for r in results])}",
                      "per seed": ", ".join(f"{r['snapshot average']:.3f}" for r in results)})
    averages = [statistics.fmean(r["snapshot average"] for r in results) for results in sweep.values()]
    table.append({"method": "self-play, lr log-uniform over the sweep", "deployed policy": "snapshot average",
                  "exploitability, mean ± std": f"{statistics.fmean(averages):.3f} (worst lr: {max(averages):.3f})",
                  "per seed": "mean over the 9 learning rates of the sweep"})
    notes = (f"`python -m benchmarks.league_kuhn --seeds {args.seeds}`, {seconds:.0f} s ({compared:.0f} s for the "
             f"comparison). Every method spends {kuhn_league.POPULATION * kuhn_league.STEPS * kuhn_league.UPDATES} "
             f"exact policy updates: a league of {kuhn_league.POPULATION} members x {kuhn_league.STEPS} steps x "
             f"{kuhn_league.UPDATES} updates (PFSP over live members and the {kuhn_league.MAX_SNAPSHOTS} latest "
             f"snapshots, {kuhn_league.OPPONENTS} opponents per stretch of {kuhn_league.INTERVAL} steps, Elo as "
             f"fitness, `Truncation(0.25)` or `exploit=None`, lr log-uniform in {kuhn_league.LR_RANGE}), or one "
             f"self-play learner with all of them. Matches: {kuhn_league.HANDS} duplicate hand pairs, won on total "
             "winnings. Nash mixture: `result.nash()` (from the sampled outcomes), realized with `kuhn.average`; "
             "oracle rows use exact payoffs or exact exploitability, which a real game does not offer. "
             "Exploitability is exact (0 at an equilibrium, 0.458 for the uniform policy). The sweep runs the "
             "same seeds, so `lr = 1` is picked on the seeds it is then reported on (its tuning compute is not "
             "counted).")
    path = common.write("league_kuhn", {"seeds": args.seeds, "seconds": seconds,
                                        "runs": [{" / ".join(k): v for k, v in r.items()} for r in runs],
                                        "sweep": {str(lr): results for lr, results in sweep.items()}},
                        table, "Kuhn poker: a self-play league vs one learner at equal compute", notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
