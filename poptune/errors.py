"""The exceptions poptune raises.

Everything derives from :class:`PoptuneError`, so ``except pt.PoptuneError`` catches all of
them. Errors about arguments also derive from ``ValueError`` or ``TypeError``, so code written
against the standard exceptions keeps working.
"""

from __future__ import annotations


class PoptuneError(Exception):
    """Root of every exception poptune raises on purpose."""


class ConfigError(PoptuneError, ValueError):
    """An argument has a bad value; the message names it and says how to fix it.

    Examples:
        >>> import poptune as pt
        >>> try:
        ...     pt.Float(0.1, 0.01)
        ... except pt.ConfigError as err:
        ...     print(err)
        Float: low must be < high, got low=0.1, high=0.01
    """


class UsageError(PoptuneError, RuntimeError):
    """The train function used the :class:`~poptune.Member` handle in a way it cannot work.

    Raised inside the train function (for example ``report`` after the budget) and re-raised
    by :func:`poptune.run`. It is not retried: the same code would fail the same way.
    """


class CheckpointError(UsageError):
    """A checkpoint could not be serialized (the train function's state), or its contents are
    refused by the safe loader (see :func:`poptune.checkpoints.loads`)."""


class CheckpointLostError(PoptuneError, OSError):
    """A checkpoint file is missing or damaged. The member that needed it fails (and is retried,
    then marked failed); the run goes on."""


class StrategyError(PoptuneError, RuntimeError):
    """An exploit, explore or fitness strategy raised; the message names it, and the original
    exception (with its traceback) is chained as ``__cause__``."""


class RunLogError(PoptuneError):
    """The run log (``<dir>/poptune.db``) is missing, damaged or not a poptune log."""


class DiskFullError(PoptuneError, OSError):
    """No space left for the run log or a checkpoint. The run stops; free space and resume it."""


class RunDirError(PoptuneError, FileExistsError):
    """The run directory holds another run, or a run that ``resume``/``overwrite`` must name."""


class RunFailedError(PoptuneError, RuntimeError):
    """Every member failed; the message carries the first traceback.

    The run directory keeps every report made before the failures and can be resumed once the
    cause is fixed.
    """
