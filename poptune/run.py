"""``pt.run``: validate the arguments, open (or resume) the run directory, run the controller."""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import warnings
from pathlib import Path
from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from poptune.callbacks import Callback
from poptune.checkpoints import LocalCheckpoints, Retention
from poptune.controller import Controller
from poptune.errors import ConfigError, RunDirError
from poptune.result import Result
from poptune.runners import Inline, Processes, Runner
from poptune.scheduler import Population, Scheduler
from poptune.space import Space, as_space
from poptune.store import Event, Store, store_path
from poptune.store import events as ev
from poptune.strategies import Exploit, Explore, PerturbOrResample, Truncation, as_exploit, as_explore

CHECKPOINT_DIR = "checkpoints"
DIRECTIONS = ("maximize", "minimize")
# A resumed run must keep these; the rest (budget, interval, strategies...) may change.
IDENTITY = ("space", "population", "direction", "schedule")
DEFAULT_EXPLOIT = Truncation(0.2)
DEFAULT_EXPLORE = PerturbOrResample()


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
            deterministic) or a runner object such as ``pt.runners.Processes(workers=4)``.
        dir: Run directory (log and checkpoints); default ``runs/<date-time>``.
        seed: Seed for sampling and decisions; default: drawn, and stored with the run.
        resume: Continue the run in ``dir`` from every member's last checkpoint (starts one if
            ``dir`` holds none). The budget may be raised on resume.
        overwrite: Delete the run in ``dir`` and start over.
        initial: Hyperparameters of the first members (partial dicts are completed by
            sampling); the other members are sampled.
        progress: Show live progress (a table in a terminal, log lines otherwise).
        burn_in: No member is ready before this step.
        synchronous: Generational PBT: ready members wait for the whole population.
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
        max_lag: Pacing of asynchronous PBT: a ready member more than ``max_lag`` steps ahead of
            the least advanced member waits for it, so a late or slow member still meets the
            others (without it, a member that starts late may find the rest finished). ``"auto"``
            is 4 x ``interval``; ``None`` removes the limit. Only a worker no other member needs
            ever waits: with more members than workers, ahead members give their worker away.

    Returns:
        The run's :class:`~poptune.Result`.

    Raises:
        ConfigError: An argument is invalid (the message names it).
        RunDirError: ``dir`` holds a run and neither ``resume`` nor ``overwrite`` is set.
        UsageError: ``train`` misused the member handle.
        RunFailedError: Every member failed.
        KeyboardInterrupt: After Ctrl-C, once the run is stopped cleanly (resumable).

    Example:
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
    space = as_space(space)
    population = _positive_int("population", population)
    steps = _positive_int("steps", steps)
    if interval is not None:
        interval = _positive_int("interval", interval, hint="or None to never exploit")
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    exploit = as_exploit(exploit)
    explore = as_explore(explore)
    runner = _as_runner(runner)
    burn_in = _non_negative_int("burn_in", burn_in)
    retries = _non_negative_int("retries", retries)
    retention = Retention(keep_checkpoints)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ConfigError(f"seed must be an integer or None, got {seed!r}")
    if initial is not None:
        if isinstance(initial, Mapping) or not isinstance(initial, Sequence):
            raise ConfigError(f"initial must be a list of dicts of hyperparameters, got {initial!r}")
        if len(initial) > population:
            raise ConfigError(f"initial has {len(initial)} entries but population={population}")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ConfigError(f"callbacks must be pt.Callback instances, got {callback!r}")
    if resume and overwrite:
        raise ConfigError("resume=True and overwrite=True contradict each other; choose one")
    if schedule is not None:
        if exploit is not None and exploit is not DEFAULT_EXPLOIT:
            raise ConfigError("schedule= replaces PBT: pass exploit=None (or leave it out) with a schedule")
        if initial is not None:
            raise ConfigError("schedule= sets the first hyperparameters: leave initial out")
        exploit, schedule = None, _check_schedule(schedule, space, steps)
        initial = [schedule[0][1]] * population
    if max_lag == "auto":
        max_lag = 4 * interval if interval is not None and not synchronous else None
    elif max_lag is not None:
        max_lag = _non_negative_int("max_lag", max_lag) if not isinstance(max_lag, str) else _bad_lag(max_lag)
    if metadata is not None and not isinstance(metadata, Mapping):
        raise ConfigError(f"metadata must be a dict, got {metadata!r}")

    run_dir = Path(dir) if dir is not None else Path("runs") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    config = {
        "population": population,
        "steps": steps,
        "interval": interval,
        "burn_in": burn_in,
        "direction": direction,
        "space": space.describe(),
        "exploit": repr(exploit) if exploit is not None else None,
        "explore": repr(explore),
        "synchronous": bool(synchronous),
        "retries": retries,
        "keep_checkpoints": keep_checkpoints,
        "runner": runner.describe(),
        "train": getattr(train, "__qualname__", repr(train)),
        "schedule": [[s, h] for s, h in schedule] if schedule is not None else None,
        "max_lag": max_lag,
        "metadata": dict(metadata or {}),
        "version": _version(),
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }
    previous = _open_dir(run_dir, config, resume, overwrite)
    seed = int(previous["seed"]) if previous else int(seed if seed is not None else np.random.SeedSequence().entropy % 2**31)
    config["seed"] = seed

    store = Store(store_path(run_dir))
    try:
        window = getattr(exploit, "window", 1) if exploit is not None else 1
        pop = Population(direction, steps, window)
        past = store.read()
        pop.apply_all(past)
        sessions = sum(e.kind in (ev.RUN, ev.RESUME) for e in past)
        checkpoints = LocalCheckpoints(run_dir / CHECKPOINT_DIR)
        first: list[Event] = []
        if not past:
            first.append(Event(ev.RUN, data=config))
            rng = np.random.default_rng([seed, 0])
            initial = list(initial or [])
            for m in range(population):
                hparams = (
                    space.complete(initial[m], rng, f"initial[{m}]") if m < len(initial) else space.sample(rng)
                )
                first.append(Event(ev.MEMBER, m, 0, data={"hparams": hparams, "generation": 0}))
        else:
            first.append(Event(ev.RESUME, data=config))
        store.append(first)
        pop.apply_all(first)
        _restore_retention(retention, pop, past)

        scheduler = Scheduler(
            pop, space, exploit, explore, synchronous, np.random.default_rng([seed, 1, sessions]),
            schedule=dict(schedule) if schedule is not None else None,
        )
        all_callbacks = list(callbacks)
        if progress:
            from poptune.progress import Progress

            all_callbacks.insert(0, Progress())
        for callback in all_callbacks:
            callback.on_start(config, pop, str(run_dir))
        if not pop.done():
            Controller(
                train=train,
                runner=runner,
                scheduler=scheduler,
                population=pop,
                store=store,
                checkpoints=checkpoints,
                retention=retention,
                budget=steps,
                interval=interval,
                burn_in=burn_in,
                seed=seed,
                session=sessions,
                retries=retries,
                callbacks=all_callbacks,
                ready_at=tuple(s for s, _ in schedule[1:]) if schedule is not None else None,
                max_lag=max_lag,
            ).run()
        else:
            for callback in all_callbacks:
                callback.on_end("finished", pop)
    finally:
        store.close()
    result = Result.load(run_dir)
    failed = [m.id for m in result.members if m.status == "failed"]
    if failed:
        last = {f.member: f.error for f in result.failures}
        warnings.warn(
            f"{len(failed)} of {population} members failed and stopped training: "
            + "; ".join(f"member {m} failed with {last.get(m, '?')}" for m in failed[:3])
            + ". Tracebacks: result.failures.",
            UserWarning,
            stacklevel=2,
        )
    return result


