"""A staged pipeline (HCSP's skills -> strategy -> joint) on Kuhn poker against one league run, at
equal compute (``examples/staged_kuhn.py``).

    python -m benchmarks.staged_kuhn [--seeds 5]

Each method spends 4,800 exact policy updates (8 members x 60 steps x 10 updates): three poptune
runs of 20 steps, each seeded with the previous one's population (``pt.run(start_from=...)``);
the same league split into two runs (40 + 20 steps); and one league run of 60 steps. Every number
is the exact exploitability of the deployed policy (uniform policy: 0.458; equilibrium: 0).
Writes ``results/staged_kuhn.json`` and ``results/staged_kuhn.md``. About 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks import common

staged = common.example("staged_kuhn")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for seed in range(args.seeds):
            runs.append(staged.compare(seed, Path(tmp)))
            print(f"seed {seed}: " + ", ".join(f"{m} / {d} {v:.3f}" for (m, d), v in runs[-1].items()), flush=True)
    seconds = time.monotonic() - started
    table = []
    for key in runs[0]:
        values = [r[key] for r in runs]
        mean, std = common.mean_std(values)
        table.append({"method": key[0], "deployed policy": key[1], "exploitability, mean ± std": f"{mean:.3f} ± {std:.3f}",
                      "per seed": ", ".join(f"{v:.3f}" for v in values)})
    base = staged.base
    notes = (f"`python -m benchmarks.staged_kuhn --seeds {args.seeds}`, {seconds:.0f} s. Every method spends "
             f"{base.POPULATION * base.STEPS * base.UPDATES} exact policy updates ({base.POPULATION} members, "
             f"{base.UPDATES} updates per step). Staged: skills (PBT on the responses, indices 3:9, against 16 fixed "
             f"random opponents, {staged.STAGE_STEPS} steps), strategy (a PFSP league on the betting probabilities, "
             f"responses frozen, {staged.STAGE_STEPS} steps, seeded with the skills run), joint (a PFSP league on "
             f"everything, {staged.STAGE_STEPS} steps, seeded with the strategy run). Split: `examples/kuhn_league.py`'s "
             f"league for {2 * staged.STAGE_STEPS} steps, then {staged.STAGE_STEPS} more in a new run seeded with it. "
             "Nash mixture: `result.nash()` from the sampled match outcomes, realized with `kuhn.average`; the "
             "best member is an oracle reading (exact exploitability).")
    path = common.write("staged_kuhn", {"seeds": args.seeds, "seconds": seconds,
                                        "runs": [{" / ".join(k): v for k, v in r.items()} for r in runs]},
                        table, "Kuhn poker: a three-stage pipeline vs one league at equal compute", notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
