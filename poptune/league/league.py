"""``pt.League``: what makes a run a self-play league (matchmaking, rating, snapshots)."""

from __future__ import annotations

import numbers

from poptune.errors import ConfigError
from poptune.league.matchmaking import Matchmaking, SelfPlay
from poptune.league.ratings import Elo, OpenSkill, Rating


class League:
    """Members play each other; their fitness is a rating.

    Pass it as ``pt.run(..., league=pt.League(...))``. Inside ``train``, ``member.opponent()``
    gives the opponent drawn for this stretch of training (its hyperparameters and saved state),
    and ``member.report_match(opponent, outcome)`` records a game; matches travel with the
    member's next report and are recorded in the run log, the controller being the only writer.
    Each member's fitness is its conservative rating (``rating.conservative``), so the usual
    exploit strategies copy the members that win. After an exploit the target takes its
    source's rating (it holds the source's policy). A member is ranked in a round by its rating
    when it reached the round's step (after that step's games); games played against it later
    count from its next ready step on. The score ``member.report`` gets is still shown and
    picks ``result.best``, but does not rank members (a NaN score does not get a member
    replaced): pass ``fitness=`` to rank by it instead. A resumed run keeps its league settings.

    Opponents are drawn by the controller whenever a member starts a stretch of training (to
    its next ready step), from: the member itself (plain self-play: play your current model),
    every other member that has saved a state, and the *snapshots*: the states members saved at
    every ``snapshots_every``-th step, kept (and never deleted) while they are among the
    ``max_snapshots`` latest. A live member is met with the state it last saved; when that state
    is a snapshot, the opponent *is* that snapshot (its games rate the frozen state, not the
    member, which keeps training): so a member's own rating moves with the games it plays. Each draw is an event of the log, so a resumed run meets the same
    opponents, and it is a pure function of the league's state and a generator seeded by the
    run's seed, the member and the step.

    Args:
        matchmaking: How opponents are chosen (:class:`~poptune.league.SelfPlay` by default:
            live members, with a fifth of the games against snapshots; or
            :class:`~poptune.league.PFSP`, :class:`~poptune.league.Nash`,
            :class:`~poptune.league.Uniform`), or AlphaStar's roles,
            :class:`~poptune.league.Roles` (main agents, main exploiters and league exploiters,
            each with its own opponents; members exploit within their role, exploiters reset).
        rating: :class:`~poptune.league.Elo` (default, no dependency) or
            :class:`~poptune.league.OpenSkill` (extra ``league``).
        snapshots_every: Take a snapshot of every member at every multiple of this step (a
            multiple of the run's ``interval``; default: the interval). ``0``: no snapshots.
        max_snapshots: Snapshots kept as opponents (the oldest leave first).
        opponents: Opponents drawn per stretch of training (``member.opponents``;
            ``member.opponent()`` goes through them in turn).

    Examples:
        >>> import poptune as pt
        >>> pt.League(pt.league.PFSP(), pt.league.Elo(k=16), max_snapshots=8)
        League(matchmaking=PFSP('hard', prior=0.5), rating=Elo(k=16, initial=1500), snapshots_every=None, max_snapshots=8, opponents=1)
    """

    def __init__(self, matchmaking: Matchmaking | None = None, rating: Rating | None = None, *,
                 snapshots_every: int | None = None, max_snapshots: int = 32, opponents: int = 1):
        if matchmaking is None:
            matchmaking = SelfPlay()
        if isinstance(matchmaking, type):
            raise ConfigError(f"League: matchmaking={matchmaking.__name__} is a class: pass an instance, "
                              f"matchmaking={matchmaking.__name__}()")
        if not isinstance(matchmaking, Matchmaking):
            raise ConfigError(f"League: matchmaking must be pt.league.SelfPlay(), PFSP(), Nash(), Uniform() or "
                              f"Roles(...), got {matchmaking!r}")
        if rating is None:
            rating = Elo()
        if isinstance(rating, type):
            raise ConfigError(f"League: rating={rating.__name__} is a class: pass an instance, rating={rating.__name__}()")
        if not isinstance(rating, Rating):
            raise ConfigError(f"League: rating must be pt.league.Elo() or pt.league.OpenSkill(), got {rating!r}")
        if snapshots_every is not None and not _whole(snapshots_every, 0):
            raise ConfigError(f"League: snapshots_every must be an integer >= 0 (0: no snapshots) or None (the "
                              f"run's interval), got {snapshots_every!r}")
        if not _whole(max_snapshots, 0):
            raise ConfigError(f"League: max_snapshots must be an integer >= 0, got {max_snapshots!r}")
        if not _whole(opponents, 1):
            raise ConfigError(f"League: opponents must be an integer >= 1, got {opponents!r}")
        self.matchmaking, self.rating = matchmaking, rating
        self.snapshots_every, self.max_snapshots, self.opponents = snapshots_every, int(max_snapshots), int(opponents)

    @property
    def roles(self):
        """The :class:`~poptune.league.Roles` when the matchmaking is one (AlphaStar's roles)."""
        from poptune.league.roles import Roles

        return self.matchmaking if isinstance(self.matchmaking, Roles) else None

    def check_population(self, population: int) -> None:
        """A league of roles takes exactly its roles' members."""
        roles = self.roles
        if roles is not None and roles.size != population:
            raise ConfigError(f"League: the roles {roles!r} take {roles.size} members, but population={population}; "
                              f"pass population={roles.size} or change the roles' counts")

    def resolved(self, interval: int | None) -> League:
        """This league with ``snapshots_every`` checked against the run's ``interval``."""
        every = self.snapshots_every
        if every is None:
            every = interval or 0
        if every and interval and every % interval:
            raise ConfigError(f"League: snapshots_every={every} must be a multiple of interval={interval} (states are "
                              f"saved at ready steps); e.g. snapshots_every={interval * max(1, round(every / interval))}")
        if every and not interval:
            raise ConfigError("League: snapshots need ready steps, where states are saved: pass an interval, or "
                              "snapshots_every=0")
        return League(self.matchmaking, self.rating, snapshots_every=every, max_snapshots=self.max_snapshots,
                      opponents=self.opponents)

    def describe(self) -> dict:
        """What the run log keeps (so results can recompute ratings without the objects)."""
        rating = self.rating
        if isinstance(rating, Elo):
            rated = {"type": "Elo", "k": rating.k, "initial": rating.initial(), "scale": rating.scale}
        elif isinstance(rating, OpenSkill):
            rated = {"type": "OpenSkill", "model": rating.model, "k": rating.k, "options": dict(rating.options)}
        else:
            rated = {"type": type(rating).__name__}
        return {"matchmaking": repr(self.matchmaking), "rating": rated, "rating_repr": repr(rating),
                "snapshots_every": self.snapshots_every, "max_snapshots": self.max_snapshots,
                "opponents": self.opponents}

    def __repr__(self) -> str:
        return (f"League(matchmaking={self.matchmaking!r}, rating={self.rating!r}, snapshots_every="
                f"{self.snapshots_every}, max_snapshots={self.max_snapshots}, opponents={self.opponents})")


def rating_from_description(description: dict | None) -> Rating | None:
    """The rating a run used, from :meth:`League.describe` (``None`` if it cannot be rebuilt)."""
    if not description:
        return None
    rated = description.get("rating") or {}
    if rated.get("type") == "Elo":
        return Elo(k=rated["k"], initial=rated["initial"], scale=rated["scale"])
    if rated.get("type") == "OpenSkill":
        try:
            return OpenSkill(rated["model"], k=rated["k"], **rated.get("options", {}))
        except Exception:
            return None
    return None


def as_league(value) -> League | None:
    """Accept a :class:`League` or ``None``."""
    if value is None or isinstance(value, League):
        return value
    if value is League:
        raise ConfigError("league=pt.League is a class: pass an instance, league=pt.League()")
    raise ConfigError(f"league must be pt.League(...) or None, got {value!r}")


def _whole(value, low: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


__all__ = ["League", "as_league", "rating_from_description"]
