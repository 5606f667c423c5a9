"""Population Based Bandits (PB2, Parker-Holder et al. 2020) and its mixed-space version (PB2-Mix,
Parker-Holder et al. 2021): explore by a time-varying GP bandit over the population's history.

PBT's explore perturbs the copied hyperparameters at random. PB2 instead models how much a
member's score improves per step, as a function of time, of the score it starts from, and of
its hyperparameters, from every stretch the population has trained (its :class:`Segment`\\s),
and picks the hyperparameters with the highest upper confidence bound (GP-UCB) for the source's
state now. A small population (4 members) then finds schedules random perturbation misses.

- **Data**: a point per pair of consecutive reports of a member under unchanged
  hyperparameters: ``x = (t, R_prev, h)``, ``y = R - R_prev`` (on the fitness, higher is
  better). A segment that starts from a copied state starts from the source's fitness. The last
  ``window`` points count.
- **Scaling**: ``t`` in rounds (ready intervals); ``R_prev`` min-max over the window; ``h`` to
  [0, 1] by its domain's bounds, on a log scale for ``log=True`` domains; ``y`` standardised.
- **Model**: :class:`~poptune.strategies.gp.TimeVaryingGP` (time-varying squared exponential
  kernel with a learned noise term, fitted by maximum likelihood; refitted only when the data
  changed).
- **Pending members** (still training towards this step, or already given new hyperparameters in
  this round) condition the variance, as in batch GP-UCB: the next choice looks elsewhere.
- **Acquisition**: ``mean + kappa * std`` with ``kappa**2 = c1 * log(c2 * n)`` growing with the data,
  maximised over random candidates plus local refinements; integers are rounded, not truncated.
- **Choices** (PB2-Mix): each explorable :class:`~poptune.Choice` is drawn by an EXP3-type bandit
  over its options (rewards: the recent standardised improvements under each option, older ones
  discounted by the fitted kernel's forgetting rate); the GP, which sees the options one-hot,
  then picks the numbers given that choice.
- **Fallback**: too little data (fewer than ``min_points``, or rewards that never vary) uses
  ``fallback`` (by default :class:`~poptune.Perturb`). Every decision logs what PB2 saw and chose
  in its event's ``info["pb2"]`` (points, kernel parameters, mean, std and UCB of the choice,
  the bandit's probabilities, or the fallback's reason).

Examples:
    >>> import poptune as pt
    >>> explore = pt.PB2()          # pt.run(train, space, explore=pt.PB2(), ...)
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from poptune.errors import ConfigError
from poptune.space import Choice, Float, Int
from poptune.strategies.base import Explore, ExploreContext
from poptune.strategies.gp import TimeVaryingGP
from poptune.strategies.perturb import Perturb


class PB2(Explore):
    """Explore by GP-UCB over the population's history (see the module documentation).

    Args:
        window: The most recent data points the model is fitted on.
        min_points: Fewer points than this fall back to ``fallback`` (default ``2 * d + 4`` for
            ``d`` explorable hyperparameters).
        candidates: Random candidates the acquisition is evaluated on before local refinement.
        c1: The UCB weight is ``kappa**2 = c1 * log(c2 * n)`` for ``n`` data points (at least 0.01).
        c2: See ``c1``.
        fallback: Explore strategy used while PB2 has too little data.

    Examples:
        >>> import poptune as pt
        >>> pt.PB2(window=200)
        PB2(window=200)
    """

    def __init__(self, window: int = 300, min_points: int | None = None, candidates: int = 512,
                 c1: float = 0.2, c2: float = 0.4, fallback: Explore | None = None):
        for name, value, low in (("window", window, 2), ("candidates", candidates, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"PB2: {name} must be an integer >= {low}, got {value!r}")
        if min_points is not None and (isinstance(min_points, bool) or not isinstance(min_points, int)
                                       or min_points < 2):
            raise ConfigError(f"PB2: min_points must be an integer >= 2 or None, got {min_points!r}")
        for name, value in (("c1", c1), ("c2", c2)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(f"PB2: {name} must be a positive number, got {value!r}")
        if fallback is not None and not isinstance(fallback, Explore):
            raise ConfigError(f"PB2: fallback must be an explore strategy such as pt.Perturb(), got {fallback!r}")
        self.window, self.min_points, self.candidates = window, min_points, candidates
        self.c1, self.c2 = float(c1), float(c2)
        self.fallback = fallback or Perturb()
        self._cache: tuple[str, TimeVaryingGP] | None = None  # the last fit, reused for the same data

    def explore(self, hparams, space, rng):
        """Without a run's history (a direct call), PB2 has no data: the fallback explores."""
        return self.fallback.explore(hparams, space, rng)

    def propose(self, context: ExploreContext) -> dict:
        space = context.space
        numbers = {name: d for name, d in space.explorable.items() if isinstance(d, (Float, Int))}
        choices = {name: d for name, d in space.explorable.items() if isinstance(d, Choice)}
        if context.population is None or not (numbers or choices):
            return self._fall_back(context, "no population history" if numbers or choices else "nothing to explore")
        data = _Data.collect(context, numbers, choices, self.window)
        needed = self.min_points or 2 * (len(numbers) + len(choices)) + 4
        if len(data.y) < needed:
            return self._fall_back(context, f"{len(data.y)} data points, fewer than {needed}")
        if data.y.std() < 1e-12:
            return self._fall_back(context, "the improvements in the data never vary")
        y = (data.y - data.y.mean()) / data.y.std()
        gp = self._fit(data.t, data.z, y)
        info: dict[str, Any] = {"points": len(y), "kernel": gp.params.as_dict()}
        t_now = data.now + 1.0  # the next interval: where the copied state trains next
        r_now = data.scale_r(context.source.fitness if context.source is not None else context.target.fitness)
        pending = data.pending(context)
        if pending:
            t_p = np.full(len(pending), t_now)
            z_p = np.array([[data.scale_r(r), *data.encode(h)] for r, h in pending])
            mean_p, _ = gp.predict(t_p, z_p)
            gp = gp.with_points(t_p, z_p, mean_p)  # hallucinated at their own mean: variance only
        info["pending"] = len(pending)
        new = dict(context.hparams)
        fixed: dict[str, Any] = {}
        if choices:
            picks = {}
            for name, domain in choices.items():
                option, probabilities = data.bandit(name, domain, y, t_now, gp.params.epsilon, context.rng)
                fixed[name] = option
                picks[name] = {"chose": option, "probabilities": probabilities}
            info["bandit"] = picks
            new.update(fixed)
        if numbers:
            kappa = math.sqrt(max(0.01, self.c1 * math.log(self.c2 * len(y))))
            unit, mean, std = self._maximise(gp, data, t_now, r_now, fixed, kappa, context)
            for (name, domain), u in zip(numbers.items(), unit):
                new[name] = _from_unit(domain, float(u))
            info.update({"kappa": round(kappa, 4), "mean": round(mean, 4), "std": round(std, 4),
                         "ucb": round(mean + kappa * std, 4)})
        context.info["pb2"] = info
        return new

    # -- parts -----------------------------------------------------------------------------------

    def _fall_back(self, context: ExploreContext, reason: str) -> dict:
        context.info["pb2"] = {"fallback": reason}
        return self.fallback.propose(context)

    def _fit(self, t: np.ndarray, z: np.ndarray, y: np.ndarray) -> TimeVaryingGP:
        key = hashlib.sha1(b"".join(a.tobytes() for a in (t, z, y))).hexdigest()
        if self._cache is None or self._cache[0] != key:  # the same data gives the same fit
            self._cache = (key, TimeVaryingGP.fit(t, z, y))
        return self._cache[1]

    def _maximise(self, gp: TimeVaryingGP, data: _Data, t_now: float, r_now: float, fixed: dict, kappa: float,
                  context: ExploreContext) -> tuple[np.ndarray, float, float]:
        """The hyperparameters (unit scale) with the highest UCB, and their mean and std."""
        dims = len(data.numbers)
        tail = data.encode_choices(fixed)

        def features(unit: np.ndarray) -> np.ndarray:  # (k, dims) -> (k, 1 + dims + one-hot)
            rows = unit.reshape(-1, dims)
            return np.hstack([np.full((len(rows), 1), r_now), rows, np.tile(tail, (len(rows), 1))])

        def ucb(unit: np.ndarray) -> np.ndarray:
            mean, std = gp.predict(np.full(len(unit.reshape(-1, dims)), t_now), features(unit))
            return mean + kappa * std

        from scipy.optimize import minimize  # (loaded on the first PB2 decision, not with poptune)

        copied = data.encode_numbers(context.hparams)
        candidates = np.vstack([copied, context.rng.random((self.candidates, dims))])
        values = ucb(candidates)
        best_unit, best_value = candidates[int(np.argmax(values))], float(values.max())
        for start in candidates[np.argsort(-values)[:3]]:
            found = minimize(lambda u: -float(ucb(u)[0]), start, method="L-BFGS-B", bounds=[(0.0, 1.0)] * dims,
                             options={"maxiter": 30})
            if -found.fun > best_value:
                best_unit, best_value = np.clip(found.x, 0.0, 1.0), -float(found.fun)
        mean, std = gp.predict(np.array([t_now]), features(best_unit))
        return best_unit, float(mean[0]), float(std[0])

    def __repr__(self) -> str:
        return f"PB2(window={self.window})"


