"""Deep RL at equal environment steps: PBT vs random search with PPO on classic control.

    python -m benchmarks.paper_rl [--seeds 3]

Runs ``examples/ppo.py``: 8 PPO members per method and seed, 1,024 environment steps per
iteration; CartPole-v1 for 60 iterations, Acrobot-v1 for 40. PBT (truncation 25%, perturb or
resample every 5 iterations) over lr, entropy coefficient, clip range and GAE lambda; random
search is the same run without exploit (same initial members, same environment steps). Reported:
the best member's final mean return (last 20 training episodes) and the environment steps per
member until some member's mean return reached the task's threshold.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
from pathlib import Path

import numpy as np

import poptune as pt
from benchmarks import common

TASKS = {"CartPole-v1": 60, "Acrobot-v1": 40}  # task: iterations per member
POPULATION, INTERVAL = 8, 5


def run_task(task: str, iterations: int, seeds: int, root: Path) -> dict:
    ppo = common.example("ppo")
    raw = {"PBT": [], "random search": []}
    for seed in range(seeds):
        for method, exploit in (("PBT", pt.Truncation(0.25)), ("random search", None)):
            result = pt.run(functools.partial(ppo.train, task=task), ppo.SPACE, population=POPULATION, steps=iterations,
                            interval=INTERVAL, exploit=exploit, runner=pt.runners.Processes(workers=2),
                            dir=root / f"{task}-{method}-{seed}", seed=seed, progress=False)
            reached = ppo.first_step_at(result, ppo.THRESHOLDS[task])
            raw[method].append({"seed": seed, "final": result.best.score, "steps_to_threshold": reached,
                                "best_hparams": dict(result.best.hparams)})
            print(task, method, raw[method][-1], flush=True)
    return raw


def rows(task: str, iterations: int, raw: dict, threshold: float) -> list[dict]:
    out = []
    for method, runs in raw.items():
        mean, std = common.mean_std(r["final"] for r in runs)
        hit = [r["steps_to_threshold"] for r in runs if r["steps_to_threshold"] is not None]
        out.append({
            "task": task,
            "method": method,
            "env steps per member": f"{iterations * 1024:,}",
            "best final return": f"{mean:.1f} ± {std:.1f}",
            "per seed": ", ".join(f"{r['final']:.0f}" for r in runs),
            "seeds reaching the threshold": f"{len(hit)}/{len(runs)} (>= {threshold:g})",
            "env steps to threshold (median)": f"{np.median(hit):,.0f}" if hit else "never",
        })
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    args = parser.parse_args(argv)
    ppo = common.example("ppo")
    table, raw = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks:
            raw[task] = run_task(task, TASKS[task], args.seeds, Path(tmp))
            table += rows(task, TASKS[task], raw[task], ppo.THRESHOLDS[task])
    path = common.write(
        "paper_rl", {"seeds": args.seeds, "population": POPULATION, "iterations": TASKS, "runs": raw}, table,
        title=f"PPO on classic control, {POPULATION} members per method, equal environment steps ({args.seeds} seeds, mean ± std)",
        notes="Return: mean of the last 20 finished training episodes of the best member at the end. "
        "Steps to threshold: environment steps per member until the first member's mean return reached it.",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
