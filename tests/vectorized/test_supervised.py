import pytest

torch = pytest.importorskip("torch")

import poptune as pt  # noqa: E402


def data():
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    return x, x[:, :3].argmax(1)


def test_dataloader_batches_are_shared_by_all_members(run_dir):
    x, y = data()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True)
    result = pt.vectorized.run(lambda: torch.nn.Linear(8, 3), {"lr": pt.Float(1e-2, 1.0, log=True)}, data=loader,
                               val=(x, y), population=4, steps=4, interval=2, dir=run_dir, seed=0, progress=False,
                               device="cpu")
    assert result.best.score > 0.5


def test_metric_function_needs_a_direction_and_is_used(run_dir):
    x, y = data()

    def error_rate(out, target):
        return (out.argmax(-1) != target).float().mean()

    kwargs = dict(data=(x, y), val=(x, y), population=4, steps=3, interval=None, dir=run_dir, seed=0,
                  progress=False, device="cpu")
    with pytest.raises(pt.ConfigError, match="needs direction"):
        pt.vectorized.run(lambda: torch.nn.Linear(8, 3), {"lr": pt.Float(1e-2, 1.0)}, metric=error_rate, **kwargs)
    result = pt.vectorized.run(lambda: torch.nn.Linear(8, 3), {"lr": pt.Float(1e-2, 1.0)}, metric=error_rate,
                               direction="minimize", **kwargs)
    assert result.direction == "minimize" and 0.0 <= result.best.score <= 1.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(metric="f1"), "metric must be 'accuracy', 'loss' or a function"),
        (dict(batch_size=0), "batch_size must be a positive integer"),
        (dict(val=torch.zeros(3)), "val must be a pair"),
        (dict(data="x"), "data must be"),
    ],
)
def test_bad_arguments(run_dir, kwargs, message):
    x, y = data()
    settings = dict(data=(x, y), val=(x, y), population=2, steps=2, dir=run_dir, progress=False, device="cpu")
    settings.update(kwargs)
    with pytest.raises(pt.ConfigError, match=message):
        pt.vectorized.run(lambda: torch.nn.Linear(8, 3), {"lr": pt.Float(1e-2, 1.0)}, **settings)


@pytest.mark.slow
def test_a_compiled_step_survives_exploits_without_recompiling(run_dir):
    from torch._dynamo.utils import counters

    x, y = data()
    counters.clear()
    result = pt.vectorized.run(lambda: torch.nn.Linear(8, 3), {"lr": pt.Float(1e-3, 1.0, log=True)}, data=(x, y),
                               val=(x, y), population=8, steps=8, interval=2, batch_size=32, dir=run_dir, seed=0,
                               progress=False, compile=True, device="cpu")
    assert len(result.exploits) > 0
    assert counters["stats"]["unique_graphs"] == 1  # hyperparameter tensors change in place: no recompilation
