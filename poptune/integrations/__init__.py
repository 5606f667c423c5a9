"""Integrations with training frameworks: one framework ``Trainer`` is one PBT member.

Each lives in its own module and imports its framework only when that module is imported, so
``import poptune`` loads neither:

- :mod:`poptune.integrations.lightning`: ``PoptuneCallback`` for ``lightning.pytorch.Trainer``
  (extra ``lightning``); a step is one training epoch.
- :mod:`poptune.integrations.huggingface`: ``PoptuneCallback`` for ``transformers.Trainer``
  (extra ``huggingface``); a step is one evaluation.

See ``docs/integrations.md``.
"""

import importlib

_MODULES = ("huggingface", "lightning")


def __getattr__(name: str):
    # `poptune.integrations.lightning` works after a bare `import poptune.integrations`
    if name in _MODULES:
        return importlib.import_module(f"poptune.integrations.{name}")
    raise AttributeError(f"module 'poptune.integrations' has no attribute {name!r}")


__all__ = list(_MODULES)
