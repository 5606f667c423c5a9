"""The two strategy protocols and the population snapshot they read.

An *exploit* strategy decides whether a ready member (the target) copies another member (the
source). An *explore* strategy changes the hyperparameters the target takes over. Both are pure
functions of their inputs and an explicit ``numpy.random.Generator``: no I/O, no global state,
so one strategy serves every runner (inline, processes, Ray, vectorized).

Plain functions work too:

- ``exploit(target, population[, rng]) -> MemberView | int | None``
- ``explore(hparams, rng) -> dict``
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from poptune.errors import ConfigError, UsageError
from poptune.space import Space


@dataclass(frozen=True)
class MemberView:
    """A read-only snapshot of one member, as strategies see it.

    Attributes:
        id: Member id.
        hparams: Current hyperparameters.
        score: Latest reported score, as reported.
        fitness: The same score oriented so that higher is better (``-score`` when minimizing);
            NaN and infinite scores become ``-inf``, so they rank worst.
        step: Last reported step.
        history: Recent fitness values, oldest first (length set by the exploit strategy's
            ``window``; at least the latest).
        generation: Number of exploits along this member's lineage.
    """

    id: int
    hparams: Mapping[str, Any]
    score: float
    fitness: float
    step: int
    history: tuple[float, ...]
    generation: int = 0


def fitness(score: float, direction: str) -> float:
    """Orient ``score`` so that higher is better; non-finite scores become ``-inf``.

    Example:
        >>> fitness(0.3, "minimize"), fitness(float("nan"), "maximize")
        (-0.3, -inf)
    """
    if not math.isfinite(score):
        return -math.inf
    return score if direction == "maximize" else -score


def ranked(population: Sequence[MemberView], rng: np.random.Generator) -> list[MemberView]:
    """Members from worst to best fitness, ties in random order (never by position)."""
    shuffled = [population[i] for i in rng.permutation(len(population))]
    return sorted(shuffled, key=lambda m: m.fitness)


class Exploit:
    """Protocol of an exploit strategy: one method, :meth:`select`.

    Subclasses may set ``window`` (an int) to ask for that many recent scores in
    :attr:`MemberView.history`.
    """

    window: int = 1

    def select(
        self, target: MemberView, population: Sequence[MemberView], rng: np.random.Generator
    ) -> MemberView | None:
        """Return the member ``target`` should copy, or ``None`` to keep training as it is.

        ``population`` holds every member that can be copied (it has a checkpoint), the target
        included. The returned member is never the target.
        """
        raise NotImplementedError


class Explore:
    """Protocol of an explore strategy: one method, :meth:`explore`."""

    def explore(self, hparams: Mapping[str, Any], space: Space, rng: np.random.Generator) -> dict:
        """Return new hyperparameters derived from ``hparams`` (copied from the source)."""
        raise NotImplementedError


def _positional_arity(fn: Callable) -> int | None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    count = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


class FunctionExploit(Exploit):
    """Adapts a plain function ``fn(target, population[, rng])`` to :class:`Exploit`."""

    def __init__(self, fn: Callable):
        self.fn = fn
        self._with_rng = _positional_arity(fn) != 2

    def select(self, target, population, rng):
        chosen = self.fn(target, population, rng) if self._with_rng else self.fn(target, population)
        if chosen is None:
            return None
        by_id = {m.id: m for m in population}
        key = chosen.id if isinstance(chosen, MemberView) else chosen
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or int(key) not in by_id:
            raise UsageError(
                f"exploit function {_name(self.fn)} returned {chosen!r}; return a member of the "
                f"population it was given (a MemberView or its id) or None"
            )
        if int(key) == target.id:
            raise UsageError(
                f"exploit function {_name(self.fn)} returned the target itself (member {target.id}); "
                f"return None to keep the target as it is"
            )
        return by_id[int(key)]

    def __repr__(self) -> str:
        return f"FunctionExploit({_name(self.fn)})"


class FunctionExplore(Explore):
    """Adapts a plain function ``fn(hparams, rng) -> dict`` to :class:`Explore`.

    The returned dict is validated against the space: a value out of bounds is an error that
    names the hyperparameter, not a silent clip.
    """

    def __init__(self, fn: Callable):
        self.fn = fn

    def explore(self, hparams, space, rng):
        new = self.fn(dict(hparams), rng)
        if not isinstance(new, Mapping):
            raise UsageError(f"explore function {_name(self.fn)} returned {new!r}; return a dict")
        merged = {**hparams, **new}
        frozen = [k for k in space if k not in space.explorable and merged[k] != hparams[k]]
        if frozen:
            raise UsageError(
                f"explore function {_name(self.fn)} changed {frozen}, which the space declares "
                f"constant or explore=False; leave them as they are"
            )
        try:
            return space.validate(merged, f"explore function {_name(self.fn)}")
        except ConfigError as err:
            raise UsageError(str(err)) from None

    def __repr__(self) -> str:
        return f"FunctionExplore({_name(self.fn)})"


def _name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def as_exploit(value: Exploit | Callable | None) -> Exploit | None:
    """Accept a strategy object, a plain function or ``None`` (never exploit)."""
    if value is None or isinstance(value, Exploit):
        return value
    if callable(value):
        return FunctionExploit(value)
    raise ConfigError(
        f"exploit must be a strategy such as pt.Truncation(0.2), a function "
        f"(target, population, rng) -> member or None, or None; got {value!r}"
    )


def as_explore(value: Explore | Callable) -> Explore:
    """Accept a strategy object or a plain function ``(hparams, rng) -> dict``."""
    if isinstance(value, Explore):
        return value
    if callable(value) and not isinstance(value, type):
        return FunctionExplore(value)
    raise ConfigError(
        f"explore must be a strategy such as pt.Perturb() or a function (hparams, rng) -> dict; "
        f"got {value!r}"
    )
