"""Equal-compute comparison of PBT with random search (the same runs without exploit)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import poptune as pt


@dataclass
class Outcome:
    """One run's outcome: the best member by score and a held-out metric of it."""

    method: str
    seed: int
    score: float
    held_out: float
    run_dir: str


def best_held_out(result: pt.Result, metric: str) -> float:
    """``metric`` at the best member's last step (the best is chosen by score, not by it)."""
    best = result.best
    for report in result.reports:
        if report.member == best.id and report.step == best.step:
            return float(report.metrics[metric])
    raise pt.PoptuneError(f"member {best.id} reported no {metric!r} at step {best.step}")


def run_pair(
    train: Callable,
    space: dict,
    seed: int,
    run_dirs: tuple[Path, Path],
    metric: str,
    progress: bool = False,
    resume: bool = False,
    **settings,
) -> tuple[Outcome, Outcome]:
    """Run PBT and random search with the same seed (so the same initial members) and budget."""
    outcomes = []
    for method, run_dir, exploit in (("PBT", run_dirs[0], settings.pop("exploit", pt.Truncation(0.25))),
                                     ("random search", run_dirs[1], None)):
        result = pt.run(
            train, space, exploit=exploit, seed=seed, dir=run_dir, progress=progress and method == "PBT",
            resume=resume, overwrite=not resume, **settings,
        )
        outcomes.append(Outcome(method, seed, result.best.score, best_held_out(result, metric), str(run_dir)))
    return outcomes[0], outcomes[1]


def summarize(outcomes: list[Outcome]) -> dict[str, tuple[float, float, list[float]]]:
    """Per method: mean and standard deviation of the held-out metric, and the values."""
    table = {}
    for method in dict.fromkeys(o.method for o in outcomes):
        values = [o.held_out for o in outcomes if o.method == method]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        table[method] = (statistics.fmean(values), spread, values)
    return table
