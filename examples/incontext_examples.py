"""PBT over databases of in-context examples: members whose state is a list of pairs, no weights.

    python examples/incontext_examples.py            # 16 members x 48 steps, 5 seeds (~15 s)
    python examples/incontext_examples.py --small    # the CI version (seconds)

The "agent" is a deterministic toy standing in for an LLM prompted with examples: it answers a
query (a point in the unit square) by a vote of the ``k`` nearest of the ``(input, output)`` pairs
in its prompt database. The pool it draws examples from is self-generated and noisy: a third of
the pool's answers are wrong (the other classes, uniformly). The task has 3 classes in diagonal
stripes of a 3 x 3 grid, so a database of 16 examples has to cover 9 cells with correct answers.

A member's state is its database, a plain list of ``((x, y), label)`` pairs, with the validation
score and ``k`` it was scored with. A step evaluates one database on the validation batch: the
member swaps ``swaps`` examples of its current database for random pool examples, choosing which
to drop by a softmax over their blame (how often an example is among the ``k`` neighbours of a
wrong answer) at ``temperature``, and keeps the proposal if it scores no worse. PBT tunes
``swaps``, ``temperature`` and ``k``; exploit copies the source's database (poptune copies any
plain-data checkpoint), explore perturbs the hyperparameters, and the member's own mutation goes
on from the copied database. A copied database scored with another ``k`` is re-scored first
(that is the segment's first evaluation).

Compared at equal evaluations (population x steps), every method choosing its database on the
validation batch and scored on a held-out test set:

- PBT (``pt.run`` with ``Truncation(0.25)`` and ``PerturbOrResample``);
- independent climbers: the same run without exploit (random search over the hyperparameters);
- random subsets: every member draws a fresh random database every step, the best kept;
- one greedy hill-climber, no population, with all the evaluations in one chain.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

import poptune as pt

CLASSES, GRID = 3, 3
POOL, VALIDATION, TEST = 400, 300, 2000
POOL_ERRORS = 1 / 3  # share of the pool's answers that are wrong
SIZE = 16  # examples in a prompt database
SPACE = {
    "swaps": pt.Int(1, 6),  # examples replaced per proposal
    "temperature": pt.Float(0.05, 5.0, log=True),  # low: drop the most-blamed example; high: any
    "k": pt.Int(1, 7),  # neighbours the agent reads
}
CLIMBER = {"swaps": 1, "temperature": 0.5, "k": 1}  # chosen by hand: small moves, k = 1 for a clean database
FULL = {"population": 16, "steps": 48, "interval": 4, "seeds": 5}
SMALL = {"population": 6, "steps": 12, "interval": 3, "seeds": 2}


def task(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the unit square and their true class: diagonal stripes of a 3 x 3 grid."""
    x = rng.uniform(0.0, 1.0, size=(n, 2))  # (n, 2)
    cells = np.floor(x * GRID).astype(int)  # (n, 2)
    return x, (cells[:, 0] + cells[:, 1]) % CLASSES  # (n,)


def make_data(seed: int = 0) -> dict:
    """The noisy pool of examples, a clean validation batch and a clean held-out test set."""
    rng = np.random.default_rng(seed)
    pool_x, pool_y = task(POOL, rng)
    wrong = rng.random(POOL) < POOL_ERRORS
    pool_y = np.where(wrong, (pool_y + rng.integers(1, CLASSES, size=POOL)) % CLASSES, pool_y)
    pool = [((float(a), float(b)), int(label)) for (a, b), label in zip(pool_x, pool_y)]
    return {"pool": pool, "validation": task(VALIDATION, rng), "test": task(TEST, rng)}


DATA = make_data()


def arrays(database: list) -> tuple[np.ndarray, np.ndarray]:
    return np.array([x for x, _ in database], dtype=float), np.array([y for _, y in database])


