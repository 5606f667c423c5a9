"""Turning a member's state into bytes and back: pickle, read back by a safe loader.

A run directory is data, and run directories travel (a colleague's results, an artifact
store). Unpickling runs whatever code a pickle names, so poptune reads checkpoints with a
loader that only rebuilds plain data: Python's containers and scalars, ``collections`` and
``datetime`` values, numpy arrays, scalars and random generators, torch tensors, dtypes and
devices, and poptune's own stacked states (the set ``torch.load(weights_only=True)`` allows,
plus numpy). Anything else is refused with an error that says what to do; ``trusted=True``
(``pt.run(..., trust_checkpoints=True)``) loads any pickle, for run directories you trust.

Plain CPU tensors (what ``state_dict()`` holds) are written as their dtype, shape and raw bytes
and read back with ``torch.frombuffer``: torch's own pickling writes every tensor's storage as a
small ``torch.save`` archive and reads each back with ``torch.load``, a third of a millisecond
per tensor, the larger part of a small model's checkpoint time. Such a tensor comes back
contiguous and with storage of its own (views of one storage come back as separate tensors:
``load_state_dict`` copies them into the model's own parameters either way). Other tensors
(parameters, tensors that require grad, GPU, sparse, nested, quantized, named or expanded
tensors, tensors with attributes of their own) keep torch's pickling, as do all tensors written
on a big-endian machine (the raw bytes are little-endian).
"""

from __future__ import annotations

import io
import pickle
import sys
from typing import Any
from collections.abc import Callable

from poptune.errors import CheckpointError, CheckpointLostError

_BUILTINS = {"complex", "range", "slice", "set", "frozenset", "bytearray", "bytes", "dict", "list", "tuple",
             "int", "float", "str", "bool"}
_ALLOWED = {
    "builtins": _BUILTINS,
    "collections": {"OrderedDict", "deque", "defaultdict", "Counter"},
    "datetime": {"datetime", "date", "time", "timedelta", "timezone"},
    "numpy": {"dtype", "ndarray"},
    "numpy.core.multiarray": {"_reconstruct", "scalar"},
    "numpy._core.multiarray": {"_reconstruct", "scalar"},
    "numpy.core.numeric": {"_frombuffer"},
    "numpy._core.numeric": {"_frombuffer"},
    "numpy.random._pickle": {"__generator_ctor", "__bit_generator_ctor", "__randomstate_ctor"},
    "numpy.random.bit_generator": {"__pyx_unpickle_SeedSequence", "SeedSequence"},
    "numpy.random._pcg64": {"PCG64", "PCG64DXSM"},
    "numpy.random._mt19937": {"MT19937"},
    "numpy.random._philox": {"Philox"},
    "numpy.random._sfc64": {"SFC64"},
    "numpy.random.mtrand": {"RandomState"},
    "torch": {"Size", "device"},
    "torch._utils": {"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_parameter", "_rebuild_parameter_with_state"},
    "poptune.vectorized.checkpoint": {"StackedState"},
    "poptune.checkpoints.serialize": {"_tensor"},
}


def resolve(checkpoint: Any | Callable[[], Any]) -> Any:
    """Call a zero-argument checkpoint function; return a plain checkpoint unchanged."""
    return checkpoint() if callable(checkpoint) else checkpoint


def dumps(state: Any, where: str) -> bytes:
    """Pickle ``state``; ``where`` names the member and step in the error."""
    try:
        if "torch" not in sys.modules:  # no tensor can be in it: plain pickle, without the override's calls
            return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
        return buffer.getvalue()
    except Exception as err:  # pickle raises TypeError, AttributeError, PicklingError...
        raise CheckpointError(
            f"{where}: the checkpoint cannot be pickled ({type(err).__name__}: {err}). "
            f"Return plain data such as model.state_dict(), numpy arrays, dicts and lists; "
            f"open files, locks, generators and lambdas cannot be saved."
        ) from err


