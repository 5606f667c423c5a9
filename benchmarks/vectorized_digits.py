"""The digits demo task: processes runner vs vectorized, accuracy and wall time (issue 4).

    python -m benchmarks.vectorized_digits [--seeds 5]

The task of ``poptune demo`` (digits, 30% noisy training labels, 15 epochs, ready every epoch,
Truncation(0.25), test accuracy of the best member by validation accuracy). Runs per seed:

- ``demo``: exactly ``poptune demo``'s PBT run (MLP 64-256-256-10, 16 members, processes
  runner with 2 workers);
- ``processes N=64``: the vectorized example's model (64-128-128-10, per-member dropout) with
  64 members on the processes runner;
- ``vectorized N=64``: the same model and population as one stacked model on one core, eager;
- ``vectorized N=64 compiled``: the same with ``compile=True`` (compilation included).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time

import torch

import poptune as pt
from benchmarks import common
from poptune.demo import compare, digits

HIDDEN = (128, 128)


def processes(seed: int, population: int, hidden) -> tuple[float, float]:
    train = functools.partial(digits.train, data_seed=0, noise=0.3, hidden=hidden)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = pt.run(train, digits.SPACE, population=population, steps=15, interval=1, exploit=pt.Truncation(0.25),
                        runner=pt.runners.Processes(workers=2), dir=tmp, seed=seed, progress=False)
        return compare.best_held_out(result, "test_accuracy"), time.perf_counter() - start


def vectorized(seed: int, population: int, compile: bool) -> tuple[float, float]:
    data = digits.load(0, 0.3)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = pt.vectorized.run(
            lambda: digits.dropout_mlp(HIDDEN), digits.SPACE, data=(data.x_train, data.y_train),
            val=(data.x_val, data.y_val), population=population, steps=15, interval=1, batch_size=32,
            exploit=pt.Truncation(0.25), dir=tmp, seed=seed, progress=False, compile=compile, device="cpu",
        )
        seconds = time.perf_counter() - start
        model = digits.dropout_mlp(HIDDEN)
        model.load_state_dict(result.checkpoint()["model"])
        return digits.accuracy(model, data.x_test, data.y_test), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    digits.load(0, 0.3)
    configs = {
        "demo (processes, 64-256-256-10, N=16)": lambda s: processes(s, 16, None),
        "processes, 64-128-128-10, N=64": lambda s: processes(s, 64, HIDDEN),
        "vectorized, 64-128-128-10, N=64": lambda s: vectorized(s, 64, False),
        "vectorized compiled, 64-128-128-10, N=64": lambda s: vectorized(s, 64, True),
    }
    raw = {name: [] for name in configs}
    for seed in range(args.seeds):
        for name, fn in configs.items():
            raw[name].append(fn(seed))
            print(seed, name, raw[name][-1], flush=True)
    base = statistics.median(t for _, t in raw["processes, 64-128-128-10, N=64"])
    table = []
    for name, rows in raw.items():
        tests = [a for a, _ in rows]
        seconds = statistics.median(t for _, t in rows)
        table.append({
            "configuration": name,
            "test accuracy (mean ± std)": f"{statistics.fmean(tests):.2%} ± {statistics.stdev(tests):.2%}",
            "wall time per run (median s)": f"{seconds:.1f}",
            "time vs processes N=64": f"{seconds / base:.2f}",
        })
    path = common.write("vectorized_digits", {"seeds": args.seeds, "runs": raw, "table": table}, table,
                        title=f"Digits demo task, processes runner vs vectorized ({args.seeds} seeds)",
                        notes="Wall time includes process start (processes) and compilation (compiled).")
    print(path.read_text())


if __name__ == "__main__":
    main()
