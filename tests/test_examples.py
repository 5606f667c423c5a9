import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_toy_example(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "toy.py")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "PBT: Q = 1.2000" in out and "Q = 0.3900" in out


@pytest.mark.slow
def test_digits_example(tmp_path):
    pytest.importorskip("torch")
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "digits.py")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert "best member" in out and "from epoch 1" in out


@pytest.mark.slow
def test_vectorized_digits_example(tmp_path):
    pytest.importorskip("torch")
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "digits_vectorized.py"), "--population", "8"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, check=True).stdout
    assert "8 members x 15 epochs" in out and "from epoch 1" in out
