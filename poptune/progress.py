"""Live progress of a run: a table in a terminal, plain log lines elsewhere."""

from __future__ import annotations

import math
import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from poptune.callbacks import Callback
from poptune.core import events as ev
from poptune.core.state import FAILED, FINISHED
from poptune.core.state import PopulationState as Population

MAX_ROWS = 24  # beyond this the table shows the best and the worst members only
REFRESH_SECONDS = 1.0  # a render of the table takes 20-35 ms: at 1 Hz, 2-4% of a core


def format_value(value: Any) -> str:
    """Short display of a hyperparameter or score."""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.3g}"
    return str(value)


def format_hparams(hparams: dict) -> str:
    return " ".join(f"{k}={format_value(v)}" for k, v in hparams.items())


class Progress(Callback):
    """Shows the population while it trains.

    In a terminal: a table with one row per member (step, score, best score, hyperparameters,
    generation, exploits), a header with elapsed time, throughput and ETA, and a line per
    exploit. Otherwise (a log file, CI): one line per exploit or failure and a status line at
    every tenth of the run.

    Args:
        console: A ``rich.console.Console`` to write to (default: standard output).

    Examples:
        >>> import poptune as pt
        >>> progress = pt.Progress()  # pt.run(..., progress=True) adds one for you
    """

    def __init__(self, console: Console | None = None):
        self.console = console or Console(soft_wrap=True)
        self._live: Live | None = None
        self._best: dict[int, float] = {}
        self._best_score: dict[int, float] = {}
        self._steps_done = 0  # reports seen this session (throughput)
        self._done = 0  # steps done by the population, each member counted up to its budget
        self._step: dict[int, int] = {}
        self._last_render = 0.0
        self._next_line = 0.1

    # -- callback ------------------------------------------------------------------------------

    def on_start(self, config: dict, population: Population, run_dir: str) -> None:
        self.config, self.run_dir = config, run_dir
        self.budget = config["steps"]
        self.direction = config["direction"]
        self.start = time.monotonic()
        self._step = {s.id: min(s.step, self.budget) for s in population}
        self._done = sum(self._step.values())
        for state in population:
            if math.isfinite(state.fitness):
                self._best[state.id], self._best_score[state.id] = state.fitness, state.score
        self.console.print(
            f"poptune: {len(population)} members x {self.budget} steps, ready every "
            f"{config['interval']} steps, runner {config['runner']['name']}, dir {run_dir}"
        )
        if self.console.is_terminal:
            self._live = Live(console=self.console, auto_refresh=False, transient=False)
            self._live.start()

    def on_event(self, event: ev.Event, population: Population) -> None:
        if isinstance(event, ev.Reported):
            self._steps_done += 1
            step = min(event.step, self.budget)
            self._done += step - self._step.get(event.member, 0)
            self._step[event.member] = step
            state = population[event.member]
            if state.fitness > self._best.get(event.member, -math.inf):
                self._best[event.member], self._best_score[event.member] = state.fitness, event.score
            if self._live is None:
                self._maybe_log_status(population)
            return
        line = self._event_line(event)
        if line is not None:
            self.console.print(line, highlight=False)

    def on_tick(self, population: Population) -> None:
        now = time.monotonic()
        if self._live is not None and now - self._last_render >= REFRESH_SECONDS:
            self._last_render = now
            self._live.update(self.render(population), refresh=True)

    def on_end(self, status: str, population: Population) -> None:
        if self._live is not None:
            self._live.update(self.render(population), refresh=True)
            self._live.stop()
            self._live = None
        best = max(population, key=lambda s: s.fitness, default=None)
        tail = f"; best member {best.id} score {format_value(best.score)}" if best is not None else ""
        failed = [s for s in population if s.status == FAILED]
        if failed:
            untrained = sum(self.budget - s.step for s in failed)
            tail += (f"; {len(failed)} members failed for good, {untrained} steps of their budgets never "
                     f"trained (resume=True retries them)")
        self.console.print(f"poptune: run {status} after {self._elapsed():.1f}s{tail}")

    # -- rendering -----------------------------------------------------------------------------

    def _elapsed(self) -> float:
        return time.monotonic() - self.start

    def header(self, population: Population) -> str:
        elapsed = self._elapsed()
        rate = self._steps_done / elapsed if elapsed > 0 else 0.0
        total = len(population) * self.budget
        done = self._done
        remaining = sum(self.budget - s.step for s in population.active)
        eta = f"{remaining / rate:.0f}s" if rate > 0 else "?"
        return (
            f"{done}/{total} steps ({100 * done / max(total, 1):.0f}%)  elapsed {elapsed:.0f}s  "
            f"{rate:.1f} steps/s  ETA {eta}"
        )

    def render(self, population: Population) -> Group:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("member", "step", "score", "best", "gen", "exploits", "copied", "hyperparameters"):
            table.add_column(column, justify="left" if column == "hyperparameters" else "right")
        states = sorted(population, key=lambda s: -s.fitness)
        shown = states if len(states) <= MAX_ROWS else states[: MAX_ROWS - 6] + states[-6:]
        for state in shown:
            if len(states) > MAX_ROWS and state is states[-6]:
                table.add_row("...", f"{len(states) - MAX_ROWS} more", "", "", "", "", "", "")
            mark = {FINISHED: " done", FAILED: " failed"}.get(state.status, "")
            table.add_row(
                str(state.id),
                f"{state.step}/{self.budget}{mark}",
                format_value(state.score),
                format_value(self._best_score.get(state.id, math.nan)),
                str(state.generation),
                str(state.exploits),
                str(state.copied),
                format_hparams(state.hparams),
            )
        return Group(Text(self.header(population), style="bold"), table)

    def _event_line(self, event: ev.Event) -> str | None:
        if isinstance(event, ev.Exploited):
            changed = {k: v for k, v in event.new.items() if event.copied.get(k) != v}
            rank = f", {event.info['rank'] + 1} of {event.info['of']} from the bottom" if "of" in event.info else ""
            return (
                f"step {event.step}: member {event.member} copies member {event.source}"
                f" (gen {event.generation}{rank}); explore: {format_hparams(changed) or 'no change'}"
            )
        if isinstance(event, ev.Explored):
            changed = {k: v for k, v in event.new.items() if event.old.get(k) != v}
            return f"step {event.step}: member {event.member} changes {format_hparams(changed)}"
        if isinstance(event, ev.AttemptFailed):
            return f"member {event.member} failed at step {event.step} (attempt {event.attempt}): {event.error}"
        if isinstance(event, ev.MemberFailed):
            return f"member {event.member} gave up after its retries: {event.error}"
        return None

    def _maybe_log_status(self, population: Population) -> None:
        total = len(population) * self.budget
        done = self._done
        if total and done / total >= self._next_line:
            self._next_line = math.floor(done / total * 10 + 1) / 10
            best = max(population, key=lambda s: s.fitness)
            self.console.print(
                f"{self.header(population)}  best member {best.id} score {format_value(best.score)}",
                highlight=False,
            )
