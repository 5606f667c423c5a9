import numpy as np
import pytest

import poptune as pt
from poptune.errors import ConfigError
from poptune.family.net2net import Widen, widen, width
from poptune.strategies.base import ExploreContext
from poptune.strategies.views import MemberView

torch = pytest.importorskip("torch")


def mlp(hidden, activation=torch.nn.ReLU):
    return torch.nn.Sequential(torch.nn.Linear(4, hidden), activation(), torch.nn.Linear(hidden, hidden), activation(),
                               torch.nn.Linear(hidden, 2))


@pytest.mark.parametrize("activation", [torch.nn.ReLU, torch.nn.Tanh])
def test_widening_both_hidden_layers_preserves_the_outputs(activation):
    torch.manual_seed(0)
    net, x = mlp(8, activation), torch.randn(256, 4)
    state = widen(widen(net.state_dict(), "0", 20, np.random.default_rng(1)), "2", 20, np.random.default_rng(2))
    wide = mlp(20, activation)
    wide.load_state_dict(state)
    assert width(state, "0") == 20 and width(state, "2") == 20
    assert torch.allclose(net(x), wide(x), atol=1e-5)
    assert not torch.equal(state["0.weight"][8:], torch.zeros(12, 4))  # new units are copies, not zeros


def test_widening_adds_units_that_learn_apart_after_noise_and_leaves_the_input_untouched():
    torch.manual_seed(0)
    net, x = mlp(6), torch.randn(64, 4)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    state = widen(net.state_dict(), "0", 9, np.random.default_rng(0), noise=0.01)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # the input is not modified
    wide = mlp(9)
    wide.load_state_dict({**state, **widen(state, "2", 9, np.random.default_rng(0))})
    assert 0 < (wide(x) - net(x)).abs().max() < 0.5  # close, not identical


def test_widening_numpy_weights_preserves_the_function():
    rng = np.random.default_rng(0)
    w1, b1, w2 = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=(2, 5))
    state = widen({"a.weight": w1, "a.bias": b1, "b.weight": w2}, "a", 11, rng)
    x = rng.normal(size=3)
    out = w2 @ np.tanh(w1 @ x + b1)
    wide = state["b.weight"] @ np.tanh(state["a.weight"] @ x + state["a.bias"])
    assert state["a.weight"].shape == (11, 3) and np.allclose(out, wide)


def test_widen_refuses_what_it_cannot_do():
    state = mlp(8).state_dict()
    with pytest.raises(ConfigError, match="new_width"):
        widen(state, "0", 4, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="no '9.weight'"):
        widen(state, "9", 16, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="output layer"):
        widen(state, "4", 16, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="not two linear layers"):
        widen(state, "2", 16, np.random.default_rng(0), next_layer="0")


SPACE = pt.Space({"lr": pt.Float(1e-4, 1e-1, log=True), "hidden": pt.Int(16, 64)})


def view(member, hidden):
    return MemberView(id=member, hparams={"lr": 0.01, "hidden": hidden}, score=0.0, fitness=0.0, step=4,
                      history=(0.0,))


def test_widen_stage_restores_the_copied_width_and_only_grows_it():
    chain = pt.Chain(pt.PerturbOrResample(probability=1.0), Widen("hidden", by=16, probability=0.5))
    seen, lrs = set(), set()
    for seed in range(200):
        context = ExploreContext(hparams={"lr": 0.01, "hidden": 40}, space=SPACE, rng=np.random.default_rng(seed),
                                 target=view(1, 16), source=view(0, 40))
        new = chain.propose(context)
        seen.add(new["hidden"])
        lrs.add(new["lr"])
    assert len(lrs) > 100  # the first stage still explores the other hyperparameters
    assert seen == {40, 56}  # resampled widths are undone: the copied 40, or 40 + 16
    top = Widen("hidden", by=16, probability=1.0).explore({"lr": 0.01, "hidden": 60}, SPACE, np.random.default_rng(0))
    assert top["hidden"] == 64  # capped at the domain's high
    choice = pt.Space({"hidden": pt.Choice([16, 32, 64])})
    assert Widen("hidden", probability=1.0).explore({"hidden": 32}, choice, np.random.default_rng(0)) == {"hidden": 64}


def test_widen_stage_errors_name_the_fix():
    with pytest.raises(ConfigError, match="probability"):
        Widen("hidden", probability=2)
    with pytest.raises(ConfigError, match="not in the space"):
        Widen("width", probability=1.0).explore({"lr": 0.01, "hidden": 16}, SPACE, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="pt.Int or a pt.Choice"):
        Widen("lr", probability=1.0).explore({"lr": 0.01, "hidden": 16}, SPACE, np.random.default_rng(0))
