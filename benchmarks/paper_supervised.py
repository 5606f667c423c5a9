"""Supervised learning at equal compute: PBT vs random search vs a hand-tuned schedule on digits.

    python -m benchmarks.paper_supervised [--seeds 5]

The demo's task (scikit-learn digits, 30% of training labels randomized, MLP 256-256 with dropout,
SGD): 16 members x 15 epochs per method and seed. Random search is the same run without exploit
(same initial members). The hand-tuned schedule trains 16 members (different initialisations) on
one fixed schedule, chosen by hand among four candidates on seed 0's validation accuracy
(lr 0.05 -> 0.005 after epoch 10, momentum 0.9, weight decay 5e-4, dropout 0.5). Every method
reports the test accuracy of its member with the best validation accuracy. Figure:
``results/paper_supervised.png``, the learning-rate schedules PBT discovered.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
from pathlib import Path

import poptune as pt
from benchmarks import common
from poptune.demo import compare, digits

HAND_TUNED = [(0, {"lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4, "dropout": 0.5}), (10, {"lr": 0.005})]
NOISE, POPULATION, EPOCHS = 0.3, 16, 15


def run_seed(seed: int, root: Path) -> tuple[list[compare.Outcome], pt.Result]:
    train = functools.partial(digits.train, data_seed=0, noise=NOISE)
    settings = dict(population=POPULATION, steps=EPOCHS, interval=1, runner=pt.runners.Processes(workers=2))
    pbt, random = compare.run_pair(train, digits.SPACE, seed, (root / f"pbt{seed}", root / f"random{seed}"),
                                   metric="test_accuracy", exploit=pt.Truncation(0.25), **settings)
    hand = pt.run(train, digits.SPACE, schedule=HAND_TUNED, dir=root / f"hand{seed}", seed=seed, progress=False,
                  **settings)
    hand_outcome = compare.Outcome("hand-tuned schedule", seed, hand.best.score,
                                   compare.best_held_out(hand, "test_accuracy"), str(root / f"hand{seed}"))
    return [pbt, random, hand_outcome], pt.Result.load(root / f"pbt{seed}")


def lr_figure(results: list[pt.Result]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.4))
    for seed, result in enumerate(results):
        schedule = result.schedule()
        starts = [s for s, _ in schedule] + [result.lineage()[-1].end]
        lrs = [h["lr"] for _, h in schedule]
        ax.step(starts, lrs + lrs[-1:], where="post", lw=1.2, label=f"PBT, seed {seed}")
    hand = [(s, h["lr"]) for s, h in HAND_TUNED] + [(EPOCHS, HAND_TUNED[-1][1]["lr"])]
    ax.step([s for s, _ in hand], [lr for _, lr in hand], where="post", color="black", ls="--", lw=1.5,
            label="hand-tuned")
    ax.set(yscale="log", xlabel="epoch", ylabel="learning rate",
           title="Learning rates PBT discovered (best lineage of each seed)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    digits.load(0, NOISE)  # once, before the workers fork
    outcomes, pbt_results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            seed_outcomes, pbt_result = run_seed(seed, Path(tmp))
            outcomes += seed_outcomes
            pbt_results.append(pbt_result)
            print(", ".join(f"{o.method} {o.held_out:.2%}" for o in seed_outcomes), flush=True)
        lr_figure(pbt_results).savefig(common.RESULTS / "paper_supervised.png", dpi=90)
    table = []
    for method, (mean, std, values) in compare.summarize(outcomes).items():
        val_mean, val_std = common.mean_std(o.score for o in outcomes if o.method == method)
        table.append({"method": method, "test accuracy": f"{mean:.2%} ± {std:.2%}",
                      "validation accuracy": f"{val_mean:.2%} ± {val_std:.2%}",
                      "per seed (test)": ", ".join(f"{v:.1%}" for v in values)})
    path = common.write(
        "paper_supervised", {"seeds": args.seeds, "hand_tuned": HAND_TUNED, "outcomes": [vars(o) for o in outcomes]},
        table, title=f"Digits (30% noisy labels), {POPULATION} members x {EPOCHS} epochs per method ({args.seeds} seeds, mean ± std)",
        notes="Test accuracy of the member with the best validation accuracy. Figure: `results/paper_supervised.png`.",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
