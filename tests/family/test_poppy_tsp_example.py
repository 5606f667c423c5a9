import itertools

import numpy as np
import pytest

from tests.helpers import load_example

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def ex():
    return load_example("poppy_tsp")


def test_held_karp_matches_brute_force(ex):
    coords = np.random.default_rng(0).random((5, 7, 2))
    dist = np.linalg.norm(coords[:, :, None] - coords[:, None], axis=-1)
    brute = [min(sum(d[a, b] for a, b in zip((0, *p), (*p, 0))) for p in itertools.permutations(range(1, 7)))
             for d in dist]
    assert np.allclose(ex.optimal(coords), brute)
    assert np.all(ex.nearest_neighbour(coords) >= np.array(brute) - 1e-9)


def test_rollouts_are_tours_with_their_log_probabilities(ex):
    cfg = dict(ex.SMALL)
    pop = ex.population(cfg, 3, seed=0)
    coords = ex.instances(5, cfg["cities"], torch.Generator().manual_seed(0))
    tours, logp, lengths = ex.tours_of(pop, coords, torch.Generator().manual_seed(1))  # (P, B, N), (P, B)
    assert tours.shape == (3, 5, cfg["cities"]) and torch.all(tours[..., 0] == 0)
    assert torch.equal(tours.sort(dim=-1).values, torch.arange(cfg["cities"]).expand_as(tours))  # permutations
    assert torch.all(logp < 0) and torch.all(lengths > 0)
    greedy = ex.tours_of(pop, coords, None)[0]
    assert torch.equal(greedy, ex.tours_of(pop, coords, None)[0])  # greedy decoding is deterministic


def test_small_run_learns_tsp_and_poppy_members_specialise(ex):
    result = ex.main(["--small"])
    methods = ("poppy", "independent", "single_samples", "single_greedy", "nearest_neighbour")
    assert all(result[m] >= result["optimal"] - 1e-6 for m in methods)
    random_tour = 0.5214 * ex.SMALL["cities"]  # mean distance between two uniform points, times N
    assert all(result[m] < 0.75 * random_tour for m in ("poppy", "independent", "single_samples"))
    # the clones have diverged: members win different instances, and the best of the population
    # is clearly better than the average member
    assert sum(result["poppy_wins"]) == ex.SMALL["held_out"] and max(result["poppy_wins"]) < ex.SMALL["held_out"]
    assert result["poppy"] < result["poppy_member_mean"] - 0.05
