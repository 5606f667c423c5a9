"""DvD (joint reward + λ log det K, λ chosen by a bandit) against independent members and a fixed
λ, at equal gradient steps, on a deceptive and a uni-modal point-mass task.

    python -m benchmarks.dvd [--seeds 10] [--steps 300]

Runs ``examples/dvd.py``: 5 members (2-32-2 MLP policies, one stacked population), Adam(0.01),
``--steps`` gradient steps, one differentiable rollout per step. Per seed and method: the best
member's final reward, and whether it reached the global optimum (>= 90% of its height). The
deceptive task is also run with the paper's probe-state embedding (actions on 25 fixed states)
instead of the trajectory. Writes ``results/dvd.json`` and ``results/dvd.md``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks import common

SETTINGS = (("deceptive", "trajectory"), ("deceptive", "probe states"), ("unimodal", "trajectory"))
QUARTERS = 4


def run_all(seeds: int, steps: int) -> dict:
    ex = common.example("dvd")
    out = {}
    for task, embedding in SETTINGS:
        methods = ex.METHODS[1:] if embedding == "probe states" else ex.METHODS  # λ = 0 ignores the embedding
        key = f"{task} / {embedding}"
        out[key] = {}
        for method in methods:
            started = time.monotonic()
            runs = [ex.train(task, method, s, steps, "trajectory" if embedding == "trajectory" else "probe")
                    for s in range(seeds)]
            out[key][method] = runs
            print(f"{key:28s} {method:13s} best {', '.join(format(r['best'], '.2f') for r in runs)} "
                  f"({time.monotonic() - started:.0f} s)", flush=True)
    return out


def bandit_timeline(runs: list[dict]) -> str:
    """Share of windows with λ > 0, averaged over seeds, per quarter of training."""
    shares = []
    for quarter in np.array_split(np.arange(len(runs[0]["choices"])), QUARTERS):
        shares.append(np.mean([np.mean(np.asarray(r["choices"])[quarter] > 0) for r in runs]))
    return " → ".join(f"{s:.0%}" for s in shares)


def summary(results: dict) -> list[dict]:
    table = []
    for key, methods in results.items():
        for method, runs in methods.items():
            best = [r["best"] for r in runs]
            mean, std = common.mean_std(best)
            table.append({
                "task / embedding": key,
                "method": method,
                "best member's reward, mean ± std": f"{mean:.2f} ± {std:.2f}",
                "per seed": ", ".join(f"{b:.2f}" for b in best),
                "global optimum found": f"{sum(r['found'] for r in runs)}/{len(runs)}",
                "bandit: λ > 0 share by quarter": bandit_timeline(runs) if method == "DvD bandit" else "",
            })
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    started = time.monotonic()
    results = run_all(args.seeds, args.steps)
    seconds = time.monotonic() - started
    ex = common.example("dvd")
    notes = (f"`python -m benchmarks.dvd --seeds {args.seeds} --steps {args.steps}`, {seconds:.0f} s on one thread. "
             f"{ex.POPULATION} members, MLP 2-32-2 policy, {ex.T} moves of at most {ex.MAX_STEP} from the origin; "
             f"reward at the end point: a broad bump (centre {ex.LOCAL[0]}, width {ex.LOCAL[1]}, height "
             f"{ex.LOCAL[2]}) plus, on the deceptive task, a narrow one (centre {ex.GLOBAL[0]}, width "
             f"{ex.GLOBAL[1]}, height {ex.GLOBAL[2]}). Adam(lr={ex.LR}), {args.steps} gradient steps for every "
             f"method. Fixed λ = {ex.ARMS[1]}; DvD: Thompson sampling (Beta-Bernoulli, no discount) over "
             f"λ in {ex.ARMS}, a new draw every {ex.INTERVAL} steps, success = the population's best reward "
             f"rose during the window. Kernel length scale: median heuristic. Found = best reward >= 90% "
             f"of the task's optimum.")
    path = common.write("dvd", {"results": results, "seeds": args.seeds, "steps": args.steps, "seconds": seconds},
                        summary(results), "DvD: population-wide diversity via determinants", notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
