"""Ray Tune's ``pbt_function`` example, ported to poptune (docs/migrating-from-ray-tune.md maps
every argument).

    python examples/pbt_function.py               # 5 seeds, three methods, about 10 s
    python examples/pbt_function.py --seeds 1 --steps 100

The problem (from Ray Tune's examples): a member's "accuracy" grows fastest when its learning
rate is near an optimum that depends on the accuracy itself: a triangle wave rising from 0.001
to 0.01 at accuracy 100 and falling back to 0.001 at 200. A learning rate more than 3x off the
optimum makes progress stall or reverse, so no fixed learning rate gets far: the schedule has
to follow the accuracy. A member stops once its accuracy passes 200 (Ray's ``done``).

What changes from the Ray Tune version:

- ``config["lr"]`` -> ``member.hparams["lr"]``; the checkpoint directory -> ``member.checkpoint``
  and ``member.report(score, checkpoint=state)`` (any picklable state, no files to write);
- ``tune.report(mean_accuracy=...)`` + ``metric="mean_accuracy", mode="max"`` -> the score of
  ``member.report`` and ``direction="maximize"``; the other reported values are metrics;
- ``done=accuracy > 200`` -> ``stop={"score": 200}`` (a member stops at its next ready step);
- ``hyperparam_mutations`` -> the space; ``quantile_fraction=0.25`` -> ``pt.Truncation(0.25)``
  (poptune's default is 0.2, the paper's); ``resample_probability=0.25`` and factors 0.8/1.2 are
  ``pt.PerturbOrResample``'s defaults;
- ``num_samples=8`` -> ``population=8``; ``config={"lr": 0.0001, ...}`` -> ``initial``;
- the trainable draws noise from Python's and numpy's global generators, as in Ray; poptune
  seeds them per member and segment, so members do not share noise and a rerun repeats it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import textwrap

import numpy as np

import poptune as pt

MIDPOINT = 100  # the optimal lr rises until this accuracy, then falls
Q_TOLERANCE = 3  # an lr more than this factor off the optimum stalls or loses accuracy
NOISE = 2.0  # Gaussian noise on every step's accuracy

SPACE = {
    "lr": pt.Float(0.0001, 0.02),  # Ray: lambda: random.uniform(0.0001, 0.02)
    "some_other_factor": pt.Choice([1, 2]),  # perturbed, but has no effect on training
}


def optimal_lr(accuracy: float) -> float:
    rising = 0.01 * accuracy / MIDPOINT
    falling = 0.01 - 0.01 * (accuracy - MIDPOINT) / MIDPOINT
    return min(0.01, max(0.001, rising if accuracy < MIDPOINT else falling))


def train(member):
    lr = member.hparams["lr"]
    accuracy = member.checkpoint or 0.0
    for _ in member.steps():
        best = optimal_lr(accuracy)
        q_err = max(lr, best) / min(lr, best)
        if q_err < Q_TOLERANCE:
            accuracy += (1.0 / q_err) * random.random()
        elif lr > best:
            accuracy -= (q_err - Q_TOLERANCE) * random.random()
        accuracy = max(0.0, accuracy + NOISE * np.random.normal())
        member.report(accuracy, checkpoint=accuracy, cur_lr=lr, optimal_lr=best, q_err=q_err)


def methods(population: int):
    ray_start = [{"lr": 0.0001, "some_other_factor": 1}] * population
    return {  # folder: (label, pt.run arguments)
        "pbt-ray-start": ("PBT, Ray's start (every lr = 1e-4)", dict(exploit=pt.Truncation(0.25), initial=ray_start)),
        "pbt": ("PBT, random start", dict(exploit=pt.Truncation(0.25))),
        "random-search": ("random search (fixed lr)", dict(exploit=None)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--interval", type=int, default=4)
    parser.add_argument("--dir", default="runs/example-pbt-function")
    args = parser.parse_args()

    print(f"{args.population} members x {args.steps} steps, ready every {args.interval}, {args.seeds} seeds; "
          f"a member stops once its accuracy passes 200")
    for folder, (name, kwargs) in methods(args.population).items():
        finals, stopped, first = [], [], []
        for seed in range(args.seeds):
            result = pt.run(
                train, SPACE, population=args.population, steps=args.steps, interval=args.interval,
                direction="maximize", explore=pt.PerturbOrResample(), stop={"score": 2 * MIDPOINT},
                dir=f"{args.dir}/{folder}-seed{seed}",
                overwrite=True, seed=seed, runner="inline", progress=False, **kwargs,
            )
            finals.append(max(m.score for m in result.members))
            done = [m for m in result.members if m.stopped]
            stopped.append(len(done))
            first.append(min((m.step for m in done), default=float("nan")))
        spread = statistics.stdev(finals) if len(finals) > 1 else 0.0
        print(f"  {name:36s} best accuracy {statistics.mean(finals):6.1f} ± {spread:5.1f}   "
              f"members past 200: {statistics.mean(stopped):4.1f} of {args.population}   "
              f"first there at step {statistics.mean(first):5.1f}")
    last = pt.Result.load(f"{args.dir}/pbt-seed{args.seeds - 1}")
    schedule = ", ".join(f"{step}: {hparams['lr']:.4f}" for step, hparams in last.schedule())
    print("\nThe learning rate along the best lineage (last seed, PBT from random starts), from step: lr")
    print(textwrap.fill(schedule, width=100, initial_indent="  ", subsequent_indent="  "))


if __name__ == "__main__":
    main()
