"""What fair comparisons cost in wall time: members of uneven speeds, a worker each.

    python -m benchmarks.waiting [--repeats 3]

8 members on 8 worker processes, 40 steps, ready every 4, ``Truncation(0.25)``; the train
function sleeps, so the 2 cores are not the limit. Two ways of being uneven:

- ``fixed speeds``: member ``i`` takes ``(1 + i / 7) x 5 ms`` per step (the slowest twice as slow
  as the fastest: a mixed cluster, or models of different sizes);
- ``jittered``: every member takes ``5 ms x f`` per step, ``f`` drawn anew for each member and
  interval from [0.5, 2] (machines shared with other jobs): the slowest member changes from
  one interval to the next.

A member that waits for a round (or for pacing) holds its worker idle. The table gives the
wall time against the floor: the largest total of one member's own steps. Modes: asynchronous
(quorum 0.5, and a quorum of two members), asynchronous without pacing, synchronous. Every mode
and scenario runs in the same benchmark run, interleaved; medians of ``--repeats``.

Like ``benchmarks.decisions``, it uses the public API only: copy it into an older checkout to
measure that version (``--name waiting_before``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import poptune as pt
from benchmarks import common

POPULATION, STEPS, INTERVAL, BASE = 8, 40, 4, 0.005
SCENARIOS = ("fixed speeds", "jittered")


def step_time(scenario: str, member: int, step: int) -> float:
    if scenario == "fixed speeds":
        return BASE * (1 + member / (POPULATION - 1))
    draw = random.Random(f"{member}-{(step - 1) // INTERVAL}").random()  # one factor per member and interval
    return BASE * (0.5 + 1.5 * draw)


def floor(scenario: str) -> float:
    """The largest total of one member's own steps: no run can be shorter."""
    return max(sum(step_time(scenario, m, s) for s in range(1, STEPS + 1)) for m in range(POPULATION))


def train(member):
    scenario = member.hparams["scenario"]
    x = member.checkpoint or 0.0
    for step in member.steps():
        time.sleep(step_time(scenario, member.id, step))
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


MODES = {  # name: run arguments
    "asynchronous (quorum 0.5)": {},
    "asynchronous, quorum of two": {"quorum": 0.01},
    "asynchronous, no pacing": {"max_lag": None},
    "synchronous": {"synchronous": True},
}


def one(scenario: str, arguments: dict) -> dict:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        started = time.perf_counter()
        try:
            result = pt.run(train, {"lr": pt.Float(0.01, 1.0), "scenario": scenario}, population=POPULATION, steps=STEPS,
                            interval=INTERVAL, exploit=pt.Truncation(0.25), runner=pt.runners.Processes(workers=8),
                            dir=Path(tmp) / "run", seed=0, progress=False, **arguments)
        except TypeError as err:  # an older poptune without this argument
            return {"seconds": None, "error": str(err)}
        return {"seconds": time.perf_counter() - started, "exploits": len(result.exploits), "error": None}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--name", default="waiting")
    args = parser.parse_args(argv)
    runs: dict[str, list[dict]] = {f"{scenario}: {mode}": [] for scenario in SCENARIOS for mode in MODES}
    for _ in range(args.repeats):  # interleaved, so drift hits every mode alike
        for scenario in SCENARIOS:
            for mode, arguments in MODES.items():
                runs[f"{scenario}: {mode}"].append(one(scenario, arguments))
    table = []
    for name, results in runs.items():
        scenario, mode = name.split(": ", 1)
        seconds = [r["seconds"] for r in results if r["seconds"] is not None]
        row = {"speeds": scenario, "mode": mode, "floor (s)": f"{floor(scenario):.2f}"}
        if not seconds:
            table.append({**row, "wall time (s)": "-", "vs floor": "not supported", "exploits per run": "-"})
            continue
        median = statistics.median(seconds)
        table.append({**row, "wall time (s)": f"{median:.2f}", "vs floor": f"{median / floor(scenario):.2f}x",
                      "exploits per run": f"{statistics.median(r['exploits'] for r in results):.0f}"})
    path = common.write(
        args.name, {"population": POPULATION, "steps": STEPS, "interval": INTERVAL,
                    "floor_seconds": {s: floor(s) for s in SCENARIOS}, "poptune": pt.__version__, "runs": runs},
        table,
        title=f"{POPULATION} members of uneven speeds on {POPULATION} workers, {STEPS} steps, ready every "
              f"{INTERVAL} (medians of {args.repeats})",
        notes="Floor: the largest total of one member's own steps. The rest of a run's wall time is process "
              "start-up, checkpoints, and members waiting on their workers.",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
