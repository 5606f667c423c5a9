"""Functional optimizers with one set of hyperparameters per member.

Every hyperparameter is a number (the same for all members) or the name of a hyperparameter
of the search space (one value per member, a ``(P,)`` tensor broadcast as ``(P, 1, ...)``).
The updates follow ``torch.optim.SGD`` and ``torch.optim.Adam``/``AdamW`` step by step, so member
``i`` trains exactly like a separate model with its own optimizer. State (momentum buffers,
moments, step counts) is stacked along the population axis, so exploit copies it with the
weights.
"""

from __future__ import annotations

from typing import Union
from collections.abc import Callable

import torch

from poptune.errors import ConfigError

Spec = Union[float, int, str]  # a constant, or the name of a per-member hyperparameter
Resolve = Callable[[Spec], torch.Tensor]  # spec -> (P,) float64 tensor on the parameters' device


def _check(owner: str, name: str, spec: Spec, low: float | None = 0.0) -> Spec:
    if isinstance(spec, str):
        if not spec:
            raise ConfigError(f"{owner}: {name} must be a number or a hyperparameter name, got ''")
        return spec
    if isinstance(spec, bool) or not isinstance(spec, (int, float)):
        raise ConfigError(f"{owner}: {name} must be a number or a hyperparameter name, got {spec!r}")
    if low is not None and spec < low:
        raise ConfigError(f"{owner}: {name} must be >= {low:g}, got {spec!r}")
    return float(spec)


