"""The digits demo task at N=32: the processes runner against the vectorized population, like for like.

    python -m benchmarks.vectorized_digits [--seeds 3] [--population 32] [--compare OLDER_CHECKOUT]

The task of ``poptune demo`` (digits, 30% noisy training labels, 15 epochs, ready every epoch,
``Truncation(0.25)``, batch 32, test accuracy of the best member by validation accuracy), every
configuration with the same model (64-128-128-10 with a per-member dropout rate,
:func:`poptune.demo.digits.dropout_mlp`) and the same population. Each run is a fresh Python
process, so each pays its own imports (torch's function transforms load ``torch._dynamo`` on the
first gradient, in the processes runner's parent and in the vectorized run alike).

Configurations:

- ``processes``: :func:`poptune.demo.digits.train` on ``Processes(workers=2)`` (one torch
  thread per worker: the machine's two cores);
- ``vectorized``: ``pt.vectorized.run``, eager, two torch threads (the same two cores);
- ``vectorized, 1 thread``: the same on one core;
- ``compiled, cold`` / ``compiled, warm``: ``compile=True`` with two threads, first with an
  empty compile cache (``TORCHINDUCTOR_CACHE_DIR`` set to a new folder), then again with the
  cache the cold run left (what a second run of the same model finds).

``--compare`` runs every configuration again with an older checkout's poptune (its
``digits.train`` and ``digits.dropout_mlp`` too), side by side within each seed.

Columns, all medians over seeds:

- end to end: the call of ``pt.run`` / ``pt.vectorized.run``, start-up to result; for the
  compiled runs without the compilation, which has its own columns (the first step's time less
  a typical step's);
- step loop: the time members spend inside their steps (training epoch and evaluation, from a
  step's start to its report; no checkpoints, decisions or start-up). With two workers the two
  loops run side by side: the processes runner's step loop is the longer of its workers' sums.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import poptune as pt
from benchmarks import common
from poptune.demo import digits

HIDDEN = (128, 128)
EPOCHS, BATCH = 15, 32
CONFIGS = ("processes", "vectorized", "vectorized, 1 thread", "compiled, cold", "compiled, warm")


class _TimedMember:
    """A member whose steps are timed: from each step's start to its report (a ``loop`` metric)."""

    def __init__(self, member):
        self._member, self._start = member, None

    def __getattr__(self, name):
        return getattr(self._member, name)

    def steps(self):
        for step in self._member.steps():
            self._start = time.perf_counter()
            yield step

    def report(self, score, **kwargs):
        loop = time.perf_counter() - self._start
        return self._member.report(score, loop=loop, worker=os.getpid(), **kwargs)


def _timed_train(member, hidden):
    digits.train(_TimedMember(member), data_seed=0, noise=0.3, hidden=hidden)


def run_processes(seed: int, population: int, tmp: str) -> dict:
    from poptune.demo import compare

    digits.load(0, 0.3)  # loaded before the clock starts, as for the vectorized runs (the workers inherit it)
    start = time.perf_counter()
    result = pt.run(functools.partial(_timed_train, hidden=HIDDEN), digits.SPACE, population=population, steps=EPOCHS,
                    interval=1, exploit=pt.Truncation(0.25), runner=pt.runners.Processes(workers=2, threads=1),
                    dir=tmp, seed=seed, progress=False)
    seconds = time.perf_counter() - start
    per_worker: dict[float, float] = {}
    for report in result.reports:
        per_worker[report.metrics["worker"]] = per_worker.get(report.metrics["worker"], 0.0) + report.metrics["loop"]
    return {"accuracy": compare.best_held_out(result, "test_accuracy"), "seconds": seconds,
            "loop": max(per_worker.values()), "compile": None}


