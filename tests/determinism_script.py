"""Run by tests in a subprocess: python -m tests.determinism_script DIR [resume].

An inline run of a deterministic train function (synchronous if POPTUNE_TEST_SYNC=1).
"""

import os
import sys

import poptune as pt

from tests import helpers

if __name__ == "__main__":
    pt.run(
        helpers.tied_counter_with_sleep,
        helpers.SPACE,
        population=6,
        steps=24,
        interval=4,
        exploit=pt.Truncation(0.25),
        explore=pt.Perturb(),
        synchronous=os.environ.get("POPTUNE_TEST_SYNC") == "1",
        runner="inline",
        dir=sys.argv[1],
        seed=3,
        resume="resume" in sys.argv[2:],
        progress=False,
    )
