"""Hyperparameter domains: where a value may lie, how to draw one, how to move one.

Three kinds cover what PBT needs: :class:`Float` and :class:`Int` (linear or log scale) and
:class:`Choice` (a list of options, ordered: perturbation moves to a neighbour). Values are
plain Python ``float``/``int``/option values, so they serialize to JSON unchanged.
"""

from __future__ import annotations

import json
import math
from typing import Any
from collections.abc import Sequence

import numpy as np

from poptune.errors import ConfigError


class Domain:
    """Base class of a hyperparameter domain.

    Subclasses implement :meth:`sample`, :meth:`perturb`, :meth:`validate` and :meth:`describe`.
    ``explore=False`` makes a hyperparameter that is sampled once per member and copied with the
    weights on exploit, but never perturbed or resampled: the way to search over things a model
    cannot change mid-training (layer width, activation).
    """

    log: bool = False
    explore: bool = True

    def sample(self, rng: np.random.Generator) -> Any:
        """Draw a value from the prior."""
        raise NotImplementedError

    def perturb(self, value: Any, factor: float, rng: np.random.Generator) -> Any:
        """Move ``value`` by ``factor`` (multiplicative for numbers), staying inside the domain."""
        raise NotImplementedError

    def validate(self, value: Any, name: str) -> Any:
        """Return ``value`` in canonical type, or raise :class:`ConfigError` naming ``name``."""
        raise NotImplementedError

    def describe(self) -> dict:
        """A JSON-serializable description (stored with the run, compared on resume)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Domain) and self.describe() == other.describe()

    def __hash__(self) -> int:
        return hash(json.dumps(self.describe(), sort_keys=True))


def _check_number(kind: str, arg: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{kind}: {arg} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ConfigError(f"{kind}: {arg} must be finite, got {value!r}")
    return float(value)


class Float(Domain):
    """A real-valued hyperparameter in ``[low, high]``.

    Args:
        low: Smallest value.
        high: Largest value; must be greater than ``low``.
        log: Sample uniformly in log space (for learning rates, weight decay...).
            Requires ``low > 0``.
        explore: ``False``: sampled once per member, never changed by explore.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> lr = pt.Float(1e-4, 1e-1, log=True)
        >>> 1e-4 <= lr.sample(np.random.default_rng(0)) <= 1e-1
        True
        >>> lr.perturb(0.09, 1.2, np.random.default_rng(0))  # clipped to the bound
        0.1
    """

    def __init__(self, low: float, high: float, log: bool = False, explore: bool = True):
        low = _check_number("Float", "low", low)
        high = _check_number("Float", "high", high)
        if not low < high:
            raise ConfigError(f"Float: low must be < high, got low={low:g}, high={high:g}")
        if log and low <= 0:
            raise ConfigError(
                f"Float: log=True needs low > 0, got low={low:g}; use log=False or a positive low"
            )
        self.low, self.high, self.log, self.explore = low, high, bool(log), bool(explore)

    def sample(self, rng: np.random.Generator) -> float:
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return self._clip(value)

    def perturb(self, value: Any, factor: float, rng: np.random.Generator) -> float:
        return self._clip(float(value) * factor)

    def validate(self, value: Any, name: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ConfigError(f"hyperparameter {name!r}: expected a number, got {value!r}")
        value = float(value)
        if not self.low <= value <= self.high:
            raise ConfigError(
                f"hyperparameter {name!r}: {value:g} is outside [{self.low:g}, {self.high:g}]"
            )
        return value

    def describe(self) -> dict:
        return {"type": "Float", "low": self.low, "high": self.high, "log": self.log, "explore": self.explore}

    def _clip(self, value: float) -> float:
        return float(min(max(value, self.low), self.high))

    def __repr__(self) -> str:
        return f"Float({self.low:g}, {self.high:g}{', log=True' if self.log else ''}{_frozen(self)})"


class Int(Domain):
    """An integer hyperparameter in ``[low, high]`` (both included).

    Args:
        low: Smallest value.
        high: Largest value; must be greater than ``low``.
        log: Sample uniformly in log space (for widths, batch sizes...). Requires ``low >= 1``.
        explore: ``False``: sampled once per member, never changed by explore (for a layer
            width: exploit copies it with the weights that fit it).

    Perturbation multiplies and rounds; when rounding would leave the value where it was, it
    moves one unit in the factor's direction, so small integers still explore.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> width = pt.Int(16, 256, log=True)
        >>> width.perturb(64, 1.2, np.random.default_rng(0))
        77
        >>> pt.Int(1, 8).perturb(2, 1.2, np.random.default_rng(0))  # 2.4 rounds to 2: move to 3
        3
    """

    def __init__(self, low: int, high: int, log: bool = False, explore: bool = True):
        for arg, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ConfigError(f"Int: {arg} must be an integer, got {value!r}")
        low, high = int(low), int(high)
        if not low < high:
            raise ConfigError(f"Int: low must be < high, got low={low}, high={high}")
        if log and low < 1:
            raise ConfigError(f"Int: log=True needs low >= 1, got low={low}")
        self.low, self.high, self.log, self.explore = low, high, bool(log), bool(explore)

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5)))
            return self._clip(round(value))
        return int(rng.integers(self.low, self.high + 1))

    def perturb(self, value: Any, factor: float, rng: np.random.Generator) -> int:
        value = int(value)
        moved = round(value * factor)
        if moved == value and factor != 1.0:
            moved = value + (1 if (value * factor > value) else -1)
        return self._clip(moved)

    def validate(self, value: Any, name: str) -> int:
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ConfigError(f"hyperparameter {name!r}: expected an integer, got {value!r}")
        value = int(value)
        if not self.low <= value <= self.high:
            raise ConfigError(
                f"hyperparameter {name!r}: {value} is outside [{self.low}, {self.high}]"
            )
        return value

    def describe(self) -> dict:
        return {"type": "Int", "low": self.low, "high": self.high, "log": self.log, "explore": self.explore}

    def _clip(self, value: int) -> int:
        return int(min(max(value, self.low), self.high))

    def __repr__(self) -> str:
        return f"Int({self.low}, {self.high}{', log=True' if self.log else ''}{_frozen(self)})"


class Choice(Domain):
    """A hyperparameter taking one of a list of options.

    The list is taken as ordered: perturbation moves to a neighbouring option (for
    ``[16, 32, 64]`` from 32 to 16 or 64). Options must be JSON values (numbers, strings,
    booleans, ``None``). ``explore=False`` samples it once per member and never changes it.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> act = pt.Choice(["relu", "tanh", "gelu"])
        >>> act.perturb("tanh", 1.2, np.random.default_rng(0))
        'gelu'
    """

    def __init__(self, options: Sequence[Any], explore: bool = True):
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
            raise ConfigError(f"Choice: options must be a list, got {options!r}")
        options = list(options)
        if not options:
            raise ConfigError("Choice: options must not be empty")
        for option in options:
            if not isinstance(option, (str, int, float, bool, type(None))):
                raise ConfigError(
                    f"Choice: options must be numbers, strings, booleans or None, got {option!r}"
                )
        if len({json.dumps(o) for o in options}) != len(options):
            raise ConfigError(f"Choice: options must be distinct, got {options!r}")
        self.options = options
        self.explore = bool(explore)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    def perturb(self, value: Any, factor: float, rng: np.random.Generator) -> Any:
        if len(self.options) == 1:
            return self.options[0]
        index = self._index(value, "value")
        step = 1 if factor > 1.0 else -1 if factor < 1.0 else int(rng.choice([-1, 1]))
        if not 0 <= index + step < len(self.options):
            step = -step
        return self.options[index + step]

    def validate(self, value: Any, name: str) -> Any:
        return self.options[self._index(value, f"hyperparameter {name!r}")]

    def describe(self) -> dict:
        return {"type": "Choice", "options": list(self.options), "explore": self.explore}

    def _index(self, value: Any, what: str) -> int:
        for i, option in enumerate(self.options):
            if type(option) is type(value) and option == value:
                return i
        for i, option in enumerate(self.options):
            if option == value and not isinstance(value, bool) and not isinstance(option, bool):
                return i
        raise ConfigError(f"{what}: {value!r} is not one of {self.options!r}")

    def __repr__(self) -> str:
        return f"Choice({self.options!r}{_frozen(self)})"


def _frozen(domain: Domain) -> str:
    return "" if domain.explore else ", explore=False"


def domain_from_description(description: dict) -> Domain:
    """Rebuild a domain from :meth:`Domain.describe` output (used when reading a stored run)."""
    kind = description.get("type")
    explore = description.get("explore", True)
    if kind == "Float":
        return Float(description["low"], description["high"], log=description["log"], explore=explore)
    if kind == "Int":
        return Int(description["low"], description["high"], log=description["log"], explore=explore)
    if kind == "Choice":
        return Choice(description["options"], explore=explore)
    raise ConfigError(f"unknown domain description {description!r}")
