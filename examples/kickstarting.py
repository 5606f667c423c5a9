"""Kickstarting on digits: a big student, few labels, a weaker teacher, and PBT scheduling the teacher's weight.

    python examples/kickstarting.py            # 8 members x 30 steps, 5 seeds per method (a few minutes)
    python examples/kickstarting.py --small    # the CI version (seconds)

Schmitt et al. 2018 ("Kickstarting Deep Reinforcement Learning") train a student on
``task_loss + w * distill(student, teacher)`` and let PBT schedule ``w``: the teacher speeds up
early learning, and PBT can turn it down once the student is better than the teacher.

The setting (scikit-learn's digits, 8x8 images, 10 classes) is built so both halves can show:

- the student (MLP 64-256-256-10) has only 100 labelled images (10 per class) for its task
  loss, and distils on the whole training pool of 1078 images without their labels;
- the teacher is a weak "legacy" model, an MLP with a 5-unit bottleneck trained for a few
  epochs (about 88% test accuracy); it is saved to a file and loaded with
  ``poptune.family.kickstart.Teacher``, read-only and once per process;
- one step is 10 Adam updates (32 labelled images + 128 pool images each); the score is the
  accuracy on a validation split; the test split is only reported.

Methods, each a PBT run over the learning rate, at equal steps: ``w`` explored by PBT
(``kick_weight``, log scale, below ``FLOOR`` means no teacher), and ``w`` fixed at 0 (no
teacher), a small and a large constant, and a hand-written decay (1 -> 0 over the first half).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import poptune as pt
from poptune.family.kickstart import Teacher, distillation_loss

torch.set_num_threads(1)

# -- data: a pool of training images (100 of them labelled for the student), validation, test ----
x, y = load_digits(return_X_y=True)
x_pool, x_rest, y_pool, y_rest = train_test_split(x, y, test_size=0.4, stratify=y, random_state=0)
x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=0)
mean, std = x_pool.mean(0), x_pool.std(0) + 1e-6
X_POOL, X_VAL, X_TEST = (torch.tensor((a - mean) / std, dtype=torch.float32) for a in (x_pool, x_val, x_test))
Y_POOL, Y_VAL, Y_TEST = (torch.tensor(a) for a in (y_pool, y_val, y_test))
PER_CLASS = 10
_rng = np.random.default_rng(0)
LABELLED = torch.tensor(np.concatenate([_rng.choice(np.flatnonzero(y_pool == c), PER_CLASS, replace=False)
                                        for c in range(10)]))  # (100,) indices into the pool

UPDATES = 10  # Adam updates per step
FLOOR = 0.01  # a kick_weight below this is 0: the teacher is not even queried
SPACE = {"lr": pt.Float(3e-4, 1e-2, log=True), "kick_weight": pt.Float(1e-3, 10.0, log=True)}
EXPLORE = pt.PerturbOrResample(factors=(0.5, 2.0))  # a weight can fall by 10x in a few ready steps
FULL = {"population": 8, "steps": 30, "interval": 3, "seeds": 5}
SMALL = {"population": 4, "steps": 4, "interval": 2, "seeds": 1}


def teacher_network() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(64, 5), torch.nn.ReLU(), torch.nn.Linear(5, 10))


def student_network() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                               torch.nn.ReLU(), torch.nn.Linear(256, 10))


def accuracy(model, x, y) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def make_teacher(path: Path, epochs: int = 6) -> Teacher:
    """Train the weak teacher on the labelled pool (someone else's old model), save it, wrap it."""
    if not path.exists():
        generator = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        model = teacher_network()
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(epochs):
            for idx in torch.randperm(len(Y_POOL), generator=generator).split(64):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(X_POOL[idx]), Y_POOL[idx]).backward()
                opt.step()
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), path)
    return Teacher(teacher_network, path)


def make_train(teacher: Teacher, weight=None):
    """The train function; ``weight``: None = the ``kick_weight`` hyperparameter, a number = fixed,
    a function of the step = a hand-written schedule."""

    def train(member: pt.Member) -> None:
        torch.manual_seed(member.seed)
        model = student_network()
        opt = torch.optim.Adam(model.parameters(), lr=member.hparams["lr"])
        pt.torch_restore(member, model, opt)  # the copied state after an exploit, member.hparams' lr
        for step in member.steps():
            w = member.hparams["kick_weight"] if weight is None else weight(step) if callable(weight) else weight
            w = w if w >= FLOOR else 0.0
            model.train()
            for _ in range(UPDATES):
                opt.zero_grad()
                idx = LABELLED[torch.randint(len(LABELLED), (32,))]
                loss = torch.nn.functional.cross_entropy(model(X_POOL[idx]), Y_POOL[idx])  # task loss
                if w > 0:
                    pool = X_POOL[torch.randint(len(X_POOL), (128,))]  # (128, 64), labels unused
                    loss = loss + w * distillation_loss(model(pool), teacher(pool))
                loss.backward()
                opt.step()
            model.eval()
            member.report(accuracy(model, X_VAL, Y_VAL), checkpoint=lambda: pt.torch_checkpoint(model, opt),
                          test_accuracy=accuracy(model, X_TEST, Y_TEST), kick_weight=w)

    return train


