"""Self-play leagues: members play each other, and fitness is a rating.

The pure, engine-independent parts: who plays (:class:`Player`), what happened
(:class:`Match`), ratings as state transitions (:class:`Elo`, :class:`OpenSkill`), the payoff
matrix and its Nash mixture, and matchmaking (:class:`Uniform`, :class:`SelfPlay`,
:class:`PFSP`, :class:`Nash`, AlphaStar's :class:`Roles`). Small games to test and demonstrate them live in
:mod:`poptune.league.games`. Nothing here needs ``openskill`` until an :class:`OpenSkill`
rating is made.
"""

from poptune.league.league import League
from poptune.league.opponent import Opponent
from poptune.league.matchmaking import PFSP, Matchmaking, Nash, SelfPlay, Uniform
from poptune.league.nash import exploitability, maxmin, meta_game, nash
from poptune.league.outcomes import Match, as_match, parse_outcome
from poptune.league.payoff import HeadToHead, payoff
from poptune.league.players import Player, as_player
from poptune.league.ratings import Elo, OpenSkill, Rating, Skill
from poptune.league.roles import LeagueExploiter, Main, MainExploiter, Role, Roles

__all__ = [
    "Elo", "HeadToHead", "League", "LeagueExploiter", "Main", "MainExploiter", "Match", "Matchmaking", "Nash",
    "OpenSkill", "Opponent", "PFSP", "Player", "Rating", "Role", "Roles", "SelfPlay", "Skill", "Uniform", "as_match", "as_player", "exploitability", "maxmin", "meta_game", "nash", "parse_outcome",
    "payoff",
]
