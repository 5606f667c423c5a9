"""A population of 10,000 members is a supported configuration (timings: benchmarks/scale.py)."""

from pathlib import Path

import pytest

import poptune as pt


def noop(member):
    x = member.checkpoint or 0.0
    for _ in member.steps():
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


@pytest.mark.slow
def test_ten_thousand_members_train_decide_and_keep_one_file_each(tmp_path):
    result = pt.run(noop, {"lr": pt.Float(0.01, 1.0)}, population=10_000, steps=10, interval=5, runner="inline",
                    dir=tmp_path / "run", seed=0, progress=False)
    assert result.status == "finished" and len(result.members) == 10_000
    assert all(m.step == 10 and m.status == "finished" for m in result.members)
    assert len(result.reports) == 100_000 and len(result.exploits) > 500
    # every round closed and released its checkpoints: what is left is each member's final one
    files = list((Path(tmp_path) / "run" / "checkpoints").rglob("*.pkl"))
    assert len(files) == 10_000
