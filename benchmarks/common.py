"""Shared helpers: machine description, medians, JSON + markdown output."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        pass
    try:
        import poptune

        info["poptune"] = poptune.__version__
    except ImportError:
        pass
    return info


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def repeat(fn: Callable[[], dict], times: int) -> list[dict]:
    """Call ``fn`` ``times`` times; each call returns a dict of measurements."""
    return [fn() for _ in range(times)]


def write(name: str, payload: dict, table: list[dict], title: str, notes: str = "") -> Path:
    """Write ``results/<name>.json`` (payload + machine) and ``results/<name>.md`` (the table)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), **payload}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    markdown = [f"### {title}", ""]
    if table:
        columns = list(table[0])
        markdown.append("| " + " | ".join(columns) + " |")
        markdown.append("|" + "|".join("---" for _ in columns) + "|")
        for row in table:
            markdown.append("| " + " | ".join(str(row[c]) for c in columns) + " |")
    m = payload["machine"]
    markdown += ["", f"Machine: {m['cpus']} CPUs, Python {m['python']}, {m['platform']}, {m['date']}."]
    if notes:
        markdown += ["", notes]
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(markdown) + "\n")
    return path


def fmt(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}"


def example(name: str):
    """Import ``examples/<name>.py`` (the benchmark runs the example users read, not a copy)."""
    import importlib.util
    import sys

    module_name = f"poptune_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # before running it: pickled functions refer to it by this name
    spec.loader.exec_module(module)
    return module


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def commit_of(checkout: str) -> str:
    """The commit a checkout is at (what a side-by-side comparison names), or its path."""
    import subprocess

    out = subprocess.run(["git", "-C", checkout, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or checkout
