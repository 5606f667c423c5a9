"""The toy problem of the PBT paper (section 4.1, figure 2): why exploit *and* explore matter.

    python examples/toy.py

theta starts at (0.9, 0.9); the true objective is Q(theta) = 1.2 - (theta0^2 + theta1^2). Each
member climbs only a surrogate, Q_hat(theta | h) = 1.2 - (h0 theta0^2 + h1 theta1^2), with
h = (1, 0) for one member and (0, 1) for the other. Fixed h stalls at Q = 0.39; PBT copies the
better theta and moves h, and reaches Q = 1.2.
"""

import numpy as np

import poptune as pt

THETA0, STEP_SIZE = (0.9, 0.9), 0.05


def q(theta):
    return 1.2 - float(np.sum(np.square(theta)))


def train(member):
    theta = np.array(THETA0 if member.checkpoint is None else member.checkpoint)
    h = np.array([member.hparams["h0"], member.hparams["h1"]])
    for _ in member.steps():
        theta = theta + STEP_SIZE * (-2.0 * h * theta)  # gradient ascent on the surrogate
        member.report(q(theta), checkpoint=theta.tolist())  # scored on the true objective


def explore(hparams, rng):  # the paper's explore: Gaussian noise on h, kept in [0, 1]
    return {k: float(np.clip(v + rng.normal(0.0, 0.1), 0.0, 1.0)) for k, v in hparams.items()}


if __name__ == "__main__":
    space = {"h0": pt.Float(0.0, 1.0), "h1": pt.Float(0.0, 1.0)}
    initial = [{"h0": 1.0, "h1": 0.0}, {"h0": 0.0, "h1": 1.0}]
    for name, exploit in (("PBT", pt.Truncation(0.5)), ("fixed h (grid search)", None)):
        result = pt.run(train, space, population=2, steps=200, interval=4, exploit=exploit, explore=explore,
                        initial=initial, runner="inline", dir=f"runs/example-toy-{exploit is None}",
                        overwrite=True, seed=0, progress=False)
        print(f"{name:>22}: Q = {result.best.score:.4f} after 200 steps, {len(result.exploits)} exploits")
