"""Exploit and explore strategies: small, pure, seeded objects with one method each."""

from poptune.strategies.base import (
    Exploit,
    Explore,
    FunctionExploit,
    FunctionExplore,
    MemberView,
    as_exploit,
    as_explore,
    fitness,
    ranked,
)
from poptune.strategies.explore_only import ExploreOnly
from poptune.strategies.perturb import Perturb
from poptune.strategies.perturb_or_resample import PerturbOrResample
from poptune.strategies.resample import Resample
from poptune.strategies.tournament import Tournament
from poptune.strategies.truncation import Truncation
from poptune.strategies.ttest import TTest

__all__ = [
    "Exploit",
    "Explore",
    "ExploreOnly",
    "FunctionExploit",
    "FunctionExplore",
    "MemberView",
    "Perturb",
    "PerturbOrResample",
    "Resample",
    "TTest",
    "Tournament",
    "Truncation",
    "as_exploit",
    "as_explore",
    "fitness",
    "ranked",
]
