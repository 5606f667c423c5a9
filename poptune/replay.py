"""``pt.replay``: retrain one fresh member on the schedule a run discovered."""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Callable, Sequence

from poptune.callbacks import Callback
from poptune.errors import ConfigError
from poptune.result import Result
from poptune.run import run


def replay(
    train: Callable,
    dir: str | os.PathLike,
    *,
    member: int | None = None,
    steps: int | None = None,
    runner: str = "inline",
    replay_dir: str | os.PathLike | None = None,
    seed: int | None = None,
    progress: bool = False,
    callbacks: Sequence[Callback] = (),
) -> Result:
    """Train one member from scratch, following the schedule of a run's lineage.

    The hyperparameters change at the same steps as along ``member``'s lineage (default: the
    best member), without copying any weights: if the result is close to the member's, the
    schedule alone explains it, and the schedule is what to reuse for later training.

    The replay is a run of its own (population 1) in ``replay_dir`` (default
    ``<dir>/replays/member-<id>``, replaced if present), so plots and reports work on it.

    Args:
        train: The same train function as the original run.
        dir: The original run's directory.
        member: Whose lineage to follow (default: the best member).
        steps: Steps to train (default: the training the member's model received); the last
            hyperparameters continue past the end of the schedule.
        runner: ``"inline"`` (default) or ``"processes"``, or a runner object.
        replay_dir: Where the replay run goes.
        seed: Seed of the replay run (its member's ``seed``).
        progress: Show progress.
        callbacks: Extra callbacks.

    Examples:
        >>> import poptune as pt, tempfile
        >>> from poptune.demo import toy
        >>> d = tempfile.mkdtemp()
        >>> best = pt.run(toy.train, toy.SPACE, population=2, steps=100, interval=4, initial=toy.INITIAL,
        ...               explore=toy.explore, exploit=pt.Truncation(0.5), runner="inline", dir=d,
        ...               seed=0, progress=False).best
        >>> again = pt.replay(toy.train, d)
        >>> round(again.best.score, 9) == round(best.score, 9)  # the toy is deterministic
        True
    """
    source = Result.load(dir)
    m = source.best.id if member is None else source.member(member).id
    trained = source.lineage(m)[-1].end
    if steps is None:
        steps = trained
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps must be a positive integer or None, got {steps!r}")
    schedule = [(s, h) for s, h in source.schedule(m) if s < steps]
    target = Path(replay_dir) if replay_dir is not None else Path(dir) / "replays" / f"member-{m}"
    return run(
        train,
        source.space,
        population=1,
        steps=steps,
        direction=source.direction,
        schedule=schedule,
        exploit=None,
        runner=runner,
        dir=target,
        seed=seed,
        overwrite=True,
        progress=progress,
        callbacks=callbacks,
        metadata={"replay_of": {"dir": str(Path(dir).resolve()), "member": m, "trained_steps": trained}},
    )
