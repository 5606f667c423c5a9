"""Architecture mutation with weight transfer: Net2Net widening, and an explore stage that grows a width.

SEARL (Franke et al. 2021) evolves the architecture along with the hyperparameters, and a mutated
network keeps what its parent learnt. Net2WiderNet (Chen et al. 2016, arXiv:1511.05641) widens a
hidden layer without changing the function: the new units copy randomly chosen existing ones,
and the next layer's weights from each copied unit are divided among its copies.

In a poptune run the width is a hyperparameter (``"hidden": pt.Int(16, 128)``); the explore
stage :class:`Widen` grows it (never shrinks it), and ``train`` widens the copied weights with
:func:`widen` when its ``member.hparams["hidden"]`` exceeds the width of its checkpoint.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from poptune.errors import ConfigError
from poptune.space import Choice, Int
from poptune.strategies.base import Explore, ExploreContext


def widen(state_dict: Mapping[str, Any], layer: str, new_width: int, rng: np.random.Generator, *,
          next_layer: str | None = None, noise: float = 0.0) -> dict[str, Any]:
    """Widen the outputs of linear layer ``layer`` to ``new_width``, keeping the network's function.

    Unit ``j >= old width`` copies unit ``g(j)``, drawn uniformly among the old ones: its row of
    ``<layer>.weight`` and its ``<layer>.bias``. The next layer's input column of each old unit
    is divided by its number of copies (itself included), so for any elementwise activation
    between the two layers the outputs are unchanged (exactly up to rounding with ``noise=0``).

    Args:
        state_dict: Weights (torch tensors or numpy arrays), e.g. ``module.state_dict()`` of an
            MLP; not modified.
        layer: The prefix of the widened layer's ``.weight`` (shape ``(out, in)``) and ``.bias``.
        new_width: The new number of outputs, at least the current one.
        rng: Draws the copied units (the same seed gives the same widening).
        next_layer: The prefix of the layer reading ``layer``'s outputs; default: the next key
            ending in ``.weight`` after ``<layer>.weight``.
        noise: Standard deviation of Gaussian noise added to the copied next-layer columns, to
            break the symmetry between copies (then the function changes slightly).

    Returns:
        A new state dict with the widened weights (the others are shared, not copied).

    Examples:
        >>> import numpy as np, torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        >>> wide = torch.nn.Sequential(torch.nn.Linear(3, 7), torch.nn.ReLU(), torch.nn.Linear(7, 2))
        >>> _ = wide.load_state_dict(widen(net.state_dict(), "0", 7, np.random.default_rng(0)))
        >>> x = torch.randn(5, 3)
        >>> torch.allclose(net(x), wide(x), atol=1e-6)
        True
    """
    keys = list(state_dict)
    weight, bias = f"{layer}.weight", f"{layer}.bias"
    if weight not in state_dict:
        raise ConfigError(f"widen: no {weight!r} in the state dict (keys {keys}); pass the prefix of a linear "
                          f"layer, e.g. layer='0' for nn.Sequential's first")
    if next_layer is None:
        later = [k for k in keys[keys.index(weight) + 1:] if k.endswith(".weight")]
        if not later:
            raise ConfigError(f"widen: no layer after {layer!r} reads its outputs; widen a hidden layer, not the "
                              f"output layer")
        next_layer = later[0][: -len(".weight")]
    following = f"{next_layer}.weight"
    if following not in state_dict:
        raise ConfigError(f"widen: no {following!r} in the state dict; next_layer must name a linear layer")
    w, w_next = state_dict[weight], state_dict[following]
    old = int(w.shape[0])
    if w.ndim != 2 or w_next.ndim != 2 or int(w_next.shape[1]) != old:
        raise ConfigError(f"widen: {weight} {tuple(w.shape)} and {following} {tuple(w_next.shape)} are not two "
                          f"linear layers in a row (the second's inputs must be the first's outputs)")
    if isinstance(new_width, bool) or not isinstance(new_width, numbers.Integral) or new_width < old:
        raise ConfigError(f"widen: new_width must be an integer >= the current width {old}, got {new_width!r}; "
                          f"Net2Net widening cannot remove units")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ConfigError(f"widen: noise must be a non-negative number, got {noise!r}")
    mapping = np.concatenate([np.arange(old), rng.integers(old, size=int(new_width) - old)])  # unit j copies g(j)
    counts = np.bincount(mapping, minlength=old)[mapping].astype(np.float64)  # copies of each unit's source
    new = dict(state_dict)
    new[weight] = _take(w, mapping, axis=0)
    if bias in state_dict:
        new[bias] = _take(state_dict[bias], mapping, axis=0)
    columns = _take(w_next, mapping, axis=1) / _like(counts, w_next)
    if noise:
        extra = np.zeros(w_next.shape[:1] + (int(new_width),))
        extra[:, old:] = rng.normal(0.0, noise, size=(w_next.shape[0], int(new_width) - old))
        columns = columns + _like(extra, w_next)
    new[following] = columns
    return new


def width(state_dict: Mapping[str, Any], layer: str) -> int:
    """The number of outputs of linear layer ``layer`` in ``state_dict``.

    Examples:
        >>> import torch
        >>> width(torch.nn.Sequential(torch.nn.Linear(3, 5)).state_dict(), "0")
        5
    """
    key = f"{layer}.weight"
    if key not in state_dict:
        raise ConfigError(f"width: no {key!r} in the state dict; pass the prefix of a linear layer "
                          f"(keys {list(state_dict)})")
    return int(state_dict[key].shape[0])


class Widen(Explore):
    """An explore stage that mutates a width hyperparameter by growing it, never shrinking it.

    Put it after the hyperparameter explore, ``explore=[pt.PerturbOrResample(), Widen("hidden")]``:
    it first restores the width the member copied (undoing whatever the previous stage did to
    it), then with ``probability`` grows it by ``by`` units for a :class:`~poptune.Int` (up to
    its ``high``), or to the next larger option for a :class:`~poptune.Choice` of integers.

    Args:
        name: The width hyperparameter.
        by: Units added by a growth (``Int`` domains).
        probability: Chance of a growth at each explore.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> space = pt.Space({"lr": pt.Float(1e-4, 1e-1, log=True), "hidden": pt.Int(8, 64)})
        >>> Widen("hidden", by=8, probability=1.0).explore({"lr": 0.01, "hidden": 16}, space,
        ...                                                 np.random.default_rng(0))
        {'lr': 0.01, 'hidden': 24}
    """

    def __init__(self, name: str, by: int = 16, probability: float = 0.3):
        if not isinstance(name, str):
            raise ConfigError(f"Widen: name must be the width hyperparameter's name (a str), got {name!r}")
        if isinstance(by, bool) or not isinstance(by, numbers.Integral) or by < 1:
            raise ConfigError(f"Widen: by must be a positive integer (units added), got {by!r}")
        if isinstance(probability, bool) or not isinstance(probability, numbers.Real) or not 0 <= probability <= 1:
            raise ConfigError(f"Widen: probability must be in [0, 1], got {probability!r}")
        self.name, self.by, self.probability = name, int(by), float(probability)

    def explore(self, hparams, space, rng):
        return self.propose(ExploreContext(hparams=hparams, space=space, rng=rng))

    def propose(self, context):
        if self.name not in context.space:
            raise ConfigError(f"Widen: {self.name!r} is not in the space ({list(context.space)}); add it, e.g. "
                              f"{self.name!r}: pt.Int(16, 128)")
        domain = context.space[self.name]
        copied = context.source or context.target
        current = copied.hparams[self.name] if copied is not None else context.hparams[self.name]
        grown = current
        if context.rng.random() < self.probability:
            if isinstance(domain, Int):
                grown = min(domain.high, current + self.by)
            elif isinstance(domain, Choice) and all(isinstance(o, numbers.Integral) for o in domain.options):
                grown = min((o for o in domain.options if o > current), default=current)
            else:
                raise ConfigError(f"Widen: {self.name!r} must be a pt.Int or a pt.Choice of integers, got {domain!r}")
        if grown != current:
            context.info["widened"] = [current, grown]
        return {**context.hparams, self.name: grown}

    def __repr__(self) -> str:
        return f"Widen({self.name!r}, by={self.by}, probability={self.probability:g})"


def _take(values, index: np.ndarray, axis: int):
    if isinstance(values, np.ndarray):
        return np.take(values, index, axis=axis)
    import torch

    return torch.index_select(values, axis, torch.as_tensor(index, device=values.device))


def _like(array: np.ndarray, reference):
    if isinstance(reference, np.ndarray):
        return array.astype(reference.dtype)
    import torch

    return torch.as_tensor(array, dtype=reference.dtype, device=reference.device)
