"""When a member is ready: the steps where it stops, saves its state and gets a decision."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadyRule:
    """Ready steps are the multiples of ``interval`` from ``burn_in`` on, before ``budget``;
    ``ready_at`` (a fixed schedule's change steps) replaces that rule when given.

    Examples:
        >>> rule = ReadyRule(interval=4, burn_in=0, budget=12)
        >>> [s for s in range(1, 13) if rule.is_ready(s)], rule.next_stop(4), rule.next_stop(8)
        ([4, 8], 8, 12)
        >>> [s for s in range(1, 13) if ReadyRule(4, 6, 12).is_ready(s)]
        [8]
    """

    interval: int | None
    burn_in: int
    budget: int
    ready_at: tuple[int, ...] | None = None

    def is_ready(self, step: int) -> bool:
        """Whether a member that has just reported ``step`` is ready (not the budget's end)."""
        if step >= self.budget or step < 1:
            return False
        if self.ready_at is not None:
            return step in self.ready_at
        return self.interval is not None and step % self.interval == 0 and step >= self.burn_in

    def next_stop(self, after: int) -> int:
        """The first step after ``after`` where a member stops: a ready step, else the budget."""
        if self.ready_at is not None:
            return next((s for s in sorted(self.ready_at) if after < s < self.budget), self.budget)
        if self.interval is None:
            return self.budget
        first = max(after + 1, self.burn_in)
        step = -(-first // self.interval) * self.interval  # round up to a multiple
        return step if step < self.budget else self.budget

    @classmethod
    def from_config(cls, config: dict) -> ReadyRule:
        schedule = config.get("schedule")
        ready_at = tuple(step for step, _ in schedule[1:]) if schedule else None
        return cls(config.get("interval"), config.get("burn_in", 0) or 0, config["steps"], ready_at)


def is_ready_step(step: int, interval: int | None, burn_in: int, budget: int,
                  ready_at: tuple[int, ...] | None = None) -> bool:
    """Whether ``step`` is a ready step (see :class:`ReadyRule`).

    Examples:
        >>> [s for s in range(1, 13) if is_ready_step(s, 4, 0, 12)]
        [4, 8]
    """
    return ReadyRule(interval, burn_in, budget, ready_at).is_ready(step)
