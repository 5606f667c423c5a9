"""``pt.vectorized.run``: PBT for the common supervised case, the whole population in one model."""

from __future__ import annotations

import os
from typing import Any
from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
import torch.nn.functional as F

from poptune.callbacks import Callback
from poptune.errors import ConfigError
from poptune.result import Result
from poptune.rundir import DEFAULT_EXPLOIT, DEFAULT_EXPLORE
from poptune.space import Space, as_space
from poptune.strategies import Exploit, Explore
from poptune.strategies.fitness import Fitness
from poptune.vectorized.optim import SGD, Optimizer
from poptune.vectorized.population import Functional, Population
from poptune.vectorized.session import Session

METRICS = {"accuracy": "maximize", "loss": "minimize"}


def run(
    model: torch.nn.Module | Callable[[], torch.nn.Module] | Functional,
    space: Mapping[str, Any] | Space,
    *,
    data: tuple[torch.Tensor, torch.Tensor] | Iterable,
    val: tuple[torch.Tensor, torch.Tensor],
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
    metric: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = "accuracy",
    direction: str | None = None,
    optimizer: Optimizer | None = None,
    population: int = 8,
    steps: int = 30,
    interval: int | None = 5,
    batch_size: int = 64,
    exploit: Exploit | Callable | None = DEFAULT_EXPLOIT,
    explore: Explore | Callable = DEFAULT_EXPLORE,
    dir: str | os.PathLike | None = None,
    seed: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    initial: Sequence[Mapping[str, Any]] | None = None,
    progress: bool = True,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    init: str = "independent",
    eval_batch_size: int = 1024,
    callbacks: Sequence[Callback] = (),
    metadata: Mapping[str, Any] | None = None,
    keep_checkpoints: str = "last",
    compile: bool = False,
    fitness: Fitness | Callable | None = None,
) -> Result:
    """Train ``population`` copies of ``model`` as one stacked model with PBT.

    One step is one epoch over ``data``. With tensors ``(x, y)`` every member draws its own
    shuffle (members see the data in different orders, as separate runs would); with an
    iterable of ``(x, y)`` batches (a ``DataLoader``) all members see the same batches. The score
    is ``metric`` on ``val``; the mean training loss of the epoch is reported as ``train_loss``.
    Every ``interval`` epochs the population decides together (generational PBT): losers copy
    winners in place, on the device, and explore.

    Args:
        model: An ``nn.Module``, a function returning one, or a :class:`Functional`.
        space: Search space. The optimizer's hyperparameters are looked up by name in it.
        data: Training data: ``(x, y)`` tensors or an iterable of ``(x, y)`` batches.
        val: Validation ``(x, y)``: the score.
        loss: ``loss(outputs, targets) -> scalar`` for one member (mean over the batch).
        metric: ``"accuracy"``, ``"loss"``, or ``metric(outputs, targets) -> scalar`` for one member.
        direction: Needed for a callable metric; inferred for the named ones.
        optimizer: Default: ``SGD(lr="lr")`` plus ``momentum``/``weight_decay`` when the space
            names them.
        population: As for :func:`poptune.run`, like ``steps``, ``interval``, ``exploit``,
            ``explore``, ``dir``, ``seed``, ``resume``, ``overwrite``, ``initial``,
            ``progress``, ``callbacks``, ``metadata``, ``keep_checkpoints`` and ``fitness``.
        batch_size: Training batch size.
        device: Where the population lives (default: CUDA when available, else CPU).
        dtype: The precision of the stacked parameters (default: the model's).
        init: ``"independent"`` or ``"shared"`` initial weights.
        eval_batch_size: Validation batch size.
        compile: Compile the training step with ``torch.compile`` (the last, smaller batch of
            each epoch is dropped so that shapes stay fixed). It costs once per process (the
            demo's model on a 2-core CPU: about 14 s; about 5 s when torch's compile cache,
            ``TORCHINDUCTOR_CACHE_DIR``, holds it from an earlier run) and then saves per step:
            1.1x with dropout at N=32, 2.3x without, on that CPU (``benchmarks/README.md``).

    Returns:
        The run's :class:`~poptune.Result` (``result.checkpoint()`` is the best member's
        ``{"model": state_dict, ...}``).

    Examples:
        >>> import torch, tempfile, poptune as pt
        >>> x, y = torch.randn(256, 8), torch.randint(0, 3, (256,))
        >>> result = pt.vectorized.run(
        ...     lambda: torch.nn.Linear(8, 3), {"lr": pt.Float(1e-3, 1.0, log=True)},
        ...     data=(x, y), val=(x, y), population=4, steps=4, interval=2,
        ...     dir=tempfile.mkdtemp(), seed=0, progress=False, device="cpu")
        >>> result.best.step
        4
    """
    space = as_space(space)
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ConfigError(f"metric must be 'accuracy', 'loss' or a function, got {metric!r}")
        direction = direction or METRICS[metric]
    elif not callable(metric):
        raise ConfigError(f"metric must be 'accuracy', 'loss' or a function, got {metric!r}")
    elif direction is None:
        raise ConfigError("a metric function needs direction='maximize' or 'minimize'")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not (isinstance(val, (tuple, list)) and len(val) == 2):
        raise ConfigError("val must be a pair of tensors (x, y)")
    if optimizer is None:
        optimizer = SGD(
            lr="lr",
            momentum="momentum" if "momentum" in space else 0.0,
            weight_decay="weight_decay" if "weight_decay" in space else 0.0,
        )
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    pop = Population(model, population, optimizer=optimizer, init=init, seed=seed or 0, device=device, dtype=dtype)
    x_val, y_val = (t.to(pop.device) for t in val)
    if x_val.is_floating_point():
        x_val = x_val.to(pop.dtype)
    epoch = _epochs(data, batch_size, pop, drop_last=compile)
    steps_by_layout: dict[bool, Callable] = {}
    with Session(
        pop, space, steps=steps, interval=interval, direction=direction, exploit=exploit, explore=explore,
        dir=dir, seed=seed, resume=resume, overwrite=overwrite, initial=initial, progress=progress,
        callbacks=callbacks, keep_checkpoints=keep_checkpoints, fitness=fitness,
        metadata={"model": type(model).__name__ if isinstance(model, torch.nn.Module) else getattr(model, "__name__", "model"),
                  **dict(metadata or {})},
    ) as session:
        for _ in session.steps():
            pop.train()
            total, count = torch.zeros(pop.size, device=pop.device), 0
            for xb, yb, per_member in epoch():
                if per_member not in steps_by_layout:
                    steps_by_layout[per_member] = pop.make_step(loss, per_member=per_member, compile=compile)
                losses = steps_by_layout[per_member](xb, yb)  # (P,)
                rows = yb.shape[1] if per_member else yb.shape[0]
                total += losses * rows
                count += rows
            session.report(_evaluate(pop, x_val, y_val, metric, loss, eval_batch_size), train_loss=total / max(count, 1))
    return session.result()


