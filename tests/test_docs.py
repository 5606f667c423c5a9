"""The documentation: the API reference builds without a warning, and the migration guide's
code runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import poptune as pt

ROOT = Path(__file__).resolve().parents[1]


def test_api_reference_builds_without_warnings(tmp_path):
    pytest.importorskip("mkdocstrings")
    # strict (mkdocs.yml): a docstring naming a parameter the signature lacks, a broken link
    # or an unresolved cross-reference fails the build
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    page = (tmp_path / "site" / "api" / "run" / "index.html").read_text()
    assert "keep_checkpoints" in page and "trust_checkpoints" in page  # pt.run's arguments are documented


def test_package_is_typed():
    assert (Path(pt.__file__).parent / "py.typed").is_file()


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_migration_guides_poptune_example_runs(tmp_path):
    blocks = [b for b in _python_blocks((ROOT / "docs" / "migrating-from-ray-tune.md").read_text()) if "pt.run(" in b]
    assert len(blocks) == 1

    def train(member):
        acc = member.checkpoint or 0.0
        for _ in member.steps():
            acc += 1000 * member.hparams["lr"] * member.hparams["some_other_factor"]
            member.report(acc, checkpoint=acc)

    def clip_lr(hparams):
        return {**hparams, "lr": min(hparams["lr"], 0.015)}

    namespace = {"pt": pt, "train": train, "clip_lr": clip_lr}
    code = blocks[0].replace("steps=300", "steps=40").replace('runner="inline",', f'runner="inline", dir={str(tmp_path)!r}, '
                                                                 "seed=0, progress=False,")
    exec(compile(code, "migrating-from-ray-tune.md", "exec"), namespace)
    result = namespace["result"]
    assert namespace["best"] == result.best.hparams
    stopped = [m for m in result.members if m.stopped]
    assert stopped and all(m.step < 40 for m in stopped)  # stop={"score": 200} ended members early
    explored = [e for e in result.events if type(e).__name__ == "Explored" or type(e).__name__ == "Exploited"]
    assert explored and all(e.new["lr"] <= 0.015 for e in explored)  # clip_lr ran after the perturbation
