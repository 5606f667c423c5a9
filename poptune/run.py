"""``pt.run``: validate the arguments, open (or resume) the run directory, run the controller."""

from __future__ import annotations

import os
import sys
from typing import Any
from collections.abc import Callable, Mapping, Sequence

from poptune.callbacks import Callback
from poptune.controller import Controller
from poptune.errors import ConfigError
from poptune.result import Result
from poptune.rundir import DEFAULT_EXPLOIT, DEFAULT_EXPLORE, check_settings, open_run, warn_failures
from poptune.runners import Inline, Processes, Ray, Runner
from poptune.space import Space
from poptune.stopping import Stop
from poptune.league.league import League
from poptune.strategies import Exploit, Explore
from poptune.strategies.fitness import Fitness


def run(
    train: Callable,
    space: Mapping[str, Any] | Space,
    *,
    population: int = 8,
    steps: int = 100,
    interval: int | None = 10,
    direction: str = "maximize",
    exploit: Exploit | Callable | None = DEFAULT_EXPLOIT,
    explore: Explore | Callable = DEFAULT_EXPLORE,
    runner: str | Runner = "processes",
    dir: str | os.PathLike | None = None,
    seed: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    initial: Sequence[Mapping[str, Any]] | None = None,
    progress: bool = True,
    burn_in: int = 0,
    synchronous: bool = False,
    retries: int = 2,
    keep_checkpoints: str = "last",
    callbacks: Sequence[Callback] = (),
    schedule: Sequence[tuple[int, Mapping[str, Any]]] | None = None,
    metadata: Mapping[str, Any] | None = None,
    max_lag: int | None | str = "auto",
    checkpoints: str | os.PathLike | None = None,
    quorum: float = 0.5,
    fitness: Fitness | Callable | str | None = None,
    trust_checkpoints: bool = False,
    stop: Stop | Mapping | Callable | None = None,
    league: League | None = None,
    start_from: Any = None,
) -> Result:
    """Train a population with Population Based Training and return the :class:`Result`.

    Every member runs ``train(member)`` for ``steps`` steps. Every ``interval`` steps it is
    *ready*: ``exploit`` decides whether it copies a better member (weights and
    hyperparameters), and ``explore`` then changes the copied hyperparameters.

    Args:
        train: ``train(member)``, see :class:`~poptune.Member`.
        space: Hyperparameters: ``{"lr": pt.Float(1e-4, 1e-1, log=True), ...}``.
        population: Number of members.
        steps: Budget per member, in steps (a step is whatever ``train`` does between reports).
        interval: Steps between ready points; ``None`` never exploits.
        direction: ``"maximize"`` or ``"minimize"`` the score.
        exploit: Exploit strategy or function; ``None`` trains members independently
            (random search with the same budget, a fair baseline).
        explore: Explore strategy or function ``(hparams, rng) -> dict``.
        runner: ``"processes"`` (local worker pool), ``"inline"`` (in this process,
            deterministic), ``"ray"`` (Ray actors, extra ``ray``) or a runner object such as
            ``pt.runners.Processes(workers=4)`` or ``pt.runners.Ray(address="auto")``.
        dir: Run directory (log and checkpoints); default ``runs/<date-time>``.
        seed: Seed for sampling and decisions; default: drawn, and stored with the run.
        resume: Continue the run in ``dir`` from every member's last checkpoint (starts one if
            ``dir`` holds none). The budget may be raised on resume.
        overwrite: Delete the run in ``dir`` and start over.
        initial: Hyperparameters of the first members (partial dicts are completed by
            sampling); the other members are sampled.
        progress: Show live progress (a table in a terminal, log lines otherwise).
        burn_in: No member is ready before this step.
        synchronous: Generational PBT: at every ready step the whole population meets, and
            decides on one ranking. Default: asynchronous (see ``quorum``).
        retries: Times a failing member is restarted from its last checkpoint before it is
            marked failed (the run goes on without it).
        keep_checkpoints: ``"last"`` deletes checkpoints no member can load any more (final ones
            are kept); ``"all"`` keeps every one.
        callbacks: Extra :class:`~poptune.Callback` objects (loggers...).
        schedule: Instead of PBT, train every member on this fixed schedule:
            ``[(0, hparams), (10, {"lr": 0.01}), ...]`` switches to the given values after step
            10 (later entries may name only what changes). The hand-tuned baseline, and how
            :func:`poptune.replay` retraces a lineage. Not combined with ``exploit``/``initial``.
        metadata: JSON data stored with the run (experiment name, commit...), shown in reports.
        max_lag: Pacing of asynchronous PBT: a member more than ``max_lag`` steps ahead of the
            least advanced member waits for it after its decision, so a late or slow member
            still meets the others, and old checkpoints a round may copy are not kept for long.
            ``"auto"`` is 4 x ``interval``; ``None`` removes the limit. Only a worker no other
            member needs ever waits: with more members than workers, ahead members give their
            worker away.
        checkpoints: Where checkpoint files go: a folder, or an fsspec URL such as
            ``"s3://bucket/run/checkpoints"`` that every worker can reach (a Ray cluster without a
            shared file system). Default: ``<dir>/checkpoints``.
        quorum: Asynchronous PBT: a member ready at step ``t`` is ranked among the members that
            have reached ``t`` (each with its score at ``t``). It waits for all of them while
            other members can use the workers (waiting costs nothing then); when waiting would
            leave a worker idle, the round decides as soon as this share of the population has
            reached ``t`` (at least two members), and later arrivals decide as they come. Lower
            it for populations with stragglers; ``synchronous=True`` always waits for all.
        fitness: What ranks members: ``None`` (the score), a reported metric's name
            (``"val_acc"``, ranked in ``direction``), ``pt.fitness.Smoothed(window)`` (the mean
            of the lineage's recent scores, for noisy scores), ``pt.fitness.Metric(name,
            direction)``, or a function ``(score, metrics) -> float`` (higher is better).
        trust_checkpoints: Load checkpoints with full pickle. By default poptune's safe loader
            reads only plain data (containers, numbers, strings, numpy arrays, torch tensors and
            state dicts), so a run directory from elsewhere cannot run code when resumed; set
            this for a run you trust whose checkpoints hold other objects.
        stop: Ends a member before its budget: a dict of thresholds (``{"score": 0.95}``: the
            score reached in ``direction``; ``{"val_acc": 0.9}``: a metric at or above it, as in
            Ray Tune; ``{"step": 50}``), or a function ``(report) -> bool`` of a
            :class:`~poptune.result.ReportRecord` (``member``, ``step``, ``score``, ``metrics``).
            Checked on every report; a member that meets it finishes at its next ready step
            (where its state is saved) and frees its worker. See :mod:`poptune.stopping`.
        league: A self-play league (:class:`~poptune.League`): members play each other
            (``member.opponent()``, ``member.report_match(opponent, outcome)``) and, unless
            ``fitness`` says otherwise, rank by their conservative rating.
        start_from: A previous stage (a :class:`~poptune.Result`, its run directory, or
            :class:`~poptune.StartFrom` for options): every member starts from a previous
            member's saved state (``member.checkpoint`` at ``member.step == 0``) and, by
            default, its hyperparameters. See :mod:`poptune.stages`.

    Returns:
        The run's :class:`~poptune.Result`.

    Raises:
        ConfigError: An argument is invalid (the message names it).
        RunDirError: ``dir`` holds a run and neither ``resume`` nor ``overwrite`` is set.
        UsageError: ``train`` misused the member handle.
        RunFailedError: Every member failed.
        KeyboardInterrupt: After Ctrl-C, once the run is stopped cleanly (resumable).

    Examples:
        >>> import poptune as pt, tempfile
        >>> def train(member):
        ...     x = member.checkpoint or 0.0
        ...     for step in member.steps():
        ...         x += member.hparams["lr"]
        ...         member.report(x, checkpoint=x)
        >>> result = pt.run(train, {"lr": pt.Float(0.01, 0.1)}, population=4, steps=8,
        ...                 interval=2, runner="inline", dir=tempfile.mkdtemp(), seed=0,
        ...                 progress=False)
        >>> result.best.step
        8
    """
    if not callable(train):
        raise ConfigError(f"train must be a function train(member), got {train!r}")
    runner = _as_runner(runner)
    settings = check_settings(
        space, population=population, steps=steps, interval=interval, direction=direction, exploit=exploit,
        explore=explore, dir=dir, seed=seed, resume=resume, overwrite=overwrite, initial=initial,
        progress=progress, burn_in=burn_in, synchronous=synchronous, retries=retries,
        keep_checkpoints=keep_checkpoints, callbacks=callbacks, schedule=schedule, metadata=metadata,
        max_lag=max_lag, checkpoints=checkpoints, quorum=quorum, fitness=fitness,
        trust_checkpoints=trust_checkpoints, stop=stop, league=league, start_from=start_from,
    )
    opened = open_run(settings, runner.describe(), getattr(train, "__qualname__", repr(train)),
                      can_hold=not runner.in_process)
    try:
        if not opened.state.done():
            Controller(opened, train, runner).run()
        else:
            opened.recorder.end("finished")
    except KeyboardInterrupt:
        print(f"poptune: interrupted; the run in {settings.dir} resumes with the same call and resume=True",
              file=sys.stderr)
        raise
    finally:
        opened.close()
    result = Result.load(settings.dir)
    warn_failures(result, settings.population)
    return result


def _as_runner(runner: str | Runner) -> Runner:
    if isinstance(runner, Runner):
        return runner
    if runner == "processes":
        return Processes()
    if runner == "inline":
        return Inline()
    if runner == "ray":
        return Ray()
    raise ConfigError(
        f"runner must be 'processes', 'inline', 'ray' or a runner object such as "
        f"pt.runners.Processes(workers=4), got {runner!r}"
    )
