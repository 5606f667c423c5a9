"""Opening a run directory: validated settings, a new or resumed log, the live population.

Every engine (the process/inline controller, the vectorized session) starts a run the same
way: :func:`check_settings` validates the arguments users pass to ``pt.run``-like functions, and
:func:`open_run` creates or resumes the run in its directory and returns everything the engine
needs (store, population state, scheduler, recorder).
"""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from poptune.callbacks import Callback
from poptune.checkpoints import open_checkpoints
from poptune.core import events as ev
from poptune.core.decide import Decider
from poptune.core.engine import Engine
from poptune.core.ready import ReadyRule
from poptune.core.retention import Retention
from poptune.core.state import PopulationState
from poptune.errors import ConfigError, RunDirError, RunLogError
from poptune.lock import RunLock
from poptune.recorder import Recorder
from poptune.space import Space, as_space
from poptune.store import Store, store_path
from poptune.strategies import Exploit, Explore, PerturbOrResample, Truncation, as_exploit, as_explore
from poptune.stopping import Stop, as_stop
from poptune.league.league import League, as_league
from poptune.league.state import LeagueState
from poptune.stages import StartFrom, as_start_from
from poptune.strategies.fitness import Fitness, Rated, as_fitness

CHECKPOINT_DIR = "checkpoints"
DIRECTIONS = ("maximize", "minimize")
# A resumed run must keep these; the rest (budget, interval, strategies...) may change.
IDENTITY = ("space", "population", "direction", "schedule", "league")
DEFAULT_EXPLOIT = Truncation(0.2)
DEFAULT_EXPLORE = PerturbOrResample()


@dataclass
class Settings:
    """The validated arguments of a run (see :func:`poptune.run` for their meaning)."""

    space: Space
    population: int
    steps: int
    interval: int | None
    direction: str
    exploit: Exploit | None
    explore: Explore
    dir: Path
    seed: int | None
    resume: bool
    overwrite: bool
    initial: list | None
    progress: bool
    burn_in: int
    synchronous: bool
    retries: int
    keep_checkpoints: str
    callbacks: list[Callback]
    schedule: list[tuple[int, dict]] | None
    metadata: dict
    max_lag: int | None
    checkpoints: str | None = None  # None: <dir>/checkpoints
    quorum: float = 0.5
    fitness: Fitness | None = None
    trust_checkpoints: bool = False
    stop: Stop | None = None
    league: League | None = None
    start_from: StartFrom | None = None


