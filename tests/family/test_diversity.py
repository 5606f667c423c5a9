import json
import math

import numpy as np
import pytest

from poptune.errors import ConfigError
from poptune.family.diversity import DiversityBandit, dvd_loss, log_det_diversity, population_embeddings

torch = pytest.importorskip("torch")


def reference_log_det(x: np.ndarray, scale: float, jitter: float = 1e-6) -> float:
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    return float(np.linalg.slogdet(np.exp(-d2 / (2 * scale**2)) + jitter * np.eye(len(x)))[1])


POINTS = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.5, 0.0], [-0.5, 2.0, 0.3], [0.2, -1.0, -1.0]], dtype=torch.float64)


def test_log_det_matches_numpy_for_a_fixed_and_the_median_length_scale():
    x = POINTS.numpy()
    assert log_det_diversity(POINTS, 0.7).item() == pytest.approx(reference_log_det(x, 0.7), rel=1e-9)
    distances = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))[np.triu_indices(4, 1)]
    median = float(torch.tensor(distances).median())  # torch's median: the lower middle value
    assert log_det_diversity(POINTS).item() == pytest.approx(reference_log_det(x, median), rel=1e-9)


def test_log_det_orders_populations_by_spread_and_ignores_member_order():
    assert log_det_diversity(POINTS * 3, 1.0) > log_det_diversity(POINTS, 1.0) > log_det_diversity(POINTS / 3, 1.0)
    assert log_det_diversity(POINTS * 1000, 1.0).item() == pytest.approx(0.0, abs=1e-5)  # K = I
    shuffled = POINTS[torch.tensor([2, 0, 3, 1])]
    assert log_det_diversity(shuffled, 1.0).item() == pytest.approx(log_det_diversity(POINTS, 1.0).item())


def test_median_length_scale_makes_the_term_scale_free():
    assert log_det_diversity(POINTS * 50).item() == pytest.approx(log_det_diversity(POINTS).item(), rel=1e-9)
    assert log_det_diversity(POINTS * 50, 1.0).item() != pytest.approx(log_det_diversity(POINTS, 1.0).item())


def test_gradient_ascent_on_log_det_spreads_the_members():
    x = (POINTS / 5).float().clone().requires_grad_(True)
    before = torch.pdist(x.detach()).min()
    for _ in range(50):
        (g,) = torch.autograd.grad(log_det_diversity(x, 1.0), x)
        with torch.no_grad():
            x += 0.05 * g
    assert torch.pdist(x.detach()).min() > 2 * before
    assert log_det_diversity(x, 1.0).dtype == torch.float32


def test_identical_members_give_a_finite_value_and_gradient():
    x = torch.zeros(3, 2, requires_grad=True)
    value = log_det_diversity(x)  # every distance 0: the median falls back to 1.0, jitter keeps K definite
    (g,) = torch.autograd.grad(value, x)
    assert value.item() == pytest.approx(math.log(3) + 2 * math.log(1e-6), rel=1e-4)  # K = 1 1^T + jitter I
    assert torch.isfinite(g).all()


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(1, 3), "P >= 2"),
    (torch.zeros(4), r"\(P, D\)"),
    (torch.zeros(2, 2, 2), r"\(P, D\)"),
    (torch.tensor([[0.0, float("nan")], [1.0, 1.0]]), "NaN or inf"),
    (torch.tensor([[0.0, float("inf")], [1.0, 1.0]]), "NaN or inf"),
    (torch.zeros(3, 2, dtype=torch.long), "floating point"),
    (np.zeros((3, 2)), "torch.Tensor"),
])
def test_log_det_rejects_bad_embeddings(bad, match):
    with pytest.raises(ConfigError, match=match):
        log_det_diversity(bad)


@pytest.mark.parametrize("kwargs", [{"length_scale": "mean"}, {"length_scale": 0.0}, {"length_scale": -1.0},
                                    {"length_scale": float("nan")}, {"jitter": 0.0}, {"jitter": 2.0}])
def test_log_det_rejects_bad_length_scale_and_jitter(kwargs):
    with pytest.raises(ConfigError, match="length_scale|jitter"):
        log_det_diversity(POINTS, **kwargs)


def test_dvd_loss_is_the_negated_joint_objective():
    rewards = torch.tensor([1.0, 2.0, 0.5, 0.0], dtype=torch.float64)
    expected = -(3.5 + 0.3 * log_det_diversity(POINTS, 0.7).item())
    assert dvd_loss(rewards, POINTS, 0.3, length_scale=0.7).item() == pytest.approx(expected)
    assert dvd_loss(rewards, POINTS, 0.0).item() == -3.5
    with pytest.raises(ConfigError, match="rewards must be"):
        dvd_loss(rewards[:3], POINTS, 0.3)
    with pytest.raises(ConfigError, match="weight"):
        dvd_loss(rewards, POINTS, -0.1)


