"""Per-member stop conditions: ``pt.run(..., stop=...)`` ends a member before its budget.

A condition is checked on every report. A member that meets it trains on to its next ready
step (where its state is saved anyway), is finished there and frees its worker; the rest of the
population goes on. Its model stays in the population: others may still copy the state it
saved at that step. A resumed run keeps stopped members stopped.

Examples:
    >>> from poptune.result import ReportRecord
    >>> stop = as_stop({"score": 0.95}, "maximize")
    >>> stop(ReportRecord(member=0, step=3, score=0.96))
    True
    >>> as_stop({"loss": 0.1}, "maximize")(ReportRecord(member=0, step=3, score=0.5, metrics={"loss": 0.2}))
    True
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

from poptune.errors import ConfigError, UsageError


class Stop:
    """A stop condition: ``condition(report) -> bool`` for a :class:`~poptune.result.ReportRecord`."""

    def __call__(self, report) -> bool:
        raise NotImplementedError


class Thresholds(Stop):
    """Stop once a value reaches its threshold, like Ray Tune's ``stop={"mean_accuracy": 0.96}``.

    ``"score"`` counts as reached in the run's direction (at or above it when maximizing, at or
    below when minimizing); any other key is a reported metric, reached at or above the
    threshold, as in Ray Tune (use a function for "at or below": ``lambda r: r.metrics["loss"] <
    0.1``). ``"step"`` (or Ray's ``"training_iteration"``) stops at that step. Any one reached
    stops the member.
    """

    def __init__(self, thresholds: Mapping[str, float], direction: str):
        for key, value in thresholds.items():
            if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ConfigError(f"stop={dict(thresholds)!r}: map metric names to numbers, e.g. stop={{'score': "
                                  f"0.95}}; got {key!r}: {value!r}")
        self.thresholds, self.direction = dict(thresholds), direction

    def __call__(self, report) -> bool:
        for key, threshold in self.thresholds.items():
            if key in ("step", "training_iteration"):
                if report.step >= threshold:
                    return True
            elif key == "score":
                if report.score >= threshold if self.direction == "maximize" else report.score <= threshold:
                    return True
            else:
                if key not in report.metrics:
                    raise UsageError(f"stop={{{key!r}: {threshold!r}}} but member {report.member}'s report at step "
                                     f"{report.step} has no metric {key!r} (it has {sorted(report.metrics) or 'none'}); "
                                     f"report it at every step: member.report(score, {key}=...)")
                value = report.metrics[key]
                if isinstance(value, numbers.Real) and not isinstance(value, bool) and value >= threshold:
                    return True
        return False

    def __repr__(self) -> str:
        return f"Thresholds({self.thresholds!r})"


class FunctionStop(Stop):
    """Adapts ``fn(report) -> bool``."""

    def __init__(self, fn: Callable[[Any], Any]):
        self.fn = fn

    def __call__(self, report) -> bool:
        answer = self.fn(report)
        if not isinstance(answer, (bool, numbers.Integral)) and type(answer).__name__ != "bool_":
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            raise UsageError(f"stop function {name} returned {answer!r}; return True (stop this member) or False")
        return bool(answer)

    def __repr__(self) -> str:
        return f"FunctionStop({getattr(self.fn, '__qualname__', repr(self.fn))})"


def as_stop(value: Stop | Mapping | Callable | None, direction: str) -> Stop | None:
    """Accept ``None``, a :class:`Stop`, a dict of thresholds or a function ``(report) -> bool``."""
    if value is None or isinstance(value, Stop):
        return value
    if isinstance(value, Mapping):
        if not value:
            raise ConfigError("stop={} stops nothing: pass None, a dict such as {'score': 0.95}, or a function")
        return Thresholds(value, direction)
    if callable(value) and not isinstance(value, type):
        return FunctionStop(value)
    raise ConfigError(f"stop must be None, a dict of thresholds such as {{'score': 0.95}}, or a function "
                      f"(report) -> bool; got {value!r}")


__all__ = ["FunctionStop", "Stop", "Thresholds", "as_stop"]
