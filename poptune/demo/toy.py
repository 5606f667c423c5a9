"""The toy problem of the PBT paper (Jaderberg et al. 2017, section 4.1, figure 2).

The model is ``theta = (theta0, theta1)``, starting at ``(0.9, 0.9)``. The true objective is
``Q(theta) = 1.2 - (theta0**2 + theta1**2)``, maximal (1.2) at the origin. A member only sees
the surrogate ``Q_hat(theta | h) = 1.2 - (h0 * theta0**2 + h1 * theta1**2)`` and climbs its
gradient; its score is the true ``Q``. With ``h = (1, 0)`` or ``(0, 1)`` fixed, gradient ascent
only shrinks one coordinate and ``Q`` stalls at 0.39. PBT copies the better ``theta`` and
moves ``h`` with noise, and reaches ``Q`` close to 1.2.
"""

from __future__ import annotations

import numpy as np

import poptune as pt

THETA0 = (0.9, 0.9)
STEP_SIZE = 0.05
SPACE = {"h0": pt.Float(0.0, 1.0), "h1": pt.Float(0.0, 1.0)}
INITIAL = [{"h0": 1.0, "h1": 0.0}, {"h0": 0.0, "h1": 1.0}]


def q(theta: np.ndarray) -> float:
    """True objective."""
    return 1.2 - float(np.sum(np.square(theta)))


def train(member: pt.Member) -> None:
    """One step is one gradient-ascent step on the surrogate; the score is the true Q."""
    theta = np.array(THETA0 if member.checkpoint is None else member.checkpoint, dtype=float)
    h = np.array([member.hparams["h0"], member.hparams["h1"]])
    for _ in member.steps():
        theta = theta + STEP_SIZE * (-2.0 * h * theta)
        member.report(q(theta), checkpoint=theta.tolist(), theta0=theta[0], theta1=theta[1])


def explore(hparams: dict, rng: np.random.Generator) -> dict:
    """The paper's explore for the toy: add Gaussian noise to h, clipped to [0, 1]."""
    return {k: float(np.clip(v + rng.normal(0.0, 0.1), 0.0, 1.0)) for k, v in hparams.items()}
