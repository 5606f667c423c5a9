"""The demo task: small PyTorch networks on scikit-learn's digits (ships with scikit-learn).

One step is one epoch over the training split. A member's score is its accuracy on the
validation split (PBT selects on it); the test split is reported as a metric and used only to
compare methods at the end, so selection never sees it.

Run it with ``poptune demo`` or ``python -m poptune.demo.digits``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import poptune as pt

if TYPE_CHECKING:
    import torch

SPACE = {
    "lr": pt.Float(1e-3, 1.0, log=True),
    "momentum": pt.Float(0.0, 0.99),
    "weight_decay": pt.Float(1e-6, 1e-2, log=True),
    "dropout": pt.Float(0.0, 0.6),
}
HIDDEN = 256
BATCH = 32


@dataclass
class Digits:
    """Standardized splits, as float32 tensors."""

    x_train: torch.Tensor  # noqa: F821  (N, 64)
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


@functools.lru_cache(maxsize=4)
def load(seed: int = 0, noise: float = 0.0) -> Digits:
    """Split digits 60/20/20 (stratified, by ``seed``) and standardize with training statistics.

    ``noise`` is the share of training labels replaced by random ones (a harder task where
    regularization matters more); validation and test labels stay clean.
    """
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=0.4, stratify=y, random_state=seed)
    x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=seed)
    if noise > 0:
        rng = np.random.default_rng(seed)
        flip = rng.random(len(y_train)) < noise
        y_train = np.where(flip, rng.integers(0, 10, len(y_train)), y_train)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6

    def tensor(a, dtype=torch.float32):
        return torch.as_tensor(a, dtype=dtype)

    return Digits(
        tensor((x_train - mean) / std), tensor(y_train, torch.long),
        tensor((x_val - mean) / std), tensor(y_val, torch.long),
        tensor((x_test - mean) / std), tensor(y_test, torch.long),
    )


def make_model(dropout: float):
    import torch.nn as nn

    return nn.Sequential(
        nn.Linear(64, HIDDEN), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(HIDDEN, 10),
    )


def dropout_mlp(hidden: tuple[int, ...] = (128, 128)):
    """An MLP whose dropout rate is a buffer named ``dropout``: in a vectorized population each
    member reads its own rate (the population writes the ``dropout`` hyperparameter into it)."""
    return _dropout_mlp_class()(tuple(hidden))


@functools.cache
def _dropout_mlp_class():
    # Built once, on first use (torch stays a lazy import); every member must share the class.
    import torch
    import torch.nn as nn

    class DropoutMLP(nn.Module):
        def __init__(self, hidden: tuple[int, ...]):
            super().__init__()
            sizes = (64, *hidden)
            self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
            self.out = nn.Linear(sizes[-1], 10)
            self.register_buffer("dropout", torch.tensor(0.0))

        def forward(self, x):  # (B, 64) -> (B, 10)
            for layer in self.hidden:
                x = torch.relu(layer(x))
                if self.training:  # dropout written out: the rate is a tensor, one per member
                    x = x * ((torch.rand_like(x) >= self.dropout) / (1 - self.dropout))
            return self.out(x)

    return DropoutMLP


def accuracy(model, x, y) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def train(member: pt.Member, data_seed: int = 0, noise: float = 0.0, hidden: tuple[int, ...] | None = None) -> None:
    """Train one member: an epoch per step, validation accuracy as the score.

    ``hidden=None`` trains the demo's MLP; ``hidden=(128, 128)`` trains :func:`dropout_mlp`, the
    model of the vectorized example, so both engines can be compared on one model.
    """
    import torch

    data = load(data_seed, noise)
    h = member.hparams
    torch.manual_seed(member.seed)
    if hidden is None:
        model = make_model(h["dropout"])
    else:
        model = dropout_mlp(hidden)
        model.dropout.fill_(h["dropout"])
    opt = torch.optim.SGD(model.parameters(), lr=h["lr"], momentum=h["momentum"], weight_decay=h["weight_decay"])
    if member.checkpoint is not None:
        model.load_state_dict(member.checkpoint["model"])
        opt.load_state_dict(member.checkpoint["opt"])
        for group in opt.param_groups:  # the copied optimizer state keeps the new hyperparameters
            group.update(lr=h["lr"], momentum=h["momentum"], weight_decay=h["weight_decay"])
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(member.seed)
    n = len(data.y_train)
    for _ in member.steps():
        model.train()
        total = 0.0
        for idx in torch.randperm(n, generator=generator).split(BATCH):
            opt.zero_grad()
            loss = loss_fn(model(data.x_train[idx]), data.y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        member.report(
            accuracy(model, data.x_val, data.y_val),
            checkpoint=lambda: {"model": model.state_dict(), "opt": opt.state_dict()},
            test_accuracy=accuracy(model, data.x_test, data.y_test),
            train_loss=total / n,
        )