def check_settings(
    space: Mapping[str, Any] | Space,
    *,
    population: int,
    steps: int,
    interval: int | None,
    direction: str,
    exploit: Exploit | Callable | None,
    explore: Explore | Callable,
    dir: str | os.PathLike | None,
    seed: int | None,
    resume: bool,
    overwrite: bool,
    initial: Sequence[Mapping[str, Any]] | None,
    progress: bool,
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
) -> Settings:
    """Validate run arguments; every error names the argument and the fix."""
    space = as_space(space)
    population = positive_int("population", population)
    steps = positive_int("steps", steps)
    if interval is not None:
        interval = positive_int("interval", interval, hint="or None to never exploit")
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    exploit = as_exploit(exploit)
    explore = as_explore(explore)
    burn_in = non_negative_int("burn_in", burn_in)
    retries = non_negative_int("retries", retries)
    Retention(keep_checkpoints)  # validates
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ConfigError(f"seed must be an integer or None, got {seed!r}")
    if initial is not None:
        if isinstance(initial, Mapping) or not isinstance(initial, Sequence):
            raise ConfigError(f"initial must be a list of dicts of hyperparameters, got {initial!r}")
        if len(initial) > population:
            raise ConfigError(f"initial has {len(initial)} entries but population={population}")
        initial = list(initial)
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
        exploit, schedule = None, check_schedule(schedule, space, steps)
        initial = [schedule[0][1]] * population
    if interval is not None and schedule is None and exploit is not None and \
            ReadyRule(interval, burn_in, steps).next_stop(0) >= steps:
        warnings.warn(f"no member is ever ready (interval={interval}, burn_in={burn_in}, steps={steps}): members "
                      f"train independently, as random search; lower interval below steps (or pass exploit=None "
                      f"to say that random search is meant)", UserWarning, stacklevel=3)
    if max_lag == "auto":
        max_lag = 4 * interval if interval is not None and not synchronous else None
    elif max_lag is not None:
        if isinstance(max_lag, str):
            raise ConfigError(f"max_lag must be an integer >= 0, 'auto' or None, got {max_lag!r}")
        max_lag = non_negative_int("max_lag", max_lag)
    if isinstance(quorum, bool) or not isinstance(quorum, (int, float)) or not 0 < quorum <= 1:
        raise ConfigError(f"quorum must be a share of the population in (0, 1], got {quorum!r}")
    league = as_league(league)
    if league is not None:
        league = league.resolved(interval)
        league.check_population(population)
        if fitness is None:
            fitness = Rated()
    elif isinstance(fitness, Rated):
        raise ConfigError("fitness=pt.fitness.Rated() ranks members by their league rating: pass league=pt.League(...)")
    fitness = as_fitness(fitness, direction)
    stop = as_stop(stop, direction)
    if metadata is not None and not isinstance(metadata, Mapping):
        raise ConfigError(f"metadata must be a dict, got {metadata!r}")
    run_dir = Path(dir) if dir is not None else Path("runs") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    start_from = as_start_from(start_from)
    if start_from is not None and start_from.previous_dir() is not None and not resume and (
            start_from.previous_dir().resolve() == run_dir.resolve()):
        raise ConfigError(f"start_from: the previous stage is {str(run_dir)!r}, the run's own dir; give the new "
                          f"stage another dir")
    return Settings(
        space=space, population=population, steps=steps, interval=interval, direction=direction,
        exploit=exploit, explore=explore, dir=run_dir, seed=None if seed is None else int(seed), resume=bool(resume),
        overwrite=bool(overwrite), initial=initial, progress=bool(progress), burn_in=burn_in,
        synchronous=bool(synchronous), retries=retries, keep_checkpoints=keep_checkpoints,
        callbacks=list(callbacks), schedule=schedule, metadata=dict(metadata or {}), max_lag=max_lag,
        checkpoints=None if checkpoints is None else str(checkpoints), quorum=float(quorum), fitness=fitness, stop=stop,
        league=league, start_from=start_from,
        trust_checkpoints=bool(trust_checkpoints),
    )


@dataclass
class OpenRun:
    """A run directory opened for one session: what an engine needs to drive it."""

    settings: Settings
    config: dict
    seed: int
    session: int  # 0 for a new run, k for its k-th resume
    store: Store
    state: PopulationState
    engine: Engine
    checkpoints: Any  # LocalCheckpoints or FsspecCheckpoints
    recorder: Recorder
    past: list[ev.Event]
    lock: RunLock | None = None

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            if self.lock is not None:
                self.lock.release()


