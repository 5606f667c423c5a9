"""A self-play league on Kuhn poker: what a league with PBT buys, at equal compute.

    python examples/kuhn_league.py              # 5 seeds, about a minute on 2 cores
    python examples/kuhn_league.py --small      # 2 seeds of a shorter run (seconds; CI)
    python -m benchmarks.league_kuhn            # the same comparison, written to benchmarks/results/

A policy is Kuhn poker's 12 action probabilities (``poptune.league.games.kuhn``), held as logits.
One *update* is an exact step on the logits: ``logits += lr * g`` with ``g[i]`` the gain in
expected winnings of taking action ``i``'s aggressive choice rather than the passive one (exact,
from ``kuhn.payoff``, against the opponents of the step), a Hedge-style update per information
set. ``lr`` is the hyperparameter, drawn log-uniformly from a wide range (0.01 to 100), where
some values learn well and others barely move or overshoot.

Matches are sampled, as a real game's would be: a match is ``HANDS`` pairs of duplicate hands
(the same cards twice, seats swapped, which removes most card luck); the member wins it if its
total winnings are positive (a draw at zero). The exact values train the policies; the noisy
match outcomes are all the league sees (ratings, PBT's fitness, PFSP's matchmaking, the Nash
mixture), as they would be in a game without an exact solver.

Five ways to spend the same number of updates (``POPULATION * STEPS * UPDATES``):

- ``league + PBT``: 8 members, PFSP opponents among live members and snapshots, Elo as fitness,
  ``Truncation(0.25)`` exploit with perturbed/resampled lr;
- ``league, no PBT``: the same league with ``exploit=None`` (each member keeps its lr);
- ``league of roles + PBT``: AlphaStar's roles (``pt.league.Roles``): 4 main agents, 2 main
  exploiters, 2 league exploiters; PBT exploits within a role, exploiters reset;
- ``self-play, random lr``: one learner against its current policy, lr drawn from the same range;
- ``self-play, lr = 1``: the same with the lr that a sweep over the range found best (the sweep's
  own compute is not counted: this is the learner someone who already knows the lr would run).

The deployed policy is what each method would ship. For a league: the Nash mixture of its
players (``result.nash()``, from the sampled match outcomes) realized as one policy with
``kuhn.average``, the top-rated live member, and two oracle readings (the Nash mixture of the
exact payoff matrix among the same players, and the least exploitable live member). For
self-play: the last iterate, and the average of its snapshots (taken as often as the league
takes its own). Every number is the exact exploitability (0 at an equilibrium; the uniform
policy's is 11/24 = 0.458).

What the numbers say (``benchmarks/README.md``, 5 seeds): the league's value is the mixture. Its
Nash mixture (about 0.06) is three times less exploitable than its best single member and than
self-play's last iterate (0.18 to 0.23), and its worst seed (0.09) is far from self-play's worst
learning rate (0.17 at lr 0.01). It does not beat one learner that averages its own snapshots:
0.017 with a tuned lr, 0.03 to 0.05 with a random one. PBT changes the Nash mixture little; with
exact payoffs the PBT league holds an equilibrium mixture (0.000), which the sampled win/loss
outcomes recover only in part.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np

import poptune as pt
from poptune.league import Player
from poptune.league.games import kuhn

POPULATION, STEPS, INTERVAL, UPDATES = 8, 60, 5, 10  # a league run: 8 * 60 * 10 = 4,800 updates
OPPONENTS, HANDS, MAX_SNAPSHOTS = 4, 20, 32  # opponents per stretch, duplicate hand pairs per match
LR_RANGE = (0.01, 100.0)
GOOD_LR = 1.0  # the best fixed lr of a sweep over LR_RANGE (benchmarks/league_kuhn.py reruns the sweep)
SPACE = {"lr": pt.Float(*LR_RANGE, log=True)}
EYE = np.eye(12, dtype=bool)
SMALL = dict(steps=20, seeds=2)


def probabilities(logits) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=float)))


def gain(x, opponents) -> np.ndarray:
    """``g[i]``: what taking action ``i``'s aggressive choice gains over the passive one, in
    expected winnings per hand against the ``opponents`` (rows of 12), averaged over them. Exact:
    a policy's winnings are linear in each of its 12 probabilities."""
    ones, zeros = np.where(EYE, 1.0, x), np.where(EYE, 0.0, x)  # (12, 12): probability i set to 1, to 0
    ys = np.asarray(opponents)[None]  # (1, G, 12)
    return (kuhn.payoff(ones[:, None], ys) - kuhn.payoff(zeros[:, None], ys)).mean(1)  # (12,)