def _open_dir(run_dir: Path, config: dict, resume: bool, overwrite: bool) -> dict | None:
    """Check what ``run_dir`` holds; return the previous run's config when resuming."""
    path = store_path(run_dir)
    if not path.exists():
        return None
    if overwrite:
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            (run_dir / name).unlink(missing_ok=True)
        shutil.rmtree(run_dir / CHECKPOINT_DIR, ignore_errors=True)
        return None
    with Store(path, readonly=True) as store:
        head = store.read(kinds=[ev.RUN])
        ends = store.read(kinds=[ev.END])
    if not head:
        raise RunDirError(f"{path} holds no run configuration; pass overwrite=True to start over")
    previous = head[0].data
    differs = [k for k in IDENTITY if previous.get(k) != config[k]]
    if not resume:
        what = f"a different run (its {', '.join(differs)} differ)" if differs else "this run already"
        state = ends[-1].data.get("status") if ends else "stopped before its end"
        raise RunDirError(
            f"{run_dir} holds {what} ({state}); pass resume=True to continue it, overwrite=True to "
            f"delete it, or choose another dir"
        )
    if differs:
        details = "; ".join(f"{k}: stored {previous.get(k)!r}, given {config[k]!r}" for k in differs)
        raise RunDirError(
            f"cannot resume {run_dir}: {details}. A resumed run keeps its space, population and "
            f"direction; pass overwrite=True to start a new run there"
        )
    if config["steps"] < previous.get("steps", 0):
        raise ConfigError(
            f"steps={config['steps']} is below the stored run's budget ({previous['steps']}); "
            f"a resumed run can keep or raise its budget, not lower it"
        )
    return previous


