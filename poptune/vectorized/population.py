"""A population of P copies of one model, trained as one stacked model on one device.

Every parameter and buffer is stacked along a leading population axis ``(P, ...)``. The forward
pass is ``torch.vmap`` over ``torch.func.functional_call``; the backward pass runs through the
sum of the per-member losses, which gives member ``i`` exactly the gradient of its own loss
(members share no weights) and lets a loss couple members when an objective needs it. The
optimizer steps every member with its own hyperparameters. Exploit is an in-place copy of
slices: the source's weights, buffers and optimizer state land in the target's rows.
"""

from __future__ import annotations

import copy
from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state

from poptune.errors import ConfigError
from poptune.vectorized.checkpoint import StackedState
from poptune.vectorized.optim import Optimizer, Spec

INITS = ("independent", "shared")
RANDOMNESS = ("different", "same", "error")


class Functional:
    """A model given as a pure function and a parameter initializer, instead of an ``nn.Module``.

    Args:
        fn: ``fn(params, *inputs) -> output`` for one member (``params``: dict of tensors).
        init: ``init(generator) -> params`` for one member, drawing from ``generator``.

    Examples:
        >>> import torch, poptune as pt
        >>> linear = pt.vectorized.Functional(
        ...     lambda p, x: x @ p["w"], lambda g: {"w": torch.randn(3, 2, generator=g)})
        >>> pop = pt.vectorized.Population(linear, 4, optimizer=pt.vectorized.SGD(lr=0.1))
        >>> pop(torch.ones(5, 3)).shape  # (P, B, 2)
        torch.Size([4, 5, 2])
    """

    def __init__(self, fn: Callable, init: Callable[[torch.Generator], Mapping[str, torch.Tensor]]):
        if not callable(fn) or not callable(init):
            raise ConfigError("Functional(fn, init): both must be callables")
        self.fn, self.init = fn, init


