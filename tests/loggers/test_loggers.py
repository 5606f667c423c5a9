import struct
from pathlib import Path

import pytest

import poptune as pt

from tests.test_run import run


def read_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Parse TensorBoard event files (TFRecord framing + Event protos)."""
    from tensorboardX.proto.event_pb2 import Event

    out: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset:offset + 8])
            event = Event.FromString(data[offset + 12:offset + 12 + length])
            offset += 12 + length + 4
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


def test_tensorboard_one_folder_per_member_with_score_metrics_and_schedule(run_dir):
    pytest.importorskip("tensorboardX")
    result = run(run_dir, population=3, steps=6, interval=2, callbacks=[pt.loggers.TensorBoard()])
    folders = sorted(p.name for p in (run_dir / "tensorboard").iterdir())
    assert folders == ["member-000", "member-001", "member-002"]
    scalars = read_scalars(run_dir / "tensorboard" / "member-001")
    reports = [(r.step, r.score) for r in result.reports if r.member == 1]
    assert [s for s, _ in scalars["score"]] == [s for s, _ in reports]
    assert [v for _, v in scalars["score"]] == pytest.approx([v for _, v in reports], rel=1e-6)
    assert [v for _, v in scalars["hparams/lr"]] == pytest.approx(
        [result.hparams_at(1, s)["lr"] for s, _ in reports], rel=1e-6
    )


def test_mlflow_parent_run_and_a_nested_run_per_member(run_dir, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # mlflow-skinny has no SQL backend
    from mlflow.tracking import MlflowClient

    uri = (tmp_path / "mlruns").as_uri()  # mlflow-skinny: file store
    result = run(run_dir, population=3, steps=6, interval=2, callbacks=[pt.loggers.MLflow(uri, experiment="t")])
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("t")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = {int(r.data.tags["poptune.member"]): r for r in runs if "mlflow.parentRunId" in r.data.tags}
    assert len(parents) == 1 and sorted(children) == [0, 1, 2]
    assert all(r.info.status == "FINISHED" for r in runs)
    assert parents[0].data.params["population"] == "3"
    history = sorted(client.get_metric_history(children[2].info.run_id, "score"), key=lambda m: m.step)
    mine = [r for r in result.reports if r.member == 2]
    assert [m.step for m in history] == [r.step for r in mine]
    assert [m.value for m in history] == pytest.approx([r.score for r in mine])
    assert len(client.get_metric_history(children[2].info.run_id, "hparams/lr")) == 6
