"""Winner-takes-all objectives for a stacked population (Poppy).

Grinsztajn et al. 2023 ("Winner Takes It All: Training Performant RL Populations for
Combinatorial Optimization", NeurIPS 2023, arXiv:2210.03475) train a population of K policies
for the *population* objective: the expected reward of the best member on each instance,
``J_pop = E_rho[max_k R(tau_k)]``. Its policy gradient reaches only the member that wins the
instance; with the second best member's reward as the baseline (the paper's training
algorithm), an instance ``i`` contributes

    (R(tau_i^{k*}) - R(tau_i^{k**})) * grad log pi_{k*}(tau_i^{k*})

where ``k*`` is the best member on instance ``i`` and ``k**`` the second best; every other
member gets nothing from it. Members thus specialise on the instances they already solve best.
The estimate is unbiased: what it drops from member ``k``'s term is ``max_{j != k} R(tau_j)``
times its score function, and that reward does not depend on member ``k``'s own trajectory
(``tests/family/test_winner_takes_all.py`` checks it against the exact gradient).

The functions here work on the layout of :class:`poptune.vectorized.Population`: a leading
population axis ``P``, then the instances ``B``. ``rewards`` is ``(P, B)``: member ``p``'s reward
on instance ``b`` (or cost, with ``direction="minimize"``). They return ``(P,)`` losses that
``Population.step(losses)`` consumes (it backpropagates their sum, so member ``p`` gets the
gradient of ``losses[p]`` alone). Ties are broken towards the lowest member index.
"""

from __future__ import annotations

from typing import Any

import torch

from poptune.errors import ConfigError

DIRECTIONS = ("maximize", "minimize")


def winner_mask(rewards: torch.Tensor, direction: str = "maximize") -> torch.Tensor:
    """A one-hot over the population for each instance: 1 where the member wins it.

    Args:
        rewards: ``(P, B)``: member ``p``'s reward (or cost) on instance ``b``.
        direction: ``"maximize"`` (rewards) or ``"minimize"`` (costs, tour lengths).

    Returns:
        ``(P, B)`` in ``rewards``'s dtype; each column sums to 1. Among tied members the one
        with the lowest index wins, so the mask is deterministic.

    Examples:
        >>> import torch
        >>> from poptune.family.winner_takes_all import winner_mask
        >>> rewards = torch.tensor([[1.0, 5.0, 2.0],
        ...                         [3.0, 5.0, 0.0]])  # (P=2, B=3); instance 1 is a tie
        >>> winner_mask(rewards)
        tensor([[0., 1., 1.],
                [1., 0., 0.]])
        >>> winner_mask(rewards, direction="minimize")[:, 0]
        tensor([1., 0.])
    """
    rewards = _check(rewards, "winner_mask", "rewards")
    _check_direction(direction, "winner_mask")
    signed = rewards if direction == "maximize" else -rewards
    best = signed.argmax(dim=0)  # (B,): torch returns the first maximal index
    return torch.nn.functional.one_hot(best, rewards.shape[0]).T.to(rewards.dtype)  # (P, B)


def winner_advantage(rewards: torch.Tensor, direction: str = "maximize") -> torch.Tensor:
    """Poppy's advantage: the winner's margin over the second best member, zero elsewhere.

    For ``direction="minimize"`` the margin is ``second lowest cost - lowest cost``, so it is
    never negative either way. No gradient flows through it.

    Args:
        rewards: ``(P, B)`` with ``P >= 2``.
        direction: ``"maximize"`` or ``"minimize"``.

    Returns:
        ``(P, B)``, detached: on each instance ``best - second best`` for the winner, 0 for
        the others (0 for everyone when the two best tie).

    Examples:
        >>> import torch
        >>> from poptune.family.winner_takes_all import winner_advantage
        >>> winner_advantage(torch.tensor([[1.0, 5.0], [3.0, 4.0], [2.5, 0.0]]))
        tensor([[0.0000, 1.0000],
                [0.5000, 0.0000],
                [0.0000, 0.0000]])
    """
    rewards = _check(rewards, "winner_advantage", "rewards", members=2)
    mask = winner_mask(rewards, direction)  # (P, B)
    signed = (rewards if direction == "maximize" else -rewards).detach()  # (P, B)
    top2 = signed.topk(2, dim=0).values  # (2, B)
    return mask * (top2[0] - top2[1])  # (P, B)


