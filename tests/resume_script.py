"""Run by tests in a subprocess: python -m tests.resume_script DIR [resume] [inline]."""

import sys

import poptune as pt

from tests import helpers

if __name__ == "__main__":
    pt.run(
        helpers.counter_with_sleep,
        helpers.SPACE,
        population=4,
        steps=40,
        interval=4,
        runner="inline" if "inline" in sys.argv[2:] else pt.runners.Processes(workers=2),
        dir=sys.argv[1],
        seed=0,
        resume="resume" in sys.argv[2:],
        progress=False,
    )
