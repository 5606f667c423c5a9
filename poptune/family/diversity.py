"""Diversity via Determinants (DvD): a population optimised jointly for reward and diversity.

Parker-Holder et al. 2020 ("Effective Diversity in Population Based Reinforcement Learning",
arXiv:2002.00632) train all members at once on one objective,

    F(θ_1..θ_P) = Σ_i R(θ_i) + λ · log det K,    K_ij = exp(-|e_i - e_j|² / (2 l²)),

where ``e_i`` is member ``i``'s behavioural embedding (its actions on a fixed set of probe
states, or a summary of its trajectory). ``det K`` is 1 when the embeddings are far apart (K is
the identity) and 0 when two coincide, so the log det term rewards a population that covers the
behaviour space as a whole rather than pairs of members being far apart. The weight λ is chosen
online by a bandit (:class:`DiversityBandit`) that rewards an arm when the population's best
reward improved while it was in use.

- :func:`log_det_diversity`: ``log det K`` of a ``(P, D)`` embedding, differentiable.
- :func:`population_embeddings`: ``(P, D)`` embeddings of a ``pt.vectorized.Population``.
- :func:`dvd_loss`: the scalar loss ``-(Σ rewards + λ log det K)`` for ``Population.step``.
- :class:`DiversityBandit`: Thompson sampling over a few λ arms, checkpointable.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any
from collections.abc import Sequence

import numpy as np

from poptune.errors import ConfigError

if TYPE_CHECKING:
    import torch

JITTER_TRIES = 6  # jitter grows x10 per failed Cholesky, from `jitter` to `jitter * 1e5`


def log_det_diversity(embeddings: torch.Tensor, length_scale: float | str = "median",
                      jitter: float = 1e-6) -> torch.Tensor:
    """``log det(K + jitter·I)`` of the RBF kernel matrix over the members' embeddings.

    ``K_ij = exp(-|e_i - e_j|² / (2 l²))``. Its value lies in ``[P log(jitter), 0]`` (about):
    0 when the members are far apart compared with ``l``, very negative when two coincide. The
    computation runs in float64 (Cholesky) and returns the input's dtype; gradients flow to
    ``embeddings``. If ``K + jitter·I`` is not numerically positive definite, the jitter is
    raised ten-fold, up to five times.

    Args:
        embeddings: A ``(P, D)`` floating tensor, one behavioural embedding per member, P >= 2.
        length_scale: The kernel's ``l``, a positive number, or ``"median"``: the median of the
            pairwise distances (taken without gradient, so it rescales but is not optimised;
            1.0 when every pair coincides). The median makes the term scale free: it keeps
            pushing members apart however spread they are, so bound the behaviour (e.g. tanh
            actions) or weigh it against the reward.
        jitter: Added to K's diagonal for a stable Cholesky factorisation.

    Returns:
        A 0-d tensor.

    Examples:
        >>> import torch
        >>> from poptune.family.diversity import log_det_diversity
        >>> spread = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
        >>> close = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1]])
        >>> bool(log_det_diversity(spread, 1.0) > log_det_diversity(close, 1.0))
        True
        >>> round(float(log_det_diversity(spread * 100, 1.0)), 4)  # far apart: K = I
        0.0
    """
    import torch

    if not isinstance(embeddings, torch.Tensor):
        raise ConfigError(f"log_det_diversity: embeddings must be a torch.Tensor of shape (P, D), "
                          f"got {type(embeddings).__name__}")
    if embeddings.ndim != 2 or embeddings.shape[0] < 2:
        raise ConfigError(f"log_det_diversity: embeddings must be (P, D) with P >= 2 members, got shape "
                          f"{tuple(embeddings.shape)}; flatten each member's behaviour to one row "
                          f"(embeddings.reshape(P, -1)), and use at least two members")
    if not embeddings.is_floating_point():
        raise ConfigError(f"log_det_diversity: embeddings must be floating point, got {embeddings.dtype}")
    if not bool(torch.isfinite(embeddings).all()):
        raise ConfigError("log_det_diversity: embeddings contain NaN or inf; check the policy's outputs "
                          "(a diverging member) before computing the diversity")
    if not isinstance(jitter, numbers.Real) or isinstance(jitter, bool) or not 0 < jitter < 1:
        raise ConfigError(f"log_det_diversity: jitter must be a number in (0, 1), got {jitter!r}")
    e = embeddings.to(torch.float64)
    squared = (e[:, None, :] - e[None, :, :]).pow(2).sum(-1)  # (P, P); no sqrt: a smooth gradient at 0
    scale = _length_scale(squared, length_scale)
    kernel = torch.exp(-squared / (2.0 * scale**2))
    eye = torch.eye(e.shape[0], dtype=torch.float64, device=e.device)
    for attempt in range(JITTER_TRIES):
        factor, info = torch.linalg.cholesky_ex(kernel + jitter * 10**attempt * eye)
        if int(info) == 0:
            return (2.0 * torch.log(torch.diagonal(factor)).sum()).to(embeddings.dtype)
    raise ConfigError(f"log_det_diversity: the kernel matrix is not positive definite even with jitter "
                      f"{jitter * 10 ** (JITTER_TRIES - 1):g}; pass a larger jitter")


def _length_scale(squared: torch.Tensor, length_scale: float | str) -> float:
    if isinstance(length_scale, str):
        if length_scale != "median":
            raise ConfigError(f"log_det_diversity: length_scale must be a positive number or 'median', "
                              f"got {length_scale!r}")
        import torch

        i, j = torch.triu_indices(squared.shape[0], squared.shape[0], 1)
        median = float(squared.detach()[i, j].sqrt().median())
        return median if median > 0 else 1.0
    if isinstance(length_scale, bool) or not isinstance(length_scale, numbers.Real) \
            or not math.isfinite(length_scale) or length_scale <= 0:
        raise ConfigError(f"log_det_diversity: length_scale must be a positive number or 'median', "
                          f"got {length_scale!r}")
    return float(length_scale)


def population_embeddings(population: Any, *probe_inputs: torch.Tensor) -> torch.Tensor:
    """Each member's outputs on fixed probe inputs, flattened: its behavioural embedding.

    DvD's embedding for a policy is the concatenation of its actions on a fixed set of probe
    states. For a ``pt.vectorized.Population`` this is one vmapped forward pass, differentiable
    with respect to every member's weights.

    Args:
        population: A :class:`poptune.vectorized.Population` (or any callable returning a
            ``(P, ...)`` tensor from the probe inputs).
        *probe_inputs: The inputs every member sees, e.g. a ``(B, state_dim)`` tensor of states.

    Returns:
        A ``(P, B * action_dim)`` tensor.

    Examples:
        >>> import torch, poptune as pt
        >>> from poptune.family.diversity import population_embeddings
        >>> pop = pt.vectorized.Population(lambda: torch.nn.Linear(2, 3), 4, optimizer=pt.vectorized.SGD(lr=0.1))
        >>> population_embeddings(pop, torch.randn(5, 2)).shape  # (P, 5 probes * 3 actions)
        torch.Size([4, 15])
    """
    if not probe_inputs:
        raise ConfigError("population_embeddings: pass the probe inputs, e.g. population_embeddings(pop, states)")
    out = population(*probe_inputs)
    return out.reshape(out.shape[0], -1)


def dvd_loss(rewards: torch.Tensor, embeddings: torch.Tensor, weight: float,
             length_scale: float | str = "median") -> torch.Tensor:
    """DvD's joint objective as a scalar loss: ``-(Σ_i rewards_i + weight · log det K)``.

    Pass it to ``Population.step``: the reward term gives each member its own gradient and the
    log det term couples them.

    Args:
        rewards: ``(P,)`` differentiable rewards, one per member (higher is better).
        embeddings: ``(P, D)`` behavioural embeddings (see :func:`population_embeddings`).
        weight: λ >= 0, the diversity weight (e.g. from :class:`DiversityBandit`).
        length_scale: As in :func:`log_det_diversity`.

    Examples:
        >>> import torch
        >>> from poptune.family.diversity import dvd_loss
        >>> e = torch.tensor([[0.0, 0.0], [0.5, 0.0]], requires_grad=True)
        >>> dvd_loss(-e.pow(2).sum(1), e, weight=0.5, length_scale=1.0).backward()
        >>> bool(e.grad[1, 0] < 0)  # the diversity pushes member 1 away from member 0
        True
    """
    if rewards.ndim != 1 or rewards.shape[0] != embeddings.shape[0]:
        raise ConfigError(f"dvd_loss: rewards must be (P,) with P = embeddings.shape[0] = "
                          f"{embeddings.shape[0]}, got shape {tuple(rewards.shape)}")
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not weight >= 0:
        raise ConfigError(f"dvd_loss: weight must be a number >= 0, got {weight!r}")
    if weight == 0:
        return -rewards.sum()  # independent members; no kernel to factorise
    return -(rewards.sum() + weight * log_det_diversity(embeddings, length_scale))


class DiversityBandit:
    """Thompson sampling over diversity weights λ, rewarded when the best reward improves.

    The rule (DvD's, with a Beta-Bernoulli model per arm):

    1. :meth:`select` draws ``θ_a ~ Beta(α_a, β_a)`` for every arm from the bandit's own numpy
       generator and returns the index of the largest (ties: the lowest index).
    2. The caller trains with ``λ = arms[a]`` for a while, then calls
       ``update(a, improvement)`` with the change of the population's best reward over that
       while. The outcome is ``r = 1`` if ``improvement > 0`` else ``0``.
    3. Every arm's counts decay towards the prior, ``α ← 1 + γ(α - 1)``, ``β ← 1 + γ(β - 1)``
       (``γ = discount``; 1 keeps all history, below 1 lets the bandit follow a problem whose
       best λ changes during training), then ``α_a += r``, ``β_a += 1 - r``.

    All arms start at ``Beta(1, 1)``. :meth:`state_dict` holds the counts, the history and the
    generator's state, so a resumed bandit makes the same choices as one never stopped.

    Args:
        arms: The candidate λ values (>= 0, at least one). The paper uses ``(0.0, 0.5)``.
        seed: Seed of the bandit's generator.
        discount: γ in ``(0, 1]``.

    Examples:
        >>> from poptune.family.diversity import DiversityBandit
        >>> bandit = DiversityBandit(arms=(0.0, 0.5), seed=0)
        >>> for _ in range(30):
        ...     arm = bandit.select()
        ...     bandit.update(arm, improvement=1.0 if arm == 0 else -1.0)
        >>> bandit.arms[bandit.select()], bandit.pulls[0] > bandit.pulls[1]
        (0.0, True)
    """

    def __init__(self, arms: Sequence[float] = (0.0, 0.5), seed: int = 0, discount: float = 1.0):
        if isinstance(arms, (str, bytes)) or not isinstance(arms, Sequence) or not arms:
            raise ConfigError(f"DiversityBandit: arms must be a non-empty sequence of weights, got {arms!r}")
        for arm in arms:
            if isinstance(arm, bool) or not isinstance(arm, numbers.Real) or not (math.isfinite(arm) and arm >= 0):
                raise ConfigError(f"DiversityBandit: every arm must be a finite number >= 0, got {arm!r} in {arms!r}")
        if isinstance(discount, bool) or not isinstance(discount, numbers.Real) or not 0 < discount <= 1:
            raise ConfigError(f"DiversityBandit: discount must be in (0, 1] (1 = no forgetting), got {discount!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ConfigError(f"DiversityBandit: seed must be a non-negative integer, got {seed!r}")
        self.arms = tuple(float(a) for a in arms)
        self.discount = float(discount)
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.alpha = np.ones(len(self.arms))
        self.beta = np.ones(len(self.arms))
        self.history: list[tuple[int, float]] = []  # (arm, outcome r) per update

    @property
    def pulls(self) -> list[int]:
        """How many updates each arm has had."""
        return [sum(1 for a, _ in self.history if a == i) for i in range(len(self.arms))]

    def select(self) -> int:
        """Sample each arm's success probability and return the index of the best."""
        return int(np.argmax(self.rng.beta(self.alpha, self.beta)))

    def update(self, arm: int, improvement: float) -> None:
        """Record the outcome of pulling ``arm``: the change of the best reward while it ran."""
        if isinstance(arm, bool) or not isinstance(arm, numbers.Integral) or not 0 <= arm < len(self.arms):
            raise ConfigError(f"DiversityBandit.update: arm must be an index in [0, {len(self.arms)}) "
                              f"as returned by select(), got {arm!r}")
        if isinstance(improvement, bool) or not isinstance(improvement, numbers.Real) or not math.isfinite(improvement):
            raise ConfigError(f"DiversityBandit.update: improvement must be a finite number, got {improvement!r}")
        outcome = 1.0 if improvement > 0 else 0.0
        self.alpha = 1.0 + self.discount * (self.alpha - 1.0)
        self.beta = 1.0 + self.discount * (self.beta - 1.0)
        self.alpha[arm] += outcome
        self.beta[arm] += 1.0 - outcome
        self.history.append((int(arm), outcome))

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: plain Python values (JSON-serialisable)."""
        return {"arms": list(self.arms), "discount": self.discount, "seed": self.seed,
                "alpha": self.alpha.tolist(), "beta": self.beta.tolist(),
                "history": [list(h) for h in self.history], "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`'s output; the arms and discount must match."""
        if list(state.get("arms", ())) != list(self.arms) or state.get("discount") != self.discount:
            raise ConfigError(f"DiversityBandit.load_state_dict: the state is for arms={state.get('arms')!r}, "
                              f"discount={state.get('discount')!r}; this bandit has arms={list(self.arms)!r}, "
                              f"discount={self.discount!r}; build the bandit with the same arguments")
        self.alpha = np.asarray(state["alpha"], dtype=float).copy()
        self.beta = np.asarray(state["beta"], dtype=float).copy()
        self.history = [(int(a), float(r)) for a, r in state["history"]]
        self.seed = int(state["seed"])
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = state["rng"]

    def __repr__(self) -> str:
        return f"DiversityBandit(arms={self.arms}, discount={self.discount}, pulls={self.pulls})"