class Population:
    """P members of one model, stacked, each with its own hyperparameters and optimizer state.

    Args:
        model: An ``nn.Module`` (copied), a zero-argument function returning one (called once
            per member, under that member's seed), or a :class:`Functional`.
        size: Number of members P.
        optimizer: :class:`~poptune.vectorized.SGD`, :class:`~poptune.vectorized.Adam` or
            :class:`~poptune.vectorized.AdamW`, naming per-member hyperparameters.
        hparams: Initial hyperparameters: ``{name: [value per member]}``, or a list of P dicts.
            Numeric ones are also available as ``(P,)`` tensors (:meth:`hparam`), for losses.
            Leave out when a :class:`~poptune.vectorized.Session` runs the population: it sets
            them from the search space (or from the log when resuming). A numeric hyperparameter
            named like a buffer of the model (``self.register_buffer("dropout", ...)``) is also
            written into that buffer, member by member, so the forward pass can read it.
        init: ``"independent"`` (each member initialized with its own seed) or ``"shared"``
            (every member starts from the same weights).
        seed: Seed of the initializations and of the members' randomness (dropout).
        device: Where the stack lives (default: the model's device).
        dtype: The stack's precision (default: the model's).
        randomness: ``torch.vmap`` randomness: ``"different"`` gives members different dropout
            masks (default), ``"same"`` the same.

    Examples:
        >>> import torch, poptune as pt
        >>> pop = pt.vectorized.Population(lambda: torch.nn.Linear(4, 2), 8,
        ...                                optimizer=pt.vectorized.SGD(lr="lr"),
        ...                                hparams={"lr": [0.1] * 8})
        >>> out = pop(torch.randn(16, 4))          # (P, B, 2): one batch, every member
        >>> losses = out.pow(2).mean(dim=(1, 2))  # (P,)
        >>> pop.step(losses)
    """

    def __init__(
        self,
        model: nn.Module | Callable[[], nn.Module] | Functional,
        size: int,
        *,
        optimizer: Optimizer,
        hparams: Mapping[str, Sequence] | Sequence[Mapping[str, Any]] | None = None,
        init: str = "independent",
        seed: int = 0,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        randomness: str = "different",
    ):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(f"Population: size must be a positive integer, got {size!r}")
        if init not in INITS:
            raise ConfigError(f"Population: init must be one of {INITS}, got {init!r}")
        if randomness not in RANDOMNESS:
            raise ConfigError(f"Population: randomness must be one of {RANDOMNESS}, got {randomness!r}")
        if not isinstance(optimizer, Optimizer):
            raise ConfigError(
                f"Population: optimizer must be pt.vectorized.SGD, Adam or AdamW, got {optimizer!r}"
            )
        self.size, self.optimizer, self.randomness = size, optimizer, randomness
        self.seed = int(seed)
        self._hparams = _as_columns(hparams, size)
        missing = sorted(optimizer.names() - set(self._hparams))
        if missing and hparams is not None:
            raise ConfigError(
                f"Population: the optimizer reads hyperparameter(s) {missing}, which hparams does not give; "
                f"add them (one value per member) or pass numbers to the optimizer"
            )
        self._functional = model if isinstance(model, Functional) else None
        params, buffers, self._base = self._build(model, init)
        self.params = {k: v.to(device=device, dtype=dtype or v.dtype).detach().requires_grad_(True)
                       for k, v in params.items()}
        self.buffers = {k: v.to(device=device, dtype=(dtype or v.dtype) if v.is_floating_point() else v.dtype)
                        for k, v in buffers.items()}
        if not self.params:
            raise ConfigError("Population: the model has no parameters to train")
        first = next(iter(self.params.values()))
        self.device, self.dtype = first.device, first.dtype
        self.state = optimizer.init(self.params)
        self._tensors: dict[str, torch.Tensor] = {}
        self.training = True
        for member, row in enumerate(self.hparams):
            self._write_buffers(member, row)
        torch.manual_seed(self.seed)

    # -- building ------------------------------------------------------------------------------

    def _member_seed(self, member: int) -> int:
        return int(np.random.SeedSequence([self.seed, 3, member]).generate_state(1)[0])

    def _build(self, model, init: str):
        count = 1 if init == "shared" else self.size
        if isinstance(model, Functional):
            members = []
            for i in range(count):
                generator = torch.Generator().manual_seed(self._member_seed(i))
                members.append({k: torch.as_tensor(v) for k, v in model.init(generator).items()})
            members = members * (self.size // count)
            params = {k: torch.stack([m[k] for m in members]) for k in members[0]}
            return params, {}, None
        modules = []
        for i in range(count):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self._member_seed(i))
                if isinstance(model, nn.Module):
                    module = copy.deepcopy(model)
                    if init == "independent":
                        _reset(module)
                elif callable(model):
                    module = model()
                    if not isinstance(module, nn.Module):
                        raise ConfigError(f"Population: model() must return an nn.Module, got {type(module).__name__}")
                else:
                    raise ConfigError(
                        f"Population: model must be an nn.Module, a function returning one, or "
                        f"pt.vectorized.Functional, got {model!r}"
                    )
            modules.append(module)
        modules = modules * (self.size // count)
        params, buffers = stack_module_state(modules)
        base = copy.deepcopy(modules[0]).to("meta")
        return params, buffers, base

    # -- training ------------------------------------------------------------------------------

    def __call__(self, *inputs: torch.Tensor, per_member: bool = False) -> Any:
        """Run every member on ``inputs``: one batch for all (``(B, ...)``), or with
        ``per_member=True`` one batch each (``(P, B, ...)``). Returns outputs stacked ``(P, ...)``."""
        in_dims = (0, 0) + ((0 if per_member else None),) * len(inputs)
        if self._functional is not None:
            fn = self._functional.fn

            def one(params, buffers, *xs):
                return fn(params, *xs)
        else:
            base = self._base

            def one(params, buffers, *xs):
                return functional_call(base, (params, buffers), xs)

        return torch.vmap(one, in_dims=in_dims, randomness=self.randomness)(self.params, self.buffers, *inputs)

    def step(self, losses: torch.Tensor) -> None:
        """Backpropagate ``losses`` (``(P,)``: one per member, or a scalar for a joint objective)
        and update every member with its own hyperparameters."""
        loss = losses.sum() if losses.ndim else losses
        names = list(self.params)
        # autograd.grad, not backward(): accumulating into .grad would copy every stacked
        # gradient into the parameter's layout (a third of the step time on wide models).
        found = torch.autograd.grad(loss, [self.params[k] for k in names], allow_unused=True)
        grads = {k: g if g is not None else torch.zeros_like(self.params[k]) for k, g in zip(names, found)}
        with torch.no_grad():
            self.optimizer.update(self.params, grads, self.state, self._resolve)

    def make_step(
        self,
        loss: Callable[..., torch.Tensor],
        per_member: bool = True,
        compile: bool = False,
        pass_hparams: bool = False,
    ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """A training step for the common case: ``step(x, y) -> losses (P,)``.

        Forward, per-member gradients (``vmap(grad_and_value)``) and the optimizer update in one
        function. Faster than :meth:`step` when the loss is per member, and, with
        ``compile=True``, compiled as a whole by ``torch.compile`` (the first call compiles for a
        few seconds; then small models run several times faster). A compiled step recompiles
        for each new batch shape: keep batches the same size.

        Args:
            loss: ``loss(output, target) -> scalar`` for one member.
            per_member: ``x, y`` are ``(P, B, ...)``, one batch per member; else ``(B, ...)``,
                shared.
            compile: Compile the whole step with ``torch.compile``.
            pass_hparams: Call ``loss(output, target, hparams)`` with the member's numeric
                hyperparameters as 0-d tensors (loss weights, entropy coefficients...).

        Examples:
            >>> import torch, poptune as pt
            >>> pop = pt.vectorized.Population(lambda: torch.nn.Linear(4, 3), 8,
            ...                                optimizer=pt.vectorized.SGD(lr="lr"), hparams={"lr": [0.1] * 8})
            >>> step = pop.make_step(torch.nn.functional.cross_entropy, per_member=False)
            >>> step(torch.randn(16, 4), torch.randint(0, 3, (16,))).shape
            torch.Size([8])
        """
        functional, base = self._functional, self._base

        def one(params, buffers, hparams, x, y):
            out = functional.fn(params, x) if functional is not None else functional_call(base, (params, buffers), (x,))
            return loss(out, y, hparams) if pass_hparams else loss(out, y)

        dims = 0 if per_member else None
        gradients = torch.vmap(grad_and_value(one), in_dims=(0, 0, 0, dims, dims), randomness=self.randomness)
        params = {k: v.detach() for k, v in self.params.items()}  # aliases: updates land in place
        optimizer, state, resolve, tensors = self.optimizer, self.state, self._resolve, self._tensors
        numeric: list[str] = []

        def step(x, y):
            hparams = {k: tensors[k].to(x.dtype if x.is_floating_point() else torch.float32) for k in numeric}
            grads, losses = gradients(params, self.buffers, hparams, x, y)
            optimizer.update(params, grads, state, resolve)
            return losses

        compiled = torch.compile(step) if compile else step
        prepared = False

        def run_step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            nonlocal prepared
            if not prepared:  # hyperparameters may be set after make_step (by a Session)
                for name in optimizer.names():  # the persistent tensors exist before tracing
                    self._float64(name)
                if pass_hparams:
                    numeric.extend(k for k in self._hparams if _all_numbers(self._hparams[k]))
                    for name in numeric:
                        self._float64(name)
                prepared = True
            with torch.no_grad():
                return compiled(x, y)

        return run_step

    def train(self, mode: bool = True) -> Population:
        """Training mode (dropout on, batch statistics) for every member."""
        self.training = mode
        if self._base is not None:
            self._base.train(mode)
        return self

    def eval(self) -> Population:
        return self.train(False)

    # -- hyperparameters -----------------------------------------------------------------------

    @property
    def hparams(self) -> list[dict]:
        """Each member's hyperparameters (a copy)."""
        return [{k: v[i] for k, v in self._hparams.items()} for i in range(self.size)]

    def hparam(self, name: str) -> torch.Tensor:
        """A numeric hyperparameter of every member, as a ``(P,)`` tensor in the model's dtype."""
        return self._float64(name).to(self.dtype)

    def _float64(self, name: str) -> torch.Tensor:
        # One tensor per name for the population's life, updated in place: a compiled step keeps
        # reading the same object, so an exploit does not invalidate (recompile) it.
        if name not in self._tensors:
            if name not in self._hparams:
                raise ConfigError(f"no hyperparameter {name!r}; the population has {sorted(self._hparams)}")
            self._tensors[name] = torch.tensor(self._numbers(name), dtype=torch.float64, device=self.device)
        return self._tensors[name]

    def _numbers(self, name: str) -> list[float]:
        values = self._hparams[name]
        if not _all_numbers(values):
            raise ConfigError(f"hyperparameter {name!r} is not numeric (or not set for every member)")
        return [float(v) for v in values]

    def set_hparams(self, member: int, hparams: Mapping[str, Any]) -> None:
        """Change member ``member``'s hyperparameters (after explore)."""
        for name, value in hparams.items():
            self._hparams.setdefault(name, [None] * self.size)[member] = value
            tensor = self._tensors.get(name)
            if tensor is not None:
                with torch.no_grad():
                    tensor[member] = float(value)
        self._write_buffers(member, hparams)

    @torch.no_grad()
    def _write_buffers(self, member: int, hparams: Mapping[str, Any]) -> None:
        for name, value in hparams.items():
            buffer = self.buffers.get(name)
            if buffer is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
                buffer[member] = value

    def _resolve(self, spec: Spec) -> torch.Tensor:
        if isinstance(spec, str):
            return self._float64(spec)
        return torch.full((self.size,), float(spec), dtype=torch.float64, device=self.device)

    # -- exploit -------------------------------------------------------------------------------

    @torch.no_grad()
    def copy_(self, targets: Sequence[int], sources: Sequence[int]) -> None:
        """Copy members ``sources[k]`` into ``targets[k]`` (weights, buffers, optimizer state),
        all at once: a source that is also a target gives its state from before the copy."""
        if len(targets) != len(sources):
            raise ConfigError(f"copy_: {len(targets)} targets but {len(sources)} sources")
        if not targets:
            return
        t = torch.as_tensor(list(targets), device=self.device)
        s = torch.as_tensor(list(sources), device=self.device)
        for tensor in _tensors(self.params, self.buffers, self.state):
            tensor[t] = tensor[s]

    # -- state ---------------------------------------------------------------------------------

    def state_dict(self) -> StackedState:
        """Everything needed to continue training, on the CPU (for checkpoints)."""
        return StackedState(
            params={k: v.detach().cpu().clone() for k, v in self.params.items()},
            buffers={k: v.detach().cpu().clone() for k, v in self.buffers.items()},
            optimizer=_map(self.state, lambda t: t.detach().cpu().clone()),
            hparams={k: list(v) for k, v in self._hparams.items()},
            rng=torch.get_rng_state(),
        )

    @torch.no_grad()
    def load_members(self, sources: Sequence[tuple[StackedState, int]]) -> None:
        """Member ``i`` takes the state of member ``index`` of ``sources[i][0]`` (resume)."""
        if len(sources) != self.size:
            raise ConfigError(f"load_members: {len(sources)} sources for {self.size} members")
        for i, (state, index) in enumerate(sources):
            for name, p in self.params.items():
                p[i] = state.params[name][index].to(p.device, p.dtype)
            for name, b in self.buffers.items():
                b[i] = state.buffers[name][index].to(b.device, b.dtype)
            _copy_row(self.state, state.optimizer, i, index)
        torch.set_rng_state(sources[0][0].rng)

    def member_state_dict(self, member: int) -> dict[str, torch.Tensor]:
        """Member ``member``'s weights and buffers as a ``state_dict`` for one copy of the model."""
        out = {k: v[member].detach().cpu().clone() for k, v in self.params.items()}
        out.update({k: v[member].detach().cpu().clone() for k, v in self.buffers.items()})
        return out

    def __repr__(self) -> str:
        count = sum(p[0].numel() for p in self.params.values())
        return f"Population(size={self.size}, parameters per member={count}, device={self.device}, dtype={self.dtype})"


def _as_columns(hparams, size: int) -> dict[str, list]:
    if hparams is None:
        return {}
    if isinstance(hparams, Mapping):
        columns = {}
        for name, values in hparams.items():
            values = list(values.tolist() if hasattr(values, "tolist") else values)
            if len(values) != size:
                raise ConfigError(f"Population: hparams[{name!r}] has {len(values)} values for {size} members")
            columns[name] = values
        return columns
    rows = list(hparams)
    if len(rows) != size:
        raise ConfigError(f"Population: hparams has {len(rows)} entries for {size} members")
    names = list(rows[0]) if rows else []
    return {name: [row[name] for row in rows] for name in names}


def _all_numbers(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _reset(module: nn.Module) -> None:
    for child in module.modules():
        if hasattr(child, "reset_parameters") and callable(child.reset_parameters):
            child.reset_parameters()


def _tensors(*trees):
    for tree in trees:
        if isinstance(tree, torch.Tensor):
            yield tree
        elif isinstance(tree, Mapping):
            yield from _tensors(*tree.values())


def _map(tree, fn):
    if isinstance(tree, torch.Tensor):
        return fn(tree)
    return {k: _map(v, fn) for k, v in tree.items()}


def _copy_row(dst, src, i: int, index: int) -> None:
    if isinstance(dst, torch.Tensor):
        dst[i] = src[index].to(dst.device, dst.dtype)
        return
    for key in dst:
        _copy_row(dst[key], src[key], i, index)
