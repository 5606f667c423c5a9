import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import poptune as pt
from tests.helpers import load_example

ROOT = Path(__file__).resolve().parents[1]



def test_toy_example_reproduces_the_papers_ordering(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "toy.py"), "--seeds", "4"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    final = {m: float(q) for m, q in re.findall(r"^\s*([a-zA-Z ]+): Q = ([0-9.]+)", out, flags=re.M)}
    # at step size 0.01 (the example's default) exploit and explore together beat explore alone
    assert final["PBT"] > 1.19 and final["PBT"] > final["explore only"] > 0.9
    assert final["grid search"] == pytest.approx(0.39, abs=1e-3)  # a fixed h stalls
    assert final["exploit only"] == pytest.approx(0.39, abs=1e-3)  # copying alone cannot leave the stall
    assert (tmp_path / "runs" / "example-toy" / "toy.png").stat().st_size > 10_000


@pytest.mark.slow
def test_ppo_example_learns_cartpole_under_pbt(tmp_path):
    pytest.importorskip("gymnasium")
    pytest.importorskip("torch")
    ppo = load_example("ppo")
    good = {"lr": 1e-3, "ent_coef": 0.01, "clip": 0.2, "gae_lambda": 0.95}
    result = pt.run(ppo.train, ppo.SPACE, population=2, steps=16, interval=4, initial=[good, {**good, "lr": 1e-4}],
                    runner="inline", dir=tmp_path, seed=0, progress=False)
    first = min(r.score for r in result.reports if r.step == 1)
    assert result.best.score > 3 * first  # a random CartPole policy lasts ~22 steps
    assert all(r.metrics["env_steps"] == r.step * ppo.STEPS_PER_ITERATION for r in result.reports)
    assert ppo.first_step_at(result, 1e9) is None and ppo.first_step_at(result, first) == ppo.STEPS_PER_ITERATION


@pytest.mark.slow
def test_gan_example_trains_towards_the_mixture_with_a_tournament(tmp_path):
    pytest.importorskip("torch")
    gan = load_example("gan")
    start = {"lr_g": 1e-3, "lr_d": 1e-3}
    result = pt.run(gan.train, gan.SPACE, population=2, steps=6, interval=2, direction="minimize",
                    exploit=pt.Tournament(), initial=[start, start], runner="inline", dir=tmp_path, seed=0,
                    progress=False)
    first = min(r.score for r in result.reports if r.step == 1)
    assert result.best.score < first / 5  # energy distance to the true mixture falls
    best = next(r for r in result.reports if (r.member, r.step) == (result.best.id, result.best.step))
    assert best.metrics["modes"] >= 4


def test_gan_quality_metrics_tell_a_collapsed_generator_from_the_mixture():
    torch = pytest.importorskip("torch")
    gan = load_example("gan")
    g = torch.Generator().manual_seed(0)
    truth, other = gan.real(1000, g), gan.real(1000, g)
    collapsed = gan.CENTERS[0] + gan.STD * torch.randn(1000, 2, generator=g)
    assert gan.energy_distance(truth, other) < 0.02 < gan.energy_distance(collapsed, other)
    assert gan.mode_stats(truth)[0] == 8 and gan.mode_stats(collapsed)[0] == 1


@pytest.mark.slow
def test_digits_example(tmp_path):
    pytest.importorskip("torch")
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "digits.py")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert "best member" in out and "from epoch 1" in out


@pytest.mark.slow
def test_vectorized_digits_example(tmp_path):
    pytest.importorskip("torch")
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "digits_vectorized.py"), "--population", "8"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, check=True).stdout
    assert "8 members x 15 epochs" in out and "from epoch 1" in out


def test_ray_tunes_pbt_function_example_ported_learns_the_schedule_random_search_cannot(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "pbt_function.py"), "--seeds", "2"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, check=True).stdout
    rows = {line.split("best accuracy")[0].strip(): line for line in out.splitlines() if "best accuracy" in line}
    assert len(rows) == 3

    def past_200(label):
        return float(rows[label].split("members past 200:")[1].split("of")[0])

    # PBT gets members past accuracy 200 (where they stop); a fixed learning rate never does
    assert past_200("PBT, random start") >= 4 and past_200("PBT, Ray's start (every lr = 1e-4)") >= 4
    assert past_200("random search (fixed lr)") == 0
    assert "along the best lineage" in out


