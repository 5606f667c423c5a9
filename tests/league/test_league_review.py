"""Review of the league wiring (3be70d8): each test fails on a bug found in review."""

from __future__ import annotations

import pytest

import poptune as pt
from poptune.core import events as ev
from poptune.core.state import PopulationState
from poptune.league import Player
from poptune.league.state import LeagueState
from poptune.strategies.fitness import Rated
from tests.league import toy


class _Live(pt.Callback):
    """Keeps the live run's league ratings at the end of the session."""

    def __init__(self):
        self.ratings = None

    def on_end(self, status, population):
        self.ratings = population.league.conservative()


def _uniform(**kwargs):
    return pt.League(pt.league.Uniform(), snapshots_every=0, **kwargs)


# -- Result rebuilds the ratings the run used --------------------------------------------------


def test_result_ratings_are_the_live_ratings_with_openskill_options(tmp_path):
    pytest.importorskip("openskill")
    live = _Live()
    rating = pt.league.OpenSkill(mu=100.0, sigma=100.0 / 3, k=3)
    result = toy.run(tmp_path, population=4, steps=8, league=pt.League(pt.league.PFSP(), rating, opponents=2),
                     callbacks=[live])
    assert live.ratings
    # Result rebuilds OpenSkill from the run config: the model's options must come along
    assert result.ratings() == pytest.approx(live.ratings)


def test_result_ratings_follow_a_league_changed_on_resume(tmp_path):
    toy.run(tmp_path, population=4, steps=8, league=pt.League(pt.league.PFSP(), pt.league.Elo(k=32), opponents=2))
    live = _Live()
    try:
        result = toy.run(tmp_path, population=4, steps=16, resume=True, callbacks=[live],
                         league=pt.League(pt.league.PFSP(), pt.league.Elo(k=4), opponents=2))
    except (pt.ConfigError, pt.RunDirError):
        return  # refusing the change is a fix too
    # the live run refolded every match with k=4 and ranked members by it; Result must agree
    assert result.ratings() == pytest.approx(live.ratings)


def test_result_of_a_run_that_gained_a_league_on_resume_has_its_matches(tmp_path):
    def train(member):
        skill = member.checkpoint or 0.0
        for _ in member.steps():
            skill += member.hparams["lr"]
            if member.opponents:
                opponent = member.opponent()
                member.report_match(opponent, 1 if skill >= (opponent.checkpoint or 0.0) else 0)
            member.report(skill, checkpoint=skill)

    settings = dict(population=4, interval=4, runner="inline", dir=tmp_path, seed=1, progress=False)
    pt.run(train, toy.SPACE, steps=8, **settings)
    try:
        result = pt.run(train, toy.SPACE, steps=16, resume=True, league=_uniform(), **settings)
    except (pt.ConfigError, pt.RunDirError):
        return  # refusing to add a league to a run is a fix too
    games = [e for e in result.events if isinstance(e, ev.MatchPlayed)]
    assert games
    assert len(result.matches) == len(games)  # raises UsageError("this run has no league") today


# -- a resume refolds the ratings once, not once per member ------------------------------------


def test_a_resume_refolds_the_ratings_once(monkeypatch):
    population = 16
    league = LeagueState(pt.league.Elo(), snapshots_every=0)
    state = PopulationState(Rated(), live=True, league=league)
    events = [ev.RunStarted(config={"steps": 8, "interval": 4, "direction": "maximize", "seed": 0})]
    events += [ev.MemberAdded(member=m, hparams={"lr": 0.1}) for m in range(population)]
    for m in range(population):  # every member played past its last checkpoint (step 0)
        opponent = (m + 1) % population
        events.append(ev.MatchPlayed(member=m, step=1, teams=[[m], [opponent]], ranks=[1, 2]))
        events.append(ev.Reported(member=m, step=1, score=0.0))
    state.apply_all(events)
    calls = []
    original = LeagueState._refold
    monkeypatch.setattr(LeagueState, "_refold", lambda self: (calls.append(1), original(self)))
    state.apply(ev.RunResumed(config={"steps": 8, "interval": 4, "direction": "maximize", "seed": 0}))
    assert league.matches == []
    # one refold of the whole history per pending member is O(members x matches) on every resume
    # (and in every Result.load of a resumed run): 64 members, 100k games ~ 70 s
    assert len(calls) <= 1


# -- report_match validates who played ---------------------------------------------------------


def _report_one(tmp_path, play):
    def train(member):
        skill = member.checkpoint or 0.0
        for _ in member.steps():
            skill += 0.1
            if member.id == 0 and member.step == 1:
                play(member)
            member.report(skill, checkpoint=skill)

    return pt.run(train, toy.SPACE, population=3, steps=8, interval=4, runner="inline", dir=tmp_path, seed=1,
                  progress=False, league=pt.League(pt.league.Uniform()))


def test_report_match_refuses_a_negative_member(tmp_path):
    with pytest.raises(pt.ConfigError, match="int >= 0"):
        Player(-1)
    with pytest.raises(pt.UsageError, match="int >= 0"):
        _report_one(tmp_path, lambda member: member.report_match(-1, 1))


def test_report_match_refuses_a_snapshot_the_league_never_took(tmp_path):
    # snapshots are taken at multiples of 4; m1@3 never existed, and m1@8 is in the future
    with pytest.raises(pt.UsageError):
        _report_one(tmp_path, lambda member: member.report_match(Player(1, 3), 1))


def test_report_match_refuses_teams_without_the_reporting_member(tmp_path):
    with pytest.raises(pt.UsageError):
        _report_one(tmp_path / "a", lambda member: member.report_match(None, teams=[[1], [2]], ranks=[1, 2]))


def test_team_games_accept_the_drawn_opponent_handles(tmp_path):
    """Duels take the Opponent handle member.opponent() returns; team games must too, and a team
    game against a draw of the member itself must not abort the run."""

    def play(member):
        a, b = member.opponent(), member.opponent()
        member.report_match(None, teams=[[member.id], [a, b]], ranks=[1, 2])

    # member 0 plays first, when its only candidate is itself: the game rates nothing, and the run goes on
    result = _report_one(tmp_path, play)
    assert result.status == "finished" and not result.failures and not result.matches


# -- games reported after the last report of a segment ------------------------------------------


def test_games_reported_after_the_last_report_are_not_lost_silently(tmp_path):
    played = {"n": 0}

    def train(member):
        skill = member.checkpoint or 0.0
        for _ in member.steps():
            skill += member.hparams["lr"]
            member.report(skill, checkpoint=skill)
            # the docstring says a game "is sent with the next report": play after reporting
            opponent = member.opponent()
            if not opponent.is_self:
                member.report_match(opponent, 1)
                played["n"] += 1

    try:
        result = pt.run(train, toy.SPACE, population=3, steps=8, interval=4, runner="inline", dir=tmp_path,
                        seed=1, progress=False, league=_uniform())
    except pt.UsageError:
        return  # refusing report_match after the segment's last report is a fix too
    assert played["n"] and len(result.matches) == played["n"]


def test_report_match_refuses_a_member_beyond_the_population(tmp_path):
    with pytest.raises(pt.UsageError, match="not a member of this run"):
        _report_one(tmp_path, lambda member: member.report_match(9, 1))
