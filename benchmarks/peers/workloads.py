"""The three workloads of the peer benchmark, as plain functions both systems call.

Each step function takes the state (``None`` on a fresh start) and the hyperparameters, runs one
step, and returns ``(score, new_state)``.
"""

from __future__ import annotations

import numpy as np

TOY_THETA0, TOY_STEP = (0.9, 0.9), 0.05


def toy_step(state, h):
    theta = np.array(TOY_THETA0 if state is None else state, dtype=float)
    theta = theta + TOY_STEP * (-2.0 * np.array([h["h0"], h["h1"]]) * theta)
    return 1.2 - float(np.sum(theta**2)), theta.tolist()


def toy_explore(h, rng):
    return {k: float(np.clip(v + rng.normal(0.0, 0.1), 0.0, 1.0)) for k, v in h.items()}


def noop_step(state, h):
    return 1.0 + h["x"], list(range(16))


def digits_state(h, seed=0):
    import torch

    from poptune.demo import digits

    torch.manual_seed(seed)
    model = digits.make_model(0.0)
    opt = torch.optim.SGD(model.parameters(), lr=h["lr"], momentum=h["momentum"])
    return model, opt


def digits_epoch(model, opt, h, generator):
    """One epoch of the demo's digits task (clean labels); returns validation accuracy."""
    import torch

    from poptune.demo import digits

    data = digits.load(0, 0.0)
    for group in opt.param_groups:
        group.update(lr=h["lr"], momentum=h["momentum"])
    model.train()
    for idx in torch.randperm(len(data.y_train), generator=generator).split(32):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx]).backward()
        opt.step()
    return digits.accuracy(model, data.x_val, data.y_val)
