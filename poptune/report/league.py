"""The League section of a run's report: games, players, snapshots, and three pictures.

Only a self-play league run (``pt.run(..., league=pt.League())``) has one. Its pictures are
the figures ``ratings``, ``payoff`` and ``nash`` (:mod:`poptune.plots.interactive_league`, or
the PNGs of :data:`poptune.plots.LEAGUE_PLOTS`); the cards and the table of the best rated
players sit in ``<div id='live-league'>``, which ``poptune serve`` refreshes.
"""

from __future__ import annotations

from poptune.plots.league import current_ratings, games_played, initial_rating
from poptune.report.html import card, esc, figure_slots, table
from poptune.result import Result

FIGURES = ("ratings", "payoff", "nash")
TOP = 20  # players in the payoff matrix
TABLE_ROWS = 10


def captions(result: Result, static: bool = False) -> dict[str, str]:
    """What each league picture shows and how to read it (``static``: for the PNGs)."""
    league = result.config["league"]
    initial = initial_rating(result)
    start = (f"every player starts at {initial:.6g} (dashed line)" if initial is not None
             else "every player starts at the same rating")
    if "Elo" in league.get("rating_repr", ""):
        relative = (f"Elo ratings are relative: {start}, and a gap of 200 points means the stronger wins about 76% "
                    f"of their games; a rating says how a player does against this league, not against outsiders.")
    else:
        relative = (f"Ratings are relative: {start} and the conservative rating (mean minus k standard deviations) "
                    f"grows as a player wins and as its rating becomes certain; it says how a player does against "
                    f"this league, not against outsiders.")
    interact = ("" if static else " Hover a point for its rating and the step of its game; click 'snapshots' in the "
                "legend to show the frozen past states, a member to hide it.")
    games = len(games_played(result))
    shown = f"the {TOP} players with the most games (of {games})" if games > TOP else "every player"
    return {
        "ratings": f"Each live member's conservative rating ({league.get('rating_repr', '')}) after every game of the "
                   f"league; the x axis counts the games played by the whole league so far. {relative} A member's "
                   f"line jumps at an exploit: it takes the rating of the member it copied, whose policy it now "
                   f"holds.{interact}",
        "payoff": f"Win rates among {shown}: the cell in row A, column B is the share of their games A won against "
                  f"B (a draw counts half). Blue: A won more often, red: B did, white: even, grey: they never met. "
                  f"Rows and columns are in rating order, best first, so a strong player's row is mostly blue; blue "
                  f"on both sides of the diagonal (A beats B, B beats C, C beats A) is a cycle no single policy "
                  f"wins. " + ("Each cell shows its rate and number of games: a rate over 2 games says little."
                               if static else "Hover a cell for its number of games: a rate over 2 games says little."),
        "nash": "The Nash mixture of the league's meta-game (the win-rate matrix of every player, pairs that never met "
                "counted as even): the mix of policies that no player of the league beats on average. It is the mix "
                "to deploy (draw a policy with these weights for each game) and the opponents to test a new policy "
                "against: a policy that beats this mixture is new to the league. Players at 0 are beaten by the "
                "mixture; blue bars are live members, grey ones snapshots (frozen past states, m3@40: member 3 at "
                "step 40).",
    }


def league_html(result: Result) -> str:
    """The section's text, cards and table of the best rated players (refreshed live)."""
    league = result.config["league"]
    matches = result.matches
    games = games_played(result)
    ratings = current_ratings(result)
    snapshots = [p for p in sorted(set(games) | set(ratings)) if p.is_snapshot]
    live = [p for p in games if not p.is_snapshot]
    every = league.get("snapshots_every") or 0
    parts = [
        f"<p>Members played each other in a self-play league: {len(matches)} games, opponents drawn by "
        f"{esc(str(league.get('matchmaking', '')))}, rated by {esc(str(league.get('rating_repr', '')))}. A member's "
        f"fitness is its conservative rating, so the exploits copied the members that won; after an exploit the "
        f"target takes its source's rating.</p>",
        "<div class='cards'>",
        card(str(len(matches)), "matches"),
        card(str(len(games)), f"players who played ({len(live)} members, {len(games) - len(live)} snapshots)"),
        card(str(len(snapshots)), f"snapshots (every {every} steps, latest {league.get('max_snapshots')} kept as "
                                  f"opponents)" if every else "snapshots (snapshots_every=0: none)"),
    ]
    best = max((p for p in live if p in ratings), key=lambda p: ratings[p], default=None)
    if best is not None:
        parts.append(card(f"{ratings[best]:.0f}", f"top member rating ({best})"))
    weights = result.nash() if matches else {}
    if weights:
        support = sum(w > 1e-3 for w in weights.values())
        parts.append(card(f"{support} of {len(weights)}", "players in the Nash mixture"))
    parts.append("</div>")
    if not matches:
        parts.append("<p>No games yet.</p>")
    elif not ratings:
        parts.append(f"<p class='sub'>No ratings: {esc(_why_no_ratings(result))}</p>")
    if ratings and matches:
        parts.append(_players_table(result, ratings, games, weights))
    return "\n".join(parts)


def section(result: Result, shown) -> str:
    """The whole League section: heading, :func:`league_html`, and the pictures ``shown`` has
    (a :class:`poptune.report.page.Pictures`)."""
    parts = ["<h2 id='league'>League</h2>", f"<div id='live-league'>{league_html(result)}</div>"]
    if shown.figures:
        parts += figure_slots([n for n in FIGURES if n in shown.figures], captions(result))
    elif shown.images:
        notes = captions(result, static=True)
        parts += [f"<figure><img src='{uri}' alt='{esc(name)} plot'><figcaption>{esc(notes[name])}</figcaption>"
                  f"</figure>" for name, uri in shown.images.items() if name in FIGURES]
    return "\n".join(parts)


def _players_table(result: Result, ratings: dict, games: dict, weights: dict) -> str:
    players, P, counts = result.payoff()
    won = {p: (float((P[i] * counts[i])[counts[i] > 0].sum()), int(counts[i].sum()))  # (wins, games) per player
           for i, p in enumerate(players)}
    best = sorted((p for p in ratings if games.get(p)), key=lambda p: (-ratings[p], p))[:TABLE_ROWS]
    rows = []
    for p in best:
        wins, pairs = won.get(p, (0.0, 0))
        rows.append([str(p), "snapshot" if p.is_snapshot else "member", f"{ratings[p]:.1f}", games.get(p, 0),
                     f"{wins / pairs:.0%}" if pairs else "", f"{weights[p]:.1%}" if p in weights else ""])
    note = (f"<p class='sub'>The {len(best)} best rated of the {len(games)} players who played. Win rate: over all "
            f"its games (draws half); Nash weight: its share of the mixture below.</p>")
    return note + table(["player", "kind", "rating", "games", "win rate", "Nash weight"], rows, text=(0, 1),
                        id="league-players")


def _why_no_ratings(result: Result) -> str:
    try:
        result.ratings()
    except Exception as err:  # (the UsageError saying the rating cannot be rebuilt here)
        return str(err)
    return "no player has a rating yet"


__all__ = ["FIGURES", "captions", "league_html", "section"]
