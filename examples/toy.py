"""The toy problem of the PBT paper (section 4.1, figure 2): why exploit *and* explore matter.

    python examples/toy.py                  # the four methods over 20 seeds, figure in runs/example-toy/
    python examples/toy.py --step-size 0.05 # the easier setting (every method converges sooner)

theta starts at (0.9, 0.9); the true objective is Q(theta) = 1.2 - (theta0^2 + theta1^2). Each
member climbs only a surrogate, Q_hat(theta | h) = 1.2 - (h0 theta0^2 + h1 theta1^2), with
h = (1, 0) for one member and (0, 1) for the other, and is scored on the true Q. Four methods:

- PBT: the worse member copies the better one's theta and h (exploit), then adds noise to h (explore);
- exploit only: it copies, without noise;
- explore only: each member adds noise to its own h, nobody copies;
- grid search: the two fixed h values; each stalls at Q = 0.39.

The gradient step size is 0.01 by default: the harder setting, where 200 steps leave little
slack, so every decision PBT gets wrong (comparing members at different progress, copying less
than it should) shows in the final Q. At 0.05 the problem is easy enough to hide such faults.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

import poptune as pt

THETA0, STEPS, INTERVAL = (0.9, 0.9), 200, 4
STEP_SIZE = 0.01  # --step-size sets it (read by train at every step)
SPACE = {"h0": pt.Float(0.0, 1.0), "h1": pt.Float(0.0, 1.0)}
INITIAL = [{"h0": 1.0, "h1": 0.0}, {"h0": 0.0, "h1": 1.0}]


def q(theta):
    return 1.2 - float(np.sum(np.square(theta)))


def train(member):
    theta = np.array(THETA0 if member.checkpoint is None else member.checkpoint)
    h = np.array([member.hparams["h0"], member.hparams["h1"]])
    for _ in member.steps():
        theta = theta + STEP_SIZE * (-2.0 * h * theta)  # gradient ascent on the surrogate
        member.report(q(theta), checkpoint=theta.tolist(), theta0=theta[0], theta1=theta[1])  # scored on the true Q


def explore(hparams, rng):  # the paper's explore: Gaussian noise on h, kept in [0, 1]
    return {k: float(np.clip(v + rng.normal(0.0, 0.1), 0.0, 1.0)) for k, v in hparams.items()}


def keep(hparams, rng):  # no explore: the copied h as it is
    return dict(hparams)


METHODS = {  # name: (exploit, explore)
    "PBT": (pt.Truncation(0.5), explore),
    "exploit only": (pt.Truncation(0.5), keep),
    "explore only": (pt.ExploreOnly(), explore),
    "grid search": (None, keep),
}


def run(method: str, seed: int, dir: str | Path, steps: int = STEPS) -> pt.Result:
    exploit, explore_fn = METHODS[method]
    return pt.run(train, SPACE, population=2, steps=steps, interval=INTERVAL, exploit=exploit, explore=explore_fn,
                  initial=INITIAL, runner="inline", dir=dir, overwrite=True, seed=seed, progress=False)


def curves(result: pt.Result) -> np.ndarray:
    """Q of the better member after each step (the figure's y axis), shape (steps,)."""
    best = np.full(max(r.step for r in result.reports), -np.inf)
    for r in result.reports:
        best[r.step - 1] = max(best[r.step - 1], r.score)
    return best


def figure(results: dict[str, list[pt.Result]]):
    """Figure 2 of the paper: theta trajectories over Q's contours (top), Q over steps (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(results), figsize=(3.2 * len(results), 6.2), squeeze=False)
    grid = np.linspace(-0.05, 1.0, 100)
    xx, yy = np.meshgrid(grid, grid)
    for col, (method, runs) in enumerate(results.items()):
        top, bottom = axes[0, col], axes[1, col]
        top.contour(xx, yy, 1.2 - xx**2 - yy**2, levels=12, cmap="Greys", linewidths=0.6)
        for member, colour in ((0, "tab:blue"), (1, "tab:orange")):
            path = [(r.metrics["theta0"], r.metrics["theta1"]) for r in runs[0].reports if r.member == member]
            path = np.array([THETA0, *path])
            top.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=0.8, color=colour, label=f"member {member}")
        top.set(title=method, xlabel="theta0", ylabel="theta1" if col == 0 else None, xlim=(-0.05, 1), ylim=(-0.05, 1))
        all_curves = np.array([curves(r) for r in runs])
        steps = np.arange(1, all_curves.shape[1] + 1)
        bottom.plot(steps, all_curves.T, color="tab:grey", lw=0.4, alpha=0.4)
        bottom.plot(steps, all_curves.mean(0), color="tab:red", lw=1.5, label=f"mean of {len(runs)} seeds")
        bottom.set(xlabel="step", ylabel="Q (best member)" if col == 0 else None, ylim=(0.3, 1.25))
    axes[0, 0].legend(loc="upper left", fontsize=7)
    axes[1, 0].legend(loc="lower right", fontsize=7)
    fig.suptitle("PBT paper toy problem: theta trajectories (seed 0) and Q over steps", fontsize=10)
    fig.tight_layout()
    return fig


def compare(seeds: int, out: Path, steps: int = STEPS) -> dict[str, list[pt.Result]]:
    return {method: [run(method, seed, out / f"{method.replace(' ', '-')}-seed{seed}", steps) for seed in range(seeds)]
            for method in METHODS}


def main() -> None:
    global STEP_SIZE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--out", default="runs/example-toy")
    parser.add_argument("--step-size", type=float, default=STEP_SIZE, help="gradient step size (default 0.01)")
    args = parser.parse_args()
    STEP_SIZE = args.step_size
    out = Path(args.out)
    results = compare(args.seeds, out)
    print(f"final Q of the better member after {STEPS} steps at step size {STEP_SIZE}, {args.seeds} seeds:")
    for method, runs in results.items():
        finals = [r.best.score for r in runs]
        print(f"{method:>13}: Q = {statistics.fmean(finals):.4f} +- {statistics.stdev(finals) if len(finals) > 1 else 0:.4f}")
    try:
        figure(results).savefig(out / "toy.png", dpi=110)
        print(f"figure: {out / 'toy.png'}")
    except ImportError:
        print("pip install 'poptune[plot]' for the figure")


if __name__ == "__main__":
    main()
