"""PBT's decisions in every mode against a 40-line synchronous loop: the paper's toy, step size 0.01.

    python -m benchmarks.decisions [--seeds 20] [--modes inline-async processes-sync ...]

The PBT paper's toy problem (section 4.1) at the harder step size 0.01 (``examples/toy.py``
also runs the paper's 0.05): 2 members, 200 steps, ready every 4, ``Truncation(0.5)``, explore
= Gaussian noise 0.1 on h clipped to [0, 1]. Every poptune mode (inline, processes and Ray
runners; asynchronous and synchronous) runs the same seeds as a minimal in-memory synchronous
PBT loop, in the same benchmark run. The table gives the median best Q (the best score any
member reached), the worst seed, crashed runs and exploits per run.

The benchmark uses poptune's public API only, so it measures an older version too (the
"before" table of benchmarks/README.md): copy it into that checkout and run it there, so that
the checkout's own poptune is imported, by Ray's workers as well::

    git worktree add /tmp/poptune-0.1 dddff9a
    cp benchmarks/decisions.py benchmarks/common.py /tmp/poptune-0.1/benchmarks/
    (cd /tmp/poptune-0.1 && python -m benchmarks.decisions --name decisions_before)
    cp /tmp/poptune-0.1/benchmarks/results/decisions_before.* benchmarks/results/
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

import poptune as pt
from benchmarks import common

STEP_SIZE, STEPS, INTERVAL, THETA0 = 0.01, 200, 4, (0.9, 0.9)
SPACE = {"h0": pt.Float(0.0, 1.0), "h1": pt.Float(0.0, 1.0)}
INITIAL = [{"h0": 1.0, "h1": 0.0}, {"h0": 0.0, "h1": 1.0}]
MODES = [f"{runner}-{mode}" for runner in ("inline", "processes", "ray") for mode in ("async", "sync")]
TOLERANCE = 0.005  # every mode's median best Q within this of the reference loop's


# The toy is written out here rather than imported from examples/toy.py: the benchmark must run
# unchanged in an older checkout (whose example had another step size) to measure it.
def q(theta) -> float:
    return 1.2 - float(np.sum(np.square(theta)))


def train(member):
    theta = np.array(THETA0 if member.checkpoint is None else member.checkpoint)
    h = np.array([member.hparams["h0"], member.hparams["h1"]])
    for _ in member.steps():
        theta = theta + STEP_SIZE * (-2.0 * h * theta)  # gradient ascent on the surrogate
        member.report(q(theta), checkpoint=theta.tolist())


def explore(hparams, rng):
    return {k: float(np.clip(v + rng.normal(0.0, 0.1), 0.0, 1.0)) for k, v in hparams.items()}


def reference(seed: int) -> dict:
    """The 40-line synchronous PBT loop: every 4 steps the worse member copies the better."""
    rng = np.random.default_rng(seed)
    theta = [np.array(THETA0) for _ in range(2)]
    h = [np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    best, exploits = -np.inf, 0
    for step in range(1, STEPS + 1):
        scores = []
        for i in range(2):
            theta[i] = theta[i] + STEP_SIZE * (-2.0 * h[i] * theta[i])
            scores.append(q(theta[i]))
        best = max(best, *scores)
        if step % INTERVAL == 0 and step < STEPS:
            low, high = (0, 1) if scores[0] < scores[1] else (1, 0)
            if scores[0] == scores[1] and rng.random() < 0.5:
                low, high = high, low  # a tie: either may copy
            theta[low] = theta[high].copy()
            h[low] = np.clip(h[high] + rng.normal(0.0, 0.1, 2), 0.0, 1.0)
            exploits += 1
    return {"best": best, "exploits": exploits, "seconds": 0.0, "error": None}


def poptune_run(mode: str, seed: int) -> dict:
    runner_name, sync = mode.rsplit("-", 1)
    runner = pt.runners.Ray() if runner_name == "ray" else runner_name
    started = time.perf_counter()
    # a crashed run of an older poptune may leave a worker writing there while it is removed
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        try:
            result = pt.run(train, SPACE, population=2, steps=STEPS, interval=INTERVAL, exploit=pt.Truncation(0.5),
                            explore=explore, initial=INITIAL, runner=runner, dir=Path(tmp) / "run", seed=seed,
                            progress=False, synchronous=sync == "sync")
        except Exception as err:  # a crashed run is a result of this benchmark, not an error of it
            return {"best": None, "exploits": 0, "seconds": time.perf_counter() - started,
                    "error": f"{type(err).__name__}: {err}".splitlines()[0][:300],
                    "traceback": traceback.format_exc()[-2000:]}
        return {"best": max(r.score for r in result.reports), "exploits": len(result.exploits),
                "seconds": time.perf_counter() - started, "error": None}


def summarize(runs: dict[str, list[dict]]) -> list[dict]:
    reference_median = statistics.median(r["best"] for r in runs["reference"])
    table = []
    for name, results in runs.items():
        finished = [r["best"] for r in results if r["error"] is None]
        median = statistics.median(finished) if finished else float("nan")
        row = {
            "mode": "40-line synchronous loop (reference)" if name == "reference" else name,
            "median best Q": f"{median:.4f}" if finished else "-",
            "worst seed": f"{min(finished):.4f}" if finished else "-",
            "vs reference": "-" if name == "reference" else f"{median - reference_median:+.4f}",
            f"within {TOLERANCE}": "-" if name == "reference" else
            ("yes" if finished and abs(median - reference_median) <= TOLERANCE else "no"),
            "crashed": f"{sum(r['error'] is not None for r in results)}/{len(results)}",
            "exploits per run (median)": f"{statistics.median(r['exploits'] for r in results):.0f}",
            "seconds per run (median)": f"{statistics.median(r['seconds'] for r in results):.2f}",
        }
        table.append(row)
    return table


BEGIN, END = "<!-- decisions:begin -->", "<!-- decisions:end -->"


def readme_table() -> str:
    """The README's table: this version and (when measured) the one before, from the result files."""
    import json

    now = json.loads((common.RESULTS / "decisions.json").read_text())
    before_path = common.RESULTS / "decisions_before.json"
    before = json.loads(before_path.read_text()) if before_path.exists() else None

    def cell(result: dict, mode: str) -> str:
        runs = result["runs"].get(mode)
        if not runs:
            return "-"
        finished = [r["best"] for r in runs if r["error"] is None]
        crashed = sum(r["error"] is not None for r in runs)
        median = f"{statistics.median(finished):.4f}" if finished else "-"
        return f"{median}" + (f", {crashed}/{len(runs)} crashed" if crashed else "")

    reference = statistics.median(r["best"] for r in now["runs"]["reference"])
    head = "| mode | median best Q now |" + (" poptune 0.1 |" if before else "")
    lines = [head, "|---|---|" + ("---|" if before else "")]
    for mode in MODES:
        lines.append(f"| {mode} | {cell(now, mode)} |" + (f" {cell(before, mode)} |" if before else ""))
    row = f"| 40-line synchronous loop (same seeds) | {reference:.4f} |"
    if before:
        row += f" {statistics.median(r['best'] for r in before['runs']['reference']):.4f} |"
    lines.append(row)
    return "\n".join(lines) + f"\n\n({len(now['seeds'])} seeds per mode; table and exploit counts in " \
        "[`benchmarks/README.md`](benchmarks/README.md#decisions-in-every-mode--python--m-benchmarksdecisions).)\n"


