"""Population methods on poptune's engine beyond PBT itself (the population family).

- :class:`SeedChain`: a network's weights as a chain of seeds, the Deep GA's compact genome.

Nothing here imports torch until it is used.
"""

from poptune.family.seed_chain import SeedChain, parameter_nbytes

__all__ = ["SeedChain", "parameter_nbytes"]
