"""AlphaStar's roles: each role's opponents, the exploiters' reset rules, exploit within a role,
resets in runs (fresh start, new player, a snapshot kept), every runner, kill -9 + resume."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy import stats as scipy_stats

import poptune as pt
from poptune.core import events as ev
from poptune.league import HeadToHead, LeagueExploiter, Main, MainExploiter, Match, Player, Roles
from tests import conformance
from tests.league import toy

ROLES = Roles(Main(2), MainExploiter(1, min_games=4), LeagueExploiter(1, min_games=2))
# members 0, 1 main; 2 main exploiter; 3 league exploiter
CANDIDATES = [Player(0), Player(1), Player(2), Player(3), Player(0, 8), Player(2, 8)]


def _weights(member, stats=None):
    return dict(zip(CANDIDATES, ROLES.weights(Player(member), CANDIDATES, stats)))


def test_main_agents_mix_self_play_the_past_and_the_exploiters():
    w = _weights(0)
    assert w[Player(0)] == pytest.approx(0.175) and w[Player(1)] == pytest.approx(0.175)  # self-play
    assert w[Player(0, 8)] + w[Player(2, 8)] == pytest.approx(0.5)  # PFSP over every snapshot
    assert w[Player(2)] + w[Player(3)] == pytest.approx(0.15)  # the live exploiters
    # PFSP "hard": the snapshot it loses to gets more of the past's share
    record = HeadToHead.from_matches([Match([0, Player(0, 8)], [1, 2])] * 3 + [Match([0, Player(2, 8)], [2, 1])] * 3)
    w = _weights(0, record)
    assert w[Player(2, 8)] == pytest.approx(0.5) and w[Player(0, 8)] == 0.0
    # no exploiters yet (only main agents and the past): their share goes to the others
    only = [Player(0), Player(1), Player(0, 8)]
    assert Main(2).weights(Player(0), only, None, ROLES).round(3).tolist() == [0.206, 0.206, 0.588]


def test_main_exploiters_play_the_live_main_agents_until_they_struggle():
    w = _weights(2)
    assert w[Player(0)] == w[Player(1)] == 0.5 and sum(w.values()) == pytest.approx(1.0)
    # it won 0 of 4 games against the main agents: it goes for their snapshots (PFSP "variance")
    lost = HeadToHead.from_matches([Match([2, m], [2, 1]) for m in (0, 1, 0, 1)])
    w = _weights(2, lost)
    assert w[Player(0, 8)] == pytest.approx(1.0)  # the only main agent's snapshot (Player(2, 8) is an exploiter's)


def test_league_exploiters_play_pfsp_over_the_snapshots():
    w = _weights(3)
    assert w[Player(0, 8)] == w[Player(2, 8)] == 0.5 and w[Player(0)] == 0.0
    early = [Player(0), Player(1), Player(3)]  # no snapshots yet: the live members but itself
    assert ROLES.weights(Player(3), early, None).tolist() == [0.5, 0.5, 0.0]


def test_role_draws_follow_their_weights():
    rng = np.random.default_rng(0)
    draws = Counter(ROLES.choose(Player(0), CANDIDATES, None, rng) for _ in range(4000))
    expected = np.array([_weights(0)[c] for c in CANDIDATES]) * 4000
    observed = np.array([draws[c] for c in CANDIDATES])
    keep = expected > 0
    assert observed[~keep].sum() == 0
    assert scipy_stats.chisquare(observed[keep], expected[keep]).pvalue > 1e-3


def test_reset_rules_fire_on_beating_every_target_or_on_timeout():
    exploiter = MainExploiter(1, beat=0.7, min_games=4, timeout=20)
    live = [0, 1, 2, 3]
    own = HeadToHead.from_matches([Match([2, 0], [1, 2])] * 4 + [Match([2, 1], [1, 2])] * 3)
    # 4 of 4 against member 0, but only 3 games against member 1: not yet
    assert exploiter.fires(2, 8, own, 0, live, [], ROLES) is None
    own.add(Match([2, 1], [2, 1]))  # 3 of 4 against member 1: 0.75 >= 0.7 against both main agents
    assert exploiter.fires(2, 8, own, 0, live, [], ROLES) == "beat"
    own.add(Match([2, 1], [2, 1]))  # 3 of 5 against member 1: below 0.7
    assert exploiter.fires(2, 8, own, 0, live, [], ROLES) is None
    assert exploiter.fires(2, 28, own, 8, live, [], ROLES) == "timeout"  # 20 steps since its reset at 8
    assert MainExploiter(1).fires(2, 10_000, own, 0, live, [], ROLES) is None  # no timeout: never
    # a league exploiter: every snapshot it met often enough (at least one)
    league = LeagueExploiter(1, min_games=2)
    snaps = [Player(0, 8), Player(2, 8)]
    assert league.fires(3, 8, HeadToHead(), 0, live, snaps, ROLES) is None
    own = HeadToHead.from_matches([Match([3, Player(0, 8)], [1, 2])] * 2 + [Match([3, Player(2, 8)], [2, 1])])
    assert league.fires(3, 8, own, 0, live, snaps, ROLES) == "beat"  # (one game against m2@8: not counted yet)
    own.add(Match([3, Player(2, 8)], [2, 1]))
    assert league.fires(3, 8, own, 0, live, snaps, ROLES) is None
    assert Main(2).fires(0, 10_000, own, 0, live, snaps, ROLES) is None  # main agents never reset


def _roles_run(run_dir, **kwargs):
    result = toy.run_roles(run_dir, **kwargs)
    assert result.status == "finished"
    return result, conformance.read(run_dir)


def test_a_league_of_roles_resets_exploiters_and_exploits_within_roles(tmp_path):
    result, events = _roles_run(tmp_path)
    roles = toy.roles_league().roles
    group = {m: roles.group(m) for m in range(6)}
    exploits = [e for e in events if isinstance(e, ev.Exploited)]
    assert exploits and all(group[e.member] == group[e.source] for e in exploits)
    # each role meets whom its role says (a snapshot counts as the role of the member it froze)
    for draw in (e for e in events if isinstance(e, ev.OpponentsDrawn) and e.member in (3, 4)):
        assert all(Player.from_json(p).member in (0, 1, 2) for p in draw.opponents), draw
    resets = [e for e in events if isinstance(e, ev.LeagueReset)]
    # the fast main exploiters beat the slow main agents, and reset
    beaten = [e for e in resets if e.member in (3, 4) and e.why == "beat"]
    assert beaten and all(e.reset for e in beaten)
    assert all(e.member in (3, 4, 5) for e in resets)  # main agents never reset
    reports = {(r.member, r.step): r for r in result.reports}
    for e in beaten:
        # its state at the reset joined the league as a snapshot, rated as the member was ...
        assert Player(e.member, e.step) in result.ratings() or e.step < 24
        # ... and it restarted from scratch: skill = lr x steps since the reset
        nxt = reports[(e.member, e.step + 1)]
        assert nxt.score == pytest.approx(result.hparams_at(e.member, e.step + 1)["lr"])
        assert result.generation_at(e.member, e.step + 1) == (0, None)
    # the lineage of a reset member starts at its last reset, with a model trained from step 0
    last = max(beaten, key=lambda e: e.step)
    if not any(x.member == last.member and x.step > last.step for x in exploits + resets):
        first = result.lineage(last.member)[0]
        assert (first.member, first.own_start, first.start) == (last.member, last.step, 0)
    # a reset member is a new player: its rating starts again from the initial one
    history = result.ratings(over_time=True)
    for e in beaten:
        assert any(games > 0 and value == 1500.0 for games, value in history[Player(e.member)])
    assert len(result.matches) > 300


def test_roles_misuse_is_a_clear_error(tmp_path):
    with pytest.raises(pt.ConfigError, match="take 6 members, but population=4"):
        toy.run_roles(tmp_path, population=4, initial=None)
    with pytest.raises(pt.ConfigError, match="needs main agents"):
        Roles(MainExploiter(2))
    with pytest.raises(pt.ConfigError, match="Main is a class"):
        Roles(Main)
    with pytest.raises(pt.ConfigError, match="count must be an integer >= 1"):
        Main(0)
    with pytest.raises(pt.ConfigError, match="beat must be a win rate"):
        MainExploiter(1, beat=1.5)
    with pytest.raises(pt.ConfigError, match="reset_probability"):
        LeagueExploiter(1, reset_probability=2)
    with pytest.raises(pt.ConfigError, match="has no role"):
        ROLES.role(7)


def test_a_vectorized_session_refuses_roles(tmp_path):
    torch = pytest.importorskip("torch")
    population = pt.vectorized.Population(torch.nn.Linear(2, 1), size=6, optimizer=pt.vectorized.SGD())
    with pytest.raises(pt.ConfigError, match="roles"):
        pt.vectorized.Session(population, {"lr": pt.Float(0.01, 0.1)}, steps=4, interval=2, dir=tmp_path,
                              league=toy.roles_league())


@pytest.mark.parametrize("runner", ["processes"])
def test_roles_run_on_the_processes_runner(tmp_path, runner):
    result, events = _roles_run(tmp_path, runner=pt.runners.Processes(workers=2))
    assert any(isinstance(e, ev.LeagueReset) for e in events)
    reports = {(r.member, r.step): r.score for r in result.reports}
    for e in (e for e in events if isinstance(e, ev.LeagueReset) and e.reset):
        assert reports[(e.member, e.step + 1)] == pytest.approx(result.hparams_at(e.member, e.step + 1)["lr"])


def test_a_killed_and_resumed_league_of_roles_resets_as_the_uninterrupted_one(tmp_path):
    whole, events = _roles_run(tmp_path / "whole")
    resets = [(e.member, e.step, e.reset, e.why) for e in events if isinstance(e, ev.LeagueReset)]
    assert resets
    for i, kill_after in enumerate((21, 70)):
        conformance.kill_and_resume("tests.league.toy", tmp_path / f"k{i}", kill_after,
                                    env={"POPTUNE_TEST_SLEEP": "0.003", "POPTUNE_TEST_ROLES": "1"})
        again = conformance.read(tmp_path / f"k{i}")
        assert [(e.member, e.step, e.reset, e.why) for e in again if isinstance(e, ev.LeagueReset)] == resets
        resumed = pt.Result.load(tmp_path / f"k{i}")
        assert resumed.matches == whole.matches and resumed.ratings() == whole.ratings()
        assert conformance.decisions(tmp_path / f"k{i}") == conformance.decisions(tmp_path / "whole")
