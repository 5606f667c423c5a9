"""Controller overhead: per report, per exploit, time to the first user step, the paper toy.

    python -m benchmarks.overhead [--repeats 5]

Workload (issue 2): 16 members whose train function only reports, 100 steps each, ready every
5 steps, a small checkpoint. Three variants run side by side in each repetition:

- ``plain``: no ready points (interval=None): reports only;
- ``checkpoints``: ready every 5 steps, exploit=None: reports + a checkpoint per ready step;
- ``pbt``: ready every 5 steps with Truncation(0.2): + exploit decisions and restarts.

Per-report overhead = plain wall time / reports (the train function does nothing else).
Per-exploit cost = (pbt - checkpoints) wall time / exploits, both measured in the same repetition.
Time to first step = from calling pt.run to the first report's timestamp.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import poptune as pt
from benchmarks import common
from poptune.demo import toy

POPULATION, STEPS, INTERVAL = 16, 100, 5
STATE = list(range(16))  # a small checkpoint


def noop(member):
    for _ in member.steps():
        member.report(1.0 + member.hparams["x"], checkpoint=STATE)


def one_run(runner: str, interval, exploit) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        start_wall = time.time()
        start = time.perf_counter()
        result = pt.run(
            noop, {"x": pt.Float(0.0, 1.0)}, population=POPULATION, steps=STEPS, interval=interval,
            exploit=exploit, runner=runner, dir=tmp, seed=0, progress=False,
        )
        wall = time.perf_counter() - start
        first = min(r.time for r in result.reports) - start_wall
        return {"wall": wall, "reports": len(result.reports), "exploits": len(result.exploits), "first_step": first}


def toy_run(runner: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = pt.run(
            toy.train, toy.SPACE, population=2, steps=200, interval=4, initial=toy.INITIAL,
            explore=toy.explore, exploit=pt.Truncation(0.5), runner=runner, dir=tmp, seed=0, progress=False,
        )
        assert result.best.score > 1.19
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    raw, table = {}, []
    for runner in ("inline", "processes"):
        reps = []
        for _ in range(args.repeats):
            reps.append({
                "plain": one_run(runner, None, None),
                "checkpoints": one_run(runner, INTERVAL, None),
                "pbt": one_run(runner, INTERVAL, pt.Truncation(0.2)),
                "toy": toy_run(runner),
            })
        raw[runner] = reps
        per_report = [r["plain"]["wall"] / r["plain"]["reports"] * 1e3 for r in reps]
        per_exploit = [
            (r["pbt"]["wall"] - r["checkpoints"]["wall"]) / max(r["pbt"]["exploits"], 1) * 1e3 for r in reps
        ]
        per_checkpoint_step = [
            (r["checkpoints"]["wall"] - r["plain"]["wall"]) / (POPULATION * (STEPS // INTERVAL - 1)) * 1e3 for r in reps
        ]
        table.append({
            "runner": runner,
            "per report (ms)": common.fmt(common.median(per_report)),
            "per ready step with checkpoint (ms)": common.fmt(common.median(per_checkpoint_step)),
            "per exploit (ms)": common.fmt(common.median(per_exploit)),
            "exploits per run": int(common.median([r["pbt"]["exploits"] for r in reps])),
            "first step (ms)": common.fmt(common.median([r["pbt"]["first_step"] for r in reps]) * 1e3),
            "PBT run, 1600 reports (s)": common.fmt(common.median([r["pbt"]["wall"] for r in reps])),
            "paper toy, 2x200 steps (s)": common.fmt(common.median([r["toy"] for r in reps])),
        })
    path = common.write(
        "overhead",
        {"workload": {"population": POPULATION, "steps": STEPS, "interval": INTERVAL}, "repeats": args.repeats,
         "runs": raw, "table": table},
        table,
        title=f"Controller overhead (medians of {args.repeats} runs)",
        notes="Targets (issue 2): <= 0.1 ms per report, <= 5 ms per exploit, <= 1 s to the first step "
        "with `processes`. Per-exploit cost is the difference between PBT and the same run without "
        "exploits, divided by the number of exploits, measured in the same repetition.",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
