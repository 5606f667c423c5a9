import os

import pytest


@pytest.fixture
def run_dir(tmp_path):
    return tmp_path / "run"


@pytest.fixture(autouse=True)
def _quiet_threads(monkeypatch):
    # Worker processes inherit this; one math thread each keeps the 2-core CI machine usable.
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
