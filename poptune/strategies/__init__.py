"""Exploit and explore strategies: small, pure, seeded objects with one method each; what they
read (views of the population and its history); and what ranks members (fitness)."""

from poptune.strategies import fitness
from poptune.strategies.base import (
    Exploit,
    Explore,
    ExploreContext,
    FunctionExploit,
    FunctionExplore,
    as_exploit,
    as_explore,
    ranked,
)
from poptune.strategies.chain import Chain
from poptune.strategies.explore_only import ExploreOnly
from poptune.strategies.pb2 import PB2
from poptune.strategies.perturb import Perturb
from poptune.strategies.perturb_or_resample import PerturbOrResample
from poptune.strategies.resample import Resample
from poptune.strategies.tournament import Tournament
from poptune.strategies.truncation import Truncation
from poptune.strategies.ttest import TTest
from poptune.strategies.views import MemberView, PopulationView, Segment, as_population

__all__ = [
    "Chain",
    "Exploit",
    "Explore",
    "ExploreContext",
    "ExploreOnly",
    "FunctionExploit",
    "FunctionExplore",
    "MemberView",
    "PB2",
    "Perturb",
    "PerturbOrResample",
    "PopulationView",
    "Resample",
    "Segment",
    "TTest",
    "Tournament",
    "Truncation",
    "as_exploit",
    "as_explore",
    "as_population",
    "fitness",
    "ranked",
]
