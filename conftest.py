"""Doctest collection over ``poptune/``: integration modules import their framework at import
time, so they are left out where that framework is not installed (the ``test`` extra has them)."""

import importlib.util

collect_ignore = [
    path for path, package in (("poptune/integrations/lightning.py", "lightning"),
                               ("poptune/integrations/huggingface.py", "transformers"))
    if importlib.util.find_spec(package) is None
]