class _Broadcast:
    """(P,) float64 -> (P, 1, ..., 1) in a parameter's dtype, broadcastable against it.

    Composite coefficients (``1 - beta1``, ``lr / correction``...) are computed in float64 and
    cast last, as torch.optim does with Python floats. Each coefficient is cast once per update
    (and dtype), not once per parameter: an update touches every parameter with the same few.
    """

    def __init__(self):
        self._cast: dict[tuple[int, torch.dtype], torch.Tensor] = {}

    def __call__(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        key = (id(t), like.dtype)
        cast = self._cast.get(key)
        if cast is None:
            cast = self._cast[key] = t.to(like.dtype)
        return cast.view(-1, *([1] * (like.ndim - 1)))


class Optimizer:
    """Base class: :meth:`init` builds stacked state, :meth:`update` steps every member."""

    def names(self) -> set[str]:
        """Hyperparameter names this optimizer reads."""
        return {v for v in vars(self).values() if isinstance(v, str)}

    def init(self, params: dict[str, torch.Tensor]) -> dict:
        raise NotImplementedError

    def update(self, params, grads, state, resolve: Resolve) -> None:
        """Step every member (``grads`` are left as they are)."""
        raise NotImplementedError


class SGD(Optimizer):
    """Per-member SGD with momentum, dampening, Nesterov and weight decay (as ``torch.optim.SGD``).

    Examples:
        >>> import poptune as pt
        >>> opt = pt.vectorized.SGD(lr="lr", momentum="momentum", weight_decay=1e-4)
        >>> sorted(opt.names())
        ['lr', 'momentum']
    """

    def __init__(self, lr: Spec = "lr", momentum: Spec = 0.0, dampening: Spec = 0.0,
                 weight_decay: Spec = 0.0, nesterov: bool = False):
        self.lr = _check("SGD", "lr", lr)
        self.momentum = _check("SGD", "momentum", momentum)
        self.dampening = _check("SGD", "dampening", dampening)
        self.weight_decay = _check("SGD", "weight_decay", weight_decay)
        if nesterov and self.dampening != 0.0:
            raise ConfigError("SGD: nesterov=True needs dampening=0 (as torch.optim.SGD)")
        self.nesterov = bool(nesterov)

    def init(self, params):
        state = {"step": torch.zeros(next(iter(params.values())).shape[0], dtype=torch.long,
                                     device=next(iter(params.values())).device)}
        if self.momentum != 0.0:
            state["momentum_buffer"] = {k: torch.zeros_like(p) for k, p in params.items()}
        return state

    def update(self, params, grads, state, resolve):
        lr = resolve(self.lr)
        decay = None if self.weight_decay == 0.0 else resolve(self.weight_decay)
        momentum = None if self.momentum == 0.0 else resolve(self.momentum)
        first = state["step"] == 0
        damp = None if self.dampening == 0.0 else resolve(self.dampening)
        keep = None if damp is None else 1 - damp
        lr = -lr
        _b = _Broadcast()
        for name, p in params.items():
            g = grads[name]
            if decay is not None:
                g = g.addcmul(p, _b(decay, p))  # g + weight_decay * p (not in place: autograd may
                # hand two parameters one gradient tensor, or an expanded one)
            if momentum is not None:
                buf = state["momentum_buffer"][name]
                if damp is None:  # buf starts at zero: momentum * 0 + g == g, as torch's first step
                    buf.mul_(_b(momentum, p)).add_(g)
                else:  # torch seeds the buffer with the raw gradient, without dampening
                    fresh = buf * _b(momentum, p) + g * _b(keep, p)
                    buf.copy_(torch.where(first.view(-1, *([1] * (p.ndim - 1))), g, fresh))
                g = g.addcmul(buf, _b(momentum, p)) if self.nesterov else buf
            p.addcmul_(g, _b(lr, p))
        state["step"] += 1

    def __repr__(self) -> str:
        return (f"SGD(lr={self.lr!r}, momentum={self.momentum!r}, dampening={self.dampening!r}, "
                f"weight_decay={self.weight_decay!r}, nesterov={self.nesterov})")


class Adam(Optimizer):
    """Per-member Adam (as ``torch.optim.Adam``: L2 weight decay added to the gradient).

    Examples:
        >>> import poptune as pt
        >>> opt = pt.vectorized.Adam(lr="lr", beta1=0.9, beta2="beta2")
        >>> sorted(opt.names())
        ['beta2', 'lr']
    """

    decoupled = False

    def __init__(self, lr: Spec = "lr", beta1: Spec = 0.9, beta2: Spec = 0.999, eps: Spec = 1e-8,
                 weight_decay: Spec = 0.0):
        name = type(self).__name__
        self.lr = _check(name, "lr", lr)
        self.beta1 = _check(name, "beta1", beta1)
        self.beta2 = _check(name, "beta2", beta2)
        self.eps = _check(name, "eps", eps)
        self.weight_decay = _check(name, "weight_decay", weight_decay)
        for arg in ("beta1", "beta2"):
            value = getattr(self, arg)
            if isinstance(value, float) and not value < 1.0:
                raise ConfigError(f"{name}: {arg} must be in [0, 1), got {value!r}")

    def init(self, params):
        size = next(iter(params.values())).shape[0]
        device = next(iter(params.values())).device
        return {
            "step": torch.zeros(size, dtype=torch.long, device=device),
            "exp_avg": {k: torch.zeros_like(p) for k, p in params.items()},
            "exp_avg_sq": {k: torch.zeros_like(p) for k, p in params.items()},
        }

    def update(self, params, grads, state, resolve):
        state["step"] += 1
        step = state["step"].to(torch.float64)
        lr, eps = resolve(self.lr), resolve(self.eps)
        beta1, beta2 = resolve(self.beta1), resolve(self.beta2)
        decay = None if self.weight_decay == 0.0 else resolve(self.weight_decay)
        correction2_sqrt = (1 - beta2**step).sqrt()
        step_size = lr / (1 - beta1**step)
        one_minus_beta1, one_minus_beta2 = 1 - beta1, 1 - beta2
        shrink = None if decay is None or not self.decoupled else 1 - lr * decay
        _b = _Broadcast()
        for name, p in params.items():
            g = grads[name]
            if shrink is not None:
                p.mul_(_b(shrink, p))
            elif decay is not None:
                g = g.addcmul(p, _b(decay, p))
            m, v = state["exp_avg"][name], state["exp_avg_sq"][name]
            m.lerp_(g, _b(one_minus_beta1, p))
            v.mul_(_b(beta2, p)).addcmul_(g, g * _b(one_minus_beta2, p))
            denom = (v.sqrt() / _b(correction2_sqrt, p)).add_(_b(eps, p))
            p.sub_(m / denom * _b(step_size, p))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(lr={self.lr!r}, beta1={self.beta1!r}, beta2={self.beta2!r}, "
                f"eps={self.eps!r}, weight_decay={self.weight_decay!r})")


class AdamW(Adam):
    """Per-member AdamW (as ``torch.optim.AdamW``: decoupled weight decay).

    Examples:
        >>> import poptune as pt
        >>> opt = pt.vectorized.AdamW(lr="lr", weight_decay="wd")
    """

    decoupled = True

    def __init__(self, lr: Spec = "lr", beta1: Spec = 0.9, beta2: Spec = 0.999, eps: Spec = 1e-8,
                 weight_decay: Spec = 1e-2):
        super().__init__(lr, beta1, beta2, eps, weight_decay)
