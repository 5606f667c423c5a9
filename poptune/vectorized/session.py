"""PBT around a vectorized population: the same run log, decision core and strategies as ``pt.run``.

All members step together, so every ready step is a generational decision (the core in
synchronous mode: the last member's report completes the round). The session is an adapter: it
reports every member's score and checkpoint row to the :class:`~poptune.core.Engine`, then
applies what the core decided to the stacked model: exploit copies slices in place, on the
device; explore changes the per-member hyperparameter tensors. The stacked state is
checkpointed at ready steps and at the end, one file per step; member ``i`` of it is
``<file>#<i>``.
"""

from __future__ import annotations

import os
import time
from typing import Any
from collections.abc import Callable, Iterator, Mapping, Sequence

import torch

from poptune.callbacks import Callback
from poptune.checkpoints import dumps, loads, split_ref
from poptune.core.messages import Report
from poptune.league.league import League
from poptune.errors import ConfigError, PoptuneError, UsageError
from poptune.result import Result
from poptune.rundir import DEFAULT_EXPLOIT, DEFAULT_EXPLORE, check_settings, open_run
from poptune.space import Space
from poptune.strategies import Exploit, Explore
from poptune.strategies.fitness import Fitness
from poptune.vectorized.population import Population

FOLDER = "population"