def loads(payload: bytes, where: str, trusted: bool = False) -> Any:
    """Read back a checkpoint written by :func:`dumps`.

    Args:
        payload: The file's bytes.
        where: Names the member and step (or the file) in errors.
        trusted: Load any pickle (it may run code): only for run directories you trust.

    Raises:
        CheckpointError: The checkpoint holds an object the safe loader refuses.
        CheckpointLostError: The bytes are not a whole checkpoint (a damaged file).

    Examples:
        >>> import numpy as np
        >>> loads(dumps({"w": np.ones(2), "step": 3}, "m"), "m")["step"]
        3
        >>> import fractions
        >>> loads(dumps(fractions.Fraction(1, 3), "m"), "m")
        Traceback (most recent call last):
        ...
        poptune.errors.CheckpointError: m: the checkpoint holds a fractions.Fraction object, ...
        >>> loads(dumps(fractions.Fraction(1, 3), "m"), "m", trusted=True)
        Fraction(1, 3)
    """
    try:
        if trusted:
            return pickle.loads(payload)
        return _SafeUnpickler(io.BytesIO(payload)).load()
    except _Refused as refused:
        raise CheckpointError(
            f"{where}: the checkpoint holds a {refused.args[0]} object, which poptune's safe loader "
            f"refuses (loading a run directory must not run code). Store plain data (model.state_dict(), "
            f"numpy arrays, lists, dicts), or, for a run directory you trust, pass trust_checkpoints=True "
            f"to pt.run (trust=True to Result.checkpoint)"
        ) from None
    except Exception as err:
        raise CheckpointLostError(
            f"{where}: the checkpoint cannot be read back ({type(err).__name__}: {err}); the file is damaged"
        ) from err


class _Refused(Exception):
    pass


# the dtypes a tensor may be written in as raw bytes (and read back in): no quantized ones,
# which need a quantizer the bytes do not carry
_RAW_DTYPES = frozenset({
    "bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16", "bfloat16",
    "float32", "float64", "complex32", "complex64", "complex128", "float8_e4m3fn", "float8_e4m3fnuz",
    "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu",
})


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        torch = sys.modules.get("torch")
        if torch is None or type(obj) is not torch.Tensor:
            return NotImplemented
        dtype = str(obj.dtype).removeprefix("torch.")
        if (dtype not in _RAW_DTYPES or obj.device.type != "cpu" or obj.layout != torch.strided or obj.is_nested
                or obj.requires_grad or obj.is_conj() or obj.is_neg() or obj.__dict__ or _named(obj)
                or (obj.numel() > 1 and 0 in obj.stride())  # expanded: its storage is smaller than its data
                or sys.byteorder != "little"):
            return NotImplemented
        data = obj.contiguous().reshape(-1).view(torch.uint8).numpy()  # the tensor's bytes, not copied
        return _tensor, (dtype, tuple(obj.shape), pickle.PickleBuffer(data))


def _named(tensor: Any) -> bool:
    has_names = getattr(tensor, "has_names", None)  # (named tensors: gone from recent torch)
    return has_names is not None and has_names()


def _tensor(dtype: str, shape: tuple, data: bytearray) -> Any:
    """A tensor written by :class:`_Pickler`: ``data`` (a fresh, writable buffer) becomes its storage."""
    if dtype not in _RAW_DTYPES or not isinstance(data, (bytes, bytearray)):
        raise _Refused(f"tensor of {dtype!r}")
    import torch

    kind = getattr(torch, dtype, None)
    if not isinstance(kind, torch.dtype):  # (a dtype this torch does not have)
        raise _Refused(f"tensor of {dtype!r}")
    if not data:  # (a tensor with no elements: nothing to allocate, whatever the shape claims)
        if 0 not in shape:
            raise ValueError(f"a tensor of shape {shape} without data")
        return torch.empty(shape, dtype=kind)
    if isinstance(data, bytes):
        data = bytearray(data)
    return torch.frombuffer(data, dtype=kind).reshape(shape)


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        if module == "torch":
            import torch

            if isinstance(getattr(torch, name, None), torch.dtype):
                return getattr(torch, name)
        if module == "torch.storage" and name == "_load_from_bytes":
            return _torch_storage
        if module == "numpy":  # numpy's scalar types (numpy.float64...)
            import numpy

            kind = getattr(numpy, name, None)
            if isinstance(kind, type) and issubclass(kind, numpy.generic):
                return kind
        raise _Refused(f"{module}.{name}")


def _torch_storage(payload: bytes) -> Any:
    # what torch pickles a tensor's storage as: read back with torch's own weights-only loader
    import torch

    return torch.load(io.BytesIO(payload), weights_only=True)