@pytest.mark.parametrize("framework, example, run", [("lightning", "lightning_digits.py", "example-lightning"),
                                                     ("transformers", "huggingface_digits.py", "example-huggingface")])
def test_trainer_integration_examples_small(tmp_path, framework, example, run):
    pytest.importorskip(framework)
    pytest.importorskip("sklearn")
    out = subprocess.run([sys.executable, str(ROOT / "examples" / example), "--small"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert "4 members x 4 epochs" in out and "from epoch 1" in out
    result = pt.Result.load(tmp_path / "runs" / run)
    assert sorted((r.member, r.step) for r in result.reports) == [(m, s) for m in range(4) for s in range(1, 5)]
    assert result.best.score > 0.8


def test_kuhn_league_example_deploys_a_nash_mixture_better_than_its_members(tmp_path):
    from poptune.league import Player
    from poptune.league.games import kuhn

    out = subprocess.run([sys.executable, str(ROOT / "examples" / "kuhn_league.py"), "--small", "--seeds", "1"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True).stdout
    rows = {(m.strip(), d.strip()): float(v) for m, d, v in re.findall(r"^\s*(.+?) \| (.+?): ([0-9.]+) \+-", out,
                                                                       flags=re.M)}
    assert len(rows) == 16 and "1600 updates per method" in out
    uniform = kuhn.exploitability(kuhn.uniform())  # 11/24
    assert rows[("league + PBT", "nash mixture")] < uniform / 2
    # the league's value is the mixture: its Nash mixture beats its least exploitable member
    assert rows[("league + PBT", "nash mixture")] < rows[("league + PBT", "oracle: best member")]

    example = load_example("kuhn_league")
    steps = example.SMALL["steps"]
    result = example.run_league(0, tmp_path / "run", steps=steps)
    # every member reports every step; after the first stretch (where member 0 has only itself to meet)
    # every step has games
    assert sorted((r.member, r.step) for r in result.reports) == [
        (m, s) for m in range(example.POPULATION) for s in range(1, steps + 1)]
    played = {m.step for m in result.matches}
    assert played >= set(range(example.INTERVAL + 1, steps + 1))
    assert len(result.matches) > example.POPULATION * (steps - example.INTERVAL)  # most draws are other players
    # the policies the deployed mixture is built from are the states the members saved
    policies = example.policies(result)
    for m in range(example.POPULATION):
        assert example.probabilities(result.checkpoint(m)) == pytest.approx(policies[Player(m)])
    mixture = result.nash()
    assert set(mixture) <= set(policies) and any(p.is_snapshot and w > 0 for p, w in mixture.items())
    deployed = example.deployed_league(result)
    assert deployed["nash mixture"] < uniform / 2
    # AlphaStar's roles: exploiters are reset (to a fresh random policy) and snapshotted there
    roles = example.run_league(0, tmp_path / "roles", steps=steps, with_roles=True)
    resets = [e for e in roles.events if e.kind == "league_reset"]
    assert resets and all(e.member >= 4 for e in resets)
    assert rows[("league of roles + PBT", "nash mixture")] < uniform / 2


def test_connect_four_league_example_small_trains_members_that_beat_a_random_player(tmp_path):
    pytest.importorskip("pettingzoo")
    pytest.importorskip("torch")
    from poptune.league import Player

    example = load_example("connect_four_league")
    size = example.SMALL
    result = example.run_league(0, tmp_path / "run", size["population"], size["steps"], size["games"])
    assert sorted((r.member, r.step) for r in result.reports) == [
        (m, s) for m in range(size["population"]) for s in range(1, size["steps"] + 1)]
    # every game against another player is a match (games against itself rate nothing)
    assert len(result.matches) > size["population"] * size["steps"] * size["games"] // 2
    assert {m.step for m in result.matches} >= set(range(example.INTERVAL + 1, size["steps"] + 1))
    ratings = result.ratings()
    top = max((Player(m.id) for m in result.members), key=lambda p: ratings[p])
    trained = example.load_policy(result.checkpoint(top.member), np.random.default_rng(0))
    untrained = example.load_policy({"model": example.make_model().state_dict()}, np.random.default_rng(0))
    assert example.evaluate(lambda: trained, "random", 100, seed=0)["win"] > 0.6
    assert example.evaluate(lambda: untrained, "random", 100, seed=0)["win"] < 0.6
    # the bots are ordered: depth-2 search beats greedy, which beats random
    assert example.evaluate(lambda: example.greedy_player(np.random.default_rng(1)), "minimax-2", 20, 0)["win"] < 0.2
    assert example.evaluate(lambda: example.random_player(np.random.default_rng(1)), "greedy", 20, 0)["win"] < 0.2
    # the deployed Nash mixture is built from states the league saved, snapshots among them
    mixture = result.nash()
    assert any(p.is_snapshot and w > 0 for p, w in mixture.items())
    rates = example.deployed_league(result, seed=0, eval_games=20)
    assert set(rates) == {(d, b, k) for d in ("top-rated member", "Nash mixture") for b in example.BOTS
                          for k in ("win", "draw", "loss")}


def test_incontext_examples_small_pbt_selects_a_database_that_beats_random_ones(tmp_path):
    example = load_example("incontext_examples")
    size = example.SMALL
    result = example.run_pbt(0, size["population"], size["steps"], size["interval"], tmp_path / "run")
    assert sorted((r.member, r.step) for r in result.reports) == [
        (m, s) for m in range(size["population"]) for s in range(1, size["steps"] + 1)]
    assert any(r.metrics["generation"] > 0 for r in result.reports)  # exploits copied databases
    pool = set(example.DATA["pool"])
    for m in result.members:  # every member's state loads back (safe loader) as a list of pool pairs
        state = result.checkpoint(m.id)
        database = state["database"]
        assert isinstance(database, list) and len(database) == example.SIZE == len(set(database))
        assert all(isinstance(p, tuple) and len(p) == 2 for p in database) and set(database) <= pool
        assert state["score"] == pytest.approx(example.accuracy(database, state["k"]))
    best = example.best_of(result)
    rng = np.random.default_rng(0)
    random_ones = [example.accuracy(example.random_database(rng), best["k"], "test") for _ in range(20)]
    assert best["test"] > max(random_ones) and best["test"] > 0.7
    assert best["validation"] >= max(result.checkpoint(m.id)["score"] for m in result.members)


def test_deep_ga_small_run_beats_a_random_policy_with_seed_chain_checkpoints(tmp_path):
    pytest.importorskip("gymnasium")
    pytest.importorskip("torch")
    from poptune.family import SeedChain

    example = load_example("deep_ga")
    size = example.SMALL
    result = example.run_ga(0, size["population"], size["steps"], size["interval"], tmp_path / "run")
    assert sorted((r.member, r.step) for r in result.reports) == [
        (m, s) for m in range(size["population"]) for s in range(1, size["steps"] + 1)]
    assert any(r.metrics["generation"] > 0 for r in result.reports)  # truncation selection copied genomes
    for m in result.members:  # every state loads back (safe loader) as plain data: a seed chain and its fitness
        state = result.checkpoint(m.id)
        genome = state["genome"]
        assert isinstance(genome["seeds"], list) and all(type(s) is int for s in genome["seeds"])
        chain = SeedChain.from_json(genome)
        assert state["score"] == example.fitness(chain)  # the chain alone rebuilds the scored policy
    last = {}  # member -> (score, generation) at its previous step
    for r in sorted(result.reports, key=lambda r: r.step):  # elitism: between exploits, fitness never drops
        score, generation = last.get(r.member, (float("-inf"), r.metrics["generation"]))
        if generation == r.metrics["generation"]:
            assert r.score >= score
        last[r.member] = (r.score, r.metrics["generation"])
    best = example.best_of(result)
    floor = example.random_policy(0)
    assert best["held_out"] > floor + 100 and best["held_out"] > 150
    assert best["network_bytes"] / best["genome_bytes"] > 50