def update(logits, lr: float, opponents, selves: int = 0) -> np.ndarray:
    """One update against the fixed ``opponents`` and, ``selves`` times, the current policy itself."""
    x = probabilities(logits)
    ys = [x] * selves + list(opponents)
    return np.clip(logits + lr * gain(x, ys), -30.0, 30.0)


def match(x, y, rng: np.random.Generator) -> float:
    """One sampled match of ``HANDS`` duplicate pairs: 1 if ``x`` wins money overall, 0 if it loses."""
    total = 0
    for _ in range(HANDS):
        seed = rng.integers(2**32)  # the same deal and chance draws in both seats
        total += kuhn.play(x, y, np.random.default_rng(seed)) - kuhn.play(y, x, np.random.default_rng(seed))
    return 1.0 if total > 0 else 0.0 if total < 0 else 0.5


def train(member):
    """A league member: every step, UPDATES exact updates against the stretch's opponents, then a
    sampled match against each of them. The score it reports is the exact exploitability, for the
    record only: in a league the fitness is the Elo rating of the matches, which PBT ranks by."""
    rng = np.random.default_rng(member.seed)
    logits = np.asarray(member.checkpoint) if member.checkpoint is not None else rng.normal(0.0, 1.0, 12)
    for _ in member.steps():
        drawn = member.opponents
        selves = sum(o.is_self for o in drawn)
        # an opponent that saved no state yet still plays its initial policy; uniform stands in
        frozen = [probabilities(o.checkpoint) if o.checkpoint is not None else kuhn.uniform()
                  for o in drawn if not o.is_self]
        for _ in range(UPDATES):
            logits = update(logits, member.hparams["lr"], frozen, selves)
        x = probabilities(logits)
        for opponent, y in zip([o for o in drawn if not o.is_self], frozen):
            member.report_match(opponent, match(x, y, rng))
        member.report(kuhn.exploitability(x), checkpoint=logits.tolist(),
                      **{f"p{i}": float(p) for i, p in enumerate(x)})


def roles() -> pt.league.Roles:
    """AlphaStar's roles for the 8 members: 4 main agents, 2 main exploiters (play the main agents,
    reset once they win 70% against each), 2 league exploiters (PFSP over the past, reset 1 time in
    4 once they beat it); an exploiter that beats nobody fires after 4 stretches anyway."""
    return pt.league.Roles(pt.league.Main(4), pt.league.MainExploiter(2, min_games=10, timeout=4 * INTERVAL),
                           pt.league.LeagueExploiter(2, min_games=10, timeout=4 * INTERVAL))


def run_league(seed: int, dir, exploit=True, steps: int = STEPS, with_roles: bool = False) -> pt.Result:
    matchmaking = roles() if with_roles else pt.league.PFSP()
    league = pt.League(matchmaking, opponents=OPPONENTS, max_snapshots=MAX_SNAPSHOTS)
    return pt.run(train, SPACE, population=POPULATION, steps=steps, interval=INTERVAL, direction="minimize",
                  exploit=pt.Truncation(0.25) if exploit else None,
                  league=league, runner="inline", dir=dir, overwrite=True, seed=seed, progress=False)


def policies(result: pt.Result) -> dict[Player, np.ndarray]:
    """Every league player's policy: a snapshot ``Player(m, s)`` is the state member ``m`` saved at
    step ``s`` (the policy it reported there), a live ``Player(m)`` its final state."""
    at = {(r.member, r.step): np.array([r.metrics[f"p{i}"] for i in range(12)]) for r in result.reports}
    return {Player(m.id): at[(m.id, m.step)] for m in result.members} | {
        Player(m, s): x for (m, s), x in at.items() if s % INTERVAL == 0}


