"""A staged pipeline on Kuhn poker (HCSP's three stages), each stage a poptune run seeded by the last.

    python examples/staged_kuhn.py            # 5 seeds, about a minute on 2 cores
    python examples/staged_kuhn.py --small    # 1 seed of a shorter pipeline (seconds; CI)
    python -m benchmarks.staged_kuhn          # the same comparison, written to benchmarks/results/

The hierarchical co-self-play recipe trains low-level skills first, then a high-level strategy by
self-play with the skills frozen, then everything jointly. On Kuhn poker (the policy and update of
``examples/kuhn_league.py``: 12 action probabilities held as logits, exact Hedge-style updates),
split a policy into its *responses* (call or fold when facing a bet: indices 3:9) and its
*strategy* (when to bet: 0:3 and 9:12):

1. **skills**: PBT trains the responses only, against a fixed pool of 16 random opponents
   (score: expected winnings against the pool), the betting probabilities left at their start;
2. **strategy**: a self-play league (PFSP, Elo fitness) seeded with stage 1's population
   (``pt.run(..., start_from=stage1)``), training the betting probabilities only, responses frozen;
3. **joint**: a league seeded with stage 2's population, every probability trained.

Each stage's ``train`` reads the previous stage's state at ``member.step == 0``. The stages share
the league's budget: 8 members x 20 steps x 10 updates each, 4,800 updates in all, the same as one
league run from scratch of 60 steps (``examples/kuhn_league.py``'s ``league + PBT``), which is the
reference, run on the same seeds; so is that league split in two runs (40 steps, then 20 seeded
with the first's population), which shows what a stage boundary itself costs. Every number is the exact exploitability of the deployed policy
(the league's Nash mixture of its players, its best member as an oracle).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

import poptune as pt
from poptune.league.games import kuhn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kuhn_league as base  # noqa: E402  (the policy, its update, matches and what a league deploys)

RESPONSES = np.zeros(12, dtype=bool)
RESPONSES[3:9] = True  # call or fold when facing a bet
STRATEGY = ~RESPONSES  # when to bet
EVERYTHING = np.ones(12, dtype=bool)
POOL = np.random.default_rng(2018).uniform(0.0, 1.0, (16, 12))  # stage 1's fixed opponents
STAGE_STEPS = base.STEPS // 3  # 20 steps per stage: three stages = one 60-step league
SMALL = dict(stage_steps=7, seeds=1)


def train_skills(member):
    """Stage 1: exact updates of the responses against the fixed pool; score = winnings against it."""
    rng = np.random.default_rng(member.seed)
    logits = np.asarray(member.checkpoint) if member.checkpoint is not None else rng.normal(0.0, 1.0, 12)
    for _ in member.steps():
        for _ in range(base.UPDATES):
            x = base.probabilities(logits)
            logits = np.where(RESPONSES, np.clip(logits + member.hparams["lr"] * base.gain(x, POOL), -30, 30), logits)
        x = base.probabilities(logits)
        member.report(float(kuhn.payoff(x[None], POOL).mean()), checkpoint=logits.tolist(),
                      **{f"p{i}": float(p) for i, p in enumerate(x)})


def train_league(member, trained):
    """Stages 2 and 3: ``base.train``'s league member, updating only the ``trained`` probabilities."""
    rng = np.random.default_rng(member.seed)
    logits = np.asarray(member.checkpoint)  # the previous stage's state at step 0, then this stage's own
    for _ in member.steps():
        drawn = member.opponents
        selves = sum(o.is_self for o in drawn)
        frozen = [base.probabilities(o.checkpoint) if o.checkpoint is not None else kuhn.uniform()
                  for o in drawn if not o.is_self]
        for _ in range(base.UPDATES):
            logits = np.where(trained, base.update(logits, member.hparams["lr"], frozen, selves), logits)
        x = base.probabilities(logits)
        for opponent, y in zip([o for o in drawn if not o.is_self], frozen):
            member.report_match(opponent, base.match(x, y, rng))
        member.report(kuhn.exploitability(x), checkpoint=logits.tolist(), **{f"p{i}": float(p) for i, p in enumerate(x)})


