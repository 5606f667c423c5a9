"""Finding the runs to compare, naming them, and grouping them by name pattern.

``poptune report A B ...`` takes run directories and folders of runs. A folder is searched a few
levels deep for run directories (those holding a run log). A run is named by its path relative
to the folder given (or, for runs given one by one, to the folder that holds them all), and runs
are grouped by that name without its seed or repetition suffix: ``pbt-seed3`` and
``pbt-seed4`` are group ``pbt``, ``lr0.1/seed2`` is group ``lr0.1``. A run whose name fits no
group joins the one group whose runs all have its settings (everything but the seed).

``poptune demo`` keeps its first PBT run in ``runs/demo`` itself and the others in
``runs/demo/compare/{pbt,random}-seed<N>``: a folder of runs inside a run directory brings that
run along (named after its directory; its settings put it in group ``pbt``), so
``poptune report runs/demo/compare`` compares every seed of the demo.

Example:
    >>> from poptune.report.runs import group_of
    >>> group_of("pbt-seed3"), group_of("random_seed12"), group_of("lr0.1/seed2"), group_of("lr0.1")
    ('pbt', 'random', 'lr0.1', 'lr0.1')
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from poptune.errors import PoptuneError
from poptune.report.config import public_config
from poptune.result import Result
from poptune.store import FILENAME

DEPTH = 3  # levels of sub-folders searched for runs
# settings that make two runs "the same experiment" when they differ only in seed
SETTINGS = ("population", "steps", "interval", "burn_in", "direction", "space", "exploit", "explore", "fitness",
            "synchronous", "quorum", "schedule", "stop", "train", "metadata")
# a seed or repetition suffix: "-seed3", "_run2", "-s4", "_7" (never bare digits: "lr0.1" is not "lr0")
_SUFFIX = re.compile(r"(?:[-_. ]*(?:seed|run|rep|repeat|trial)[-_=]?\d+|[-_]+[sr]?\d+|^[sr]?\d+)$", re.I)
_SKIP = {"checkpoints", "plots", "__pycache__"}


@dataclass
class Run:
    """A run to compare: its directory, display ``name``, ``group`` and loaded ``result``."""

    path: Path
    name: str
    group: str
    result: Result


def is_run(path: Path) -> bool:
    """Whether ``path`` is a run directory (holds a run log)."""
    return (path / FILENAME).is_file()


def find_runs(paths: Sequence[str | os.PathLike]) -> list[tuple[Path, str]]:
    """``[(run directory, name)]`` of the runs named by ``paths``: each a run, or a folder
    searched for runs (see the module's docstring for the names).

    Raises:
        PoptuneError: A path is missing or holds no run.
    """
    found: dict[Path, tuple[Path, Path | None]] = {}  # resolved -> (as given, folder it was found in)
    for arg in paths:
        path = Path(arg)
        if not path.is_dir():
            raise PoptuneError(f"{path} is not a directory: pass run directories or folders that hold runs")
        if is_run(path):
            found.setdefault(path.resolve(), (path, None))
            continue
        inside = runs_in(path)
        if not inside:
            raise PoptuneError(f"{path} holds no poptune run (no {FILENAME} in it or in its sub-folders up to "
                               f"{DEPTH} levels down): pass a run directory or a folder of runs")
        if is_run(path.parent):  # the demo's layout: seed 0 in runs/demo, the others in runs/demo/compare
            found.setdefault(path.parent.resolve(), (path.parent, None))
        for run in inside:
            found.setdefault(run.resolve(), (run, path))
    singles = [p for p, (_, folder) in found.items() if folder is None]
    root = Path(os.path.commonpath([p.parent for p in singles])) if len(singles) > 1 else None
    out, seen = [], set()
    for resolved, (path, folder) in found.items():
        if folder is not None:
            name = path.relative_to(folder).as_posix()
        elif root is not None:
            name = resolved.relative_to(root).as_posix()
        else:
            name = resolved.name
        while name in seen:  # (two folders given that hold runs of the same name)
            name += "'"
        seen.add(name)
        out.append((path, name))
    return out


def runs_in(folder: Path, depth: int = DEPTH) -> list[Path]:
    """Run directories under ``folder`` (not ``folder`` itself), in natural order (seed2 before seed10)."""
    out: list[Path] = []
    if depth <= 0:
        return out
    try:
        children = sorted((c for c in folder.iterdir() if c.is_dir() and not c.is_symlink()
                           and c.name not in _SKIP and not c.name.startswith(".")), key=lambda c: natural(c.name))
    except OSError:
        return out
    for child in children:
        if is_run(child):
            out.append(child)
        out.extend(runs_in(child, depth - 1))
    return out


def natural(text: str) -> list:
    """Sort key that orders numbers inside names by value."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def group_of(name: str) -> str:
    """``name`` without its seed or repetition suffix (a ``/``-separated name: of its last part)."""
    parts = name.split("/")
    stem = _SUFFIX.sub("", parts[-1])
    if stem:
        return "/".join([*parts[:-1], stem])
    return "/".join(parts[:-1]) or name


def settings_key(config: dict) -> str:
    """The settings of a run but its seed, as comparable text.

    Texts are made :func:`~poptune.report.config.readable` first: the ``repr`` of the training
    function names a memory address that differs in every process.
    """
    settings = public_config({k: config.get(k) for k in SETTINGS})
    return json.dumps(settings, sort_keys=True, default=str)


def group_runs(names: Sequence[str], keys: Sequence[str]) -> list[str]:
    """A group per run: its name without the seed suffix (:func:`group_of`). A run whose name
    has no such suffix, alone in its group, joins the one group named from suffixes whose runs
    all have its settings (``keys``): the demo's ``runs/demo`` joins ``pbt``, not ``random``.

    Example:
        >>> group_runs(["demo", "pbt-seed1", "random-seed0"], ["A", "A", "B"])
        ['pbt', 'pbt', 'random']
    """
    groups = [group_of(n) for n in names]
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    suffixed = {g for n, g in zip(names, groups) if g != n}
    for i, (name, g) in enumerate(zip(names, list(groups))):
        if g != name or len(members[g]) != 1:
            continue
        fits = [other for other, idx in members.items()
                if other in suffixed and all(keys[j] == keys[i] for j in idx)]
        if len(fits) == 1:
            groups[i] = fits[0]
    return groups


def load_runs(paths: Sequence[str | os.PathLike]) -> list[Run]:
    """Find, load, name and group the runs named by ``paths`` (see :func:`find_runs`)."""
    found = find_runs(paths)
    dirs = [d for d, _ in found]
    names = [n for _, n in found]
    results = [Result.load(d) for d in dirs]
    groups = group_runs(names, [settings_key(r.config) for r in results])
    return [Run(d, n, g, r) for d, n, g, r in zip(dirs, names, groups, results)]