def run_vectorized(seed: int, population: int, tmp: str, threads: int, compile: bool) -> dict:
    import torch

    from poptune.vectorized import Session

    torch.set_num_threads(threads)
    data = digits.load(0, 0.3)
    loop, first, steps = [0.0], [], []
    original_steps, original_report = Session.steps, Session.report

    def steps_(session):
        for step in original_steps(session):
            loop.append(time.perf_counter())
            yield step

    def report(session, *args, **kwargs):
        loop[0] += time.perf_counter() - loop.pop()
        return original_report(session, *args, **kwargs)

    original_make_step = pt.vectorized.Population.make_step

    def make_step(pop, *args, **kwargs):
        step = original_make_step(pop, *args, **kwargs)

        def timed(x, y):
            begin = time.perf_counter()
            out = step(x, y)
            (steps if first else first).append(time.perf_counter() - begin)
            return out

        return timed

    Session.steps, Session.report, pt.vectorized.Population.make_step = steps_, report, make_step
    try:
        start = time.perf_counter()
        result = pt.vectorized.run(
            lambda: digits.dropout_mlp(HIDDEN), digits.SPACE, data=(data.x_train, data.y_train), val=(data.x_val, data.y_val),
            population=population, steps=EPOCHS, interval=1, batch_size=BATCH, exploit=pt.Truncation(0.25), dir=tmp,
            seed=seed, progress=False, compile=compile, device="cpu",
        )
        seconds = time.perf_counter() - start
    finally:
        Session.steps, Session.report, pt.vectorized.Population.make_step = original_steps, original_report, original_make_step
    model = digits.dropout_mlp(HIDDEN)
    model.load_state_dict(result.checkpoint()["model"])
    # the compilation: the first step's time beyond a typical step's (eager: the first step's own
    # one-off work, such as loading torch's function transforms, stays in the step loop)
    compile_seconds = first[0] - statistics.median(steps) if compile else None
    return {"accuracy": digits.accuracy(model, data.x_test, data.y_test),
            "seconds": seconds - (compile_seconds or 0.0), "loop": loop[0] - (compile_seconds or 0.0),
            "compile": compile_seconds}


def one(config: str, seed: int, population: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        if config == "processes":
            return run_processes(seed, population, tmp)
        threads = 1 if config == "vectorized, 1 thread" else (os.cpu_count() or 1)
        return run_vectorized(seed, population, tmp, threads, compile=config.startswith("compiled"))


def _fresh(config: str, seed: int, population: int, cache: str, checkout: str | None = None) -> dict:
    """One run in a new Python process (its own imports; compile caches in ``cache``), with this
    checkout's poptune or ``checkout``'s: this file runs as a script from an empty folder, so
    ``PYTHONPATH`` alone decides which poptune it imports."""
    root = checkout or str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", config, "--seed", str(seed),
                              "--population", str(population)], env=env, capture_output=True, text=True, cwd=folder)
    if out.returncode:
        raise RuntimeError(f"{config} seed {seed} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--population", type=int, default=32)
    parser.add_argument("--compare", help="an older poptune checkout, measured side by side")
    parser.add_argument("--one", choices=CONFIGS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seed, args.population)))
        return
    versions = {"current": None, **({"older": args.compare} if args.compare else {})}
    raw: dict[str, dict[str, list[dict]]] = {v: {name: [] for name in CONFIGS} for v in versions}
    for seed in range(args.seeds):  # configurations and versions interleaved within each seed
        for version, checkout in versions.items():
            with tempfile.TemporaryDirectory() as cache:
                for name in CONFIGS:  # "compiled, warm" finds the cache "compiled, cold" left
                    raw[version][name].append(_fresh(name, seed, args.population, cache, checkout))
                    print(seed, version, name, raw[version][name][-1], flush=True)
    table = [row for version in versions for row in _table(raw[version], raw["current"]["processes"],
                                                           version if args.compare else None)]
    older = f"; older: poptune at commit {common.commit_of(args.compare)}" if args.compare else ""
    path = common.write(
        "vectorized_digits", {"seeds": args.seeds, "population": args.population, "runs": raw, "table": table,
                              "compare": args.compare}, table,
        title=f"Digits demo task, N={args.population}: processes runner vs vectorized, like for like "
              f"({args.seeds} seeds, medians)",
        notes="End to end: the pt.run / pt.vectorized.run call in a fresh process, compilation excluded (own column). "
              "Step loop: time inside the members' steps (epoch + evaluation). Speed-ups: the current processes "
              f"runner's time / this time, within each seed, then the median{older}.",
    )
    print(path.read_text())


def _table(raw: dict[str, list[dict]], base: list[dict], version: str | None) -> list[dict]:
    table = []
    for name, runs in raw.items():
        accuracy = [r["accuracy"] for r in runs]
        compile_seconds = [r["compile"] for r in runs if r["compile"] is not None]
        table.append({
            "configuration": name if version is None else f"{name} ({version})",
            "test accuracy (mean ± std)": "{:.2%} ± {:.2%}".format(*common.mean_std(accuracy)),
            "end to end (s)": f"{statistics.median(r['seconds'] for r in runs):.2f}",
            "step loop (s)": f"{statistics.median(r['loop'] for r in runs):.2f}",
            "compile (s)": f"{statistics.median(compile_seconds):.1f}" if compile_seconds else "",
            "end to end, speed-up": f"{statistics.median(b['seconds'] / r['seconds'] for b, r in zip(base, runs)):.2f}x",
            "step loop, speed-up": f"{statistics.median(b['loop'] / r['loop'] for b, r in zip(base, runs)):.2f}x",
        })
    return table


if __name__ == "__main__":
    main()
