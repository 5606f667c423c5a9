import pytest

torch = pytest.importorskip("torch")

import poptune as pt  # noqa: E402

SGD = pt.vectorized.SGD


def lin(p=4):
    return pt.vectorized.Population(lambda: torch.nn.Linear(3, 2), p, optimizer=SGD(lr="lr"), hparams={"lr": [0.1] * p})


def test_outputs_are_stacked_for_shared_and_per_member_batches():
    pop = lin()
    assert pop(torch.randn(5, 3)).shape == (4, 5, 2)
    assert pop(torch.randn(4, 5, 3), per_member=True).shape == (4, 5, 2)


def test_independent_and_shared_initialisation():
    independent = lin()
    first = independent.member_state_dict(0)["weight"]
    assert not torch.equal(first, independent.member_state_dict(1)["weight"])
    shared = pt.vectorized.Population(lambda: torch.nn.Linear(3, 2), 4, optimizer=SGD(lr="lr"),
                                      hparams={"lr": [0.1] * 4}, init="shared")
    assert all(torch.equal(shared.member_state_dict(0)["weight"], shared.member_state_dict(i)["weight"]) for i in range(4))
    # a module instance (not a factory) is copied and re-initialized per member
    module = pt.vectorized.Population(torch.nn.Linear(3, 2), 3, optimizer=SGD(lr=0.1))
    assert not torch.equal(module.member_state_dict(0)["weight"], module.member_state_dict(1)["weight"])


def test_dropout_differs_across_members_but_not_in_eval():
    model = lambda: torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Dropout(0.5))  # noqa: E731
    pop = pt.vectorized.Population(model, 4, optimizer=SGD(lr=0.1), init="shared")
    x = torch.ones(2, 8)
    out = pop(x)
    masks = (out != 0).float()
    assert not torch.equal(masks[0], masks[1])
    pop.eval()
    out = pop(x)
    assert torch.equal(out[0], out[1])


def test_copy_is_simultaneous_and_covers_optimizer_state():
    pop = pt.vectorized.Population(lambda: torch.nn.Linear(3, 2), 3, optimizer=SGD(lr="lr", momentum=0.9),
                                   hparams={"lr": [0.1] * 3})
    pop.step(pop(torch.randn(4, 3)).pow(2).mean(dim=(1, 2)))
    before = [pop.member_state_dict(i)["weight"] for i in range(3)]
    momentum = pop.state["momentum_buffer"]["weight"].clone()
    pop.copy_([0, 1], [1, 0])  # swap: each takes the other's state from before the copy
    assert torch.equal(pop.member_state_dict(0)["weight"], before[1])
    assert torch.equal(pop.member_state_dict(1)["weight"], before[0])
    assert torch.equal(pop.state["momentum_buffer"]["weight"][0], momentum[1])


def test_hparam_tensors_are_persistent_and_updated_in_place():
    pop = lin()
    tensor = pop._float64("lr")
    pop.set_hparams(2, {"lr": 0.5})
    assert pop._float64("lr") is tensor and tensor[2].item() == 0.5
    assert pop.hparam("lr").dtype == torch.float32


def test_a_hyperparameter_named_like_a_buffer_reaches_the_forward_pass():
    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)
            self.register_buffer("scale", torch.tensor(1.0))

        def forward(self, x):
            return self.lin(x) * self.scale

    pop = pt.vectorized.Population(Scaled, 3, optimizer=SGD(lr="lr"),
                                   hparams={"lr": [0.1] * 3, "scale": [0.0, 1.0, 2.0]}, init="shared")
    out = pop(torch.ones(1, 2))
    assert torch.equal(out[0], torch.zeros_like(out[0]))
    assert torch.allclose(out[2], 2 * out[1])
    pop.set_hparams(0, {"scale": 1.0})
    assert torch.allclose(pop(torch.ones(1, 2))[0], out[1])


def test_batchnorm_keeps_per_member_running_statistics():
    model = lambda: torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))  # noqa: E731
    pop = pt.vectorized.Population(model, 2, optimizer=SGD(lr=0.1))
    x = torch.stack([torch.randn(8, 3), torch.randn(8, 3) + 5])  # (P, B, 3): different data per member
    pop.step(pop(x, per_member=True).pow(2).mean(dim=(1, 2)))
    means = pop.buffers["1.running_mean"]
    assert means.shape == (2, 4) and not torch.allclose(means[0], means[1])


def test_functional_models_and_joint_objectives():
    model = pt.vectorized.Functional(lambda p, x: x @ p["w"], lambda g: {"w": torch.randn(3, 1, generator=g)})
    pop = pt.vectorized.Population(model, 2, optimizer=SGD(lr=0.1))
    x = torch.randn(5, 3)
    out = pop(x)  # (P, B, 1)
    # a joint objective: pull the two members' outputs together
    before = (out[0] - out[1]).abs().mean().item()
    for _ in range(20):
        out = pop(x)
        pop.step((out[0] - out[1]).pow(2).mean())
    assert (pop(x)[0] - pop(x)[1]).abs().mean().item() < 0.1 * before


def test_loss_can_read_per_member_hyperparameters():
    pop = pt.vectorized.Population(lambda: torch.nn.Linear(2, 1), 2, optimizer=SGD(lr="lr"),
                                   hparams={"lr": [0.1, 0.1], "weight": [0.0, 1.0]}, init="shared")
    step = pop.make_step(lambda out, y, h: h["weight"] * (out - y).pow(2).mean(), per_member=False, pass_hparams=True)
    before = pop.member_state_dict(0)["weight"].clone()
    losses = step(torch.randn(4, 2), torch.randn(4, 1))
    assert losses[0].item() == 0.0
    assert torch.equal(pop.member_state_dict(0)["weight"], before)  # zero weight: no gradient
    assert not torch.equal(pop.member_state_dict(1)["weight"], before)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(size=0), "size must be a positive integer"),
        (dict(init="copy"), "init must be one of"),
        (dict(randomness="random"), "randomness must be one of"),
        (dict(optimizer="sgd"), "optimizer must be pt.vectorized.SGD"),
        (dict(hparams={"lr": [0.1]}), r"hparams\['lr'\] has 1 values for 2 members"),
        (dict(hparams={"momentum": [0.1, 0.1]}), r"reads hyperparameter\(s\) \['lr'\]"),
        (dict(model=lambda: 3), "must return an nn.Module"),
    ],
)
def test_bad_arguments(kwargs, message):
    settings = dict(model=lambda: torch.nn.Linear(2, 1), size=2, optimizer=SGD(lr="lr"), hparams={"lr": [0.1, 0.1]})
    settings.update(kwargs)
    with pytest.raises(pt.ConfigError, match=message):
        pt.vectorized.Population(settings.pop("model"), settings.pop("size"), **settings)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_population_trains_on_the_device():
    pop = pt.vectorized.Population(lambda: torch.nn.Linear(3, 2), 4, optimizer=pt.vectorized.Adam(lr="lr"),
                                   hparams={"lr": [1e-2] * 4}, device="cuda")
    step = pop.make_step(torch.nn.functional.mse_loss, per_member=False)
    losses = step(torch.randn(8, 3, device="cuda"), torch.randn(8, 2, device="cuda"))
    assert losses.device.type == "cuda" and pop.params["weight"].device.type == "cuda"
    pop.copy_([0], [1])
    assert torch.equal(pop.params["weight"][0], pop.params["weight"][1])
