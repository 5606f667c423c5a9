"""Vectorized populations: the whole population as one stacked model on one device (torch).

Needs PyTorch: ``pip install 'poptune[torch]'``.
"""

try:
    import torch  # noqa: F401
except ImportError as err:  # pragma: no cover - exercised only without torch
    raise ImportError("poptune.vectorized needs PyTorch: pip install 'poptune[torch]'") from err

from poptune.vectorized.checkpoint import StackedState
from poptune.vectorized.optim import SGD, Adam, AdamW, Optimizer
from poptune.vectorized.population import Functional, Population
from poptune.vectorized.session import Session
from poptune.vectorized.supervised import run

__all__ = ["SGD", "Adam", "AdamW", "Functional", "Optimizer", "Population", "Session", "StackedState", "run"]
