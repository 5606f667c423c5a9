"""One decision: what a ready member does at its ready step. A pure function of the state.

The decision for member ``m`` at step ``t`` reads the round of ``t`` (every member that reached
``t``, as it was there) and a random generator drawn from ``(seed, t, m)`` alone. So the same
log gives the same decision, whatever the runner and whatever order decisions are made in,
and a resumed run decides as the uninterrupted one would have: nothing random is carried from
one decision to the next.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from poptune.core import events as ev
from poptune.core.rounds import mix
from poptune.core.state import PopulationState
from poptune.errors import ConfigError, StrategyError, UsageError
from poptune.space import Space
from poptune.league.payoff import HeadToHead
from poptune.strategies.base import Exploit, Explore, ExploreContext
from poptune.strategies.views import PopulationView

DECISION_STREAM = 1
RESET_STREAM = 8  # a league role's reset draw: default_rng([seed, 8, member, step])
_MASK128 = (1 << 128) - 1


def _pcg_state(seed: int, step: int, member: int) -> dict:
    """A PCG64 state drawn from ``(seed, step, member)`` alone (hashed, no SeedSequence: cheap)."""
    a = mix(seed, DECISION_STREAM, step, member)
    b = mix(a)
    return {"bit_generator": "PCG64", "state": {"state": (a << 64) | b, "inc": (((b << 64) | a) << 1 | 1) & _MASK128},
            "has_uint32": 0, "uinteger": 0}


def decision_rng(seed: int, step: int, member: int) -> np.random.Generator:
    """The random generator of member ``member``'s decision at ``step`` (a fresh one).

    Examples:
        >>> decision_rng(0, 4, 1).random() == decision_rng(0, 4, 1).random() != decision_rng(0, 4, 2).random()
        True
    """
    bits = np.random.PCG64(0)
    bits.state = _pcg_state(seed, step, member)
    return np.random.Generator(bits)


class Decider:
    """Turns a ready member into a decision event.

    Args:
        state: The live population state.
        space: The search space (explore stays inside it).
        exploit: Exploit strategy, or ``None`` to never exploit (random search).
        explore: Explore strategy.
        seed: The run's seed.
        schedule: ``{step: hparams}``: instead of PBT, every member switches to ``hparams``
            after ``step`` (a fixed schedule; how :func:`poptune.replay` retraces a lineage).
    """

    def __init__(self, state: PopulationState, space: Space, exploit: Exploit | None, explore: Explore,
                 seed: int, schedule: dict[int, dict] | None = None, roles: Any = None):
        self.state, self.space, self.exploit, self.explore = state, space, exploit, explore
        self.seed, self.schedule = seed, schedule
        self.roles = roles  # a league's poptune.league.Roles: members compare within their role; resets
        # one generator, set to each decision's own state (what decision_rng gives, without
        # building a generator per decision); strategies use it during their call only
        self._bits = np.random.PCG64(0)
        self._rng = np.random.Generator(self._bits)

    def rng(self, member: int, step: int) -> np.random.Generator:
        """The generator of ``member``'s decision at ``step``, at the start of its stream."""
        self._bits.state = _pcg_state(self.seed, step, member)
        return self._rng

    @property
    def compares(self) -> bool:
        """Whether a decision ranks the member among others (so it needs its round)."""
        return self.schedule is None and self.exploit is not None and getattr(self.exploit, "compares", True)

    def decide(self, member: int, step: int) -> ev.Event | None:
        """The event recording member ``member``'s decision at its ready step ``step``.

        ``None`` means there is nothing to decide (no exploit strategy, or a schedule that
        changes nothing there): the member continues and nothing is logged.
        """
        state = self.state[member]
        if self.schedule is not None:
            new = self.schedule.get(step)
            if new is None or new == state.hparams:
                return None
            return ev.Explored(member=member, step=step, old=dict(state.hparams), new=dict(new))
        if self.exploit is None:
            return None
        rng = self.rng(member, step)
        if not self.compares:  # explore in place, comparing nobody
            context = ExploreContext(hparams=dict(state.hparams), space=self.space, rng=rng, target=state.view(),
                                     step=step)
            return ev.Explored(member=member, step=step, old=dict(state.hparams), new=self._explored(context),
                               info=context.info)
        population = self.state.round_view(step)
        if self.roles is not None:  # a league of roles: an exploiter never copies a main agent
            group = self.roles.group(member)
            population = PopulationView([m for m in population if self.roles.group(m.id) == group], step=step,
                                        history=self.state, rng=rng)
        rank = population.rank(member)
        target = population[rank]
        try:
            chosen = self.exploit.select(target, population, rng)
        except UsageError:
            raise
        except Exception as err:
            raise StrategyError(f"exploit strategy {self.exploit!r} raised {type(err).__name__}: {err} "
                                f"(deciding for member {member} at step {step})") from err
        info = {"rank": rank, "of": len(population)}
        if chosen is None:
            return ev.Kept(member=member, step=step, info=info)
        if chosen.id == member and getattr(self.exploit, "in_place", False):
            context = ExploreContext(hparams=dict(state.hparams), space=self.space, rng=rng, target=target,
                                     population=population, step=step)
            return ev.Explored(member=member, step=step, old=dict(state.hparams), new=self._explored(context),
                               info={**info, **context.info})
        if chosen.id == member or chosen not in population:
            raise UsageError(
                f"exploit strategy {self.exploit!r} chose member {chosen.id} for member {member}; "
                f"it must choose another member of the population it was given, or None"
            )
        source = self.state.rounds[step].entries[chosen.id]
        context = ExploreContext(hparams=dict(source.hparams), space=self.space, rng=rng, target=target,
                                 source=source.view(), population=population, step=step)
        new = self._explored(context)
        return ev.Exploited(
            member=member, step=step, source=source.member, source_step=source.step, source_age=source.age,
            ref=source.ref, old=dict(state.hparams), copied=dict(source.hparams), new=new,
            generation=source.generation + 1, info={**info, **context.info},
        )

    def league_event(self, member: int, step: int) -> ev.LeagueReset | None:
        """In a league of roles: the event if ``member``'s reset rule fires at its ready step
        ``step`` (its state joins the league as a snapshot; it may restart from scratch)."""
        if self.roles is None or self.schedule is not None:
            return None
        state, league = self.state[member], self.state.league
        if league is None or state.ref is None or state.ref_step != step:
            return None  # (nothing saved at this step to keep)
        role = self.roles.role(member)
        try:
            why = role.fires(member, step, league.own.get(member) or HeadToHead(), league.since.get(member, 0),
                             self.state.live_players(), list(league.snapshots), self.roles)
        except Exception as err:
            raise StrategyError(f"league role {role!r} raised {type(err).__name__}: {err} (member {member}, "
                                f"step {step})") from err
        if why is None:
            return None
        p = role.reset_probability
        reset = p >= 1.0 or (p > 0.0 and np.random.default_rng([self.seed, RESET_STREAM, member, step]).random() < p)
        return ev.LeagueReset(member=member, step=step, ref=state.ref, hparams=dict(state.hparams), reset=reset,
                              why=why)

    def _explored(self, context: ExploreContext) -> dict:
        try:
            new = self.explore.propose(context)
        except UsageError:
            raise
        except Exception as err:
            raise StrategyError(f"explore strategy {self.explore!r} raised {type(err).__name__}: {err} "
                                f"(at step {context.step})") from err
        try:
            return self.space.validate(new, f"explore strategy {self.explore!r}")
        except ConfigError as err:
            raise UsageError(str(err)) from None