def update_readme() -> None:
    readme = common.RESULTS.parents[1] / "README.md"
    text = readme.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{readme_table()}{END}{tail}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=MODES)
    parser.add_argument("--name", default="decisions", help="results/<name>.json and .md")
    parser.add_argument("--readme-only", action="store_true", help="rebuild the README's table from the results")
    args = parser.parse_args(argv)
    if args.readme_only:
        update_readme()
        return
    seeds = list(range(args.seeds))
    if any(m.startswith("ray") for m in args.modes):
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # once: runs reuse it
    runs: dict[str, list[dict]] = {"reference": [reference(seed) for seed in seeds]}
    for mode in args.modes:
        runs[mode] = []
        for seed in seeds:
            runs[mode].append(poptune_run(mode, seed))
            last = runs[mode][-1]
            print(f"{mode} seed {seed}: best Q {last['best']} exploits {last['exploits']}"
                  f"{' ' + last['error'] if last['error'] else ''}", flush=True)
    table = summarize(runs)
    path = common.write(
        args.name, {"seeds": seeds, "steps": STEPS, "interval": INTERVAL, "step_size": STEP_SIZE,
                    "poptune": pt.__version__, "poptune_path": str(Path(pt.__file__).parent), "runs": runs},
        table,
        title=f"The paper's toy at step size {STEP_SIZE}: 2 members x {STEPS} steps, ready every {INTERVAL}, "
              f"{len(seeds)} seeds per mode",
        notes="Best Q: the highest true objective any member reached (maximum 1.2). Every mode runs the same "
              "seeds; the reference is a minimal in-memory synchronous PBT loop run in the same benchmark.",
    )
    print(path.read_text())
    if args.name == "decisions":
        update_readme()


if __name__ == "__main__":
    main()