class _Data:
    """The model's data from a population's history, and how values are scaled for it."""

    def __init__(self, numbers: dict, choices: dict):
        self.numbers, self.choices = numbers, choices
        self.t = self.y = np.zeros(0)
        self.z = np.zeros((0, 0))
        self.options: dict[str, list] = {name: list(domain.options) for name, domain in choices.items()}
        self.chosen: dict[str, list] = {}  # per point, the option each choice had
        self.now, self.r_low, self.r_span, self.ticks = 0.0, 0.0, 1.0, 1.0
        self.segments: dict[int, tuple] = {}

    @classmethod
    def collect(cls, context: ExploreContext, numbers: dict, choices: dict, window: int) -> _Data:
        data = cls(numbers, choices)
        population = context.population
        rows = []  # (step, member, r_prev, hparams, y)
        starts = set()
        for member in population.all_ids():
            segments = population.history(member)
            data.segments[member] = segments
            for segment in segments:
                if segment.start > 0:
                    starts.add(segment.start)
                prev = segment.origin_fitness
                for i, fitness in enumerate(segment.fitness):
                    if math.isfinite(prev) and math.isfinite(fitness):
                        rows.append((segment.start + i, member, prev, segment.hparams, fitness - prev))
                    prev = fitness
        rows.sort(key=lambda row: (-row[0], row[1]))
        rows = rows[:window]
        ordered = sorted(starts)
        gaps = [b - a for a, b in zip(ordered, ordered[1:])]
        ticks = float(min(gaps)) if gaps else float(ordered[0]) if ordered else 1.0  # steps per round
        data.ticks = max(ticks, 1.0)
        data.now = (context.step or 0) / data.ticks
        if not rows:
            return data
        r = np.array([row[2] for row in rows])
        data.r_low, data.r_span = float(r.min()), float(r.max() - r.min()) or 1.0
        data.t = np.array([row[0] / data.ticks for row in rows])
        data.y = np.array([row[4] for row in rows])
        data.z = np.array([[data.scale_r(row[2]), *data.encode(row[3])] for row in rows])
        data.chosen = {name: [row[3].get(name) for row in rows] for name in choices}
        return data

    def scale_r(self, r: float) -> float:
        return (r - self.r_low) / self.r_span if math.isfinite(r) else 0.0

    def encode_numbers(self, hparams) -> np.ndarray:
        return np.array([_to_unit(domain, hparams[name]) for name, domain in self.numbers.items()])

    def encode_choices(self, hparams) -> np.ndarray:
        out = []
        for name, options in self.options.items():
            out += [1.0 if hparams.get(name) == option else 0.0 for option in options]
        return np.array(out)

    def encode(self, hparams) -> list[float]:
        return [*self.encode_numbers(hparams), *self.encode_choices(hparams)]

    def pending(self, context: ExploreContext) -> list[tuple[float, dict]]:
        """``(fitness, hparams)`` of the members whose next stretch is chosen but not trained yet."""
        training = {view.id for view in context.population.training()}
        out = []
        for member, segments in self.segments.items():
            if member == context.target.id or not segments:
                continue
            last = segments[-1]
            if last.start == context.step and not last.fitness and last.origin is not None:
                out.append((last.origin_fitness, dict(last.hparams)))  # decided already in this round
            elif member in training:
                view = context.population.current(member)
                out.append((view.fitness, dict(view.hparams)))
        return out

    def bandit(self, name: str, domain: Choice, y: np.ndarray, t_now: float, epsilon: float,
               rng: np.random.Generator) -> tuple[Any, list[float]]:
        """EXP3-type draw of an option: recent standardised improvements, older ones discounted."""
        options = self.options[name]
        weights = (1.0 - epsilon) ** (np.abs(t_now - self.t) / 2.0)
        rewards = np.zeros(len(options))
        for k, option in enumerate(options):
            mask = np.array([value == option for value in self.chosen[name]])
            if mask.any():
                rewards[k] = float((weights[mask] * y[mask]).sum() / weights[mask].sum())
        k_count = len(options)
        gamma = min(0.5, math.sqrt(k_count * math.log(max(k_count, 2)) / max(len(y), 1)))
        scores = np.exp(rewards - rewards.max())
        probabilities = (1.0 - gamma) * scores / scores.sum() + gamma / k_count
        pick = int(rng.choice(k_count, p=probabilities / probabilities.sum()))
        return domain.options[pick], [round(float(p), 4) for p in probabilities]


def _to_unit(domain, value) -> float:
    low, high = float(domain.low), float(domain.high)
    if domain.log:
        low, high, value = math.log(low), math.log(high), math.log(max(float(value), 1e-300))
    return min(max((float(value) - low) / (high - low), 0.0), 1.0)


def _from_unit(domain, unit: float):
    low, high = float(domain.low), float(domain.high)
    if domain.log:
        value = math.exp(math.log(low) + unit * (math.log(high) - math.log(low)))
    else:
        value = low + unit * (high - low)
    if isinstance(domain, Int):
        return int(min(max(round(value), domain.low), domain.high))  # rounded, not truncated
    return float(min(max(value, low), high))
