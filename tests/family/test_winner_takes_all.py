import itertools

import pytest

torch = pytest.importorskip("torch")

import poptune as pt  # noqa: E402
from poptune.errors import ConfigError  # noqa: E402
from poptune.family.winner_takes_all import (  # noqa: E402
    poppy_loss,
    winner_advantage,
    winner_mask,
    winner_takes_all_loss,
)


def test_mask_is_one_hot_per_instance_with_ties_to_the_lowest_member():
    rewards = torch.tensor([[1.0, 7.0, 2.0, 0.0],
                            [3.0, 7.0, 2.0, -1.0],
                            [2.0, 1.0, 2.0, 5.0]])  # (P=3, B=4)
    mask = winner_mask(rewards)
    assert mask.tolist() == [[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]]
    assert torch.equal(mask.sum(dim=0), torch.ones(4))
    assert winner_mask(rewards, direction="minimize").tolist() == [[1, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0]]
    assert torch.equal(winner_mask(-rewards, "minimize"), mask)


def test_advantage_is_the_margin_over_the_second_best():
    rewards = torch.tensor([[1.0, 7.0, 4.0], [3.0, 7.0, 0.0], [2.5, 1.0, 3.0]])
    assert winner_advantage(rewards).tolist() == [[0, 0, 1], [0.5, 0, 0], [0, 0, 0]]  # tie on instance 1: 0
    costs = torch.tensor([[4.0, 2.0], [5.0, 3.5], [4.5, 6.0]])
    assert winner_advantage(costs, "minimize").tolist() == [[0.5, 1.5], [0, 0], [0, 0]]
    assert not winner_advantage(rewards.requires_grad_()).requires_grad


def test_winner_takes_all_loss_counts_only_winners_and_divides_by_the_batch():
    per_instance = torch.arange(6.0).view(2, 3).requires_grad_()  # (P=2, B=3)
    rewards = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    losses = winner_takes_all_loss(per_instance, rewards)
    assert losses.tolist() == pytest.approx([(0 + 2) / 3, 4 / 3])
    losses.sum().backward()
    assert torch.allclose(per_instance.grad, torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]) / 3)


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_poppy_loss_is_an_unbiased_gradient_of_the_population_objective(direction):
    # Three members, each a softmax over four arms; the population's value on an outcome is
    # the best reward any member got. Enumerating every joint outcome gives the exact expected
    # Poppy gradient, which must equal the exact gradient of E[best of population].
    rewards_of_arm = torch.tensor([0.3, 1.0, 0.7, 0.1])
    logits = torch.tensor([[0.2, -0.5, 0.1, 0.4], [0.0, 0.3, -0.2, 0.1], [-0.3, 0.0, 0.6, 0.2]],
                          requires_grad=True)  # (P=3, A=4)
    logpi = torch.log_softmax(logits, dim=1)
    expected_loss, objective = 0.0, 0.0
    sign = 1.0 if direction == "maximize" else -1.0
    for arms in itertools.product(range(4), repeat=3):
        chosen = logpi[torch.arange(3), torch.tensor(arms)]  # (P,)
        prob = chosen.sum().exp()
        values = sign * rewards_of_arm[list(arms)]  # rewards, or costs when minimizing
        losses = poppy_loss(chosen[:, None], values[:, None], direction=direction)  # (P,)
        expected_loss = expected_loss + prob.detach() * losses.sum()
        objective = objective + prob * rewards_of_arm[list(arms)].max()
    poppy_grad, = torch.autograd.grad(expected_loss, logits, retain_graph=True)
    true_grad, = torch.autograd.grad(objective, logits)
    assert torch.allclose(-poppy_grad, true_grad, atol=1e-6)
    assert true_grad.abs().max() > 1e-2  # not a vacuous comparison


def bandit_population(members):
    # A member is a softmax over three arms, blind to the instance: alone it cannot tell the
    # instance types apart, so only a population can cover both.
    policy = pt.vectorized.Functional(lambda p, noise: (torch.log_softmax(p["logits"], -1), noise),
                                      lambda g: {"logits": 0.01 * torch.randn(3, generator=g)})
    return pt.vectorized.Population(policy, members, optimizer=pt.vectorized.Adam(lr=0.05), seed=0)


def train_bandit(objective, steps=300, batch=64):
    # Arm 0 pays 1 on type-0 instances, arm 1 on type-1 ones, arm 2 pays 0.6 on both: one
    # policy's best is arm 2 (0.6 > 0.5), a pair covering arms 0 and 1 gets 1.0 on every instance.
    payoff = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.6]])  # (A, types)
    pop, g = bandit_population(2), torch.Generator().manual_seed(1)
    for _ in range(steps):
        types = torch.randint(0, 2, (batch,), generator=g)  # (B,)
        gumbel = -torch.empty(2, batch, 3).exponential_(generator=g).log()  # (P, B, A)
        logpi, _ = pop(gumbel, per_member=True)  # (P, 3) log-probabilities
        arms = (logpi[:, None] + gumbel).argmax(-1)  # (P, B) sampled arms
        log_probs = logpi.gather(1, arms)  # (P, B)
        rewards = payoff[arms, types]  # (P, B)
        if objective == "poppy":
            losses = poppy_loss(log_probs, rewards)
        else:  # each member alone, batch-mean baseline
            losses = -((rewards - rewards.mean(1, keepdim=True)) * log_probs).mean(1)
        pop.step(losses)
    favourite = pop.params["logits"].argmax(dim=1)  # (P,)
    return sorted(favourite.tolist()), payoff[favourite].max(dim=0).values.mean().item()


def test_winner_takes_all_makes_members_specialise_where_independent_training_does_not():
    arms, value = train_bandit("poppy")
    assert arms == [0, 1] and value == 1.0  # one member per instance type
    arms, value = train_bandit("independent")
    assert arms == [2, 2] and value == pytest.approx(0.6)  # both settle on the safe arm


def test_only_the_winning_members_weights_move_in_a_population_step():
    pop = bandit_population(3)
    before = pop.params["logits"].detach().clone()
    logpi, _ = pop(torch.zeros(3, 1), per_member=True)  # (P, 3)
    log_probs = logpi[:, :1].expand(3, 4)  # (P, B=4): every member played arm 0
    rewards = torch.tensor([[1.0, 2.0, 0.0, 1.0], [0.0, 3.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0]])
    pop.step(poppy_loss(log_probs, rewards))  # member 2 never wins (ties go to member 0)
    moved = (pop.params["logits"].detach() - before).abs().sum(dim=1)  # (P,)
    assert moved[0] > 0 and moved[1] > 0 and moved[2] == 0


@pytest.mark.parametrize("call, message", [
    (lambda: winner_mask(torch.ones(3)), r"rewards must have shape \(P, B\)"),
    (lambda: winner_mask(torch.ones(2, 3), direction="max"), "direction must be 'maximize' or 'minimize'"),
    (lambda: winner_mask(torch.ones(2, 3, dtype=torch.long)), "rewards must be floating point"),
    (lambda: winner_mask(torch.tensor([[1.0, float("nan")]])), "NaN or infinite"),
    (lambda: poppy_loss(torch.zeros(1, 3), torch.ones(1, 3)), "at least two members"),
    (lambda: poppy_loss(torch.zeros(2, 3), torch.ones(2, 4)), r"log_probs has shape \(2, 3\) but rewards"),
    (lambda: winner_takes_all_loss(torch.zeros(3, 2), torch.ones(2, 3)), "per_instance_losses has shape"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_a_non_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="rewards must be a torch.Tensor"):
        winner_mask([[1.0, 2.0]])