def open_run(settings: Settings, engine: dict, train_name: str, can_hold: bool = True) -> OpenRun:
    """Create the run in ``settings.dir``, or resume it; start the callbacks.

    Args:
        settings: From :func:`check_settings`.
        engine: JSON description of what runs the members (stored with the run).
        train_name: What trains the members (stored, for the record).
        can_hold: Whether a waiting member may keep its worker (see :class:`~poptune.core.Engine`).
    """
    s = settings
    config = {
        "population": s.population,
        "steps": s.steps,
        "interval": s.interval,
        "burn_in": s.burn_in,
        "direction": s.direction,
        "space": s.space.describe(),
        "exploit": repr(s.exploit) if s.exploit is not None else None,
        "explore": repr(s.explore),
        "fitness": repr(s.fitness),
        "stop": repr(s.stop) if s.stop is not None else None,
        "league": s.league.describe() if s.league is not None else None,
        "synchronous": s.synchronous,
        "quorum": s.quorum,
        "retries": s.retries,
        "keep_checkpoints": s.keep_checkpoints,
        "runner": engine,
        "train": train_name,
        "schedule": [[step, h] for step, h in s.schedule] if s.schedule is not None else None,
        "max_lag": s.max_lag,
        "metadata": s.metadata,
        "checkpoints": s.checkpoints,
        "trust_checkpoints": s.trust_checkpoints,
        "version": _version(),
        "log_version": 2,
        # how a decision's random numbers are drawn (poptune.core.decide): the log says, so a
        # later version that draws otherwise is known to decide otherwise on resume
        "decision_rng": "pcg64 seeded by splitmix64(seed, 1, step, member)",
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }
    lock = RunLock(s.dir).acquire()  # before anything reads or deletes the directory
    try:
        previous = _check_dir(s.dir, config, s.resume, s.overwrite)
        seed = int(previous["seed"]) if previous else (s.seed if s.seed is not None else int(np.random.SeedSequence().entropy % 2**31))
        config["seed"] = seed
        store = Store(store_path(s.dir))
    except BaseException:
        lock.release()
        raise
    try:
        window = getattr(s.exploit, "window", 1) if s.exploit is not None else 1
        league = (LeagueState(s.league.rating, s.league.snapshots_every, s.league.max_snapshots)
                  if s.league is not None else None)
        state = PopulationState(s.fitness, window, live=True, league=league)
        past = store.read()
        state.apply_all(past)
        session = sum(isinstance(e, ev.RunStarted) for e in past)
        first: list[ev.Event] = []
        if not past:
            rng = np.random.default_rng([seed, 0])
            initial = s.initial or []
            origins = s.start_from.origins(s.population) if s.start_from is not None else None
            if origins is not None:
                config["start_from"] = {"run": origins[0].run, "members": s.start_from.members,
                                        "hparams": s.start_from.hparams}
            first.append(ev.RunStarted(config=config))
            for m in range(s.population):
                if m < len(initial):
                    hparams = s.space.complete(initial[m], rng, f"initial[{m}]")
                elif origins is not None:
                    hparams = s.start_from.hparams_for(origins[m], s.space, rng, f"start_from (member {m})")
                else:
                    hparams = s.space.sample(rng)
                first.append(ev.MemberAdded(member=m, hparams=hparams,
                                            origin=origins[m].to_json() if origins is not None else None))
            if origins is not None:  # the previous stage's states, copied in before the log names them
                first += _copy_origins(s, origins)
        else:
            first.append(ev.RunResumed(config=config))
        store.append(first)
        state.apply_all(first)
        callbacks = list(s.callbacks)
        if s.progress:
            from poptune.progress import Progress

            callbacks.insert(0, Progress())
        checkpoints = open_checkpoints(checkpoint_location(s.dir, s.checkpoints))
        recorder = Recorder(store, state, callbacks, checkpoints)
        decider = Decider(state, s.space, s.exploit, s.explore, seed,
                          schedule=dict(s.schedule) if s.schedule is not None else None,
                          roles=s.league.roles if s.league is not None else None)
        core = Engine(state, decider, recorder.record, synchronous=s.synchronous, quorum=s.quorum,
                      max_lag=s.max_lag, retries=s.retries, seed=seed, session=session, can_hold=can_hold,
                      trusted=s.trust_checkpoints, stop=s.stop, league=s.league)
        for callback in callbacks:
            callback.on_start(config, state, str(s.dir))
    except BaseException:
        store.close()
        lock.release()
        raise
    return OpenRun(s, config, seed, session, store, state, core, checkpoints, recorder, past, lock)


def checkpoint_location(run_dir: str | os.PathLike, checkpoints: str | None) -> str:
    """Where a run's checkpoints live: ``checkpoints`` if given, else ``<run_dir>/checkpoints``."""
    return checkpoints if checkpoints is not None else str(Path(run_dir) / CHECKPOINT_DIR)