def _check_schedule(schedule: Any, space: Space, steps: int) -> list[tuple[int, dict]]:
    """Validate a schedule; return it with every entry completed (cumulative)."""
    if isinstance(schedule, (Mapping, str)) or not isinstance(schedule, Sequence) or not schedule:
        raise ConfigError(f"schedule must be a non-empty list of (step, hparams) pairs, got {schedule!r}")
    out: list[tuple[int, dict]] = []
    current: dict = {k: v for k, v in space.items() if k not in space.domains}
    for i, entry in enumerate(schedule):
        if not isinstance(entry, Sequence) or len(entry) != 2 or not isinstance(entry[1], Mapping):
            raise ConfigError(f"schedule[{i}] must be a (step, hparams) pair, got {entry!r}")
        step = entry[0]
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
            raise ConfigError(f"schedule[{i}]: the step must be an integer, got {step!r}")
        if i == 0 and step != 0:
            raise ConfigError(f"schedule[0] must start at step 0 (the first hyperparameters), got step {step}")
        if out and step <= out[-1][0]:
            raise ConfigError(f"schedule[{i}]: steps must increase, got {step} after {out[-1][0]}")
        if step >= steps:
            raise ConfigError(f"schedule[{i}]: step {step} is not below steps={steps}")
        current = {**current, **entry[1]}
        out.append((int(step), space.validate(current, f"schedule[{i}]")))
    return out


def _restore_retention(retention: Retention, pop: Population, past: list[Event]) -> None:
    for e in past:
        if e.kind == ev.FINISH and e.data.get("ref"):
            retention.pin(e.data["ref"])
    for state in pop:
        if state.ref is not None:
            retention.point(state.id, state.ref)


def _as_runner(runner: str | Runner) -> Runner:
    if isinstance(runner, Runner):
        return runner
    if runner == "processes":
        return Processes()
    if runner == "inline":
        return Inline()
    raise ConfigError(
        f"runner must be 'processes', 'inline' or a runner object such as "
        f"pt.runners.Processes(workers=4), got {runner!r}"
    )


def _positive_int(name: str, value: Any, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer{' ' + hint if hint else ''}, got {value!r}")
    return int(value)


def _bad_lag(value: str):
    raise ConfigError(f"max_lag must be an integer >= 0, 'auto' or None, got {value!r}")


def _non_negative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def _version() -> str:
    from poptune import __version__

    return __version__
