"""AlphaStar's league roles: main agents, main exploiters and league exploiters.

Vinyals et al. 2019 ("Grandmaster level in StarCraft II") train three kinds of player side by
side:

- **main agents** (:class:`Main`) play a mix of self-play against the live main agents,
  prioritized fictitious self-play (PFSP) against every past player (the snapshots), and games
  against the exploiters; they never reset;
- **main exploiters** (:class:`MainExploiter`) play the live main agents only, to find their
  weaknesses; once one beats every main agent (or after ``timeout`` steps) it is added to the
  league as a snapshot and **reset** to a fresh start;
- **league exploiters** (:class:`LeagueExploiter`) play PFSP against the whole league's past;
  once one beats what it has met (or after ``timeout`` steps) it is added as a snapshot and
  reset with probability ``reset_probability``.

:class:`Roles` gives each member a role (members ``0 .. n-1`` in the order the roles are
listed) and is the league's matchmaking: ``pt.League(pt.league.Roles(Main(4),
MainExploiter(2), LeagueExploiter(2)))``. In such a league PBT's exploit compares a member with
the members of its own role only (an exploiter never copies a main agent), and at each ready
step the controller checks the member's reset rule first (event ``LeagueReset``). A reset
member restarts from no checkpoint (``member.checkpoint is None``: ``train`` builds a fresh
model, as AlphaStar restarts from its supervised agent), keeps its hyperparameters and its step
count, starts a new lineage, and is a new player: its rating starts from the initial one and
its head-to-head record is cleared (the run's matches keep its earlier games).

The reset rules read only the games the member reported itself since its last reset, so the
decision is the same in every runner and after a resume.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from poptune.errors import ConfigError
from poptune.league.matchmaking import PFSP, Matchmaking, Uniform
from poptune.league.payoff import HeadToHead
from poptune.league.players import Player, as_player


class Role:
    """One kind of player in a league with :class:`Roles`: how many members, whom they meet,
    when they reset. Subclasses: :class:`Main`, :class:`MainExploiter`, :class:`LeagueExploiter`."""

    name = "role"

    def __init__(self, count: int):
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
            raise ConfigError(f"{type(self).__name__}: count must be an integer >= 1 (members in this role), "
                              f"got {count!r}")
        self.count = int(count)

    def weights(self, player: Player, candidates: Sequence[Player], stats: HeadToHead | None,
                roles: Roles) -> np.ndarray:
        raise NotImplementedError

    def fires(self, member: int, step: int, own: HeadToHead, since: int, live: Sequence[int],
              snapshots: Sequence[Player], roles: Roles) -> str | None:
        """Why ``member`` is added to the league and maybe reset at ``step`` (``"beat"`` or
        ``"timeout"``), or ``None``. ``own``: the games it reported since its reset at ``since``."""
        return None

    reset_probability = 0.0


class Main(Role):
    """Main agents: never reset.

    Each game is, with the given shares: self-play against a live main agent (itself included);
    PFSP (``"hard"``: the past players it loses to) against the snapshots; PFSP (``"variance"``)
    against the live exploiters. A share whose pool is empty goes to the others.

    Args:
        count: Members in this role.
        self_play: Share of games against the live main agents.
        past: Share of PFSP games against the snapshots.
        exploiters: Share of games against the live exploiters.

    Examples:
        >>> Main(4)
        Main(4, self_play=0.35, past=0.5, exploiters=0.15)
    """

    name = "main"

    def __init__(self, count: int, self_play: float = 0.35, past: float = 0.5, exploiters: float = 0.15):
        super().__init__(count)
        shares = {"self_play": self_play, "past": past, "exploiters": exploiters}
        for key, value in shares.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
                raise ConfigError(f"Main: {key} must be a share >= 0, got {value!r}")
        if sum(shares.values()) <= 0:
            raise ConfigError("Main: self_play, past and exploiters must not all be 0")
        self.self_play, self.past, self.exploiters = float(self_play), float(past), float(exploiters)

    def weights(self, player, candidates, stats, roles):
        pools = [
            (self.self_play, [c for c in candidates if not c.is_snapshot and isinstance(roles.role(c), Main)],
             Uniform()),
            (self.past, [c for c in candidates if c.is_snapshot], PFSP("hard")),
            (self.exploiters, [c for c in candidates if not c.is_snapshot and not isinstance(roles.role(c), Main)],
             PFSP("variance")),
        ]
        return _mix(player, candidates, stats, pools)

    def __repr__(self) -> str:
        return (f"Main({self.count}, self_play={self.self_play:g}, past={self.past:g}, "
                f"exploiters={self.exploiters:g})")


class _Exploiter(Role):
    def __init__(self, count: int, beat: float = 0.7, min_games: int = 20, timeout: int | None = None,
                 reset_probability: float = 1.0):
        super().__init__(count)
        kind = type(self).__name__
        if isinstance(beat, bool) or not isinstance(beat, numbers.Real) or not 0.0 < beat <= 1.0:
            raise ConfigError(f"{kind}: beat must be a win rate in (0, 1], got {beat!r}")
        if isinstance(min_games, bool) or not isinstance(min_games, numbers.Integral) or min_games < 1:
            raise ConfigError(f"{kind}: min_games must be an integer >= 1, got {min_games!r}")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, numbers.Integral)
                                    or timeout < 1):
            raise ConfigError(f"{kind}: timeout must be None (never) or a number of steps >= 1, got {timeout!r}")
        if isinstance(reset_probability, bool) or not isinstance(reset_probability, numbers.Real) or not (
                0.0 <= reset_probability <= 1.0):
            raise ConfigError(f"{kind}: reset_probability must be in [0, 1], got {reset_probability!r}")
        self.beat, self.min_games = float(beat), int(min_games)
        self.timeout = None if timeout is None else int(timeout)
        self.reset_probability = float(reset_probability)

    def _targets(self, live, snapshots, roles) -> list[Player]:
        raise NotImplementedError

    def fires(self, member, step, own, since, live, snapshots, roles):
        me = Player(member)
        met = [t for t in self._targets(live, snapshots, roles) if own.games(me, t) >= self.min_games]
        if met and self._all_required(met, live, snapshots, roles) and all(
                own.win_rate(me, t) >= self.beat for t in met):
            return "beat"
        if self.timeout is not None and step - since >= self.timeout:
            return "timeout"
        return None

    def _all_required(self, met, live, snapshots, roles) -> bool:
        return True

    def _describe(self) -> str:
        timeout = "" if self.timeout is None else f", timeout={self.timeout}"
        return f"beat={self.beat:g}, min_games={self.min_games}{timeout}"


class MainExploiter(_Exploiter):
    """Main exploiters: play the live main agents; reset once they beat them all.

    Each game is against a live main agent, uniformly; if the exploiter wins less than 10% of
    its games against them (AlphaStar's rule; after ``min_games`` games), it plays the main
    agents' snapshots instead, by PFSP (``"variance"``: those of its own level). It *fires* when
    it has won at least ``beat`` of its games against **every** live main agent (at least
    ``min_games`` games each, since its last reset), or ``timeout`` steps after its last reset:
    its state is added to the league as a snapshot and it is reset.

    Args:
        count: Members in this role.
        beat: The win rate against every main agent that fires the reset.
        min_games: Games against a main agent before its win rate counts.
        timeout: Steps after which it fires anyway (``None``: never).

    Examples:
        >>> MainExploiter(2, timeout=40)
        MainExploiter(2, beat=0.7, min_games=20, timeout=40)
    """

    name = "main_exploiter"

    def __init__(self, count: int, beat: float = 0.7, min_games: int = 20, timeout: int | None = None):
        super().__init__(count, beat, min_games, timeout, reset_probability=1.0)

    def weights(self, player, candidates, stats, roles):
        mains = [c for c in candidates if not c.is_snapshot and isinstance(roles.role(c), Main)]
        past = [c for c in candidates if c.is_snapshot and isinstance(roles.role(c), Main)]
        stats = stats or HeadToHead()
        games = sum(stats.games(player, c) for c in mains)
        wins = sum(stats.wins(player, c) for c in mains)
        struggling = games >= self.min_games and wins < 0.1 * games
        if past and (struggling or not mains):
            return _mix(player, candidates, stats, [(1.0, past, PFSP("variance"))])
        if mains:
            return _mix(player, candidates, stats, [(1.0, mains, Uniform())])
        return _fallback(player, candidates)

    def _targets(self, live, snapshots, roles):
        return [Player(m) for m in live if isinstance(roles.role(Player(m)), Main)]

    def _all_required(self, met, live, snapshots, roles):
        return len(met) == len(self._targets(live, snapshots, roles))

    def __repr__(self) -> str:
        return f"MainExploiter({self.count}, {self._describe()})"


class LeagueExploiter(_Exploiter):
    """League exploiters: PFSP against the league's past; sometimes reset once they beat it.

    Each game is drawn by PFSP (``"hard"``) among the snapshots (the live members other than
    itself while there are none). It *fires* when it has won at least ``beat`` of its games
    against every snapshot it met at least ``min_games`` times since its last reset (at least
    one), or ``timeout`` steps after its last reset: its state is added to the league as a
    snapshot, and it is reset with probability ``reset_probability`` (AlphaStar: 25%).

    Args:
        count: Members in this role.
        beat: The win rate that fires.
        min_games: Games against a snapshot before its win rate counts.
        timeout: Steps after which it fires anyway (``None``: never).
        reset_probability: Chance that firing also resets it.

    Examples:
        >>> LeagueExploiter(1)
        LeagueExploiter(1, beat=0.7, min_games=20, reset_probability=0.25)
    """

    name = "league_exploiter"

    def __init__(self, count: int, beat: float = 0.7, min_games: int = 20, timeout: int | None = None,
                 reset_probability: float = 0.25):
        super().__init__(count, beat, min_games, timeout, reset_probability)

    def weights(self, player, candidates, stats, roles):
        past = [c for c in candidates if c.is_snapshot]
        if not past:
            past = [c for c in candidates if c != player] or [player]
        return _mix(player, candidates, stats, [(1.0, past, PFSP("hard"))])

    def _targets(self, live, snapshots, roles):
        return list(snapshots)

    def __repr__(self) -> str:
        return f"LeagueExploiter({self.count}, {self._describe()}, reset_probability={self.reset_probability:g})"


class Roles(Matchmaking):
    """A league of roles: members ``0 .. n-1`` take the roles in the order listed.

    Pass it as the league's matchmaking; the run's population must equal the roles' total.

    Args:
        *roles: :class:`Main`, :class:`MainExploiter` and :class:`LeagueExploiter` instances
            (at least one :class:`Main`).

    Examples:
        >>> roles = Roles(Main(2), MainExploiter(1), LeagueExploiter(1))
        >>> roles.size, [roles.role(m).name for m in range(4)]
        (4, ['main', 'main', 'main_exploiter', 'league_exploiter'])
        >>> roles.weights(Player(0), [Player(0), Player(1), Player(2), Player(0, 10)], None).round(3).tolist()
        [0.175, 0.175, 0.15, 0.5]
    """

    def __init__(self, *roles: Role):
        if len(roles) == 1 and isinstance(roles[0], (list, tuple)):
            roles = tuple(roles[0])
        if not roles:
            raise ConfigError("Roles: pass the roles, e.g. Roles(Main(4), MainExploiter(2), LeagueExploiter(2))")
        for role in roles:
            if isinstance(role, type):
                raise ConfigError(f"Roles: {role.__name__} is a class: pass an instance with its count, "
                                  f"e.g. {role.__name__}(2)")
            if not isinstance(role, Role):
                raise ConfigError(f"Roles: each role must be Main(n), MainExploiter(n) or LeagueExploiter(n), "
                                  f"got {role!r}")
        if not any(isinstance(r, Main) for r in roles):
            raise ConfigError("Roles: a league needs main agents: add Main(n)")
        self.roles = tuple(roles)
        self._of: list[Role] = [r for r in roles for _ in range(r.count)]

    @property
    def size(self) -> int:
        """Members the roles take (the run's population)."""
        return len(self._of)

    def role(self, player) -> Role:
        """The role of a member (or of the member a snapshot froze)."""
        member = player.member if isinstance(player, Player) else int(player)
        if not 0 <= member < len(self._of):
            raise ConfigError(f"Roles: member {member} has no role (the roles take members 0..{len(self._of) - 1}); "
                              f"the run's population must be {len(self._of)}")
        return self._of[member]

    def group(self, member: int) -> int:
        """The index of ``member``'s role in the list (members exploit within their group)."""
        return self.roles.index(self.role(member))

    def weights(self, player, candidates, stats):
        player = as_player(player)
        return self.role(player).weights(player, list(candidates), stats, self)

    def __repr__(self) -> str:
        return "Roles(" + ", ".join(repr(r) for r in self.roles) + ")"


def _mix(player: Player, candidates: Sequence[Player], stats, pools) -> np.ndarray:
    """Weights over ``candidates``: each ``(share, pool, matchmaking)`` spreads its share over
    its pool; the shares of empty pools go to the others."""
    index = {c: i for i, c in enumerate(candidates)}
    live = [(share, pool, how) for share, pool, how in pools if pool and share > 0]
    if not live:
        return _fallback(player, candidates)
    total = sum(share for share, _, _ in live)
    w = np.zeros(len(candidates))
    for share, pool, how in live:
        for c, p in zip(pool, how.weights(player, pool, stats)):
            w[index[c]] += share / total * p
    return w


def _fallback(player: Player, candidates: Sequence[Player]) -> np.ndarray:
    """Nobody of the role's pools is there yet (early in a run): uniform over everyone."""
    return np.full(len(candidates), 1.0 / len(candidates))


__all__ = ["LeagueExploiter", "Main", "MainExploiter", "Role", "Roles"]