def test_zero_weight_leaves_members_independent_and_a_positive_one_couples_them():
    x = POINTS.clone().requires_grad_(True)
    rewards = -(x - 1).pow(2).sum(1)  # member i's reward depends on x[i] only
    (independent,) = torch.autograd.grad(dvd_loss(rewards, x, 0.0), x)
    assert torch.allclose(independent, 2 * (x.detach() - 1))
    (coupled,) = torch.autograd.grad(dvd_loss(-(x - 1).pow(2).sum(1), x, 0.5), x)
    assert not torch.allclose(coupled, independent)


def test_a_population_step_on_the_diversity_term_spreads_its_behaviour():
    import poptune as pt

    pop = pt.vectorized.Population(lambda: torch.nn.Linear(2, 2), 4, optimizer=pt.vectorized.SGD(lr=0.05),
                                   init="shared", seed=0)
    probes = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    embeddings = population_embeddings(pop, probes)
    assert embeddings.shape == (4, 12)
    assert torch.allclose(embeddings[0], embeddings[1])  # shared init: identical behaviour
    pop.params["weight"].data += 0.01 * torch.randn(4, 2, 2, generator=torch.Generator().manual_seed(1))
    before = log_det_diversity(population_embeddings(pop, probes), 1.0).item()
    for _ in range(20):
        pop.step(dvd_loss(torch.zeros(4), population_embeddings(pop, probes), 1.0, length_scale=1.0))
    assert log_det_diversity(population_embeddings(pop, probes), 1.0).item() > before + 1.0
    with pytest.raises(ConfigError, match="probe inputs"):
        population_embeddings(pop)


def test_bandit_follows_the_documented_beta_bernoulli_rule():
    bandit = DiversityBandit(arms=(0.0, 0.5, 1.0), seed=3, discount=0.5)
    bandit.update(1, 0.2)   # success: alpha[1] = 2
    bandit.update(1, 0.0)   # no improvement is a failure; decay first: alpha[1] = 1.5, then beta[1] = 2
    bandit.update(0, -1.0)  # decay: alpha[1] = 1.25, beta[1] = 1.5; beta[0] = 2
    assert bandit.alpha.tolist() == [1.0, 1.25, 1.0]
    assert bandit.beta.tolist() == [2.0, 1.5, 1.0]
    assert bandit.history == [(1, 1.0), (1, 0.0), (0, 0.0)] and bandit.pulls == [1, 2, 0]
    rng = np.random.default_rng(3)
    expected = int(np.argmax(rng.beta(bandit.alpha, bandit.beta)))
    assert bandit.select() == expected  # the draw comes from the bandit's own generator, seeded


def test_bandit_learns_the_arm_that_improves_the_best_reward():
    bandit = DiversityBandit(arms=(0.0, 0.5), seed=0)
    chosen = []
    for _ in range(60):
        arm = bandit.select()
        chosen.append(arm)
        bandit.update(arm, 0.1 if arm == 1 else 0.0)
    assert sum(chosen[-20:]) >= 18  # the improving arm (λ = 0.5) dominates late choices


def test_bandit_state_dict_resumes_the_same_choices_through_json():
    def play(bandit, rounds):
        out = []
        for i in range(rounds):
            arm = bandit.select()
            bandit.update(arm, float((arm + i) % 3 == 0))
            out.append(arm)
        return out

    straight = DiversityBandit(seed=7, discount=0.9)
    expected = play(straight, 40)
    first = DiversityBandit(seed=7, discount=0.9)
    head = play(first, 15)
    resumed = DiversityBandit(seed=123, discount=0.9)
    resumed.load_state_dict(json.loads(json.dumps(first.state_dict())))
    assert head + play(resumed, 25) == expected
    assert resumed.state_dict() == straight.state_dict()
    with pytest.raises(ConfigError, match="same arguments"):
        DiversityBandit(arms=(0.0, 1.0), discount=0.9).load_state_dict(first.state_dict())


@pytest.mark.parametrize("kwargs, match", [
    ({"arms": ()}, "arms"), ({"arms": "0.5"}, "arms"), ({"arms": (0.0, -0.5)}, "arm"),
    ({"arms": (0.0, float("inf"))}, "arm"), ({"discount": 0.0}, "discount"), ({"discount": 1.5}, "discount"),
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
])
def test_bandit_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        DiversityBandit(**kwargs)


def test_bandit_update_rejects_bad_arm_or_improvement():
    bandit = DiversityBandit()
    for arm in (2, -1, True, 0.0):
        with pytest.raises(ConfigError, match="arm must be an index"):
            bandit.update(arm, 1.0)
    for improvement in (float("nan"), float("inf"), "1", None):
        with pytest.raises(ConfigError, match="improvement"):
            bandit.update(0, improvement)
    assert bandit.history == []
