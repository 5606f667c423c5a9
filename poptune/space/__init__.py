"""Hyperparameter domains and search spaces (pure; numpy only)."""

from poptune.space.domains import Choice, Domain, Float, Int
from poptune.space.space import Space, as_space

__all__ = ["Choice", "Domain", "Float", "Int", "Space", "as_space"]