def deployed_league(result: pt.Result, extra: dict | None = None) -> dict[str, float]:
    """Exploitability of what a league ships: its Nash mixture (from the match outcomes it logged),
    its top-rated member; and, as oracles, the exact meta-game's Nash mixture and the best member.
    ``extra``: policies of players the run's reports do not show (a seeded run's starting states)."""
    known = policies(result) | (extra or {})
    mixture = result.nash()
    players = list(mixture)
    nash_policy = kuhn.average(np.array([known[p] for p in players]), np.array([mixture[p] for p in players]))
    xs = np.array([known[p] for p in players])
    exact = pt.league.nash(kuhn.payoff(xs[:, None], xs[None]))  # antisymmetric: exact expected payoffs
    ratings = result.ratings()
    top = max((Player(m.id) for m in result.members), key=lambda p: ratings.get(p, -np.inf))
    return {
        "nash mixture": kuhn.exploitability(nash_policy),
        "top-rated member": kuhn.exploitability(known[top]),
        "oracle: exact-payoff Nash": kuhn.exploitability(kuhn.average(xs, exact)),
        "oracle: best member": min(kuhn.exploitability(known[Player(m.id)]) for m in result.members),
    }


def self_play(lr: float, seed: int, steps: int = STEPS) -> dict[str, float]:
    """One learner, all the league's updates, against its own current policy; a snapshot as often
    as the league takes snapshots (every INTERVAL * UPDATES updates of each of its members)."""
    logits = np.random.default_rng(seed).normal(0.0, 1.0, 12)
    snapshots = []
    for i in range(POPULATION * steps * UPDATES):
        logits = update(logits, lr, [], selves=1)
        if (i + 1) % (INTERVAL * UPDATES) == 0:
            snapshots.append(probabilities(logits))
    average = kuhn.average(np.array(snapshots), np.full(len(snapshots), 1.0 / len(snapshots)))
    return {"last iterate": kuhn.exploitability(probabilities(logits)), "snapshot average": kuhn.exploitability(average)}


def random_lr(seed: int) -> float:
    """The lr a user without tuning would pick: log-uniform over LR_RANGE, one per seed."""
    low, high = np.log(LR_RANGE)
    return float(np.exp(np.random.default_rng([seed, 17]).uniform(low, high)))


def compare(seed: int, root: Path, steps: int = STEPS) -> dict[tuple[str, str], float]:
    """Every method's deployed policies for one seed: ``{(method, deployed): exploitability}``."""
    out = {}
    for method, exploit, with_roles in (("league + PBT", True, False), ("league, no PBT", False, False),
                                        ("league of roles + PBT", True, True)):
        name = method.replace(" ", "").replace(",", "-").replace("+", "")
        result = run_league(seed, root / f"{name}-{seed}", exploit, steps, with_roles)
        out |= {(method, k): v for k, v in deployed_league(result).items()}
    for method, lr in (("self-play, random lr", random_lr(seed)), (f"self-play, lr = {GOOD_LR:g}", GOOD_LR)):
        out |= {(method, k): v for k, v in self_play(lr, seed, steps).items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--small", action="store_true", help=f"{SMALL['steps']} steps, {SMALL['seeds']} seeds (CI)")
    args = parser.parse_args()
    steps, seeds = (SMALL["steps"], min(args.seeds, SMALL["seeds"])) if args.small else (STEPS, args.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        runs = [compare(seed, Path(tmp), steps) for seed in range(seeds)]
    print(f"exploitability of the deployed policy, {POPULATION * steps * UPDATES} updates per method, {seeds} seeds "
          f"(uniform policy: {kuhn.exploitability(kuhn.uniform()):.3f}):")
    for key in runs[0]:
        values = [r[key] for r in runs]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{key[0]:>22} | {key[1]:<26}: {statistics.fmean(values):.3f} +- {spread:.3f}")


if __name__ == "__main__":
    main()
