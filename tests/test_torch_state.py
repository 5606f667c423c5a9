"""Members train with the hyperparameters the run records, after every exploit."""

import numpy as np
import pytest

import poptune as pt

torch = pytest.importorskip("torch")

SPACE = {"lr": pt.Float(1e-3, 0.5, log=True), "momentum": pt.Float(0.0, 0.9)}
X = torch.linspace(-1, 1, 32).unsqueeze(1)
Y = 3 * X


def make_train(restore):
    def train(member):
        model = torch.nn.Linear(1, 1)
        opt = torch.optim.SGD(model.parameters(), lr=member.hparams["lr"], momentum=member.hparams["momentum"])
        restore(member, model, opt)
        for _ in member.steps():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(X), Y)
            loss.backward()
            opt.step()
            member.report(-loss.item(), checkpoint=lambda: pt.torch_checkpoint(model, opt),
                          lr_in_use=opt.param_groups[0]["lr"], momentum_in_use=opt.param_groups[0]["momentum"])
    return train


def plain_load(member, model, opt):  # the pitfall: the source's param groups come back
    if member.checkpoint is not None:
        model.load_state_dict(member.checkpoint["model"])
        opt.load_state_dict(member.checkpoint["optimizer"])


def mismatches(result):
    return [(r.member, r.step) for r in result.reports
            if r.metrics["lr_in_use"] != pytest.approx(result.hparams_at(r.member, r.step)["lr"])
            or r.metrics["momentum_in_use"] != pytest.approx(result.hparams_at(r.member, r.step)["momentum"])]


@pytest.mark.parametrize("runner", ["inline", "processes"])
def test_torch_restore_trains_with_the_recorded_hyperparameters(tmp_path, runner):
    common = dict(population=6, steps=12, interval=2, runner=runner, seed=0, progress=False)
    result = pt.run(make_train(pt.torch_restore), SPACE, dir=tmp_path / "right", **common)
    assert len(result.exploits) >= 5 and mismatches(result) == []
    wrong = pt.run(make_train(plain_load), SPACE, dir=tmp_path / "wrong", **common)
    assert mismatches(wrong)  # the check bites: a plain load trains with the source's values


def test_global_generators_differ_per_member_and_repeat_per_seed(tmp_path):
    import random

    def train(member):
        for _ in member.steps():
            member.report(1.0, checkpoint=0, numpy=float(np.random.random()), python=random.random(),
                          torch=float(torch.rand(1)))

    runs = [pt.run(train, SPACE, population=3, steps=1, interval=None, runner="processes", dir=tmp_path / f"r{i}",
                   seed=4, progress=False) for i in range(2)]
    for source in ("numpy", "python", "torch"):
        draws = [[r.metrics[source] for r in run.reports] for run in runs]
        assert len(set(draws[0])) == 3 and draws[0] == draws[1]  # per member, and again with the same seed


def test_a_checkpoint_not_made_by_torch_checkpoint_is_a_clear_error():
    class Member:
        id, checkpoint, hparams = 0, {"weights": 1}, {"lr": 0.1}

    with pytest.raises(pt.UsageError, match="pt.torch_restore needs a checkpoint made by pt.torch_checkpoint"):
        pt.torch_restore(Member(), torch.nn.Linear(1, 1))
