"""Run by tests in a subprocess: python -m tests.runners.ray_script DIR RAY_TMP [resume]."""

import sys

import poptune as pt

from tests import helpers

if __name__ == "__main__":
    pt.run(helpers.counter_with_sleep, helpers.SPACE, population=4, steps=30, interval=3,
           runner=pt.runners.Ray(init_kwargs={"num_cpus": 2, "object_store_memory": 80 * 1024**2,
                                              "_temp_dir": sys.argv[2]}),
           dir=sys.argv[1], seed=0, resume="resume" in sys.argv[3:], progress=False)
