"""Leagues in runs: opponents drawn by the controller, matches in the log, ratings as fitness,
snapshots kept by retention, every runner, and kill -9 + resume with the same ratings."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import poptune as pt
from poptune.core import events as ev
from poptune.league import Player
from tests import conformance
from tests.league import toy

ROOT = Path(__file__).resolve().parents[2]


def test_members_play_drawn_opponents_and_rank_by_rating(tmp_path):
    result = toy.run(tmp_path)
    assert result.status == "finished"
    events = conformance.read(tmp_path)
    # every step's games are in the log, reported by the member that played them
    per_step = Counter((m.teams[0][0].member, m.step) for m in result.matches)
    assert set(per_step.values()) <= {toy.GAMES, toy.GAMES - 1, toy.GAMES - 2, toy.GAMES - 3} and per_step
    assert sum(per_step.values()) == len(result.matches)
    # a draw per stretch of training, recorded before the member trains it
    draws = [e for e in events if isinstance(e, ev.OpponentsDrawn)]
    assert len(draws) >= 6 * (24 // 4) and all(len(d.opponents) == toy.GAMES for d in draws)
    # the fitness of each report is the member's Elo after that step's games: exploits copy the higher-rated
    exploits = [e for e in events if isinstance(e, ev.Exploited)]
    assert exploits
    ratings = result.ratings()
    assert all(isinstance(p, Player) for p in ratings)
    live = [ratings[Player(m)] for m in range(6)]
    early = [r for p, r in ratings.items() if p.step == 4]
    assert early and sum(live) / len(live) > sum(early) / len(early)  # the league got stronger than its past
    # higher skill wins more: over all players, rating and skill go together
    skill = {(r.member, r.step): r.score for r in result.reports}
    pairs = [(r, skill[(p.member, p.step if p.is_snapshot else 24)]) for p, r in ratings.items()]
    assert np.corrcoef(np.array(pairs).T)[0, 1] > 0.5


def test_opponents_are_the_states_the_league_says(tmp_path):
    # snapshots every 8 steps, ready every 4: a member met at a state saved at step 4, 12 or 20 is met live
    result = toy.run(tmp_path, league=pt.League(pt.league.SelfPlay(snapshot_share=0.5), snapshots_every=8,
                                                opponents=toy.GAMES))
    score = {(r.member, r.step): r.score for r in result.reports}
    snapshots = live = selfplay = 0
    for r in result.reports:
        opp_member, opp_step = r.metrics["opp_member"], r.metrics["opp_step"]
        if r.metrics["opp_self"]:
            selfplay += 1
            assert opp_member == r.member
        elif opp_step >= 0:  # a snapshot: the state that member saved at that step
            snapshots += 1
            assert opp_step % 8 == 0
            assert r.metrics["opp_skill"] == pytest.approx(score[(opp_member, opp_step)])
        else:  # a live member: a state it saved before this stretch began
            live += 1
            # its own saved state, or after an exploit its source's, saved at a ready step
            saved = [v for (m, s), v in score.items() if s % 8 == 4]  # (a state saved at a snapshot step is one)
            assert any(r.metrics["opp_skill"] == pytest.approx(v) for v in saved) or r.metrics["opp_skill"] == 0.0
    assert snapshots and live and selfplay


def test_snapshots_are_kept_while_among_the_latest_and_deleted_after(tmp_path):
    result = toy.run(tmp_path, league=pt.League(pt.league.Uniform(), max_snapshots=5, opponents=1))
    files = {p.name for p in (tmp_path / "checkpoints").rglob("*") if p.is_file()}
    events = conformance.read(tmp_path)
    refs = {(e.member, e.step): e.ref for e in events if isinstance(e, ev.Checkpointed)}
    # the 5 latest snapshots (by log order of their checkpoints) are on disk
    snapshot_steps = [(e.member, e.step) for e in events if isinstance(e, ev.Checkpointed) and e.step % 4 == 0]
    for key in snapshot_steps[-5:]:
        assert Path(refs[key]).name in files or any(Path(refs[key]).name in f for f in files)
    # and older ones that no member holds are deleted
    deleted = {e.ref for e in events if isinstance(e, ev.CheckpointDeleted)}
    assert deleted
    assert result.status == "finished"


@pytest.mark.parametrize("runner", ["processes", pytest.param("ray", marks=pytest.mark.ray)])
def test_leagues_run_on_every_runner(tmp_path, runner):
    if runner == "ray":
        pytest.importorskip("ray")
        runner = pt.runners.Ray(max_concurrent=2)
    else:
        runner = pt.runners.Processes(workers=2)
    result = toy.run(tmp_path, runner=runner)
    assert result.status == "finished"
    assert len(result.matches) == 6 * 24 * toy.GAMES - sum(r.metrics["opp_self"] for r in result.reports) * 0 - \
        _self_games(result)
    assert Player(0) in result.ratings()


def _self_games(result):
    # games against oneself are not recorded (they rate nothing): count them from the draws
    return len(result.reports) * toy.GAMES - len(result.matches)


def test_a_retried_step_counts_its_games_once(tmp_path, monkeypatch):
    calls = {"n": 0}
    original = toy.train

    def flaky(member):
        if member.id == 2 and member.step >= 8 and calls["n"] == 0:
            calls["n"] += 1
            for step in member.steps():
                if step == 10:
                    raise RuntimeError("lost the GPU")
                member.report(member.step, checkpoint=0.0)
        original(member)

    flaky_space = toy.SPACE
    result = pt.run(flaky, flaky_space, population=6, steps=16, interval=4, runner="inline", dir=tmp_path, seed=1,
                    progress=False, league=toy.league())
    assert calls["n"] == 1 and result.status == "finished"
    per_step = Counter((m.teams[0][0].member, m.step) for m in result.matches)
    assert max(per_step.values()) <= toy.GAMES


def _kill_and_resume(run_dir, kill_after):
    conformance.kill_and_resume("tests.league.toy", run_dir, kill_after, env={"POPTUNE_TEST_SLEEP": "0.003"})


def test_a_killed_and_resumed_league_has_the_ratings_of_the_uninterrupted_one(tmp_path):
    whole = toy.run(tmp_path / "whole")
    reference = (whole.matches, whole.ratings(), conformance.decisions(tmp_path / "whole"))
    assert len(whole.matches) > 200 and len(reference[2]) > 5
    for i, kill_after in enumerate((17, 75)):
        _kill_and_resume(tmp_path / f"killed-{i}", kill_after)
        resumed = pt.Result.load(tmp_path / f"killed-{i}")
        assert resumed.matches == reference[0], f"killed after {kill_after} reports"
        assert resumed.ratings() == reference[1]
        assert conformance.decisions(tmp_path / f"killed-{i}") == reference[2]


def test_results_read_payoffs_ratings_and_the_nash_mixture(tmp_path):
    result = toy.run(tmp_path, population=4, steps=12)
    players, matrix, counts = result.payoff()
    assert len(players) == matrix.shape[0] == counts.shape[0]
    assert counts.sum() == 2 * len(result.matches)  # every game counted from both sides
    mixture = result.nash()
    assert sum(mixture.values()) == pytest.approx(1.0) and all(w >= -1e-12 for w in mixture.values())
    history = result.ratings(over_time=True)
    assert all(points == sorted(points) for points in history.values())
    assert {p: points[-1][1] for p, points in history.items()} == pytest.approx(result.ratings())


def test_league_misuse_is_a_clear_error(tmp_path):
    with pytest.raises(pt.ConfigError, match="snapshots_every=6 must be a multiple of interval=4"):
        toy.run(tmp_path, league=pt.League(snapshots_every=6))
    with pytest.raises(pt.ConfigError, match="matchmaking=PFSP is a class"):
        pt.League(pt.league.PFSP)
    with pytest.raises(pt.ConfigError, match="league must be pt.League"):
        toy.run(tmp_path, league="pfsp")

    def no_league(member):
        for _ in member.steps():
            member.opponent()

    with pytest.raises(pt.UsageError, match="needs a league"):
        pt.run(no_league, toy.SPACE, population=2, steps=2, interval=1, runner="inline", dir=tmp_path / "x",
               progress=False)

    def bad_outcome(member):
        for _ in member.steps():
            member.report_match(member.opponent(), 0.7)
            member.report(0.0, checkpoint=0.0)

    with pytest.raises(pt.UsageError, match="outcome must be 1"):
        pt.run(bad_outcome, toy.SPACE, population=2, steps=2, interval=1, runner="inline", dir=tmp_path / "y",
               progress=False, league=pt.League(pt.league.Uniform(), snapshots_every=0))
    with pytest.raises(pt.UsageError, match="no league"):
        _ = pt.Result.load(tmp_path / "x").matches


def _team_train(member):
    skill = member.checkpoint if member.checkpoint is not None else 0.0
    rng = np.random.default_rng(member.seed)
    for _ in member.steps():
        skill += member.hparams["lr"]
        mate, *rivals = member.opponents
        players = [Player(member.id), mate.player, *(r.player for r in rivals)]
        if len(set(players)) == 4:  # four different players: a 2 v 2 game, reported with the drawn handles
            value = {o.player: (skill if o.is_self else o.checkpoint or 0.0) for o in member.opponents}
            ours, theirs = skill + value[mate.player], sum(value[r.player] for r in rivals)
            won = rng.random() < 1 / (1 + math.exp(-3 * (ours - theirs)))
            member.report_match(None, teams=[[member.id, mate], rivals], scores=[int(won), int(not won)])
        member.report(skill, checkpoint=skill)


def test_team_games_rate_every_player_of_both_teams(tmp_path):
    result = pt.run(_team_train, toy.SPACE, population=6, steps=16, interval=4, runner="inline", dir=tmp_path, seed=2,
                    progress=False, league=pt.League(pt.league.Uniform(), pt.league.OpenSkill(), opponents=3))
    matches = result.matches
    assert len(matches) > 20 and all(len(m.teams) == 2 and all(len(t) == 2 for t in m.teams) for m in matches)
    ratings = result.ratings()
    rated = {p for m in matches for p in m.players}
    assert rated <= set(ratings)
    # a player's rating moved away from the initial mu - 3 sigma = 0 once it played
    assert all(abs(ratings[p]) > 1e-6 for p in rated)
    # the events keep the teams as played
    first = next(e for e in conformance.read(tmp_path) if isinstance(e, ev.MatchPlayed))
    assert len(first.teams) == 2 and len(first.teams[0]) == 2


def test_a_vectorized_population_plays_a_league(tmp_path):
    torch = pytest.importorskip("torch")
    pop = pt.vectorized.Population(lambda: torch.nn.Linear(1, 1, bias=False), 6, optimizer=pt.vectorized.SGD(lr="lr"),
                                   seed=0)
    rng = np.random.default_rng(0)
    with pt.vectorized.Session(pop, {"lr": pt.Float(0.001, 0.3, log=True)}, steps=12, interval=3, dir=tmp_path,
                               seed=0, progress=False, league=pt.League(snapshots_every=0)) as session:
        for _ in session.steps():
            w = pop(torch.ones(1, 1)).reshape(-1)  # (P,): each member's weight is its "skill" after training
            pop.step(-w)  # every member climbs at its own lr
            skill = pop(torch.ones(1, 1)).reshape(-1).detach().numpy()
            for a in range(6):  # a round robin
                for b in range(a + 1, 6):
                    won = rng.random() < 1 / (1 + math.exp(-20 * (skill[a] - skill[b])))
                    session.report_match([a, b], 1 if won else 0)
            session.report(torch.as_tensor(skill))
        with pytest.raises(pt.UsageError, match="not a member of this population"):
            session.report_match([0, 9], 1)
    result = session.result()
    assert len(result.matches) == 12 * 15
    ratings = result.ratings()
    # the fitness is the rating: the exploits copied higher-rated members, and the ratings follow the skills
    events = conformance.read(tmp_path)
    assert any(isinstance(e, ev.Exploited) for e in events)
    assert not any(isinstance(e, ev.OpponentsDrawn) for e in events)
    final = {m.id: m.score for m in result.members}
    order = sorted(range(6), key=lambda m: final[m])
    assert ratings[Player(order[-1])] > ratings[Player(order[0])]


def test_a_snapshot_state_loads_from_the_result(tmp_path):
    result = toy.run(tmp_path, league=pt.League(pt.league.Uniform(), max_snapshots=4))
    score = {(r.member, r.step): r.score for r in result.reports}
    snapshot = Player(5, 24)  # among the latest: kept
    assert result.checkpoint(snapshot) == pytest.approx(score[(5, 24)])
    assert result.checkpoint(Player(5)) == pytest.approx(score[(5, 24)])
    with pytest.raises(pt.PoptuneError, match="was deleted"):
        result.checkpoint(Player(0, 4))  # long gone: only the 4 latest snapshots are kept
    with pytest.raises(pt.PoptuneError, match="is not a snapshot"):
        result.checkpoint(Player(0, 3))