def winner_takes_all_loss(per_instance_losses: torch.Tensor, rewards: torch.Tensor,
                          direction: str = "maximize") -> torch.Tensor:
    """Reduce ``(P, B)`` losses to ``(P,)``, keeping on each instance only the winner's term.

    ``losses[p] = sum_b mask[p, b] * per_instance_losses[p, b] / B``: the division is by the
    whole batch, not by the member's wins, so the population's total is the batch mean of the
    winners' losses (the ``1/B`` of Poppy's training algorithm). A member that wins nothing gets a
    zero loss and no gradient this step.

    Args:
        per_instance_losses: ``(P, B)``: member ``p``'s loss on instance ``b``, differentiable.
        rewards: ``(P, B)``: what decides the winner (not differentiated).
        direction: ``"maximize"`` or ``"minimize"`` for ``rewards``.

    Returns:
        ``(P,)`` losses for ``Population.step``.

    Examples:
        >>> import torch
        >>> from poptune.family.winner_takes_all import winner_takes_all_loss
        >>> losses = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # (P=2, B=2)
        >>> winner_takes_all_loss(losses, torch.tensor([[0.0, 9.0], [1.0, 2.0]]))
        tensor([1.0000, 1.5000])
    """
    per_instance_losses = _check(per_instance_losses, "winner_takes_all_loss", "per_instance_losses")
    rewards = _check(rewards, "winner_takes_all_loss", "rewards")
    if per_instance_losses.shape != rewards.shape:
        raise ConfigError(f"winner_takes_all_loss: per_instance_losses has shape {tuple(per_instance_losses.shape)} "
                          f"but rewards has {tuple(rewards.shape)}; both must be (P, B), one row per member")
    mask = winner_mask(rewards.detach(), direction).to(per_instance_losses.dtype)  # (P, B)
    return (mask * per_instance_losses).sum(dim=1) / rewards.shape[1]  # (P,)


def poppy_loss(log_probs: torch.Tensor, rewards: torch.Tensor, direction: str = "maximize") -> torch.Tensor:
    """Poppy's REINFORCE loss (Grinsztajn et al. 2023), one per member.

    ``losses[p] = -(1/B) sum_b A[p, b] * log_probs[p, b]`` with ``A`` from
    :func:`winner_advantage`: only the winner of each instance is pushed towards its
    trajectory, by its margin over the second best. Descending ``losses.sum()`` follows the
    gradient of the population objective ``E[max_k R(tau_k)]`` estimated with that baseline.

    Args:
        log_probs: ``(P, B)``: log-probability of member ``p``'s sampled solution of
            instance ``b`` under member ``p`` (summed over the solution's steps).
        rewards: ``(P, B)``: the reward (or, with ``direction="minimize"``, the cost) of that
            solution. ``P >= 2``.
        direction: ``"maximize"`` or ``"minimize"``.

    Returns:
        ``(P,)`` losses for ``Population.step``.

    Examples:
        >>> import torch
        >>> from poptune.family.winner_takes_all import poppy_loss
        >>> log_probs = torch.zeros(3, 2, requires_grad=True)            # (P=3, B=2)
        >>> lengths = torch.tensor([[4.0, 6.0], [5.0, 3.0], [4.5, 3.5]])  # tour lengths
        >>> poppy_loss(log_probs, lengths, direction="minimize").sum().backward()
        >>> log_probs.grad  # only winners move: member 0 on instance 0, member 1 on instance 1
        tensor([[-0.2500, -0.0000],
                [-0.0000, -0.2500],
                [-0.0000, -0.0000]])
    """
    log_probs = _check(log_probs, "poppy_loss", "log_probs")
    rewards = _check(rewards, "poppy_loss", "rewards", members=2)
    if log_probs.shape != rewards.shape:
        raise ConfigError(f"poppy_loss: log_probs has shape {tuple(log_probs.shape)} but rewards has "
                          f"{tuple(rewards.shape)}; both must be (P, B), one row per member")
    advantage = winner_advantage(rewards, direction).to(log_probs.dtype)  # (P, B)
    return -(advantage * log_probs).sum(dim=1) / rewards.shape[1]  # (P,)


def _check(value: Any, where: str, name: str, members: int = 1) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{where}: {name} must be a torch.Tensor of shape (P, B), got {type(value).__name__}; "
                        f"wrap it with torch.as_tensor(...)")
    if value.ndim != 2:
        raise ConfigError(f"{where}: {name} must have shape (P, B) (members, instances), got "
                          f"{tuple(value.shape)}; for one instance use {name}[:, None]")
    if value.shape[0] < members or value.shape[1] < 1:
        need = "at least two members (the second best is the baseline)" if members == 2 else "a member and an instance"
        raise ConfigError(f"{where}: {name} needs {need}, got shape {tuple(value.shape)}")
    if not value.is_floating_point():
        raise ConfigError(f"{where}: {name} must be floating point, got {value.dtype}; use {name}.float()")
    if not bool(torch.isfinite(value).all()):
        raise ConfigError(f"{where}: {name} has NaN or infinite entries; a winner needs finite values")
    return value


def _check_direction(direction: Any, where: str) -> None:
    if direction not in DIRECTIONS:
        raise ConfigError(f"{where}: direction must be 'maximize' or 'minimize', got {direction!r}")