def decay(steps: int):
    """The hand-written schedule: w falls linearly from 1 to 0 over the first half of the budget."""
    return lambda step: max(0.0, 1.0 - (step - 1) / (steps / 2))


def methods(steps: int) -> dict:
    """Method name -> w (None: explored by PBT)."""
    return {"PBT-scheduled w": None, "w = 0 (no teacher)": 0.0, "w = 0.1": 0.1, "w = 3": 3.0,
            "w decay 1 -> 0": decay(steps)}


def run_method(teacher: Teacher, weight, seed: int, population: int, steps: int, interval: int, folder: Path):
    space = SPACE if weight is None else {"lr": SPACE["lr"]}
    return pt.run(make_train(teacher, weight), space, population=population, steps=steps, interval=interval,
                  explore=EXPLORE, runner="inline", dir=folder, overwrite=True, seed=seed, progress=False)


def lineage_curve(result: pt.Result) -> list[dict]:
    """Step by step along the best member's lineage: validation/test accuracy and the weight used."""
    by_key = {(r.member, r.step): r for r in result.reports}
    curve = []
    for stretch in result.lineage():
        for own in range(stretch.own_start + 1, stretch.own_end + 1):
            r = by_key[(stretch.member, own)]
            curve.append({"step": stretch.start + own - stretch.own_start, "val": r.score,
                          "test": r.metrics["test_accuracy"], "w": r.metrics["kick_weight"]})
    return curve


ANYTIME = (1, 2, 5, 10, 20)  # steps at which learning speed is read off


def summarize(result: pt.Result, teacher_val: float) -> dict:
    """The best member's final test accuracy; ``anytime``: the test accuracy of the member with the
    best validation accuracy at each step of ``ANYTIME``; and the weight along the best lineage
    before and after it first beats the teacher's validation accuracy."""
    best = result.best
    final = next(r for r in result.reports if (r.member, r.step) == (best.id, best.step))
    anytime = {step: max((r for r in result.reports if r.step == step), key=lambda r: (r.score, -r.member))
               .metrics["test_accuracy"] for step in ANYTIME if step <= best.step}
    curve = lineage_curve(result)
    passed = next((c["step"] for c in curve if c["val"] > teacher_val), None)
    before = [c["w"] for c in curve if passed is None or c["step"] <= passed]
    after = [c["w"] for c in curve if passed is not None and c["step"] > passed]
    return {"test": final.metrics["test_accuracy"], "val": best.score, "anytime": anytime,
            "passes_teacher_at": passed, "w_before": statistics.fmean(before) if before else None,
            "w_after": statistics.fmean(after) if after else None, "w_last": curve[-1]["w"], "curve": curve}


def compare(seed: int, population: int, steps: int, interval: int, root: Path, teacher: Teacher) -> dict:
    teacher_val = accuracy(teacher.module, X_VAL, Y_VAL)
    return {name: summarize(run_method(teacher, weight, seed, population, steps, interval,
                                       root / f"{i}-seed{seed}"), teacher_val)
            for i, (name, weight) in enumerate(methods(steps).items())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="the CI version: " + str(SMALL))
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--dir", default="runs/example-kickstarting")
    args = parser.parse_args(argv)
    size = dict(SMALL if args.small else FULL)
    size["seeds"] = args.seeds or size["seeds"]
    teacher = make_teacher(Path(args.dir) / "teacher.pt")
    print(f"teacher: test accuracy {accuracy(teacher.module, X_TEST, Y_TEST):.1%} (validation "
          f"{accuracy(teacher.module, X_VAL, Y_VAL):.1%}); student: {len(LABELLED)} labels, {len(X_POOL)} pool images")
    runs = [compare(seed, size["population"], size["steps"], size["interval"], Path(args.dir), teacher)
            for seed in range(size["seeds"])]
    print(f"{size['population']} members x {size['steps']} steps, {size['seeds']} seeds; test accuracy (mean over "
          f"seeds) of the member with the best validation accuracy at steps {', '.join(map(str, runs[0]['PBT-scheduled w']['anytime']))} and at the end:")
    for name in runs[0]:
        anytime = {step: statistics.fmean(r[name]["anytime"][step] for r in runs) for step in runs[0][name]["anytime"]}
        print(f"  {name:20s} " + " ".join(f"{a:.1%}" for a in anytime.values()) +
              f"   final {statistics.fmean(r[name]['test'] for r in runs):.1%}")
    print("PBT's w along the best lineage (seed 0), every step:")
    print("  " + " ".join(f"{c['w']:.2g}" for c in runs[0]["PBT-scheduled w"]["curve"]))


if __name__ == "__main__":
    main()
