"""A run's configuration as people read it: functions by name, never by memory address.

A run stores what trained its members as text, and Python's ``repr`` of a function names a
memory address (``functools.partial(<function train at 0x7fab...>, noise=0.3)``) that says
nothing and differs in every process. :func:`readable` names such objects without it.

Example:
    >>> from poptune.report.config import readable
    >>> readable("functools.partial(<function train at 0x7fab12cd>, data_seed=0, noise=0.3)")
    'functools.partial(train, data_seed=0, noise=0.3)'
    >>> readable("<bound method Agent.train of <agents.Agent object at 0x7f00>>")
    'Agent.train'
"""

from __future__ import annotations

import json
import re
from typing import Any

# keys that say where and by whom a session ran, not how: left out of the page
PRIVATE = ("pid", "host")

_NAME = r"(?:<locals>|<lambda>|<genexpr>|[^\s<>])+"
_FUNCTION = re.compile(rf"<(?:built-in )?function (?P<name>{_NAME}) at 0x[0-9a-fA-F]+>")
_METHOD = re.compile(rf"<bound method (?P<name>{_NAME}) of <[^<>]*(?:<[^<>]*>[^<>]*)*>>")
_OBJECT = re.compile(r"<(?P<name>[\w.]+) object at 0x[0-9a-fA-F]+>")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def readable(text: str) -> str:
    """``text`` with every function, method or object repr named without its memory address."""
    text = _METHOD.sub(lambda m: m["name"], text)
    text = _FUNCTION.sub(lambda m: m["name"], text)
    text = _OBJECT.sub(lambda m: f"{m['name']} object", text)
    return _ADDRESS.sub("", text)


def public_config(config: dict) -> dict:
    """``config`` without the session's process and host, every text made :func:`readable`."""
    return {k: _clean(v) for k, v in config.items() if k not in PRIVATE}


def config_rows(config: dict) -> list[list[str]]:
    """``[[setting, value]]`` of :func:`public_config`: texts as they are, the rest as compact JSON."""
    rows = []
    for key, value in public_config(config).items():
        shown = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
        rows.append([key, shown])
    return rows


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return readable(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value
