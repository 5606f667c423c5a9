"""HTML pages about runs: ``poptune report`` (one run, or several compared) and ``poptune serve``.

Every page is one self-contained file (style, data and plotly.js inlined), so it opens offline.
See ``docs/report.md`` for what each page and picture shows.

Example:
    >>> import poptune as pt, tempfile
    >>> from poptune.report import write_report
    >>> d = tempfile.mkdtemp()
    >>> def train(member):
    ...     for _ in member.steps():
    ...         member.report(member.hparams["lr"], checkpoint=0)
    >>> _ = pt.run(train, {"lr": pt.Float(0.1, 1.0)}, population=2, steps=4, interval=2,
    ...            runner="inline", dir=d, progress=False)
    >>> write_report(d).name
    'report.html'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from poptune.files import write_atomic
from poptune.report.runs import is_run, load_runs
from poptune.result import Result


def write_report(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, static: bool = False) -> Path:
    """Write the HTML report of the run in ``run_dir`` (default ``<run_dir>/report.html``).

    Pictures are interactive (plotly, the ``plot`` extra) unless ``static``; without plotly, or
    with ``static=True``, they are PNGs drawn by matplotlib, and the page says so. Without
    either, the page has the tables and says what to install.
    """
    from poptune.report.page import pictures, render

    result = Result.load(run_dir)
    path = Path(out) if out is not None else Path(run_dir) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render(result, pictures(result, static=static)))  # (a link there is replaced, not followed)
    return path


def write_comparison(paths: Sequence[str | os.PathLike], out: str | os.PathLike | None = None) -> Path:
    """Write the page comparing the runs in ``paths`` (run directories, folders of runs).

    The default ``out`` is ``compare.html`` in the one folder given, else in the folder that
    holds every path given. Runs are grouped by name (``pbt-seed3`` is in group ``pbt``); see
    :mod:`poptune.report.runs`.
    """
    from poptune.report.compare import render

    runs = load_runs(paths)
    if out is None:
        folder = Path(paths[0]) if len(paths) == 1 else Path(os.path.commonpath([Path(p).resolve() for p in paths]))
        out = folder / "compare.html"
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render(runs, [str(p) for p in paths]))
    return path


def write(paths: Sequence[str | os.PathLike], out: str | os.PathLike | None = None, static: bool = False) -> Path:
    """``poptune report PATH...``: the report of one run, or the comparison of several."""
    if len(paths) == 1 and is_run(Path(paths[0])):
        return write_report(paths[0], out, static=static)
    return write_comparison(paths, out)


__all__ = ["write", "write_comparison", "write_report"]
