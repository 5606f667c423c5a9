"""SEARL's shared experience: one replay memory for the population against private memories,
at equal env steps and gradient updates, DQN on CartPole-v1 under PBT.

    python -m benchmarks.searl [--seeds 5]

Runs ``examples/searl_dqn.py`` (4 members x 20 steps; a step is 500 env steps, then 250 updates
of batch 64; PBT evolves lr and, with Net2Net widening, the hidden width) twice per seed: with
``SharedReplay`` over every member's shards, and with each member sampling only its own. Reports
the env steps the population had taken (in report order) when a member first scores >= 195
(greedy, 3 fixed episodes), the final scores, and the final best member's return on 20 held-out
episodes. Writes ``results/searl.json`` and ``results/searl.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import common

METHODS = {"shared replay (SEARL)": True, "private replay": False}


def run_all(seeds: int, root: Path) -> list[dict]:
    import torch

    torch.set_num_threads(1)
    ex = common.example("searl_dqn")
    size, rows = ex.FULL, []
    for seed in range(seeds):
        for method, shared in METHODS.items():
            started = time.monotonic()
            result = ex.run_searl(seed, size["population"], size["steps"], size["interval"], root, shared)
            row = {"seed": seed, "method": method, **ex.summary(result),
                   "seconds": time.monotonic() - started}
            print(f"seed {seed} {method}: to {ex.THRESHOLD:g} at {row['env_steps_to_threshold']}, final best "
                  f"{row['final_best_eval']:.0f}, held-out {row['held_out']:.0f} ({row['seconds']:.0f} s)", flush=True)
            rows.append(row)
    return rows


def summary(rows: list[dict]) -> list[dict]:
    table = []
    for method in METHODS:
        group = [r for r in rows if r["method"] == method]
        reached = [r["env_steps_to_threshold"] for r in group]
        hit = [x for x in reached if x is not None]
        cell = {}
        for key in ("final_best_eval", "final_mean_eval", "held_out"):
            mean, std = common.mean_std(r[key] for r in group)
            cell[key] = f"{mean:.0f} ± {std:.0f}"
        table.append({
            "method": method,
            "reached 195": f"{len(hit)}/{len(group)}",
            "env steps to 195, median / mean (per seed)": (
                f"{statistics.median(hit) / 1000:.1f}k / {statistics.fmean(hit) / 1000:.1f}k" if hit else "never")
            + " (" + ", ".join("-" if x is None else f"{x / 1000:.1f}k" for x in reached) + ")",
            "final best eval": cell["final_best_eval"],
            "final population mean eval": cell["final_mean_eval"],
            "best member, 20 held-out episodes": cell["held_out"],
            "held-out per seed": ", ".join(f"{r['held_out']:.0f}" for r in group),
        })
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_all(args.seeds, Path(tmp))
    seconds = time.monotonic() - started
    ex = common.example("searl_dqn")
    size = ex.FULL
    total = size["population"] * size["steps"] * ex.ENV_STEPS
    notes = (f"`python -m benchmarks.searl --seeds {args.seeds}`, {seconds:.0f} s, runner inline, torch 1 thread. "
             f"{ex.ENV}, DQN (MLP 4-h-h-2, ReLU, Huber loss, Adam, target network synced every step, epsilon 1 -> "
             f"0.05 over {ex.EPS_DECAY} env steps), {size['population']} members x {size['steps']} steps; a step is "
             f"{ex.ENV_STEPS} env steps then {ex.UPDATES} updates of batch {ex.BATCH} (learning starts at "
             f"{ex.LEARN_START} transitions in the memory): {total} env steps per run on both sides. PBT: "
             f"Truncation(0.25) every {size['interval']} steps, explore PerturbOrResample on lr in "
             f"[{ex.SPACE['lr'].low}, {ex.SPACE['lr'].high}] then Widen('hidden', by=16, p=0.3) in "
             f"[{ex.SPACE['hidden'].low}, {ex.SPACE['hidden'].high}] (Net2Net weight transfer). Capacity "
             f"{ex.CAPACITY} transitions: nothing is evicted at this size. Score: greedy return on "
             f"{ex.EVAL_EPISODES} fixed episodes; 'env steps to 195' counts the env steps the whole population had taken "
             f"(in report order) when a member first scored >= 195 ('-': never).")
    path = common.write("searl", {"rows": rows, "seeds": args.seeds, "seconds": seconds, **size,
                                  "env_steps_per_run": total},
                        summary(rows), "SEARL: a replay memory shared by the population vs private ones",
                        notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