def _epochs(data, batch_size: int, pop: Population, drop_last: bool):
    """A function yielding one epoch of ``(x, y, per_member)`` batches."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        x, y = (t.to(pop.device) for t in data)
        if x.is_floating_point():
            x = x.to(pop.dtype)
        if len(x) != len(y):
            raise ConfigError(f"data: x has {len(x)} rows but y has {len(y)}")
        generator = torch.Generator(device="cpu").manual_seed(pop.seed)

        def per_member_shuffles():
            # (P, N): every member its own order, as separately trained models would have
            order = torch.argsort(torch.rand(pop.size, len(x), generator=generator), dim=1).to(pop.device)
            end = len(x) - len(x) % batch_size if drop_last and len(x) >= batch_size else len(x)
            for start in range(0, end, batch_size):
                idx = order[:, start:start + batch_size]  # (P, B)
                yield x[idx], y[idx], True

        return per_member_shuffles
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes, torch.Tensor, Mapping)):

        def shared_batches():
            for batch in data:
                xb, yb = batch[0].to(pop.device), batch[1].to(pop.device)
                if drop_last and len(xb) < batch_size:
                    continue
                yield (xb.to(pop.dtype) if xb.is_floating_point() else xb), yb, False

        return shared_batches
    raise ConfigError("data must be (x, y) tensors or an iterable of (x, y) batches such as a DataLoader")


@torch.no_grad()
def _evaluate(pop: Population, x, y, metric, loss, batch_size: int) -> torch.Tensor:
    pop.eval()
    outs = torch.cat([pop(x[i:i + batch_size]) for i in range(0, len(x), batch_size)], dim=1)  # (P, N, ...)
    targets = y.expand(pop.size, *y.shape)
    if metric == "accuracy":
        return (outs.argmax(-1) == targets).float().mean(1)
    if metric == "loss":
        return torch.vmap(loss)(outs, targets)
    return torch.vmap(metric)(outs, targets)
