"""Member i of a vectorized population trains exactly like a separate model (issue 4)."""

import pytest

torch = pytest.importorskip("torch")

import poptune as pt  # noqa: E402

P, STEPS = 4, 25


def mlp(width):
    return torch.nn.Sequential(torch.nn.Linear(16, width), torch.nn.ReLU(), torch.nn.Linear(width, 5))


def hparams(i):
    return {"lr": 0.02 * (i + 1), "momentum": 0.3 + 0.15 * i, "wd": 1e-3 * i, "beta2": 0.99 + 0.002 * i,
            "damp": 0.1 * i, "alr": 1e-3 * (i + 1)}


VECTORIZED = {
    "sgd-momentum-decay": lambda: pt.vectorized.SGD(lr="lr", momentum="momentum", weight_decay="wd"),
    "sgd-nesterov": lambda: pt.vectorized.SGD(lr="lr", momentum="momentum", weight_decay="wd", nesterov=True),
    "sgd-dampening": lambda: pt.vectorized.SGD(lr="lr", momentum="momentum", dampening="damp"),
    "sgd-plain": lambda: pt.vectorized.SGD(lr="lr"),
    "adam": lambda: pt.vectorized.Adam(lr="alr", beta2="beta2", weight_decay="wd"),
    "adamw": lambda: pt.vectorized.AdamW(lr="alr", beta2="beta2", weight_decay="wd"),
}
TORCH = {
    "sgd-momentum-decay": lambda p, h: torch.optim.SGD(p, lr=h["lr"], momentum=h["momentum"], weight_decay=h["wd"]),
    "sgd-nesterov": lambda p, h: torch.optim.SGD(p, lr=h["lr"], momentum=h["momentum"], weight_decay=h["wd"], nesterov=True),
    "sgd-dampening": lambda p, h: torch.optim.SGD(p, lr=h["lr"], momentum=h["momentum"], dampening=h["damp"]),
    "sgd-plain": lambda p, h: torch.optim.SGD(p, lr=h["lr"]),
    "adam": lambda p, h: torch.optim.Adam(p, lr=h["alr"], betas=(0.9, h["beta2"]), weight_decay=h["wd"]),
    "adamw": lambda p, h: torch.optim.AdamW(p, lr=h["alr"], betas=(0.9, h["beta2"]), weight_decay=h["wd"]),
}


def train_both(kind, dtype, width, functional_step):
    torch.manual_seed(0)
    x = torch.randn(256, 16, dtype=dtype)
    y = torch.randint(0, 5, (256,))
    rows = [hparams(i) for i in range(P)]
    pop = pt.vectorized.Population(lambda: mlp(width), P, optimizer=VECTORIZED[kind](), hparams=rows, dtype=dtype, seed=1)
    models = []
    for i in range(P):
        model = mlp(width).to(dtype)
        model.load_state_dict(pop.member_state_dict(i))  # the same initial weights
        models.append((model, TORCH[kind](model.parameters(), rows[i])))
    step = pop.make_step(torch.nn.functional.cross_entropy) if functional_step else None
    generators = [torch.Generator().manual_seed(100 + i) for i in range(P)]
    for _ in range(STEPS):
        idx = torch.stack([torch.randperm(256, generator=g)[:32] for g in generators])  # (P, B): own data order
        xb, yb = x[idx], y[idx]
        if functional_step:
            step(xb, yb)
        else:
            out = pop(xb, per_member=True)
            pop.step(torch.vmap(torch.nn.functional.cross_entropy)(out, yb))
        for i, (model, opt) in enumerate(models):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xb[i]), yb[i]).backward()
            opt.step()
    return max(
        (pop.member_state_dict(i)[name] - value).abs().max().item()
        for i, (model, _) in enumerate(models)
        for name, value in model.state_dict().items()
    )


@pytest.mark.parametrize("kind", sorted(VECTORIZED))
@pytest.mark.parametrize("functional_step", [False, True], ids=["step(losses)", "make_step"])
def test_float64_members_match_separate_models(kind, functional_step):
    assert train_both(kind, torch.float64, 64, functional_step) <= 1e-12


@pytest.mark.parametrize("kind", ["sgd-momentum-decay", "adam", "adamw"])
def test_float32_small_model_matches_within_1e_5(kind):
    assert train_both(kind, torch.float32, 64, functional_step=True) <= 1e-5


def test_bad_optimizer_arguments():
    with pytest.raises(pt.ConfigError, match="lr must be a number or a hyperparameter name"):
        pt.vectorized.SGD(lr=None)
    with pytest.raises(pt.ConfigError, match="momentum must be >= 0"):
        pt.vectorized.SGD(momentum=-1.0)
    with pytest.raises(pt.ConfigError, match="nesterov=True needs dampening=0"):
        pt.vectorized.SGD(momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(pt.ConfigError, match=r"beta1 must be in \[0, 1\)"):
        pt.vectorized.Adam(beta1=1.0)


@pytest.mark.parametrize("kind", ["sgd-momentum-decay", "adam"])
def test_gradients_autograd_shares_or_expands_are_decayed_per_parameter(kind):
    # x @ (w + d): autograd hands w and d one gradient tensor; off.sum(): an expanded gradient
    def fn(p, x):
        return (x @ (p["w"] + p["d"])).sum() + p["off"].sum()

    def init(g):
        return {"w": torch.randn(3, 2, generator=g), "d": torch.randn(3, 2, generator=g), "off": torch.randn(4, generator=g)}

    rows = [hparams(i) for i in range(2)]
    pop = pt.vectorized.Population(pt.vectorized.Functional(fn, init), 2, optimizer=VECTORIZED[kind](), hparams=rows)
    copies = []
    for i in range(2):
        params = {k: v[i].detach().clone().requires_grad_(True) for k, v in pop.params.items()}
        copies.append((params, TORCH[kind](list(params.values()), rows[i])))
    x = torch.randn(5, 3)
    for _ in range(3):
        pop.step(pop(x))
        for params, opt in copies:
            opt.zero_grad()
            fn(params, x).backward()
            opt.step()
    for i, (params, _) in enumerate(copies):
        for name, value in params.items():
            assert torch.allclose(pop.params[name][i], value, atol=1e-6), (name, i)
