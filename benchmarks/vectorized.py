"""Epoch time of N members on digits: separate models, the processes runner, vectorized.

    python -m benchmarks.vectorized [--repeats 5] [--sizes 8 32 128]

Models: MLP 64-128-10 ("small") and 64-512-512-10 ("wide"); SGD with momentum, batch 64, one
epoch = 1078 training rows, every member its own shuffle. One torch thread per process (on a
shared 2-core machine a second thread is slower and noisy). Columns:

- separate, 1 process: N models trained one after the other in this process;
- processes runner: ``pt.run`` with 2 worker processes, 3 epochs per member, wall time / 3;
- vectorized: ``pt.vectorized.Population.make_step``, one stacked model, eager;
- vectorized compiled: the same step with ``compile=True``, timed after compilation (the
  one-off compile time is a column of its own). Batches are all full (1024 of the 1078 rows),
  so the compiled step keeps one shape.

Medians of ``--repeats`` runs; ratios are taken within each repetition, then the median.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

import poptune as pt
from benchmarks import common
from poptune.demo import digits

BATCH = 64
WIDTHS = {"small": (128,), "wide": (512, 512)}


def mlp(widths):
    layers, last = [], 64
    for w in widths:
        layers += [torch.nn.Linear(last, w), torch.nn.ReLU()]
        last = w
    return torch.nn.Sequential(*layers, torch.nn.Linear(last, 10))


def separate_epoch(n: int, widths) -> float:
    data = digits.load(0, 0.0)
    models = [mlp(widths) for _ in range(n)]
    opts = [torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in models]
    start = time.perf_counter()
    for model, opt in zip(models, opts):
        for idx in torch.randperm(len(data.y_train)).split(BATCH):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx]).backward()
            opt.step()
    return time.perf_counter() - start


def _train_member(member, widths):
    torch.set_num_threads(1)
    data = digits.load(0, 0.0)
    model = mlp(widths)
    opt = torch.optim.SGD(model.parameters(), lr=member.hparams["lr"], momentum=0.9)
    for _ in member.steps():
        for idx in torch.randperm(len(data.y_train)).split(BATCH):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx]).backward()
            opt.step()
        member.report(0.0, checkpoint=lambda: None)


def processes_epoch(n: int, widths, epochs: int = 3) -> float:
    import functools

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        pt.run(functools.partial(_train_member, widths=widths), {"lr": pt.Float(0.01, 0.1)}, population=n,
               steps=epochs, interval=None, exploit=None, runner=pt.runners.Processes(workers=2, threads=1),
               dir=tmp, seed=0, progress=False)
        return (time.perf_counter() - start) / epochs


def vectorized_setup(n: int, widths, compile: bool):
    pop = pt.vectorized.Population(lambda: mlp(widths), n, optimizer=pt.vectorized.SGD(lr="lr", momentum=0.9),
                                   hparams={"lr": [0.05] * n})
    return pop.make_step(torch.nn.functional.cross_entropy, per_member=True, compile=compile)


def vectorized_epoch(n: int, step) -> float:
    data = digits.load(0, 0.0)
    rows = len(data.y_train) - len(data.y_train) % BATCH
    start = time.perf_counter()
    order = torch.argsort(torch.rand(n, len(data.y_train)), dim=1)  # (P, N): every member its own order
    for b in range(0, rows, BATCH):
        idx = order[:, b:b + BATCH]  # (P, B)
        step(data.x_train[idx], data.y_train[idx])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 32, 128])
    args = parser.parse_args()
    torch.set_num_threads(1)
    digits.load(0, 0.0)
    raw, table = {}, []
    for name, widths in WIDTHS.items():
        for n in args.sizes:
            eager = vectorized_setup(n, widths, compile=False)
            vectorized_epoch(n, eager)  # warm-up
            compiled = vectorized_setup(n, widths, compile=True)
            start = time.perf_counter()
            vectorized_epoch(n, compiled)  # compiles on the first batch
            compile_seconds = time.perf_counter() - start
            reps = []
            for _ in range(args.repeats):
                reps.append({
                    "separate": separate_epoch(n, widths),
                    "processes": processes_epoch(n, widths),
                    "vectorized": vectorized_epoch(n, eager),
                    "compiled": vectorized_epoch(n, compiled),
                })
            med = {k: common.median([r[k] for r in reps]) for k in reps[0]}
            table.append({
                "model": f"{name} ({'-'.join(map(str, (64, *widths, 10)))})",
                "N": n,
                "separate, 1 process (ms)": f"{med['separate'] * 1e3:.0f}",
                "processes runner, 2 workers (ms)": f"{med['processes'] * 1e3:.0f}",
                "vectorized (ms)": f"{med['vectorized'] * 1e3:.0f}",
                "compiled (ms)": f"{med['compiled'] * 1e3:.0f}",
                "compile once (s)": f"{compile_seconds:.1f}",
                "vectorized / compiled vs processes": (
                    f"{common.median([r['processes'] / r['vectorized'] for r in reps]):.2f}x / "
                    f"{common.median([r['processes'] / r['compiled'] for r in reps]):.2f}x"
                ),
                "vectorized / compiled vs separate": (
                    f"{common.median([r['separate'] / r['vectorized'] for r in reps]):.2f}x / "
                    f"{common.median([r['separate'] / r['compiled'] for r in reps]):.2f}x"
                ),
            })
            raw[f"{name}-{n}"] = {"compile_seconds": compile_seconds, "repeats": reps}
            print(table[-1], flush=True)
    path = common.write(
        "vectorized", {"repeats": args.repeats, "batch": BATCH, "runs": raw, "table": table}, table,
        title=f"One epoch of N members on digits, CPU, 1 thread per process (medians of {args.repeats})",
        notes="Target (issue 4): vectorized >= 3x the processes runner at N=32 on this CPU; >= 20x at N=128 on "
        "a GPU (no GPU was available to this run).",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
