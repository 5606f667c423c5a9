import functools
import shutil
import subprocess
import sys

import pytest

from poptune.demo import compare, toy
from poptune.report.html import plotly_js

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


def toy_train(member, scale=1.0):
    """The paper's toy (poptune.demo.toy), behind a functools.partial like the demo's digits."""
    toy.train(member)


def demo_layout(root, seeds=2, population=4, steps=8):
    """Runs laid out like ``poptune demo``: PBT seed 0 in ``root``, the rest in ``root/compare``."""
    train = functools.partial(toy_train, scale=1.0)
    for seed in range(seeds):
        dirs = (root if seed == 0 else root / "compare" / f"pbt-seed{seed}", root / "compare" / f"random-seed{seed}")
        compare.run_pair(train, toy.SPACE, seed, dirs, metric="theta0", population=population, steps=steps,
                         interval=2, runner="inline", initial=toy.INITIAL, explore=toy.explore,
                         metadata={"task": "toy"})
    return root


@pytest.fixture(scope="package")
def demo_runs(tmp_path_factory):
    return demo_layout(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture
def no_plotly(monkeypatch):
    """plotly is not installed (as far as poptune can tell)."""
    plotly_js.cache_clear()
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.offline", None)
    yield
    monkeypatch.undo()
    plotly_js.cache_clear()


def chromium(*args, tmp_path):
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=120,
    )
