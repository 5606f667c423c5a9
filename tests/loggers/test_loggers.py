import json
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


def _mlflow_runs(uri, experiment):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = {int(r.data.tags["poptune.member"]): r for r in runs if "mlflow.parentRunId" in r.data.tags}
    return client, parents, children


def test_mlflow_works_with_its_default_store_and_records_the_hyperparameters_in_use(run_dir, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("alembic")
    monkeypatch.chdir(tmp_path)  # MLflow's default store: sqlite:///mlflow.db in the working directory
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    result = run(run_dir, population=3, steps=6, interval=2, callbacks=[pt.loggers.MLflow(experiment="t")])
    assert (tmp_path / "mlflow.db").exists()
    client, parents, children = _mlflow_runs(f"sqlite:///{tmp_path / 'mlflow.db'}", "t")
    assert len(parents) == 1 and sorted(children) == [0, 1, 2]
    assert all(r.info.status == "FINISHED" for r in [*parents, *children.values()])
    assert parents[0].data.params["population"] == "3"
    assert result.exploits, "the test needs an exploit, where the hyperparameters change"
    for member, child in children.items():
        mine = [r for r in result.reports if r.member == member]
        history = sorted(client.get_metric_history(child.info.run_id, "score"), key=lambda m: m.step)
        assert [m.step for m in history] == [r.step for r in mine]
        assert [m.value for m in history] == pytest.approx([r.score for r in mine])
        lrs = sorted(client.get_metric_history(child.info.run_id, "hparams/lr"), key=lambda m: m.step)
        assert [m.value for m in lrs] == pytest.approx([result.hparams_at(member, r.step)["lr"] for r in mine])
        # the first values as parameters; the values the final model trained with as the latest
        # metric (what MLflow's run table shows) and as tags
        assert float(child.data.params["initial/lr"]) == pytest.approx(result.hparams_at(member, 1)["lr"])
        assert child.data.metrics["hparams/lr"] == pytest.approx(result.hparams_at(member, 6)["lr"])
        assert float(child.data.tags["poptune.hparams.lr"]) == pytest.approx(result.hparams_at(member, 6)["lr"])


def test_mlflow_resumed_session_continues_the_same_runs(run_dir, tmp_path):
    pytest.importorskip("sqlalchemy")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run(run_dir, population=2, steps=4, interval=2, callbacks=[pt.loggers.MLflow(uri, experiment="t")])
    result = run(run_dir, population=2, steps=8, interval=2, resume=True,
                 callbacks=[pt.loggers.MLflow(uri, experiment="t")])
    client, parents, children = _mlflow_runs(uri, "t")
    assert len(parents) == 1 and sorted(children) == [0, 1]
    for member, child in children.items():
        history = sorted(client.get_metric_history(child.info.run_id, "score"), key=lambda m: m.step)
        assert [m.step for m in history] == [r.step for r in result.reports if r.member == member]


def test_mlflow_unusable_store_is_a_clear_error(run_dir, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    import mlflow.tracking

    class Broken:
        def __init__(self, tracking_uri=None):
            raise RuntimeError("Model registry functionality is unavailable; got unsupported URI")

    monkeypatch.setattr(mlflow.tracking, "MlflowClient", Broken)
    with pytest.raises(pt.PoptuneError, match=r"could not open the tracking store.*poptune\[mlflow\].*tracking_uri"):
        run(run_dir, population=2, steps=2, interval=1, callbacks=[pt.loggers.MLflow(experiment="t")])


def _wandb_history(folder: Path) -> dict[str, list[dict]]:
    """Each offline W&B run's logged rows, read from its .wandb file (LevelDB log framing around
    W&B's Record protos), keyed by the run's name."""
    import json

    from wandb.proto import wandb_internal_pb2 as pb

    runs = {}
    for path in folder.glob("wandb/offline-run-*/run-*.wandb"):
        data, pos, chunk, name, rows = path.read_bytes(), 7, b"", None, []
        while pos + 7 <= len(data):
            left = 32768 - pos % 32768
            if left < 7:
                pos += left
                continue
            _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
            if kind == 0 and length == 0:
                pos += left
                continue
            chunk, pos = chunk + data[pos + 7:pos + 7 + length], pos + 7 + length
            if kind in (1, 4):  # a whole record, or the last piece of one
                record = pb.Record()
                record.ParseFromString(chunk)
                chunk = b""
                if record.WhichOneof("record_type") == "run":
                    name = record.run.display_name
                elif record.WhichOneof("record_type") == "history":
                    rows.append({item.key or "/".join(item.nested_key): json.loads(item.value_json)
                                 for item in record.history.item})
        runs.setdefault(name, []).extend(rows)
    return runs


def test_wandb_offline_one_run_per_member_with_the_hyperparameters_in_use(run_dir, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_SILENT", "true")
    result = run(run_dir, population=3, steps=6, interval=2,
                 callbacks=[pt.loggers.WandB(project="t", mode="offline")])
    assert result.exploits
    runs = _wandb_history(run_dir)
    assert sorted(runs) == ["member-0", "member-1", "member-2"]
    for member in range(3):
        rows = [row for row in runs[f"member-{member}"] if "score" in row]
        mine = [r for r in result.reports if r.member == member]
        assert [row["_step"] for row in rows] == [r.step for r in mine]
        assert [row["score"] for row in rows] == pytest.approx([r.score for r in mine])
        assert [row["hparams/lr"] for row in rows] == pytest.approx(
            [result.hparams_at(member, r.step)["lr"] for r in mine])
    copied = [row for rows in runs.values() for row in rows if "exploit/source" in row]
    assert len(copied) == len(result.exploits)


def test_wandb_rejects_what_poptune_sets_itself():
    with pytest.raises(pt.PoptuneError, match="name"):
        pt.loggers.WandB(name="x")
    with pytest.raises(pt.PoptuneError, match="mode"):
        pt.loggers.WandB(mode="cloud")


def test_wandb_resumed_session_continues_the_same_runs(run_dir, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_SILENT", "true")
    run(run_dir, population=2, steps=4, interval=2, callbacks=[pt.loggers.WandB(project="t", mode="offline")])
    ids = json.loads((run_dir / "loggers" / "wandb.json").read_text())
    result = run(run_dir, population=2, steps=8, interval=2, resume=True,
                 callbacks=[pt.loggers.WandB(project="t", mode="offline")])
    assert json.loads((run_dir / "loggers" / "wandb.json").read_text()) == ids
    folders = [p.name for p in (run_dir / "wandb").glob("offline-run-*")]
    for run_id in ids.values():  # one folder per session, the same W&B run id
        assert len([name for name in folders if f"-{run_id}" in name]) == 2
    runs = _wandb_history(run_dir)
    for member in range(2):
        steps = sorted(row["_step"] for row in runs[f"member-{member}"] if "score" in row)
        assert steps == [r.step for r in result.reports if r.member == member]
