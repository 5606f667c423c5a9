"""A toy league for tests: a member's policy is one number, its skill; a game is won by the
higher skill with a logistic chance. Run as a script: python -m tests.league.toy DIR [resume]."""

import math
import os
import sys
import time

import numpy as np

import poptune as pt

SPACE = {"lr": pt.Float(0.0, 0.2)}
GAMES = 3  # per step


def train(member):
    """One step: skill grows by lr, then GAMES games against the drawn opponents. Metrics name the
    first opponent of the step and the skill it played with, to check what the members load."""
    skill = member.checkpoint if member.checkpoint is not None else 0.0
    rng = np.random.default_rng(member.seed)
    sleep = float(os.environ.get("POPTUNE_TEST_SLEEP", "0"))
    for _ in member.steps():
        skill += member.hparams["lr"]
        first = None
        for _ in range(GAMES):
            opponent = member.opponent()
            theirs = skill if opponent.is_self else (opponent.checkpoint if opponent.checkpoint is not None else 0.0)
            won = rng.random() < 1 / (1 + math.exp(-3 * (skill - theirs)))
            member.report_match(opponent, 1 if won else 0)
            first = first or (opponent, theirs)
        opponent, theirs = first
        time.sleep(sleep)
        member.report(skill, checkpoint=skill, opp_member=opponent.player.member,
                      opp_step=-1 if opponent.player.step is None else opponent.player.step,
                      opp_self=int(opponent.is_self), opp_skill=theirs)


def league(**kwargs):
    return pt.League(pt.league.PFSP(), opponents=GAMES, **kwargs)


def roles_league():
    """AlphaStar's roles: 3 main agents, 2 main exploiters, 1 league exploiter."""
    roles = pt.league.Roles(pt.league.Main(3), pt.league.MainExploiter(2, min_games=3, timeout=12),
                            pt.league.LeagueExploiter(1, min_games=3, timeout=12, reset_probability=0.5))
    return pt.League(roles, opponents=GAMES, snapshots_every=8)


# slow main agents, fast exploiters: the main exploiters soon beat the main agents and reset
ROLES_INITIAL = [{"lr": 0.02}] * 3 + [{"lr": 0.15}] * 3


def run_roles(run_dir, resume=False, runner="inline", **kwargs):
    return run(run_dir, resume=resume, runner=runner, **{"league": roles_league(), "initial": ROLES_INITIAL,
                                                          **kwargs})


def run(run_dir, resume=False, runner="inline", **kwargs):
    settings = dict(population=6, steps=24, interval=4, runner=runner, dir=run_dir, seed=5, progress=False,
                    league=league())
    settings.update(kwargs)
    return pt.run(train, SPACE, resume=resume, **settings)


if __name__ == "__main__":
    (run_roles if os.environ.get("POPTUNE_TEST_ROLES") else run)(sys.argv[1], resume="resume" in sys.argv[2:])
