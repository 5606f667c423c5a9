"""Pictures of a self-play league: ratings over the games, the payoff matrix, the Nash mixture.

Each picture has a plain data function (:func:`ratings_over_time`, :func:`payoff_matrix`,
:func:`nash_mixture`) that reads a league run's :class:`~poptune.Result`, and a matplotlib
plot drawing it; the report's interactive figures read the same data
(:mod:`poptune.plots.interactive_league`). Players are named as :class:`~poptune.league.Player`
prints them: ``m3`` for live member 3, ``m3@40`` for its snapshot at step 40.

Example:
    >>> import poptune as pt, tempfile
    >>> def train(member):  # the higher lr wins every game
    ...     for _ in member.steps():
    ...         opponent = member.opponent()
    ...         theirs = opponent.hparams["lr"]
    ...         member.report_match(opponent, 1 if member.hparams["lr"] > theirs else 0)
    ...         member.report(member.hparams["lr"], checkpoint=0)
    >>> result = pt.run(train, {"lr": pt.Float(0.0, 1.0)}, population=4, steps=8, interval=2,
    ...                 league=pt.League(pt.league.Uniform()), runner="inline", dir=tempfile.mkdtemp(),
    ...                 seed=0, progress=False)
    >>> data = payoff_matrix(result, top=3)
    >>> data["labels"], data["counts"] == result.payoff(data["players"])[2].tolist()
    (['m3', 'm0@2', 'm1@2'], True)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from poptune.errors import UsageError
from poptune.league.league import rating_from_description
from poptune.league.players import Player
from poptune.plots.mpl import plain_text
from poptune.result import Result

SNAPSHOT_COLOR = "#8c959f"  # grey: snapshots are the league's past, not its members
NEVER_MET = "#c9ced4"  # a pair without games: grey, apart from the white of an even record
# Win rates from red (the row lost) through white (even) to blue (the row won): matplotlib's
# RdBu, spelled out so the interactive picture matches (plotly's own "RdBu" runs the other way).
WIN_RATE_SCALE = [[0.0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"], [1.0, "#2166ac"]]


def has_league(result: Result) -> bool:
    """Whether ``result`` is a self-play league run (``pt.run(..., league=pt.League())``)."""
    return bool(result.config.get("league"))


def games_played(result: Result) -> dict[Player, int]:
    """``{player: matches it played in}``, players sorted."""
    games: dict[Player, int] = {}
    for match in result.matches:
        for p in match.players:
            games[p] = games.get(p, 0) + 1
    return dict(sorted(games.items()))


def current_ratings(result: Result) -> dict[Player, float]:
    """``result.ratings()``, or ``{}`` when the run's rating cannot be rebuilt here (an
    OpenSkill league read without ``openskill`` installed)."""
    try:
        return result.ratings()
    except UsageError:
        return {}


def initial_rating(result: Result) -> float | None:
    """The conservative rating every player starts from (1500 for the default Elo), or ``None``."""
    rating = rating_from_description(result.config.get("league"))
    return None if rating is None else float(rating.conservative(rating.initial()))


def ratings_over_time(result: Result, snapshots: bool = False) -> dict[str, Any]:
    """The data of :func:`plot_ratings`: every player's conservative rating after each change.

    Args:
        result: A league run.
        snapshots: Also return the snapshots' ratings (frozen past states of members).

    Returns:
        ``{"rating": "Elo(k=32, initial=1500)", "initial": 1500.0, "games": matches so far,
        "players": {player: {"games": [...], "ratings": [...], "steps": [...]}}, "reason": ""}``:
        a point whenever a player's rating changed (after its games, when an exploit gave a
        member its source's rating, when a snapshot was frozen), on the league's time axis: the
        number of games played in the whole league so far. ``steps`` is the step of the game
        that point follows (``None`` before the first game). Live members come first. When the
        rating cannot be rebuilt, ``players`` is empty and ``reason`` says why.
    """
    matches = result.matches
    out: dict[str, Any] = {"rating": result.config["league"].get("rating_repr", ""), "initial": initial_rating(result),
                           "games": len(matches), "players": {}, "reason": ""}
    try:
        history = result.ratings(over_time=True)
    except UsageError as err:
        out["reason"] = str(err)
        return out
    chosen = [p for p in history if not p.is_snapshot] + ([p for p in history if p.is_snapshot] if snapshots else [])
    for p in chosen:
        points = history[p]
        out["players"][p] = {"games": [g for g, _ in points], "ratings": [float(r) for _, r in points],
                             "steps": [matches[g - 1].step if g else None for g, _ in points]}
    return out


def payoff_matrix(result: Result, top: int = 20, by: str = "games") -> dict[str, Any]:
    """The data of :func:`plot_payoff`: the win-rate matrix among the ``top`` players.

    Args:
        result: A league run.
        top: How many players to keep (a league with many snapshots has too many to read).
        by: ``"games"``: the players with the most games (their win rates rest on the most
            data); ``"rating"``: the best rated.

    Returns:
        ``{"players": [...], "labels": ["m3", "m1@8", ...], "P": rows of win rates,
        "counts": rows of game counts, "games": [games of each player], "ratings": [rating
        or None], "total": players in the league, "by": by}``. ``P`` and ``counts`` are
        ``result.payoff(players)``: ``P[i][j]`` is the share of games ``players[i]`` won
        against ``players[j]`` (draws half, NaN if they never met, 0.5 on the diagonal).
        Players are ordered by rating, best first (by player when ratings are unavailable).
    """
    if isinstance(top, bool) or not isinstance(top, numbers.Integral) or top < 1:
        raise ValueError(f"payoff_matrix: top must be an int >= 1, got top={top!r}")
    if by not in ("games", "rating"):
        raise ValueError(f"payoff_matrix: by must be 'games' or 'rating', got by={by!r}")
    games = games_played(result)
    ratings = current_ratings(result)
    if by == "rating" and not ratings:
        result.ratings()  # (raises, saying why the rating cannot be rebuilt)
    key = (lambda p: (-ratings.get(p, -math.inf), p)) if by == "rating" else (lambda p: (-games[p], p))
    chosen = sorted(games, key=key)[:top]
    chosen.sort(key=lambda p: (-ratings[p], p) if p in ratings else (math.inf, p))
    players, P, counts = result.payoff(chosen)
    return {"players": players, "labels": [str(p) for p in players], "P": P.tolist(), "counts": counts.tolist(),
            "games": [games[p] for p in players], "ratings": [ratings.get(p) for p in players],
            "total": len(games), "by": by}


def nash_mixture(result: Result) -> dict[str, Any]:
    """The data of :func:`plot_nash`: ``result.nash()``, players sorted by weight.

    Returns:
        ``{"players": [...], "labels": [...], "weights": [...], "ratings": [rating or None],
        "support": players with weight > 0.1%}``: every player that played, the heaviest
        first (ties by player), weights summing to 1 (pairs that never met count as even).
    """
    weights = result.nash()
    ratings = current_ratings(result)
    players = sorted(weights, key=lambda p: (-round(weights[p], 9), p))
    return {"players": players, "labels": [str(p) for p in players], "weights": [weights[p] for p in players],
            "ratings": [ratings.get(p) for p in players], "support": sum(weights[p] > 1e-3 for p in players)}


@plain_text
def plot_ratings(result: Result, ax=None, snapshots: bool = True):
    """Every live member's rating over the league's games (snapshots thin and grey); dashed:
    the initial rating."""
    from poptune.plots.mpl import member_colors, pyplot

    plt = pyplot()
    data = ratings_over_time(result, snapshots=snapshots)
    fig, ax = (plt.subplots(figsize=(9, 4.5)) if ax is None else (ax.figure, ax))
    live = [p for p in data["players"] if not p.is_snapshot]
    colors = member_colors(p.member for p in live)
    for p, series in data["players"].items():
        if p.is_snapshot:
            ax.plot(series["games"], series["ratings"], color=SNAPSHOT_COLOR, lw=0.7, alpha=0.5, zorder=1,
                    drawstyle="steps-post")
    for p in live:
        series = data["players"][p]
        ax.plot(series["games"], series["ratings"], color=colors[p.member], lw=1.4, label=str(p), zorder=3,
                drawstyle="steps-post")
    if data["initial"] is not None:
        ax.axhline(data["initial"], color="#57606a", lw=0.9, ls="--", zorder=2,
                   label=f"initial rating ({data['initial']:g})")
    if any(p.is_snapshot for p in data["players"]):
        ax.plot([], [], color=SNAPSHOT_COLOR, lw=0.7, label="snapshots")
    if not data["players"]:
        ax.text(0.5, 0.5, data["reason"] or "no games yet", ha="center", va="center", transform=ax.transAxes,
                wrap=True)
    ax.set_xlabel("games played in the league")
    ax.set_ylabel("conservative rating")
    ax.set_title(f"Ratings ({data['rating']}) of {len(live)} members over {data['games']} games", fontsize=10)
    if data["players"]:
        ax.legend(fontsize=7.5, ncol=1 if len(live) <= 12 else 2, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


@plain_text
def plot_payoff(result: Result, ax=None, top: int = 20, by: str = "games"):
    """The win-rate matrix among the ``top`` players: row's share of wins against column."""
    from poptune.plots.mpl import pyplot

    plt = pyplot()
    import numpy as np

    data = payoff_matrix(result, top=top, by=by)
    n = len(data["players"])
    fig, ax = (plt.subplots(figsize=(7.5, 6.5)) if ax is None else (ax.figure, ax))
    if not n:
        return _nothing(fig, ax, "Win rates: no games yet")
    P = np.array(data["P"], dtype=float).reshape(n, n)
    np.fill_diagonal(P, np.nan)  # (even with itself: nothing to read)
    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("win_rate", [(at, color) for at, color in WIN_RATE_SCALE])
    cmap = cmap.with_extremes(bad=NEVER_MET)
    image = ax.imshow(np.ma.masked_invalid(P), cmap=cmap, vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="row's win rate against column")
    if n <= 12:
        for i in range(n):
            for j in range(n):
                if i != j and data["counts"][i][j]:
                    ax.text(j, i, f"{P[i, j]:.0%}\n{data['counts'][i][j]}", ha="center", va="center", fontsize=7,
                            color="white" if abs(P[i, j] - 0.5) > 0.3 else "black")
    ax.set_xticks(range(n), data["labels"], rotation=90, fontsize=7)
    ax.set_yticks(range(n), data["labels"], fontsize=7)
    ax.set_xlabel("opponent")
    ax.set_ylabel("player (best rated at the top)")
    most = "most games" if data["by"] == "games" else "best ratings"
    ax.set_title(f"Win rates of the {n} players with the {most} (of {data['total']}); blank: never met",
                 fontsize=10)
    fig.tight_layout()
    return fig


@plain_text
def plot_nash(result: Result, ax=None):
    """The Nash mixture's weight of every player, heaviest first (snapshots grey)."""
    from poptune.plots.mpl import pyplot

    plt = pyplot()
    data = nash_mixture(result)
    n = len(data["players"])
    fig, ax = (plt.subplots(figsize=(9, 4)) if ax is None else (ax.figure, ax))
    if not n:
        return _nothing(fig, ax, "Nash mixture: no games yet")
    colors = [SNAPSHOT_COLOR if p.is_snapshot else "#1f77b4" for p in data["players"]]
    ax.bar(range(n), data["weights"], color=colors)
    ax.set_xticks(range(n), data["labels"], rotation=90, fontsize=7)
    ax.set_ylabel("weight in the Nash mixture")
    ax.set_xlim(-0.6, max(n, 1) - 0.4)
    ax.set_title(f"Nash mixture: {data['support']} of {n} players carry weight (blue: live members, grey: "
                 f"snapshots)", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def _nothing(fig, ax, title: str):
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    return fig


__all__ = ["games_played", "has_league", "nash_mixture", "payoff_matrix", "plot_nash", "plot_payoff",
           "plot_ratings", "ratings_over_time"]
