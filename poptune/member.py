"""The handle a train function receives: hyperparameters, state, the steps to run, report()."""

from __future__ import annotations

import numbers
import time
from typing import Any, Protocol
from collections.abc import Callable, Iterator

from poptune.checkpoints import dumps, loads, resolve
from poptune.errors import PoptuneError, UsageError
from poptune.core.messages import STOP, YIELD, Continue, Report, Restart, Task

_UNSET = object()


class Channel(Protocol):
    """How a member talks to the controller (in-process call, pipe, Ray actor...)."""

    def report(self, report: Report) -> Any:
        """Send a report; for a ready step, wait for and return the reply."""

    def alive(self) -> None:
        """Return if the controller still listens; otherwise end this worker (no return)."""


class CheckpointIO(Protocol):
    def ref(self, member: int, step: int, session: int = 0) -> str: ...
    def save(self, ref: str, payload: bytes) -> None: ...
    def load(self, ref: str) -> bytes: ...


class Member:
    """A live handle on one member, passed to the user's train function.

    A call of ``train(member)`` runs a *segment*: from ``member.step`` (steps already done)
    until the member's next stop. The loop is always the same::

        def train(member):
            model = build(member.hparams)
            if member.checkpoint is not None:
                model.load(member.checkpoint)
            for step in member.steps():
                loss = model.train_one_step()
                member.report(model.score(), checkpoint=model.state)

    ``steps()`` ends when the budget is spent, when the member exploits another (``train`` is
    then called again, in the same worker, with the new hyperparameters and the copied state),
    or when it yields its worker to a member that is further behind.

    Attributes:
        id: Member id, ``0 .. population - 1``.
        hparams: Current hyperparameters (a copy; changing it changes nothing).
        step: Steps done so far (the last reported step).
        budget: Steps this member runs in total.
        generation: Exploits along this member's lineage.
        stopped: Whether the member met the run's stop condition (``pt.run(stop=...)``) and is
            finished before its budget (``steps()`` has ended).
        seed: A seed for this segment, derived from the run's seed, the member and its step,
            so a resumed segment repeats the same randomness. Python's, numpy's and torch's
            global generators are seeded with it before each call of ``train``.
    """

    def __init__(self, task: Task, channel: Channel, checkpoints: CheckpointIO):
        self.id = task.member
        self.hparams = dict(task.hparams)
        self.step = task.start
        self.budget = task.budget
        self.generation = task.generation
        self.seed = task.seed
        self._task = task
        self._stop = task.stop
        self._channel = channel
        self._checkpoints = checkpoints
        self._checkpoint: Any = _UNSET
        self._live_checkpoint: Callable[[], Any] | None = None
        self._outcome: Any = None  # None (running), "final", YIELD or a Restart
        self.stopped = False
        self._iterating = False
        self._reported_this_step = False
        self._opponents = self._league_opponents(task.opponents)
        self._next_opponent = 0
        self._matches: list[dict] = []

    @property
    def checkpoint(self) -> Any:
        """The state to start from: ``None`` on a fresh start, else what this lineage saved.

        After an exploit it is the source's state. Loaded on first access.
        """
        if self._checkpoint is _UNSET:
            ref = self._task.ref
            self._checkpoint = None if ref is None else self._load_ref(ref)
        return self._checkpoint

    @property
    def done(self) -> bool:
        """Whether this segment has ended (``steps()`` yields nothing more)."""
        return self._outcome is not None

    def is_checkpoint_step(self, step: int) -> bool:
        """Whether reporting ``step`` saves the member's state (its next stop, or the last step)."""
        return step == self._stop or step == self.budget

    def steps(self) -> Iterator[int]:
        """Yield the step numbers this call should run, 1-based: ``step`` is the step's number.

        Report exactly once per yielded step.
        """
        if self._iterating:
            raise UsageError("member.steps() is already being iterated; iterate it once per call of train")
        self._iterating = True
        try:
            while self._outcome is None and self.step < self.budget:
                self._reported_this_step = False
                yield self.step + 1
                if not self._reported_this_step and self._outcome is None:
                    raise UsageError(
                        f"member {self.id}: step {self.step + 1} ended without member.report(score); "
                        f"report once per step of member.steps()"
                    )
        finally:
            self._iterating = False

    def report(self, score: float, checkpoint: Any = None, **metrics: Any) -> None:
        """Report the score of the step just run, and the state to save when one is needed.

        Args:
            score: The step's score (``direction`` says whether higher or lower is better).
                NaN or infinite counts as the worst score, so the member gets replaced.
            checkpoint: The member's state, or a zero-argument function returning it (called
                only at ready steps and at the last step, where the state is saved). A function
                given once is reused at later steps of the same call.
            **metrics: Extra numbers (or strings) to record with the step.
        """
        step = self.step + 1
        if self.stopped:
            raise UsageError(f"member {self.id}: report() after the member stopped at step {self.step} (it met the "
                             f"run's stop condition); report only inside `for step in member.steps()`")
        if self._outcome == "final" or step > self.budget:
            raise UsageError(
                f"member {self.id}: report() after the budget: all {self.budget} steps are reported"
            )
        if self._outcome is not None:
            raise UsageError(
                f"member {self.id}: report() after this call of train ended at step {self.step} (the "
                f"member moved on); report only inside `for step in member.steps()`"
            )
        if self._iterating and self._reported_this_step:
            raise UsageError(f"member {self.id}: report() called twice for step {self.step}; report once per step")
        score = _as_score(score, self.id, step)
        metrics = {name: _as_metric(name, value, self.id) for name, value in metrics.items()}
        if callable(checkpoint):
            self._live_checkpoint = checkpoint
        final = step == self.budget
        ready = not final and step == self._stop
        ref = None
        if ready or final:
            state = checkpoint if checkpoint is not None else self._live_checkpoint
            if state is None:
                raise UsageError(
                    f"member {self.id}: step {step} is a {'final' if final else 'ready'} step, where the "
                    f"member's state is saved: pass member.report(score, checkpoint=state) "
                    f"(or checkpoint=lambda: state, evaluated only at such steps)"
                )
            ref = self._checkpoints.ref(self.id, step, self._task.session)
            self._channel.alive()
            self._checkpoints.save(ref, dumps(resolve(state), f"member {self.id} at step {step}"))
        self.step = step
        self._reported_this_step = True
        matches, self._matches = tuple(self._matches), []
        reply = self._channel.report(
            Report(self.id, step, score, metrics, time.time(), ref=ref, ready=ready, final=final, matches=matches)
        )
        if final:
            self._outcome = "final"
        elif ready:
            if isinstance(reply, Restart) or reply == YIELD:
                self._outcome = reply
            elif reply == STOP:
                self._outcome, self.stopped = "final", True
            elif isinstance(reply, Continue):
                self._stop = reply.stop
                if reply.opponents:
                    self._opponents, self._next_opponent = self._league_opponents(reply.opponents), 0
            else:
                raise RuntimeError(f"poptune internal error: unexpected reply {reply!r}")

    # -- leagues (pt.run(league=pt.League(...))) ------------------------------------------------

    @property
    def opponents(self) -> list:
        """The league opponents drawn for this stretch of training (``[]`` outside a league):
        :class:`~poptune.league.Opponent` handles. New ones are drawn at every ready step."""
        return list(self._opponents)

    def opponent(self):
        """The next league opponent to play (the drawn ones in turn): a
        :class:`~poptune.league.Opponent` with ``player``, ``hparams`` and ``checkpoint``."""
        if not self._opponents:
            raise UsageError(f"member {self.id}: member.opponent() needs a league: pass league=pt.League(...) to pt.run")
        opponent = self._opponents[self._next_opponent % len(self._opponents)]
        self._next_opponent += 1
        return opponent

    def report_match(self, opponent, outcome=None, *, ranks=None, scores=None, teams=None) -> None:
        """Record a league game of this member against ``opponent``, played during the current
        step: call it before that step's :meth:`report`, which sends it (so the step's fitness,
        the member's rating, counts the step's games).

        Args:
            opponent: The :class:`~poptune.league.Opponent` played (or a
                :class:`~poptune.league.Player`).
            outcome: For this member: ``1`` (win), ``0`` (loss), ``0.5`` (draw), or ``"win"``,
                ``"loss"``, ``"draw"``.
            ranks: Instead of ``outcome``: ``[mine, theirs]``, lower is better.
            scores: Instead of ``outcome``: ``[mine, theirs]``, higher is better (ties are draws).
            teams: For team games, instead of ``opponent`` alone: the teams, each a list of
                players (this member's team first), with ``ranks`` or ``scores`` per team.
        """
        from poptune.league.reporting import member_game

        if not self._opponents:
            raise UsageError(f"member {self.id}: report_match() needs a league: pass league=pt.League(...) to pt.run")
        if self._outcome is not None or self.step >= self.budget:
            raise UsageError(f"member {self.id}: report_match() after this call of train ended at step {self.step}; "
                             f"report a step's games before its member.report(...), inside member.steps()")
        try:
            match = member_game(self.id, self._task.population, {o.player for o in self._opponents}, opponent,
                                outcome, ranks=ranks, scores=scores, teams=teams, step=self.step + 1)
        except PoptuneError as err:
            raise UsageError(f"member {self.id}: report_match: {err}") from None
        if match is not None:
            self._matches.append(match.to_dict())

    def _league_opponents(self, drawn) -> list:
        if not drawn:  # (not a league run)
            return []
        from poptune.league.opponent import Opponent
        from poptune.league.players import Player

        players = [Player.from_json(player) for player, _, _ in drawn]
        return [Opponent(player, hparams, ref, self._load_ref, player == Player(self.id))
                for player, (_, hparams, ref) in zip(players, drawn)]

    def _load_ref(self, ref: str) -> Any:
        return loads(self._checkpoints.load(ref), self._where(), trusted=self._task.trusted)

    def _where(self) -> str:
        return f"member {self.id} at step {self.step}"

    def __repr__(self) -> str:
        return f"Member(id={self.id}, step={self.step}/{self.budget}, hparams={self.hparams})"


def _as_score(score: Any, member: int, step: int) -> float:
    if type(score) is float:  # the common case, checked first: this runs for every report
        return score
    value = _scalar(score)
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise UsageError(
            f"member {member}: the score of step {step} must be a number, got {score!r}; "
            f"pass a float (use .item() on a tensor)"
        )
    return float(value)


def _as_metric(name: str, value: Any, member: int) -> Any:
    value = _scalar(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Real):
        value = float(value) if not isinstance(value, numbers.Integral) else int(value)
        return value
    raise UsageError(
        f"member {member}: metric {name!r} must be a number or a string, got {type(value).__name__}"
    )


def _scalar(value: Any) -> Any:
    # numpy scalars and 0-d arrays or tensors become Python numbers.
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0 and not isinstance(value, (str, bytes)):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


__all__ = ["Member"]
