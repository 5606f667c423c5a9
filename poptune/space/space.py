"""A search space: named domains plus constants, with validation at the door.

Users pass a plain ``dict``; :func:`as_space` turns it into a :class:`Space`. Values that are
not domains (``{"batch": 64}``) are constants: every member gets them and exploration leaves
them alone.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Iterator, Mapping

import numpy as np

from poptune.errors import ConfigError
from poptune.space.domains import Domain, domain_from_description

_CONSTANT_TYPES = (str, int, float, bool, type(None))


class Space(Mapping[str, Any]):
    """An ordered mapping from hyperparameter name to :class:`Domain` or constant.

    Examples:
        >>> import numpy as np, poptune as pt
        >>> space = pt.Space({"lr": pt.Float(1e-4, 1e-1, log=True), "batch": 64})
        >>> sorted(space.sample(np.random.default_rng(0)))
        ['batch', 'lr']
        >>> space.domains
        {'lr': Float(0.0001, 0.1, log=True)}
    """

    def __init__(self, entries: Mapping[str, Any]):
        if not isinstance(entries, Mapping):
            raise ConfigError(
                f"space must be a dict of name -> pt.Float/pt.Int/pt.Choice, got {type(entries).__name__}"
            )
        if not entries:
            raise ConfigError("space must name at least one hyperparameter")
        self._entries: dict[str, Any] = {}
        for name, value in entries.items():
            if not isinstance(name, str) or not name:
                raise ConfigError(f"space: hyperparameter names must be non-empty strings, got {name!r}")
            if not isinstance(value, (Domain, *_CONSTANT_TYPES)):
                raise ConfigError(
                    f"space[{name!r}]: expected pt.Float, pt.Int, pt.Choice or a constant "
                    f"(number, string, bool, None), got {value!r}"
                )
            self._entries[name] = value

    def __getitem__(self, name: str) -> Any:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def domains(self) -> dict[str, Domain]:
        """The searched hyperparameters (constants left out)."""
        return {k: v for k, v in self._entries.items() if isinstance(v, Domain)}

    @property
    def explorable(self) -> dict[str, Domain]:
        """The hyperparameters explore may change (domains without ``explore=False``)."""
        return {k: v for k, v in self._entries.items() if isinstance(v, Domain) and v.explore}

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Draw one full set of hyperparameters."""
        return {k: v.sample(rng) if isinstance(v, Domain) else v for k, v in self._entries.items()}

    def complete(self, partial: Mapping[str, Any], rng: np.random.Generator, where: str) -> dict:
        """Validate ``partial`` and sample the names it leaves out.

        Args:
            partial: Some or all hyperparameters.
            rng: Generator for the missing ones.
            where: How to name ``partial`` in an error, e.g. ``"initial[0]"``.
        """
        if not isinstance(partial, Mapping):
            raise ConfigError(f"{where}: expected a dict of hyperparameters, got {partial!r}")
        unknown = sorted(set(partial) - set(self._entries))
        if unknown:
            raise ConfigError(
                f"{where}: unknown hyperparameter(s) {unknown}; the space has {list(self._entries)}"
            )
        full = self.sample(rng)
        full.update(partial)
        return self.validate(full, where)

    def validate(self, hparams: Mapping[str, Any], where: str) -> dict[str, Any]:
        """Check a full set of hyperparameters and return it with canonical types."""
        if not isinstance(hparams, Mapping):
            raise ConfigError(f"{where}: expected a dict of hyperparameters, got {hparams!r}")
        missing = [k for k in self._entries if k not in hparams]
        unknown = sorted(set(hparams) - set(self._entries))
        if missing or unknown:
            raise ConfigError(
                f"{where}: hyperparameters must match the space; missing {missing}, unknown {unknown}"
            )
        out = {}
        for name, spec in self._entries.items():
            value = hparams[name]
            if isinstance(spec, Domain):
                try:
                    out[name] = spec.validate(value, name)
                except ConfigError as err:
                    raise ConfigError(f"{where}: {err}") from None
            else:
                out[name] = value
        return out

    def describe(self) -> dict[str, Any]:
        """JSON description: domains as dicts, constants as ``{"constant": value}``."""
        return {
            k: v.describe() if isinstance(v, Domain) else {"type": "constant", "value": v}
            for k, v in self._entries.items()
        }

    @classmethod
    def from_description(cls, description: Mapping[str, Any]) -> Space:
        """Rebuild a space stored by :meth:`describe`."""
        return cls(
            {
                k: d["value"] if d.get("type") == "constant" else domain_from_description(d)
                for k, d in description.items()
            }
        )

    def __repr__(self) -> str:
        return f"Space({self._entries!r})"


def as_space(space: Mapping[str, Any] | Space) -> Space:
    """Return ``space`` as a :class:`Space` (dicts are wrapped, spaces pass through)."""
    return space if isinstance(space, Space) else Space(space)
