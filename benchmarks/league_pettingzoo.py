"""A self-play league on PettingZoo's Connect Four against one learner, at equal compute
(``examples/connect_four_league.py``).

    python -m benchmarks.league_pettingzoo [--seeds 3]

Runs the example's comparison for every seed: a league of 6 members x 30 steps (one REINFORCE
update of 32 games per step: 180 updates, 5,760 games) with and without PBT, and one self-play
learner given the same 180 updates of 32 games, with hyperparameters drawn at random or set to a
usual default. What each method ships plays 100 games (each side starting half) against three
fixed opponents that never train: random, greedy (win now, else block now) and a depth-2 minimax.
Writes ``results/league_pettingzoo.json`` and ``results/league_pettingzoo.md``. About 5 minutes
on 2 cores (inline runner).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks import common

example = common.example("connect_four_league")


def cell(values: list[float]) -> str:
    mean, std = common.mean_std(values)
    return f"{mean:.2f} ± {std:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.monotonic()
    runs, leagues = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            rates, result = example.compare(seed, Path(tmp))
            runs.append(rates)
            ratings = dict(sorted(result.ratings().items(), key=lambda kv: -kv[1]))
            leagues.append({"matches": len(result.matches), "exploits": len(result.exploits),
                            "ratings": {str(p): r for p, r in ratings.items()},
                            "nash": {str(p): w for p, w in result.nash().items() if w > 0},
                            "final hparams": {m.id: m.hparams for m in result.members}})
            print(f"seed {seed}: {time.monotonic() - started:.0f} s, {len(result.matches)} matches, "
                  f"{len(result.exploits)} exploits", flush=True)
    seconds = time.monotonic() - started

    table = []
    for method, deployed, bot in dict.fromkeys(k[:3] for k in runs[0]):
        row = {"method": method, "deployed policy": deployed, "vs": bot}
        for outcome in ("win", "draw", "loss"):
            row[f"{outcome}, mean ± std"] = cell([r[(method, deployed, bot, outcome)] for r in runs])
        row["wins per seed"] = ", ".join(f"{r[(method, deployed, bot, 'win')]:.2f}" for r in runs)
        table.append(row)
    top = ", ".join(f"seed {i}: " + ", ".join(f"{p} {r:.0f}" for p, r in list(league["ratings"].items())[:4])
                    for i, league in enumerate(leagues))
    notes = (f"`python -m benchmarks.league_pettingzoo --seeds {args.seeds}`, {seconds:.0f} s. Every method spends "
             f"{example.POPULATION * example.STEPS} REINFORCE updates of {example.GAMES} games "
             f"(`pettingzoo.classic.connect_four_v3`, AEC API): a league of {example.POPULATION} members x "
             f"{example.STEPS} steps (PFSP over live members and snapshots, {example.OPPONENTS} opponents per "
             f"stretch of {example.INTERVAL} steps, Elo as fitness, `Truncation(0.25)` or `exploit=None`, lr and "
             f"entropy bonus drawn from {example.SPACE}), or one self-play learner with all of them (it learns from "
             f"both seats' moves, so it sees about twice the moves per game that a league member does). Policy: "
             f"an MLP 84-{example.HIDDEN}-7 with masked softmax, Adam. Evaluation: {example.EVAL_GAMES} games per "
             f"fixed opponent, alternating who starts, policies sampling their moves; the Nash mixture draws a "
             f"player from `result.nash()` for every game. Top Elo ratings (live members and snapshots): {top}.")
    path = common.write("league_pettingzoo", {"seeds": args.seeds, "seconds": seconds,
                                              "runs": [{" / ".join(k): v for k, v in r.items()} for r in runs],
                                              "leagues": leagues},
                        table, "Connect Four (PettingZoo): a self-play league vs one learner at equal compute", notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
