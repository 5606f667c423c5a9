"""Small zero-sum games with exact payoffs, for tests, examples and benchmarks of leagues.

- :mod:`~poptune.league.games.rps`: rock-paper-scissors, the smallest game where self-play cycles.
- :mod:`~poptune.league.games.kuhn`: Kuhn poker, exact values and exploitability in numpy.
"""
