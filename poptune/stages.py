"""Staged pipelines: a run whose members start from the population another run trained.

Population methods often train in stages (HCSP: skills first, then a strategy by self-play with
the skills frozen, then everything jointly; or supervised pre-training, then a league). In
poptune each stage is a run: ``pt.run(..., start_from=previous)`` starts every member of the
new run from a member of ``previous`` (a :class:`~poptune.Result` or its run directory): its
saved state is copied into the new run's checkpoints (the new run directory holds everything
it needs, and the first run can be deleted), and its hyperparameters carry over to the new
space. Inside ``train``, the previous stage's state is ``member.checkpoint`` while
``member.step == 0``; from the member's first checkpoint on it is the new stage's own state.
Freezing parts, changing the objective or switching to a league is the new stage's ``train``
and settings. In a league whose snapshots fall on step 0 (every snapshot step does), the
starting states are players too: snapshots ``Player(m, 0)``, the previous stage's population. The new run's log records where each member came from (:meth:`Result.origins
<poptune.Result.origins>`), so lineages read across stages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from poptune.checkpoints import open_checkpoints
from poptune.checkpoints.refs import split_ref
from poptune.checkpoints.serialize import dumps, loads
from poptune.errors import ConfigError
from poptune.space import Space

_MEMBERS = ("all", "best")
_HPARAMS = ("keep", "sample")


@dataclass(frozen=True)
class Origin:
    """Where one member of a staged run starts: ``member`` of the run in ``run`` at its step
    ``step`` (its saved state ``ref``), and the hyperparameters it had there."""

    run: str
    member: int
    step: int
    ref: str
    hparams: dict
    score: float

    def to_json(self) -> dict:
        return {"run": self.run, "member": self.member, "step": self.step, "ref": self.ref, "score": self.score}


class StartFrom:
    """Start a run's members from the population of a previous run (a stage of a pipeline).

    Pass it (or simply the previous :class:`~poptune.Result` or run directory, which means
    the defaults) as ``pt.run(..., start_from=...)``.

    Args:
        previous: The previous stage: a :class:`~poptune.Result` or its run directory.
        members: Which previous members seed the new population: ``"all"`` (new member ``i``
            starts from previous member ``i``, cycling when the new population is larger),
            ``"best"`` (the previous members ranked by their final score, best first,
            cycling: ``population=8`` from the top 2 gives four copies of each), or a list of
            previous member ids (cycled).
        hparams: ``"keep"``: a member takes the hyperparameters its previous member ended
            with, for the names the new space has (new names are sampled); ``"sample"``: fresh
            ones from the new space. ``pt.run(initial=...)`` overrides both, member by member.

    Examples:
        >>> StartFrom("runs/skills", members="best")
        StartFrom('runs/skills', members='best', hparams='keep')
    """

    def __init__(self, previous: Any, members: str | list[int] = "all", hparams: str = "keep"):
        from poptune.result import Result

        if isinstance(previous, StartFrom):
            raise ConfigError("StartFrom: previous is already a StartFrom; pass the Result or run directory")
        if not isinstance(previous, (Result, str, os.PathLike)):
            raise ConfigError(f"start_from: expected a pt.Result, a run directory or pt.StartFrom(...), got "
                              f"{previous!r}")
        if isinstance(members, str):
            if members not in _MEMBERS:
                raise ConfigError(f"StartFrom: members must be 'all', 'best' or a list of member ids, got {members!r}")
        elif not isinstance(members, (list, tuple)) or not members or not all(
                isinstance(m, (int, np.integer)) and not isinstance(m, bool) and m >= 0 for m in members):
            raise ConfigError(f"StartFrom: members must be 'all', 'best' or a non-empty list of member ids, "
                              f"got {members!r}")
        if hparams not in _HPARAMS:
            raise ConfigError(f"StartFrom: hparams must be 'keep' or 'sample', got {hparams!r}")
        self.previous, self.members, self.hparams = previous, members, hparams

    def previous_dir(self) -> Path | None:
        """The previous stage's run directory."""
        from poptune.result import Result

        if isinstance(self.previous, Result):
            return None if self.previous.dir is None else Path(self.previous.dir)
        return Path(self.previous)

    def result(self):
        """The previous run, read back."""
        from poptune.result import Result

        if isinstance(self.previous, Result):
            return self.previous
        path = Path(self.previous)
        if not path.is_dir():
            raise ConfigError(f"start_from: {str(path)!r} is not a run directory (no such directory); pass the "
                              f"previous stage's pt.Result or its dir")
        try:
            return Result.load(path)
        except Exception as err:
            raise ConfigError(f"start_from: cannot read the run in {str(path)!r}: {err}") from None

    def origins(self, population: int) -> list[Origin]:
        """Which previous member each new member ``0 .. population - 1`` starts from."""
        previous = self.result()
        if previous.dir is None:
            raise ConfigError("start_from: this result has no run directory to copy states from")
        records = {m.id: m for m in previous.members}
        if self.members == "all":
            chosen = sorted(records)
        elif self.members == "best":
            direction = previous.config.get("direction", "maximize")
            scored = sorted(records.values(), key=lambda m: _rank_key(m.score, direction))
            chosen = [m.id for m in scored]
        else:
            unknown = sorted(set(self.members) - set(records))
            if unknown:
                raise ConfigError(f"StartFrom: members {unknown} are not in the previous run (it has members "
                                  f"0..{len(records) - 1})")
            chosen = [int(m) for m in self.members]
        out = []
        for i in range(population):
            m = chosen[i % len(chosen)]
            state = previous._population[m]
            if state.ref is None:
                raise ConfigError(f"start_from: member {m} of {str(previous.dir)!r} saved no state; pick members "
                                  f"that did (StartFrom(..., members=[...]))")
            out.append(Origin(str(previous.dir), m, state.ref_step, state.ref, dict(state.hparams),
                              float(records[m].score)))
        return out

    def hparams_for(self, origin: Origin, space: Space, rng: np.random.Generator, where: str) -> dict:
        """The new member's hyperparameters (``"keep"``: its origin's, for the names ``space`` has)."""
        if self.hparams == "sample":
            return space.sample(rng)
        kept = {k: v for k, v in origin.hparams.items() if k in set(space)}
        try:
            return space.complete(kept, rng, where)
        except ConfigError as err:
            raise ConfigError(f"{err}; the previous member's values do not fit the new space: widen it, or "
                              f"pass StartFrom(..., hparams='sample') or initial=[...]") from None

    def payload(self, origin: Origin, previous) -> bytes:
        """The bytes of ``origin``'s saved state, as one member's checkpoint (a row of a
        vectorized run's stacked checkpoint is taken out of it)."""
        from poptune.rundir import checkpoint_location

        store = open_checkpoints(checkpoint_location(previous.dir, previous.config.get("checkpoints")))
        try:
            raw = store.load(origin.ref)
        except Exception as err:
            raise ConfigError(f"start_from: the state of member {origin.member} ({origin.ref}) in "
                              f"{origin.run!r} cannot be read: {err}") from None
        _, row = split_ref(origin.ref)
        if row is None:
            return raw
        stacked = loads(raw, f"member {origin.member} of {origin.run!r}", trusted=False)
        return dumps(stacked.member(row), f"member {origin.member}")

    def __repr__(self) -> str:
        previous = self.previous
        shown = repr(str(previous)) if isinstance(previous, (str, os.PathLike)) else f"Result({str(previous.dir)!r})"
        return f"StartFrom({shown}, members={self.members!r}, hparams={self.hparams!r})"


def as_start_from(value: Any) -> StartFrom | None:
    """Accept ``None``, a :class:`StartFrom`, a :class:`~poptune.Result` or a run directory."""
    if value is None or isinstance(value, StartFrom):
        return value
    return StartFrom(value)


def _rank_key(score: float, direction: str) -> float:
    if score != score:  # NaN last
        return float("inf")
    return -score if direction == "maximize" else score


__all__ = ["Origin", "StartFrom", "as_start_from"]
