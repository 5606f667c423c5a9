"""``poptune demo``: PBT against random search on digits, at equal compute.

The first PBT run (seed 0) shows live progress and lands in ``DIR`` itself, so
``poptune report DIR`` works on it; the other runs go to ``DIR/compare/``.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import poptune as pt
from poptune.demo import compare, digits
from poptune.progress import format_value


def demo(
    population: int = 16,
    steps: int = 15,
    interval: int = 1,
    seeds: int = 5,
    noise: float = 0.3,
    workers: int | None = None,
    dir: str = "runs/demo",
    resume: bool = False,
    console: Console | None = None,
) -> dict:
    """Run the demo; return the comparison table ``{method: (mean, std, values)}``."""
    console = console or Console(soft_wrap=True)
    try:
        import torch  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as err:
        raise pt.PoptuneError(
            f"the demo needs PyTorch and scikit-learn ({err.name} is missing): "
            f"pip install 'poptune[torch]'"
        ) from None
    digits.load(0, noise)  # load once here: forked workers inherit it
    train = functools.partial(digits.train, data_seed=0, noise=noise)
    root = Path(dir)
    console.print(
        f"[bold]poptune demo[/]: {population} MLPs on scikit-learn's digits with {noise:.0%} of the "
        f"training labels randomized; one step = one epoch, score = validation accuracy.\n"
        f"PBT and random search get the same budget ({population} members x {steps} epochs), "
        f"{seeds} seed(s) each; test accuracy is kept out of every decision."
    )
    settings = dict(
        population=population, steps=steps, interval=interval,
        runner=pt.runners.Processes(workers=workers), exploit=pt.Truncation(0.25),
        metadata={"task": f"scikit-learn digits, MLP {digits.HIDDEN}-{digits.HIDDEN}, {noise:.0%} of training labels "
                  f"randomized", "step": "one epoch", "score": "validation accuracy (test accuracy only reported)"},
    )
    outcomes, started = [], time.monotonic()
    for seed in range(seeds):
        dirs = (root if seed == 0 else root / "compare" / f"pbt-seed{seed}", root / "compare" / f"random-seed{seed}")
        pbt, random = compare.run_pair(
            train, digits.SPACE, seed, dirs, metric="test_accuracy", progress=seed == 0, resume=resume, **settings
        )
        outcomes += [pbt, random]
        if seed == 0:
            _show_best(console, pt.Result.load(root))
        console.print(
            f"seed {seed}: PBT test accuracy {pbt.held_out:.2%}, random search {random.held_out:.2%} "
            f"({time.monotonic() - started:.0f}s elapsed)"
        )
    table = compare.summarize(outcomes)
    _show_table(console, table, population, steps)
    console.print(f"Look closer: poptune report {root}    (the PBT run of seed 0)\n"
                  f"             poptune report {root / 'compare'}    (PBT vs random search, every seed)\n"
                  f"             poptune serve {root}    (the page in a browser, live while a run trains)")
    return table


def _show_best(console: Console, result: pt.Result) -> None:
    best = result.best
    test = compare.best_held_out(result, "test_accuracy")
    console.print(
        f"\n[bold]Best PBT member[/] (seed 0): member {best.id}, validation accuracy {best.score:.2%}, "
        f"test accuracy {test:.2%}, generation {best.generation}"
    )
    table = Table(
        title="Schedule PBT discovered along the best member's lineage",
        caption="epochs count the training the model received (a copied model brings its own)",
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("epochs", justify="right")
    for name in result.space:
        table.add_column(name, justify="right")
    schedule = result.schedule()
    ends = [start for start, _ in schedule[1:]] + [result.lineage()[-1].end]
    for (start, hparams), end in zip(schedule, ends):
        table.add_row(f"{start + 1}-{end}", *(format_value(hparams[k]) for k in result.space))
    console.print(table)


def _show_table(console: Console, table: dict, population: int, steps: int) -> None:
    out = Table(
        title=f"Equal compute ({population} members x {steps} epochs per run): test accuracy of the "
        f"member with the best validation accuracy",
        title_justify="left",
    )
    for column in ("method", "mean", "std", "per seed"):
        out.add_column(column, justify="left" if column in ("method", "per seed") else "right")
    for method, (mean, std, values) in table.items():
        out.add_row(method, f"{mean:.2%}", f"{std:.2%}", ", ".join(f"{v:.2%}" for v in values))
    console.print(out)
