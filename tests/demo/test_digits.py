import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from poptune.cli import main  # noqa: E402
from poptune.demo import digits  # noqa: E402


def test_splits_are_disjoint_standardized_and_noise_only_touches_training_labels():
    clean, noisy = digits.load(0, 0.0), digits.load(0, 0.3)
    assert len(clean.y_train) + len(clean.y_val) + len(clean.y_test) == 1797
    assert abs(float(clean.x_train.mean())) < 1e-5
    changed = (clean.y_train != noisy.y_train).float().mean().item()
    assert 0.2 < changed < 0.35  # 30% redrawn, a tenth of which land on the same label
    assert (clean.y_val == noisy.y_val).all() and (clean.y_test == noisy.y_test).all()


def test_tiny_demo_end_to_end(tmp_path, capsys):
    code = main(["demo", "--population", "4", "--steps", "3", "--seeds", "1", "--workers", "2",
                 "--dir", str(tmp_path / "demo")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Best PBT member" in out and "Schedule PBT discovered" in out
    assert "random search" in out and "Equal compute" in out
    assert (tmp_path / "demo" / "poptune.db").exists()
    assert (tmp_path / "demo" / "compare" / "random-seed0" / "poptune.db").exists()