class Session:
    """A PBT run over a :class:`~poptune.vectorized.Population`, for custom training loops.

    Args:
        population: The stacked population (its initial hyperparameters come from the run:
            sampled from ``space``, or from the log when resuming).
        space: The search space; it must name every hyperparameter the optimizer reads.
        steps: Budget per member, in steps (``report`` calls).
        interval: Steps between ready points (``None``: never exploit).
        direction: As for :func:`poptune.run`, like ``exploit``, ``explore``, ``dir``,
            ``seed``, ``resume``, ``overwrite``, ``initial``, ``progress``, ``burn_in``,
            ``keep_checkpoints``, ``callbacks``, ``metadata`` and ``fitness``.
        league: A self-play league (:class:`~poptune.League`): the members play each other in
            your loop, :meth:`report_match` records each game, and they rank by rating. Your
            loop pairs the members (all of them are on the device); snapshots are rated but not
            handed to the loop, so ``pt.League(snapshots_every=0)`` is the usual choice here.

    Examples:
        >>> import torch, tempfile, poptune as pt
        >>> pop = pt.vectorized.Population(lambda: torch.nn.Linear(2, 1), 4,
        ...                                optimizer=pt.vectorized.SGD(lr="lr"))
        >>> x, y = torch.randn(64, 2), torch.randn(64, 1)
        >>> with pt.vectorized.Session(pop, {"lr": pt.Float(1e-3, 0.5, log=True)}, steps=6, interval=2,
        ...                            direction="minimize", dir=tempfile.mkdtemp(), progress=False) as run:
        ...     for step in run.steps():
        ...         losses = (pop(x) - y).pow(2).mean(dim=(1, 2))   # (P,)
        ...         pop.step(losses)
        ...         run.report(losses)          # scores, one per member
        >>> run.result().best.step
        6
    """

    def __init__(
        self,
        population: Population,
        space: Mapping[str, Any] | Space,
        *,
        steps: int,
        interval: int | None = 10,
        direction: str = "maximize",
        exploit: Exploit | Callable | None = DEFAULT_EXPLOIT,
        explore: Explore | Callable = DEFAULT_EXPLORE,
        dir: str | os.PathLike | None = None,
        seed: int | None = None,
        resume: bool = False,
        overwrite: bool = False,
        initial: Sequence[Mapping[str, Any]] | None = None,
        progress: bool = True,
        burn_in: int = 0,
        keep_checkpoints: str = "last",
        callbacks: Sequence[Callback] = (),
        metadata: Mapping[str, Any] | None = None,
        fitness: Fitness | Callable | None = None,
        league: League | None = None,
    ):
        if not isinstance(population, Population):
            raise ConfigError(f"population must be a pt.vectorized.Population, got {population!r}")
        if league is not None and getattr(league, "roles", None) is not None:
            raise ConfigError("league: roles (pt.league.Roles) reset members to a fresh start, which a vectorized "
                              "population does not do yet; use pt.run(..., league=...) for roles, or another "
                              "matchmaking here")
        self.settings = check_settings(
            space, population=population.size, steps=steps, interval=interval, direction=direction,
            exploit=exploit, explore=explore, dir=dir, seed=seed, resume=resume, overwrite=overwrite,
            initial=initial, progress=progress, burn_in=burn_in, synchronous=True, retries=0,
            keep_checkpoints=keep_checkpoints, callbacks=callbacks, metadata=metadata, max_lag=None, fitness=fitness,
            league=league,
        )
        names = population.optimizer.names()
        missing = sorted(names - set(self.settings.space))
        if missing:
            raise ConfigError(
                f"the optimizer reads hyperparameter(s) {missing}, which the space does not define; "
                f"add them to the space (a domain, or a constant)"
            )
        self.population = population
        engine = {"name": "vectorized", "device": str(population.device), "dtype": str(population.dtype),
                  "optimizer": repr(population.optimizer)}
        self.opened = open_run(self.settings, engine, type(population).__name__)
        self.run_dir = self.settings.dir
        self._closed = False
        self._matches: dict[int, list[dict]] = {}
        try:
            self.opened.engine.claim_all()  # every member is "on a worker": this loop steps them all
            self.opened.engine.start()  # decisions a crash left pending are made first
            self.opened.recorder.flush()
            self._start = self._restore()
        except BaseException:
            self.close("failed")
            raise

    # -- the loop ------------------------------------------------------------------------------

    def steps(self) -> Iterator[int]:
        """Yield the step numbers still to run (1-based); call :meth:`report` once per step."""
        step = self._start
        while step < self.settings.steps and not self._closed:
            self._reported = False
            yield step + 1
            if not self._reported:
                raise UsageError(f"step {step + 1} ended without session.report(scores)")
            step += 1
        if not self._closed:
            self.close("finished")

    def report_match(self, sides: Sequence, outcome: Any = None, *, ranks: Sequence | None = None,
                     scores: Sequence | None = None) -> None:
        """Record a league game between members in this step; it is sent with the next
        :meth:`report` (so the step's ratings count it).

        Args:
            sides: Two or more member ids, or teams (lists of ids); the first side's first
                member reports it.
            outcome: Two sides: ``1``/``0``/``0.5`` (or ``"win"``...) from the first side's view.
            ranks: Instead: one rank per side, lower is better.
            scores: Instead: one score per side, higher is better.
        """
        from poptune.league.outcomes import as_match

        if self.settings.league is None:
            raise UsageError("report_match() needs a league: pass league=pt.League(...) to the Session")
        try:
            match = as_match(sides, outcome, ranks=ranks, scores=scores, step=self._start + 1)
        except PoptuneError as err:
            raise UsageError(f"report_match: {err}") from None
        for player in match.players:
            if player.is_snapshot or not 0 <= player.member < self.population.size:
                raise UsageError(f"report_match: {player} is not a member of this population (ids 0 to "
                                 f"{self.population.size - 1})")
        self._matches.setdefault(match.teams[0][0].member, []).append(match.to_dict())

    def report(self, scores: Any, **metrics: Any) -> None:
        """Report the step's scores (one per member) and metrics (one per member, or one value).

        At ready steps the population is checkpointed and PBT decides: losers copy winners in
        place and explore their hyperparameters.
        """
        if self._closed:
            raise UsageError("report() after the session ended")
        if getattr(self, "_reported", False):
            raise UsageError("report() called twice for one step; report once per step")
        self._reported = True
        pop, s, engine = self.population, self.settings, self.opened.engine
        step = self._start = self._start + 1
        values = _per_member("scores", scores, pop.size)
        columns = {name: _per_member(name, value, pop.size) for name, value in metrics.items()}
        final = step == s.steps
        stop = final or engine.state.rule.is_ready(step)
        file = None
        if stop:
            file = f"{FOLDER}/s{step:08d}{f'-r{self.opened.session}' if self.opened.session else ''}.pkl"
            self.opened.checkpoints.save(file, dumps(pop.state_dict(), f"population at step {step}"))
        now = time.time()
        matches, self._matches = self._matches, {}
        for m in range(pop.size):
            engine.report(Report(m, step, float(values[m]), {k: v[m] for k, v in columns.items()}, now,
                                 ref=f"{file}#{m}" if stop else None, ready=stop and not final, final=final,
                                 matches=tuple(matches.get(m, ()))))
        engine.take_replies()  # the population steps on as one: what changed is read from the state
        if stop and not final:
            self._apply_decisions(file)
        self.opened.recorder.flush()  # one commit per population step: every member's report in it
        self.opened.recorder.tick()

    def _apply_decisions(self, file: str) -> None:
        """Copy the rows the core decided to copy, and set the hyperparameters it chose."""
        pop, state = self.population, self.opened.state
        targets, sources = [], []
        for m in range(pop.size):
            copied, row = split_ref(state[m].ref)
            if copied == file and row != m:
                targets.append(m)
                sources.append(row)
        pop.copy_(targets, sources)  # one indexed copy: sources give their state from before
        for m in range(pop.size):
            if state[m].hparams != self._hparams[m]:
                pop.set_hparams(m, state[m].hparams)
                self._hparams[m] = dict(state[m].hparams)

    # -- resume --------------------------------------------------------------------------------

    def _restore(self) -> int:
        """Give the population its hyperparameters and, on resume, its checkpointed state."""
        states = list(self.opened.state)
        self._hparams = [dict(state.hparams) for state in states]
        for state in states:
            self.population.set_hparams(state.id, state.hparams)
        refs = [state.ref for state in states]
        if all(ref is None for ref in refs):
            return 0
        if any(ref is None for ref in refs):
            raise ConfigError(f"{self.run_dir}: some members have a checkpoint and others not; the log is damaged")
        files: dict[str, Any] = {}
        sources = []
        for ref in refs:
            file, index = split_ref(ref)
            if file not in files:
                files[file] = loads(self.opened.checkpoints.load(file), f"population checkpoint {file}")
            sources.append((files[file], index))
        self.population.load_members(sources)
        starts = {state.ref_step for state in states}
        if len(starts) != 1:
            raise ConfigError(f"{self.run_dir}: members were checkpointed at different steps {sorted(starts)}")
        return starts.pop()

    # -- end -----------------------------------------------------------------------------------

    def close(self, status: str = "finished") -> None:
        """End the session (recorded in the log); idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self.opened.recorder.end(status)
        finally:
            self.opened.close()

    def result(self) -> Result:
        """The run's :class:`~poptune.Result` (read back from its directory)."""
        return Result.load(self.run_dir)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close("finished" if self._start >= self.settings.steps else "interrupted")
        else:
            self.close("interrupted" if issubclass(kind, KeyboardInterrupt) else "failed")


def _per_member(name: str, value: Any, size: int) -> list:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.ndim == 0:
            return [value.item()] * size
        value = value.tolist()
    elif hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, (int, float, str, bool)) or value is None:
        return [value] * size
    values = list(value)
    if len(values) != size:
        raise UsageError(f"{name} has {len(values)} values for {size} members; give one per member")
    for v in values:
        if not (isinstance(v, (int, float, str, bool)) or v is None):
            raise UsageError(f"{name}: values must be numbers or strings, got {v!r}")
    return values


__all__ = ["Session"]