def _copy_origins(s: Settings, origins: list) -> list[ev.Event]:
    """Copy each member's starting state from the previous stage into this run's checkpoints."""
    store = open_checkpoints(checkpoint_location(s.dir, s.checkpoints))
    previous = s.start_from.result()
    events: list[ev.Event] = []
    for m, origin in enumerate(origins):
        ref = store.ref(m, 0, 0)
        store.save(ref, s.start_from.payload(origin, previous))
        events.append(ev.Checkpointed(member=m, step=0, ref=ref))
    return events


def warn_failures(result, population: int) -> None:
    """Warn when some members failed (the run went on without them)."""
    untrained = result.untrained()
    if untrained:
        last = {f.member: f.error for f in result.failures}
        warnings.warn(
            f"{len(untrained)} of {population} members failed and stopped training, leaving "
            f"{sum(untrained.values())} steps of their budgets untrained: "
            + "; ".join(f"member {m} failed with {last.get(m, '?')}" for m in sorted(untrained)[:3])
            + ". Tracebacks: result.failures; resume=True retries them.",
            UserWarning,
            stacklevel=3,
        )


def _check_dir(run_dir: Path, config: dict, resume: bool, overwrite: bool) -> dict | None:
    """Check what ``run_dir`` holds; return the previous run's config when resuming."""
    path = store_path(run_dir)
    if not path.exists():
        return None
    if overwrite:
        _remove_run(run_dir)
        return None
    with Store(path, readonly=True) as store:
        if store.empty():  # a creation cut short (killed before its first commit): start afresh
            store.close()
            _remove_run(run_dir)
            return None
        head = store.read(kinds=[ev.RUN])
        ends = store.read(kinds=[ev.END])
    if not head:
        raise RunLogError(f"{path} holds events but no run configuration: it is damaged or not a poptune "
                          f"log; pass overwrite=True to start over there, or choose another dir")
    previous = head[0].config
    differs = [k for k in IDENTITY if previous.get(k) != config[k]]
    if not resume:
        what = f"a different run (its {', '.join(differs)} differ)" if differs else "this run already"
        state = ends[-1].status if ends else "stopped before its end"
        raise RunDirError(
            f"{run_dir} holds {what} ({state}); pass resume=True to continue it, overwrite=True to "
            f"delete it, or choose another dir"
        )
    if differs:
        details = "; ".join(f"{k}: stored {previous.get(k)!r}, given {config[k]!r}" for k in differs)
        raise RunDirError(
            f"cannot resume {run_dir}: {details}. A resumed run keeps its space, population, "
            f"direction and league (its ratings are a fold of the whole log); pass the same settings, "
            f"or overwrite=True to start a new run there"
        )
    before, now = previous.get("runner", {}).get("name"), config["runner"].get("name")
    if (before == "vectorized") != (now == "vectorized"):
        raise RunDirError(
            f"cannot resume {run_dir}: it was run by {before!r}, not {now!r}; resume it the way it was started"
        )
    if config["checkpoints"] != previous.get("checkpoints"):
        raise RunDirError(
            f"cannot resume {run_dir}: its checkpoints are at {previous.get('checkpoints') or 'the default place'}, "
            f"not {config['checkpoints'] or 'the default place'}; pass the same checkpoints= as when it started"
        )
    if config["steps"] < previous.get("steps", 0):
        raise ConfigError(
            f"steps={config['steps']} is below the stored run's budget ({previous['steps']}); "
            f"a resumed run can keep or raise its budget, not lower it"
        )
    return previous


def _remove_run(run_dir: Path) -> None:
    """Delete the run in ``run_dir``: its log and checkpoints (the caller holds its lock)."""
    path = store_path(run_dir)
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        (run_dir / name).unlink(missing_ok=True)
    shutil.rmtree(run_dir / CHECKPOINT_DIR, ignore_errors=True)


def check_schedule(schedule: Any, space: Space, steps: int) -> list[tuple[int, dict]]:
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


def positive_int(name: str, value: Any, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer{' ' + hint if hint else ''}, got {value!r}")
    return int(value)


def non_negative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def _version() -> str:
    from poptune import __version__

    return __version__
