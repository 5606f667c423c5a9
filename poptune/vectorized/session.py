"""PBT around a vectorized population: the same run log, scheduler and strategies as ``pt.run``.

All members step together, so every ready step is a generational decision (the scheduler in
synchronous mode). Exploit copies slices in place, on the device; explore changes the per-member
hyperparameter tensors. The stacked state is checkpointed at ready steps and at the end, one
file per step; checkpoint events name member ``i`` of it as ``<file>#<i>``.
"""

from __future__ import annotations

import os
from typing import Any
from collections.abc import Callable, Iterator, Mapping, Sequence

import torch

from poptune.callbacks import Callback
from poptune.checkpoints import dumps, loads
from poptune.errors import ConfigError, UsageError
from poptune.result import Result
from poptune.rundir import DEFAULT_EXPLOIT, DEFAULT_EXPLORE, check_settings, open_run
from poptune.scheduler import is_ready_step
from poptune.space import Space
from poptune.store import Event
from poptune.store import events as ev
from poptune.strategies import Exploit, Explore
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
        direction, exploit, explore, dir, seed, resume, overwrite, initial, progress, burn_in,
        keep_checkpoints, callbacks, metadata: As for :func:`poptune.run`.

    Example:
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
    ):
        if not isinstance(population, Population):
            raise ConfigError(f"population must be a pt.vectorized.Population, got {population!r}")
        self.settings = check_settings(
            space, population=population.size, steps=steps, interval=interval, direction=direction,
            exploit=exploit, explore=explore, dir=dir, seed=seed, resume=resume, overwrite=overwrite,
            initial=initial, progress=progress, burn_in=burn_in, synchronous=True, retries=0,
            keep_checkpoints=keep_checkpoints, callbacks=callbacks, metadata=metadata, max_lag=None,
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
        try:
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
        pop, s, rec = self.population, self.settings, self.opened.recorder
        step = self._start = self._start + 1
        values = _per_member("scores", scores, pop.size)
        columns = {name: _per_member(name, value, pop.size) for name, value in metrics.items()}
        now = Event(ev.REPORT).time
        rec.record([
            Event(ev.REPORT, m, step, float(values[m]), {k: v[m] for k, v in columns.items()}, time=now)
            for m in range(pop.size)
        ])
        final = step == s.steps
        ready = not final and is_ready_step(step, s.interval, s.burn_in, s.steps)
        if ready or final:
            self._checkpoint(step, final)
        if ready:
            self._decide(step)
        rec.flush()
        rec.tick()

    def _checkpoint(self, step: int, final: bool) -> None:
        rec = self.opened.recorder
        file = f"{FOLDER}/s{step:08d}{f'-r{self.opened.session}' if self.opened.session else ''}.pkl"
        self.opened.checkpoints.save(file, dumps(self.population.state_dict(), f"population at step {step}"))
        events = [Event(ev.CHECKPOINT, m, step, data={"ref": f"{file}#{m}"}) for m in range(self.population.size)]
        if final:
            events += [Event(ev.FINISH, m, step, data={"ref": f"{file}#{m}"}) for m in range(self.population.size)]
            rec.retention.pin(file)
        rec.record(events)
        for m in range(self.population.size):
            rec.point(m, file)  # retention counts files: every member's rows live in one

    def _decide(self, step: int) -> None:
        scheduler, rec, pop = self.opened.scheduler, self.opened.recorder, self.population
        decisions = []
        for m in range(pop.size):
            decisions += scheduler.ready(m, step)
        targets, sources, events = [], [], []
        for d in decisions:
            if d.in_place:
                events.append(Event(ev.EXPLORE, d.member, step, data=d.event_data()))
            elif d.source is not None:
                events.append(Event(ev.EXPLOIT, d.member, step, data=d.event_data()))
                targets.append(d.member)
                sources.append(d.source)
        pop.copy_(targets, sources)  # one indexed copy: sources give their state from before
        rec.record(events)
        for d in decisions:
            if d.new is not None:
                pop.set_hparams(d.member, d.new)

    # -- resume --------------------------------------------------------------------------------

    def _restore(self) -> int:
        """Give the population its hyperparameters and, on resume, its checkpointed state."""
        states = list(self.opened.population)
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
            file, _, index = ref.partition("#")
            if file not in files:
                files[file] = loads(self.opened.checkpoints.load(file), f"population checkpoint {file}")
            sources.append((files[file], int(index)))
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
