"""The two strategy protocols.

An *exploit* strategy decides whether a ready member (the target) copies another member (the
source). An *explore* strategy changes the hyperparameters the target takes over. Both are pure
functions of what they read (:mod:`poptune.strategies.views`) and an explicit
``numpy.random.Generator``: no I/O, no global state, so one strategy serves every runner
(inline, processes, Ray, vectorized) and a resumed run makes the same decisions.

Plain functions work too:

- ``exploit(target, population[, rng]) -> MemberView | int | None``
- ``explore(hparams, rng[, context]) -> dict``
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from poptune.errors import ConfigError, UsageError
from poptune.space import Space
from poptune.strategies.views import MemberView, PopulationView, as_population


def ranked(population: Sequence[MemberView], rng: np.random.Generator) -> list[MemberView]:
    """Members from worst to best fitness, ties in random order (never by position).

    A :class:`PopulationView` is ranked already (its ties were drawn once for its round).
    """
    return list(as_population(population, rng))


@dataclass
class ExploreContext:
    """What an explore strategy may read besides the hyperparameters to change.

    Attributes:
        hparams: The hyperparameters to explore from: the source's (copied) after an exploit,
            the member's own for an in-place explore.
        space: The search space.
        rng: The decision's random generator.
        target: The ready member, as it is at its ready step.
        source: The member copied (``None`` for an in-place explore).
        population: The round the target was compared with, with every member's history.
        step: The target's ready step.
        info: Filled by the strategy with anything worth logging about its choice (stored in
            the decision's event, shown in reports).
    """

    hparams: Mapping[str, Any]
    space: Space
    rng: np.random.Generator
    target: MemberView | None = None
    source: MemberView | None = None
    population: PopulationView | None = None
    step: int | None = None
    info: dict = field(default_factory=dict)


class Exploit:
    """Protocol of an exploit strategy: one method, :meth:`select`.

    Subclasses may set ``window`` (an int) to ask for that many recent fitness values in
    :attr:`MemberView.history`; ``in_place = True`` to mean "returning the target itself
    explores it in place" (instead of an error); and ``compares = False`` for a strategy that
    never looks at the others (:class:`~poptune.ExploreOnly`): a ready member then decides at
    once, without waiting for its round.
    """

    window: int = 1
    in_place: bool = False
    compares: bool = True

    def select(
        self, target: MemberView, population: PopulationView, rng: np.random.Generator
    ) -> MemberView | None:
        """Return the member ``target`` should copy, or ``None`` to keep training as it is.

        ``population`` holds the members that have reached the target's ready step, each as
        it was at that step, ranked worst to best, the target included. The returned member
        is never the target.
        """
        raise NotImplementedError


class Explore:
    """Protocol of an explore strategy: :meth:`explore`, or :meth:`propose` to read more."""

    def explore(self, hparams: Mapping[str, Any], space: Space, rng: np.random.Generator) -> dict:
        """Return new hyperparameters derived from ``hparams`` (copied from the source)."""
        raise NotImplementedError

    def propose(self, context: ExploreContext) -> dict:
        """Return new hyperparameters; ``context`` carries the population and its history.

        The default calls :meth:`explore`; strategies that model the history (a bandit over
        every segment the population trained) override this one.
        """
        return self.explore(context.hparams, context.space, context.rng)


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
    """Adapts a plain function ``fn(target, population[, rng])`` to :class:`Exploit`.

    ``population`` is a :class:`PopulationView`: a sequence of :class:`MemberView`, worst first.
    """

    def __init__(self, fn: Callable):
        self.fn = fn
        self._with_rng = _positional_arity(fn) != 2

    def select(self, target, population, rng):
        population = as_population(population, rng)
        chosen = self.fn(target, population, rng) if self._with_rng else self.fn(target, population)
        if chosen is None:
            return None
        key = chosen.id if isinstance(chosen, MemberView) else chosen
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or int(key) not in population:
            raise UsageError(
                f"exploit function {_name(self.fn)} returned {chosen!r}; return a member of the "
                f"population it was given (a MemberView or its id) or None"
            )
        if int(key) == target.id:
            raise UsageError(
                f"exploit function {_name(self.fn)} returned the target itself (member {target.id}); "
                f"return None to keep the target as it is"
            )
        return population.member(int(key))

    def __repr__(self) -> str:
        return f"FunctionExploit({_name(self.fn)})"


class FunctionExplore(Explore):
    """Adapts a plain function ``fn(hparams, rng[, context]) -> dict`` to :class:`Explore`.

    The returned dict is validated against the space: a value out of bounds is an error that
    names the hyperparameter, not a silent clip. A third parameter receives the
    :class:`ExploreContext` (population, history, target and source); a function of
    ``hparams`` alone (Ray Tune's ``custom_explore_fn``) works too.
    """

    def __init__(self, fn: Callable):
        self.fn = fn
        arity = _positional_arity(fn)
        self._with_context = arity == 3
        self._hparams_only = arity == 1

    def explore(self, hparams, space, rng):
        return self.propose(ExploreContext(hparams=hparams, space=space, rng=rng))

    def propose(self, context):
        hparams, space = context.hparams, context.space
        if self._with_context:
            new = self.fn(dict(hparams), context.rng, context)
        elif self._hparams_only:
            new = self.fn(dict(hparams))
        else:
            new = self.fn(dict(hparams), context.rng)
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
    if isinstance(value, type):
        raise ConfigError(f"exploit={value.__name__} is a class: pass an instance, exploit={value.__name__}()")
    if callable(value):
        return FunctionExploit(value)
    raise ConfigError(
        f"exploit must be a strategy such as pt.Truncation(0.2), a function "
        f"(target, population, rng) -> member or None, or None; got {value!r}"
    )


def as_explore(value: Explore | Callable | Sequence) -> Explore:
    """Accept a strategy object, a plain function ``(hparams, rng) -> dict``, or a list of them
    (a :class:`~poptune.Chain`: each stage changes the previous one's result)."""
    if isinstance(value, Explore):
        return value
    if isinstance(value, (list, tuple)):
        from poptune.strategies.chain import Chain

        return Chain(*value)
    if isinstance(value, type):
        raise ConfigError(f"explore={value.__name__} is a class: pass an instance, explore={value.__name__}()")
    if callable(value):
        return FunctionExplore(value)
    raise ConfigError(
        f"explore must be a strategy such as pt.Perturb(), a function (hparams, rng) -> dict, or a list of "
        f"those (applied in turn); got {value!r}"
    )