def league() -> pt.League:
    return pt.League(pt.league.PFSP(), opponents=base.OPPONENTS, max_snapshots=base.MAX_SNAPSHOTS)


def pipeline(seed: int, root: Path, steps: int = STAGE_STEPS) -> list[pt.Result]:
    """The three stages, each seeded with the previous one's population (member i from member i)."""
    common = dict(population=base.POPULATION, steps=steps, interval=base.INTERVAL, exploit=pt.Truncation(0.25),
                  runner="inline", overwrite=True, seed=seed, progress=False)
    skills = pt.run(train_skills, base.SPACE, dir=root / f"skills-{seed}", **common)
    strategy = pt.run(functools.partial(train_league, trained=STRATEGY), base.SPACE, direction="minimize",
                      league=league(), start_from=skills, dir=root / f"strategy-{seed}", **common)
    joint = pt.run(functools.partial(train_league, trained=EVERYTHING), base.SPACE, direction="minimize",
                   league=league(), start_from=strategy, dir=root / f"joint-{seed}", **common)
    return [skills, strategy, joint]


def deployed_stage(result: pt.Result, previous: pt.Result) -> dict[str, float]:
    """``base.deployed_league`` for a seeded league, whose players include the states it started
    from (snapshots at step 0: the previous stage's final policies)."""
    known = {(r.member, r.step): r for r in previous.reports}
    start = {pt.league.Player(m, 0): np.array([known[(o["member"], o["step"])].metrics[f"p{i}"] for i in range(12)])
             for m, o in result.origins().items()}
    return base.deployed_league(result, extra=start)


def compare(seed: int, root: Path, steps: int = STAGE_STEPS) -> dict[tuple[str, str], float]:
    """``{(method, deployed): exploitability}`` for the pipeline's stages and the one-stage league."""
    skills, strategy, joint = pipeline(seed, root, steps)
    out = {("staged: after skills", "best member"): min(
        kuhn.exploitability(base.probabilities(skills.checkpoint(m.id))) for m in skills.members)}
    for name, result, previous in (("staged: after strategy", strategy, skills), ("staged: after joint", joint, strategy)):
        deployed = deployed_stage(result, previous)
        out[(name, "nash mixture")] = deployed["nash mixture"]
        out[(name, "oracle: best member")] = deployed["oracle: best member"]
    # the same league split in two runs (40 + 20 steps; the second seeded with the first): what
    # restarting costs (fresh ratings, the first run's snapshots gone but its final states kept)
    first = base.run_league(seed, root / f"first-{seed}", steps=2 * steps)
    second = pt.run(functools.partial(train_league, trained=EVERYTHING), base.SPACE, population=base.POPULATION,
                    steps=steps, interval=base.INTERVAL, direction="minimize", exploit=pt.Truncation(0.25),
                    league=league(), start_from=first, runner="inline", dir=root / f"second-{seed}", overwrite=True,
                    seed=seed, progress=False)
    deployed = deployed_stage(second, first)
    out[("one league, split in two runs", "nash mixture")] = deployed["nash mixture"]
    out[("one league, split in two runs", "oracle: best member")] = deployed["oracle: best member"]
    scratch = base.run_league(seed, root / f"scratch-{seed}", steps=3 * steps)
    deployed = base.deployed_league(scratch)
    out[("one league from scratch", "nash mixture")] = deployed["nash mixture"]
    out[("one league from scratch", "oracle: best member")] = deployed["oracle: best member"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--small", action="store_true", help="a shorter pipeline, 1 seed (CI)")
    args = parser.parse_args()
    steps, seeds = (SMALL["stage_steps"], SMALL["seeds"]) if args.small else (STAGE_STEPS, args.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        runs = [compare(seed, Path(tmp), steps) for seed in range(seeds)]
    print(f"exploitability of the deployed policy, {3 * base.POPULATION * steps * base.UPDATES} updates per method, "
          f"{seeds} seeds (uniform policy: {kuhn.exploitability(kuhn.uniform()):.3f}):")
    for key in runs[0]:
        values = [r[key] for r in runs]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{key[0]:>29} | {key[1]:<20}: {statistics.fmean(values):.3f} +- {spread:.3f}")


if __name__ == "__main__":
    main()
