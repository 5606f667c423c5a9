"""A network's weights stored as a chain of integer seeds (the Deep GA's compact genome).

Such et al. 2017 ("Deep Neuroevolution", arXiv:1712.06567) evolve networks by mutation alone:
a child is its parent plus Gaussian noise. Since the noise is drawn from a seeded generator, a
genome need only hold the seed of the initialisation and one seed per mutation; the weights are
rebuilt by replaying the chain. A genome of ``n`` mutations takes ``8 (n + 1)`` bytes, whatever
the network's size.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

from poptune.errors import ConfigError

SEED_LIMIT = 2**63  # seeds are non-negative and fit a signed 64-bit integer (torch.Generator's range)


@dataclass(frozen=True)
class SeedChain:
    """A genome: the seed that initialises the weights, then one seed per mutation.

    Immutable: :meth:`mutate` returns a new, longer chain and leaves its parent as it was. A
    mutation may record its own ``sigma`` (when the mutation strength is a hyperparameter that
    changes along a lineage); a mutation without one uses the ``sigma`` given to
    :meth:`materialize`.

    Attributes:
        seeds: The initialisation seed, then the mutation seeds, in order.
        sigmas: One entry per mutation seed: its noise scale, or ``None`` (use materialize's).

    Examples:
        >>> import torch
        >>> from poptune.family import SeedChain
        >>> parent = SeedChain.initial(7)
        >>> child = parent.mutate(123, sigma=0.02)
        >>> child.seeds, len(child), len(parent)
        ((7, 123), 1, 0)
        >>> a, b = torch.nn.Linear(4, 2), torch.nn.Linear(4, 2)
        >>> torch.equal(child.materialize(a).weight, child.materialize(b).weight)
        True
        >>> SeedChain.from_json(child.to_json()) == child
        True
    """

    seeds: tuple[int, ...]
    sigmas: tuple[float | None, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.seeds, (str, bytes)) or not isinstance(self.seeds, (list, tuple)) or not self.seeds:
            raise ConfigError(f"SeedChain: seeds must be a non-empty list of integers, got {self.seeds!r}; "
                              f"start a chain with SeedChain.initial(seed)")
        seeds = tuple(_as_seed(s, "SeedChain: seeds") for s in self.seeds)
        sigmas = tuple(self.sigmas) if self.sigmas else (None,) * (len(seeds) - 1)
        if len(sigmas) != len(seeds) - 1:
            raise ConfigError(f"SeedChain: sigmas needs one entry per mutation ({len(seeds) - 1}), got "
                              f"{len(sigmas)}; pass None for a mutation that uses materialize's sigma")
        sigmas = tuple(None if s is None else _as_sigma(s, "SeedChain: sigmas") for s in sigmas)
        object.__setattr__(self, "seeds", seeds)
        object.__setattr__(self, "sigmas", sigmas)

    @classmethod
    def initial(cls, seed: int) -> SeedChain:
        """A chain of one seed: the initial weights, no mutation yet.

        Args:
            seed: An integer in ``[0, 2**63)``.

        Examples:
            >>> SeedChain.initial(3)
            SeedChain(seeds=(3,), sigmas=())
        """
        return cls((_as_seed(seed, "SeedChain.initial(seed)"),))

    def mutate(self, seed: int, sigma: float | None = None) -> SeedChain:
        """A child: this chain with one more mutation appended. ``self`` is unchanged.

        Args:
            seed: The mutation's seed, an integer in ``[0, 2**63)``.
            sigma: The mutation's noise scale, recorded in the genome; ``None``: use the
                ``sigma`` given to :meth:`materialize`.

        Examples:
            >>> SeedChain.initial(1).mutate(2).mutate(3, sigma=0.1).seeds
            (1, 2, 3)
        """
        seed = _as_seed(seed, "SeedChain.mutate(seed)")
        sigma = None if sigma is None else _as_sigma(sigma, "SeedChain.mutate(sigma)")
        return SeedChain(self.seeds + (seed,), self.sigmas + (sigma,))

    def __len__(self) -> int:
        """The number of mutations (the initial seed not counted)."""
        return len(self.seeds) - 1

    def to_json(self) -> list[int] | dict[str, list]:
        """Plain data for a checkpoint (poptune's safe loader reads it back).

        A list of ints when no mutation records its own sigma, else
        ``{"seeds": [...], "sigmas": [...]}``.

        Examples:
            >>> SeedChain.initial(1).mutate(2).to_json()
            [1, 2]
            >>> SeedChain.initial(1).mutate(2, sigma=0.5).to_json()
            {'seeds': [1, 2], 'sigmas': [0.5]}
        """
        if all(s is None for s in self.sigmas):
            return list(self.seeds)
        return {"seeds": list(self.seeds), "sigmas": list(self.sigmas)}

    @classmethod
    def from_json(cls, data: Any) -> SeedChain:
        """Read back :meth:`to_json`'s output.

        Examples:
            >>> SeedChain.from_json([5, 6]).seeds
            (5, 6)
        """
        if isinstance(data, dict):
            if set(data) - {"seeds", "sigmas"} or "seeds" not in data:
                raise ConfigError(f"SeedChain.from_json: a dict needs the keys 'seeds' (and optionally 'sigmas'), "
                                  f"got {sorted(data)}; pass what SeedChain.to_json() returned")
            return cls(tuple(data["seeds"]), tuple(data.get("sigmas") or ()))
        if isinstance(data, (list, tuple)):
            return cls(tuple(data))
        raise ConfigError(f"SeedChain.from_json: expected a list of ints or a dict, got {type(data).__name__}; "
                          f"pass what SeedChain.to_json() returned")

    def nbytes(self) -> int:
        """The genome's size: 8 bytes per seed and 8 per recorded sigma.

        Examples:
            >>> SeedChain.initial(1).mutate(2).mutate(3, sigma=0.1).nbytes()
            32
        """
        return 8 * len(self.seeds) + 8 * sum(s is not None for s in self.sigmas)

    def materialize(self, module: Any, sigma: float | None = None) -> Any:
        """Rebuild the weights of ``module`` in place from the chain; returns ``module``.

        The first seed seeds a local ``torch.Generator`` (the global one is not touched): every
        parameter with two or more dimensions is drawn from ``N(0, 1 / fan_in)``, every other
        parameter (biases, norms) is zero. Then, for each mutation in order, a generator seeded
        with its seed draws ``N(0, 1)`` noise for every parameter, in ``module.parameters()``
        order, added times the mutation's sigma. The same chain gives the same weights in any
        process, for modules of the same architecture and dtype.

        Args:
            module: A ``torch.nn.Module``; its parameters are overwritten (buffers are not).
            sigma: The noise scale of mutations that record none.

        Raises:
            ConfigError: A mutation records no sigma and none is given, or sigma is not positive.
        """
        import torch

        default = None if sigma is None else _as_sigma(sigma, "SeedChain.materialize(sigma)")
        if default is None and any(s is None for s in self.sigmas):
            raise ConfigError("SeedChain.materialize: some mutations record no sigma; pass sigma=, the noise "
                              "scale they were made with")
        params = list(module.parameters())
        generator = torch.Generator(device="cpu")
        with torch.no_grad():
            generator.manual_seed(self.seeds[0])
            for p in params:
                if p.dim() >= 2:
                    fan_in = math.prod(p.shape[1:])
                    p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) / math.sqrt(fan_in))
                else:
                    p.zero_()
            for seed, scale in zip(self.seeds[1:], self.sigmas):
                generator.manual_seed(seed)
                scale = default if scale is None else scale
                for p in params:
                    p.add_(torch.randn(p.shape, generator=generator, dtype=p.dtype), alpha=scale)
        return module


def parameter_nbytes(module: Any) -> int:
    """The bytes of a module's parameters, to compare with :meth:`SeedChain.nbytes`.

    Examples:
        >>> import torch
        >>> parameter_nbytes(torch.nn.Linear(4, 2))  # 10 float32 numbers
        40
    """
    return sum(p.numel() * p.element_size() for p in module.parameters())


def _as_seed(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) < SEED_LIMIT:
        raise ConfigError(f"{where}: a seed must be an integer in [0, 2**63), got {value!r}; draw one with "
                          f"numpy.random.default_rng(...).integers(2**63)")
    return int(value)


def _as_sigma(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{where}: sigma must be a positive finite number, got {value!r}; e.g. sigma=0.02")
    return float(value)
