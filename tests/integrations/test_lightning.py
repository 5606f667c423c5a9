"""A Lightning Trainer as a PBT member: the steps, the hyperparameters in use, resume, errors."""

import logging

import pytest

import poptune as pt

torch = pytest.importorskip("torch")
L = pytest.importorskip("lightning.pytorch")
from poptune.integrations.lightning import PoptuneCallback  # noqa: E402

SPACE = {"lr": pt.Float(1e-3, 0.5, log=True), "momentum": pt.Float(0.0, 0.9)}
g = torch.Generator().manual_seed(0)
X = torch.randn(256, 8, generator=g)
Y = (X[:, :2].sum(1) > 0).long()
TRAIN = torch.utils.data.TensorDataset(X[:192], Y[:192])
VAL = torch.utils.data.TensorDataset(X[192:], Y[192:])


class Net(L.LightningModule):
    def __init__(self, lr, momentum, scheduler=False):
        super().__init__()
        self.lr, self.momentum, self.scheduler = lr, momentum, scheduler
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))

    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.net(x), y)
        group = self.optimizers().param_groups[0]
        # the values the optimizer steps with, every batch: min and max catch any change inside an epoch
        self.log("lr_min", group["lr"], on_epoch=True, on_step=False, reduce_fx="min")
        self.log("lr_max", group["lr"], on_epoch=True, on_step=False, reduce_fx="max")
        self.log("momentum", group["momentum"], on_epoch=True, on_step=False)
        self.log("epoch_seen", float(self.current_epoch), on_epoch=True, on_step=False)
        self.log("global_step_seen", float(self.trainer.global_step), on_epoch=True, on_step=False, reduce_fx="max")
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        self.log("val_acc", (self.net(x).argmax(1) == y).float().mean())
        self.log("val_loss", torch.nn.functional.cross_entropy(self.net(x), y))

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=self.momentum)
        if not self.scheduler:
            return opt
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5 ** e)}


@pytest.fixture(autouse=True)
def _quiet_lightning():
    logger = logging.getLogger("lightning.pytorch")
    level = logger.level
    logger.setLevel(logging.WARNING)  # no "GPU available" lines from every Trainer
    yield
    logger.setLevel(level)


def make_train(monitor="val_acc", scheduler=False, **trainer_kwargs):
    def train(member):
        module = Net(member.hparams["lr"], member.hparams["momentum"], scheduler)
        trainer = L.Trainer(**{"max_epochs": member.budget, **trainer_kwargs},
                            callbacks=[PoptuneCallback(member, monitor=monitor)], enable_checkpointing=False,
                            logger=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                            num_sanity_val_steps=0)
        trainer.fit(module, torch.utils.data.DataLoader(TRAIN, batch_size=32, shuffle=True),
                    torch.utils.data.DataLoader(VAL, batch_size=64))
    return train


def run(path, steps=6, **kwargs):
    return pt.run(kwargs.pop("train", make_train()), SPACE, population=4, steps=steps, interval=2, runner="inline",
                  dir=path, seed=0, progress=False, **kwargs)


def test_one_report_per_epoch_scored_by_the_monitor_and_trained_with_the_members_hparams(tmp_path):
    result = run(tmp_path)
    assert sorted((r.member, r.step) for r in result.reports) == [(m, s) for m in range(4) for s in range(1, 7)]
    assert len(result.exploits) >= 2  # segments restart from copied state
    for r in result.reports:
        assert r.score == r.metrics["val_acc"]  # the score is the monitored metric
        assert r.metrics["epoch_seen"] == r.step - 1  # Lightning's epoch counter = poptune's step - 1
        assert r.metrics["global_step_seen"] == r.step * 6 - 1  # 6 batches an epoch, counted across calls
        hparams = result.hparams_at(r.member, r.step)
        assert r.metrics["lr_min"] == pytest.approx(hparams["lr"]) == pytest.approx(r.metrics["lr_max"])
        assert r.metrics["momentum"] == pytest.approx(hparams["momentum"])


def test_an_exploit_continues_the_sources_model_and_schedule_at_the_members_learning_rate(tmp_path):
    result = run(tmp_path, train=make_train(scheduler=True))
    for r in result.reports:  # LambdaLR halves the rate each epoch from the member's own base rate
        assert r.metrics["lr_min"] == pytest.approx(result.hparams_at(r.member, r.step)["lr"] * 0.5 ** (r.step - 1))
    exploit = result.exploits[0]
    after = next(r for r in result.reports if (r.member, r.step) == (exploit.target, exploit.step + 1))
    source = next(r for r in result.reports if (r.member, r.step) == (exploit.source, exploit.source_step))
    assert after.metrics["val_loss"] < 0.9  # copied weights, not a fresh model (a fresh one is near ln 2)
    assert source.metrics["val_loss"] < 0.9


def test_resume_finishes_an_interrupted_run_without_duplicate_or_missing_steps(tmp_path):
    calls = []

    def flaky(member):
        calls.append(member.step)
        if len(calls) == 6:
            raise KeyboardInterrupt  # the run stops mid-way, as on Ctrl-C
        make_train()(member)

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, train=flaky)
    partial = pt.Result.load(tmp_path)
    assert 0 < len(partial.reports) < 24
    result = run(tmp_path, resume=True)
    assert sorted((r.member, r.step) for r in result.reports) == [(m, s) for m in range(4) for s in range(1, 7)]
    assert all(r.metrics["epoch_seen"] == r.step - 1 for r in result.reports)
    more = run(tmp_path, steps=8, resume=True)  # a finished run, budget raised: two more epochs each
    assert sorted((r.member, r.step) for r in more.reports) == [(m, s) for m in range(4) for s in range(1, 9)]
    assert all(r.metrics["epoch_seen"] == r.step - 1 for r in more.reports)


def test_a_missing_monitored_metric_is_a_clear_error(tmp_path):
    with pytest.raises(pt.UsageError, match=r"monitor='val_accuracy'.*logged: \[.*'val_acc'"):
        run(tmp_path, steps=3, train=make_train(monitor="val_accuracy"))


def test_a_trainer_that_would_stop_before_the_budget_is_a_clear_error(tmp_path):
    with pytest.raises(pt.UsageError, match=r"max_epochs=1\) is below the member's budget"):
        run(tmp_path, steps=3, train=make_train(max_epochs=1))
    with pytest.raises(pt.UsageError, match="check_val_every_n_epoch=1"):
        run(tmp_path / "b", steps=3, train=make_train(check_val_every_n_epoch=2))


def test_monitor_must_name_a_metric():
    with pytest.raises(pt.UsageError, match="monitor must be the name"):
        PoptuneCallback(None, monitor=None)
