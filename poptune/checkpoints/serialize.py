"""Turning a member's state into bytes and back (pickle, with errors that say what to do)."""

from __future__ import annotations

import pickle
from typing import Any
from collections.abc import Callable

from poptune.errors import CheckpointError


def resolve(checkpoint: Any | Callable[[], Any]) -> Any:
    """Call a zero-argument checkpoint function; return a plain checkpoint unchanged."""
    return checkpoint() if callable(checkpoint) else checkpoint


def dumps(state: Any, where: str) -> bytes:
    """Pickle ``state``; ``where`` names the member and step in the error."""
    try:
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as err:  # pickle raises TypeError, AttributeError, PicklingError...
        raise CheckpointError(
            f"{where}: the checkpoint cannot be pickled ({type(err).__name__}: {err}). "
            f"Return plain data such as model.state_dict(), numpy arrays, dicts and lists; "
            f"open files, locks, generators and lambdas cannot be saved."
        ) from err


def loads(payload: bytes, where: str) -> Any:
    """Unpickle a checkpoint written by :func:`dumps`."""
    try:
        return pickle.loads(payload)
    except Exception as err:
        raise CheckpointError(f"{where}: the checkpoint cannot be read back ({type(err).__name__}: {err})") from err
