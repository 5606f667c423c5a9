"""What ranks members: the fitness, higher is better. Pass one as ``pt.run(fitness=...)``.

By default a member's fitness is its latest score, oriented by ``direction``. A noisy score
(episode returns in RL) ranks better smoothed over the lineage's recent scores; a run may also
rank by a metric other than the score it displays. Any function ``(score, metrics) -> float``
works too (higher is better). Non-finite values rank worst.
"""

from __future__ import annotations

import math
import numbers
from typing import Any
from collections.abc import Callable, Mapping, Sequence

from poptune.errors import ConfigError, UsageError


class Fitness:
    """Protocol: :meth:`value` maps one report to a number, higher is better.

    ``window`` is how many recent scores of the member's model (its lineage: after an exploit,
    the source's scores) :meth:`value` receives in ``recent``, oldest first, the current one last.
    """

    window: int = 1

    def value(self, score: float, metrics: Mapping[str, Any], recent: Sequence[float], direction: str) -> float:
        raise NotImplementedError


def oriented(value: float, direction: str) -> float:
    """``value`` with higher meaning better; non-finite values become ``-inf``.

    Examples:
        >>> oriented(0.3, "minimize"), oriented(float("nan"), "maximize")
        (-0.3, -inf)
    """
    if not math.isfinite(value):
        return -math.inf
    return value if direction == "maximize" else -value


class Score(Fitness):
    """The latest score, oriented by the run's direction (the default).

    Examples:
        >>> Score().value(0.25, {}, (0.25,), "minimize")
        -0.25
    """

    def value(self, score, metrics, recent, direction):
        return oriented(score, direction)

    def __repr__(self) -> str:
        return "Score()"


class Smoothed(Fitness):
    """The mean of the last ``window`` scores of the member's model (its lineage), oriented.

    Ranks a noisy score (RL returns, small validation sets) on more than one evaluation. A
    non-finite score in the window makes the fitness ``-inf``.

    Args:
        window: Number of recent scores averaged, at least 1.

    Examples:
        >>> Smoothed(3).value(0.9, {}, (0.1, 0.2, 0.9), "maximize")
        0.4
    """

    def __init__(self, window: int = 5):
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ConfigError(f"Smoothed: window must be an integer >= 1, got {window!r}")
        self.window = window

    def value(self, score, metrics, recent, direction):
        values = list(recent)[-self.window:] or [score]
        if not all(math.isfinite(v) for v in values):
            return -math.inf
        return round(oriented(sum(values) / len(values), direction), 12)

    def __repr__(self) -> str:
        return f"Smoothed({self.window})"


class Metric(Fitness):
    """Rank by the reported metric ``name`` instead of the score.

    Args:
        name: A metric every member reports (``member.report(score, name=value)``).
        direction: ``"maximize"`` or ``"minimize"`` that metric.

    Examples:
        >>> Metric("val_loss", "minimize").value(0.9, {"val_loss": 0.3}, (0.9,), "maximize")
        -0.3
    """

    def __init__(self, name: str, direction: str = "maximize"):
        if not isinstance(name, str) or not name:
            raise ConfigError(f"Metric: name must be a metric's name, got {name!r}")
        if direction not in ("maximize", "minimize"):
            raise ConfigError(f"Metric({name!r}): direction must be 'maximize' or 'minimize', got {direction!r}")
        self.name, self.direction = name, direction

    def value(self, score, metrics, recent, direction):
        if self.name not in metrics:
            raise UsageError(
                f"fitness=Metric({self.name!r}) but a report has no metric {self.name!r} (it has "
                f"{sorted(metrics) or 'none'}); report it at every step: member.report(score, {self.name}=...)"
            )
        value = metrics[self.name]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise UsageError(f"fitness=Metric({self.name!r}): the metric must be a number, got {value!r}")
        return oriented(float(value), self.direction)

    def __repr__(self) -> str:
        return f"Metric({self.name!r}, {self.direction!r})"


class FunctionFitness(Fitness):
    """Adapts ``fn(score, metrics) -> float`` (higher is better) to :class:`Fitness`."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def value(self, score, metrics, recent, direction):
        value = self.fn(score, dict(metrics))
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            raise UsageError(f"fitness function {name} returned {value!r}; return a number (higher is better)")
        value = float(value)
        return value if math.isfinite(value) else -math.inf

    def __repr__(self) -> str:
        return f"FunctionFitness({getattr(self.fn, '__qualname__', repr(self.fn))})"


class Rated(Fitness):
    """A league member's conservative rating (the default fitness of a run with ``league=``).

    Read from the league's ratings when the member reports, after the matches it reported with
    that step; see :class:`poptune.League`.
    """

    def value(self, score, metrics, recent, direction):
        raise UsageError("fitness=pt.fitness.Rated() ranks members by their league rating: pass league=pt.League(...) "
                         "to pt.run, or choose another fitness")

    def __repr__(self) -> str:
        return "Rated()"


def as_fitness(value: Fitness | Callable | str | None, direction: str = "maximize") -> Fitness:
    """Accept a :class:`Fitness`, a function ``(score, metrics) -> float``, a metric's name (ranked
    in the run's ``direction``), or ``None`` (the score)."""
    if value is None:
        return Score()
    if isinstance(value, str):
        return Metric(value, direction)
    if isinstance(value, Fitness):
        return value
    if isinstance(value, type):
        raise ConfigError(f"fitness={value.__name__} is a class: pass an instance, fitness={value.__name__}()")
    if callable(value):
        return FunctionFitness(value)
    raise ConfigError(
        f"fitness must be pt.fitness.Score(), Smoothed(window), Metric(name, direction), a metric's name, "
        f"a function (score, metrics) -> float, or None; got {value!r}"
    )


__all__ = ["Fitness", "FunctionFitness", "Metric", "Rated", "Score", "Smoothed", "as_fitness", "oriented"]