def answer(database: list, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The agent: a vote of the ``k`` nearest examples (ties go to the nearer). Returns the
    answers and the indices of the examples read for each query."""
    xs, ys = arrays(database)
    distance = ((queries[:, None, :] - xs[None, :, :]) ** 2).sum(-1)  # (Q, D)
    read = np.argsort(distance, axis=1)[:, :k]  # (Q, k), nearest first
    weights = 1.0 + 1e-3 * np.arange(k, 0, -1)  # ties broken by nearness
    votes = np.zeros((len(queries), CLASSES))
    np.add.at(votes, (np.arange(len(queries))[:, None], ys[read]), weights[None, :])
    return votes.argmax(1), read


def accuracy(database: list, k: int, split: str = "validation") -> float:
    x, y = DATA[split]
    return float((answer(database, x, k)[0] == y).mean())


def random_database(rng: np.random.Generator) -> list:
    return [DATA["pool"][i] for i in rng.choice(POOL, size=SIZE, replace=False)]


def propose(database: list, hparams: dict, rng: np.random.Generator) -> list:
    """Swap ``swaps`` examples for unused pool examples; which to drop: softmax of blame / temperature."""
    x, y = DATA["validation"]
    answers, read = answer(database, x, hparams["k"])
    wrong = (answers != y)[:, None].repeat(read.shape[1], 1)  # (Q, k)
    blame = np.bincount(read[wrong], minlength=len(database)) - np.bincount(read[~wrong], minlength=len(database))
    z = (blame - blame.mean()) / (blame.std() + 1e-9) / hparams["temperature"]
    p = np.exp(z - z.max())
    dropped = rng.choice(len(database), size=min(hparams["swaps"], len(database)), replace=False, p=p / p.sum())
    used = set(database)
    unused = [i for i, pair in enumerate(DATA["pool"]) if pair not in used]
    fresh = rng.choice(len(unused), size=len(dropped), replace=False)
    new = list(database)
    for slot, j in zip(dropped, fresh):
        new[slot] = DATA["pool"][unused[j]]
    return new


def train(member):
    """One member: a hill-climber over its database; PBT copies databases and tunes the climb."""
    rng = np.random.default_rng(member.seed)
    k = member.hparams["k"]
    state = member.checkpoint
    for _ in member.steps():
        if state is None:  # a fresh start: score a random database
            database = random_database(rng)
            state = {"database": database, "score": accuracy(database, k), "k": k}
        elif state["k"] != k:  # copied (or explored) under another k: re-score it with ours
            state = {**state, "score": accuracy(state["database"], k), "k": k}
        else:
            candidate = propose(state["database"], member.hparams, rng)
            score = accuracy(candidate, k)
            if score >= state["score"]:
                state = {**state, "database": candidate, "score": score}
        member.report(state["score"], checkpoint=state, k=k, generation=member.generation)


def run_pbt(seed: int, population: int, steps: int, interval: int, folder: Path, exploit=True) -> pt.Result:
    return pt.run(train, SPACE, population=population, steps=steps, interval=interval, direction="maximize",
                  exploit=pt.Truncation(0.25) if exploit else None, explore=pt.PerturbOrResample(),
                  runner="inline", dir=folder, overwrite=True, seed=seed, progress=False)


def best_of(result: pt.Result) -> dict:
    """The final database with the best validation score, and its held-out test accuracy."""
    states = [result.checkpoint(m.id) for m in result.members]
    state = max(states, key=lambda s: s["score"])
    return {"validation": state["score"], "test": accuracy(state["database"], state["k"], "test"), "k": state["k"]}


def random_subsets(seed: int, evaluations: int) -> dict:
    """Random search over databases: a fresh random database (and k) per evaluation, the best kept."""
    rng = np.random.default_rng([seed, 1])
    best = None
    for _ in range(evaluations):
        database, k = random_database(rng), int(rng.integers(SPACE["k"].low, SPACE["k"].high + 1))
        score = accuracy(database, k)
        if best is None or score > best[0]:
            best = (score, database, k)
    return {"validation": best[0], "test": accuracy(best[1], best[2], "test"), "k": best[2]}


def hill_climber(seed: int, evaluations: int, hparams: dict | None = None) -> dict:
    """One greedy climber, no population: all the evaluations in one chain, fixed settings
    (``None``: settings drawn from the space, as an untuned user would start)."""
    rng = np.random.default_rng([seed, 2])
    if hparams is None:
        hparams = {name: domain.sample(rng) for name, domain in SPACE.items()}
    database = random_database(rng)
    score = accuracy(database, hparams["k"])
    for _ in range(evaluations - 1):
        candidate = propose(database, hparams, rng)
        candidate_score = accuracy(candidate, hparams["k"])
        if candidate_score >= score:
            database, score = candidate, candidate_score
    return {"validation": score, "test": accuracy(database, hparams["k"], "test"), "k": hparams["k"]}


METHODS = ("PBT", "independent climbers", "random subsets", "hill-climber, hand-picked", "hill-climber, random settings")


def compare(seed: int, population: int, steps: int, interval: int, root: Path) -> dict:
    """Every method at ``population * steps`` validation evaluations; returns {method: best_of}."""
    evaluations = population * steps
    return {
        "PBT": best_of(run_pbt(seed, population, steps, interval, root / f"pbt-seed{seed}")),
        "independent climbers": best_of(run_pbt(seed, population, steps, interval, root / f"climbers-seed{seed}",
                                                exploit=False)),
        "random subsets": random_subsets(seed, evaluations),
        "hill-climber, hand-picked": hill_climber(seed, evaluations, CLIMBER),
        "hill-climber, random settings": hill_climber(seed, evaluations),
        "one random database": {"validation": float("nan"), "k": 3,
                                "test": accuracy(random_database(np.random.default_rng([seed, 3])), 3, "test")},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="the CI version: " + str(SMALL))
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--dir", default="runs/example-incontext")
    args = parser.parse_args(argv)
    size = dict(SMALL if args.small else FULL)
    if args.seeds:
        size["seeds"] = args.seeds
    print(f"{size['population']} members x {size['steps']} steps, ready every {size['interval']}, {size['seeds']} "
          f"seeds: {size['population'] * size['steps']} validation evaluations per method; databases of {SIZE} "
          f"from a pool of {POOL} ({POOL_ERRORS:.0%} wrong answers)")
    runs = [compare(seed, size["population"], size["steps"], size["interval"], Path(args.dir))
            for seed in range(size["seeds"])]
    for method in (*METHODS, "one random database"):
        test = [r[method]["test"] for r in runs]
        spread = statistics.stdev(test) if len(test) > 1 else 0.0
        val = [r[method]["validation"] for r in runs]
        print(f"  {method:30s} test accuracy {statistics.mean(test):.3f} ± {spread:.3f}   "
              f"validation {statistics.mean(val):.3f}")
    last = pt.Result.load(Path(args.dir) / f"pbt-seed{size['seeds'] - 1}")
    schedule = ", ".join(f"{step}: swaps={h['swaps']} T={h['temperature']:.2f} k={h['k']}"
                         for step, h in last.schedule())
    print(f"\nThe best lineage's schedule (last seed), from step: {schedule}")


if __name__ == "__main__":
    main()
