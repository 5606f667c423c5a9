"""Kickstarting: a student trained on its own loss plus a distillation term towards a teacher.

Schmitt et al. 2018 ("Kickstarting Deep Reinforcement Learning", arXiv:1803.03835) train a
student with ``loss = task_loss + w * distill(student, teacher)``, where ``w`` is a
hyperparameter that PBT schedules: early on the teacher speeds learning up; once the student is
better than the teacher PBT can drive ``w`` towards zero, so the student may surpass it.

Two pieces: :func:`distillation_loss`, the distillation term, and :class:`Teacher`, a trained
network loaded read-only once per worker process and shared by every member there. In a train
function, with one weight per teacher as hyperparameters (Schmitt et al. use several teachers)::

    teachers = {"a": Teacher(build_a, "a.pt"), "b": Teacher(build_b, "b.pt")}   # module level
    ...
    logits = student(x)
    loss = F.cross_entropy(logits[:n], y) + sum(
        member.hparams[f"kick_{k}"] * distillation_loss(logits, t(x)) for k, t in teachers.items())

See ``examples/kickstarting.py`` for a run where PBT schedules the weight.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from poptune.errors import ConfigError, UsageError

_REDUCTIONS = ("mean", "sum", "none")
_LOADED: dict[tuple, _Loaded] = {}  # this process's teachers, by recipe (a forked worker inherits them)


def distillation_loss(student_logits: Any, teacher_logits: Any, temperature: float = 1.0,
                      sample_weight: Any = None, reduction: str = "mean") -> Any:
    """KL divergence from the teacher's softened distribution to the student's, per sample.

    ``KL(softmax(t / T) || softmax(s / T)) * T**2`` over the last axis (the classes or actions),
    with no gradient into the teacher. It is zero when the student matches the teacher, and its
    gradient equals the cross-entropy's to the teacher's distribution (the kickstarting loss);
    ``T**2`` keeps the gradient's scale comparable across temperatures (Hinton et al. 2015).

    Args:
        student_logits: Tensor ``(..., C)`` of the student's logits.
        teacher_logits: Tensor of the same shape, the teacher's logits (detached here).
        temperature: Softens both distributions; positive.
        sample_weight: Optional tensor of the leading shape ``(...)``, non-negative, e.g. a mask
            of the samples to distil on; ``"mean"`` is then the weighted mean.
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (one value per sample).

    Examples:
        >>> import torch
        >>> from poptune.family.kickstart import distillation_loss
        >>> teacher = torch.tensor([[2.0, 0.0, -1.0]])
        >>> float(distillation_loss(teacher.clone(), teacher))
        0.0
        >>> student = torch.zeros(1, 3, requires_grad=True)
        >>> loss = distillation_loss(student, teacher, temperature=2.0)
        >>> loss.backward(); student.grad.shape
        torch.Size([1, 3])
    """
    import torch
    import torch.nn.functional as F

    for name, value in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        if not isinstance(value, torch.Tensor) or value.dim() < 1 or not value.is_floating_point():
            raise TypeError(f"distillation_loss: {name} must be a floating-point tensor of shape (..., classes), "
                            f"got {_describe(value)}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"distillation_loss: student_logits and teacher_logits must have the same shape, got "
                         f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}; compute both on the "
                         f"same inputs")
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not (
            math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"distillation_loss: temperature must be a positive finite number, got {temperature!r}; "
                         f"1.0 distils the teacher's distribution as it is")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"distillation_loss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    t = float(temperature)
    student = F.log_softmax(student_logits / t, dim=-1)
    teacher = F.log_softmax(teacher_logits.detach() / t, dim=-1)
    per_sample = F.kl_div(student, teacher, reduction="none", log_target=True).sum(-1) * t * t  # (...)
    if sample_weight is None:
        return per_sample if reduction == "none" else per_sample.sum() if reduction == "sum" else per_sample.mean()
    if not isinstance(sample_weight, torch.Tensor) or sample_weight.shape != per_sample.shape:
        raise ValueError(f"distillation_loss: sample_weight must be a tensor of the logits' leading shape "
                         f"{tuple(per_sample.shape)}, got {_describe(sample_weight)}")
    weighted = per_sample * sample_weight.to(per_sample.dtype)
    if reduction == "none":
        return weighted
    total = weighted.sum()
    if reduction == "sum":
        return total
    return total / sample_weight.to(per_sample.dtype).sum().clamp_min(torch.finfo(per_sample.dtype).tiny)


class Teacher:
    """A trained network, loaded read-only once per process and shared by the members there.

    ``Teacher(factory, path)`` builds the module with ``factory()`` and loads the weights saved at
    ``path`` (``torch.save(model.state_dict(), path)``, or a ``pt.torch_checkpoint`` dict) with
    ``torch.load(..., weights_only=True)``; ``Teacher(factory)`` uses the module ``factory()``
    returns as it is. Nothing loads until the first use; then every ``Teacher`` with the same
    recipe (the same file, the same factory function) in this process shares the module. Create
    it at module level or inside ``train`` (with a factory defined at module level, not a lambda
    made there), with any runner; forked workers inherit a teacher the parent already loaded.
    The module is put in eval mode with ``requires_grad_(False)``; calling the teacher runs it
    under ``torch.no_grad()``.

    A teacher is not member state: it refuses to be pickled (a checkpoint holding it fails when
    saved; save the student's state only), and a call raises if its weights were changed in place
    (an optimizer step, ``load_state_dict``) or it was put back in training mode, since every
    member in the process would see the change. Writes through ``.data`` are not detected.

    Args:
        factory: Zero-argument callable returning a ``torch.nn.Module`` (the architecture).
        path: A file of saved weights; ``None``: ``factory()`` returns the trained module.

    Raises:
        ConfigError: ``path`` is not a file.

    Examples:
        >>> import torch, tempfile, os
        >>> from poptune.family.kickstart import Teacher
        >>> def net():
        ...     return torch.nn.Linear(4, 3)
        >>> path = os.path.join(tempfile.mkdtemp(), "teacher.pt")
        >>> torch.save(net().state_dict(), path)
        >>> teacher = Teacher(net, path)
        >>> teacher(torch.zeros(2, 4)).shape, teacher.module.training
        (torch.Size([2, 3]), False)
        >>> Teacher(net, path).module is teacher.module  # loaded once per process
        True
    """

    def __init__(self, factory: Callable[[], Any], path: str | os.PathLike | None = None):
        if not callable(factory):
            raise TypeError(f"Teacher: factory must be a callable that builds the teacher's torch.nn.Module, "
                            f"got {_describe(factory)}")
        if path is not None:
            if not isinstance(path, (str, os.PathLike)):
                raise TypeError(f"Teacher: path must be a file path or None, got {_describe(path)}")
            path = Path(path).expanduser().resolve()
            if not path.is_file():
                raise ConfigError(f"Teacher: path {str(path)!r} is not a file; save the teacher's weights first with "
                                  f"torch.save(model.state_dict(), path), or pass path=None and let factory() "
                                  f"return the trained module")
        self.factory, self.path = factory, path
        self._loaded: _Loaded | None = None

    @property
    def module(self) -> Any:
        """The frozen teacher module (loaded on first use)."""
        return self._entry().module

    def load(self) -> Any:
        """Load the teacher now (e.g. in the parent before ``pt.run``, to fail early) and return it."""
        return self.module

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        """The teacher's output on ``inputs``, without gradient."""
        import torch

        entry = self._entry()
        entry.check(self)
        with torch.no_grad():
            return entry.module(*inputs, **kwargs)

    def _key(self) -> tuple:
        # the factory by identity (the cache holds it, so its id is not reused): a factory redefined
        # in a notebook loads anew; a rewritten weights file too
        if self.path is None:
            return (None, id(self.factory))
        stat = self.path.stat() if self.path.is_file() else None
        return (str(self.path), stat and stat.st_mtime_ns, stat and stat.st_size, id(self.factory))

    def _entry(self) -> _Loaded:
        if self._loaded is None:
            key = self._key()
            if key not in _LOADED:
                _LOADED[key] = _Loaded(self._build(), self.factory)
            self._loaded = _LOADED[key]
        return self._loaded

    def _build(self) -> Any:
        import torch

        module = self.factory()
        if not isinstance(module, torch.nn.Module):
            raise UsageError(f"{self!r}: factory() must return a torch.nn.Module, got {_describe(module)}")
        if self.path is not None:
            if not self.path.is_file():
                raise UsageError(f"{self!r}: the weights file is gone; it was there when the Teacher was created")
            try:
                state = torch.load(self.path, map_location="cpu", weights_only=True)
            except Exception as err:
                raise UsageError(f"{self!r}: torch.load(weights_only=True) cannot read the file ({type(err).__name__}: "
                                 f"{err}); save plain weights with torch.save(model.state_dict(), path)") from err
            if isinstance(state, Mapping) and isinstance(state.get("model"), Mapping):
                state = state["model"]  # a pt.torch_checkpoint(model, ...) dict
            try:
                module.load_state_dict(state)
            except Exception as err:
                raise UsageError(f"{self!r}: the saved weights do not fit the module factory() builds "
                                 f"({type(err).__name__}: {err}); build the architecture the file was saved "
                                 f"from") from err
        module.eval()
        module.requires_grad_(False)
        object.__setattr__(module, "__reduce_ex__", _refuse_pickle)  # an instance attribute, seen by pickle/copy
        return module

    def __reduce_ex__(self, protocol: Any) -> Any:
        _refuse_pickle()

    def __repr__(self) -> str:
        name = getattr(self.factory, "__qualname__", type(self.factory).__name__)
        return f"Teacher({name}{'' if self.path is None else f', {str(self.path)!r}'})"


class _Loaded:
    """A loaded teacher and the version counters of its tensors when it was loaded."""

    def __init__(self, module: Any, factory: Callable):
        self.module, self.factory = module, factory  # (holding factory keeps its id from being reused)
        self.tensors = list(module.parameters()) + list(module.buffers())
        self.versions = [t._version for t in self.tensors]
        self.submodules = list(module.modules())

    def check(self, teacher: Teacher) -> None:
        changed = [t._version for t in self.tensors] != self.versions
        if changed or any(m.training for m in self.submodules) or any(t.requires_grad for t in self.tensors):
            what = ("its weights were changed in place" if changed
                    else "it was put in training mode or made trainable")
            raise UsageError(f"{teacher!r}: {what} after loading; the teacher is shared by every member in this "
                             f"process and must stay read-only. To fine-tune its weights, copy them into a module "
                             f"of your own: student.load_state_dict(teacher.module.state_dict())")


def _refuse_pickle(*_: Any) -> None:
    raise TypeError("a kickstart Teacher is shared read-only state, loaded once per process, not member state: "
                    "save the student's state only (e.g. pt.torch_checkpoint(student, opt)); create the Teacher "
                    "at module level or inside train rather than passing it to worker processes; to copy its "
                    "weights use teacher.module.state_dict()")


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__} {tuple(shape)}" if shape is not None else f"{type(value).__name__} {value!r:.60}"
