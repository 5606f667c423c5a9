"""What fair comparisons cost in wall time: members of different speeds, a worker each.

    python -m benchmarks.waiting [--repeats 3]

8 members on 8 worker processes; member ``i`` takes ``(1 + i / 7) x 5 ms`` per step (the slowest
twice as slow as the fastest: a mixed cluster, or models of different sizes), 40 steps, ready
every 4, ``Truncation(0.25)``. The train function sleeps, so the 2 cores are not the limit. A
member that waits for a round (or for pacing) holds its worker idle: this benchmark measures how
much longer the run takes than the slowest member's own steps (40 x 10 ms = 0.4 s), for the
asynchronous mode (quorum 0.5, and a quorum of two members), asynchronous without pacing, and
the synchronous mode. Every mode runs in the same benchmark run; medians of
``--repeats``.

Like ``benchmarks.decisions``, it uses the public API only: copy it into an older checkout to
measure that version (``--name waiting_before``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import poptune as pt
from benchmarks import common

POPULATION, STEPS, INTERVAL, BASE = 8, 40, 4, 0.005


def step_time(member: int) -> float:
    return BASE * (1 + member / (POPULATION - 1))


def train(member):
    x = member.checkpoint or 0.0
    pause = step_time(member.id)
    for _ in member.steps():
        time.sleep(pause)
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


MODES = {  # name: run arguments
    "asynchronous (quorum 0.5)": {},
    "asynchronous, quorum of two": {"quorum": 0.01},
    "asynchronous, no pacing": {"max_lag": None},
    "synchronous": {"synchronous": True},
}


def one(arguments: dict) -> dict:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        started = time.perf_counter()
        try:
            result = pt.run(train, {"lr": pt.Float(0.01, 1.0)}, population=POPULATION, steps=STEPS,
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
    floor = STEPS * step_time(POPULATION - 1)  # the slowest member's sleeping alone
    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for _ in range(args.repeats):  # interleaved, so drift hits every mode alike
        for mode, arguments in MODES.items():
            runs[mode].append(one(arguments))
    table = []
    for mode, results in runs.items():
        seconds = [r["seconds"] for r in results if r["seconds"] is not None]
        if not seconds:
            table.append({"mode": mode, "wall time (s)": "-", "vs the slowest member's steps": "not supported",
                          "exploits per run": "-"})
            continue
        median = statistics.median(seconds)
        table.append({"mode": mode, "wall time (s)": f"{median:.2f}",
                      "vs the slowest member's steps": f"{median / floor:.2f}x",
                      "exploits per run": f"{statistics.median(r['exploits'] for r in results):.0f}"})
    path = common.write(
        args.name, {"population": POPULATION, "steps": STEPS, "interval": INTERVAL, "floor_seconds": floor,
                    "poptune": pt.__version__, "runs": runs}, table,
        title=f"{POPULATION} members of different speeds on {POPULATION} workers, {STEPS} steps, ready every "
              f"{INTERVAL} (medians of {args.repeats})",
        notes=f"The slowest member's steps alone take {floor:.2f} s; the rest of a run's wall time is process "
              f"start-up, checkpoints, and members waiting on their workers.",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
