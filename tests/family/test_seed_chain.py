import subprocess
import sys

import pytest

from poptune.checkpoints import dumps, loads
from poptune.errors import ConfigError
from poptune.family import SeedChain, parameter_nbytes

torch = pytest.importorskip("torch")


def net():
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))


def flat(module):
    return torch.cat([p.detach().flatten() for p in module.parameters()])


CHAIN = SeedChain.initial(11).mutate(22, sigma=0.1).mutate(33).mutate(2**63 - 1, sigma=0.02)


def test_two_materializations_into_fresh_modules_give_identical_weights():
    a, b = flat(CHAIN.materialize(net(), sigma=0.05)), flat(CHAIN.materialize(net(), sigma=0.05))
    assert torch.equal(a, b)
    torch.manual_seed(123)  # the global generator plays no part
    assert torch.equal(flat(CHAIN.materialize(net(), sigma=0.05)), a)


def test_materialize_overwrites_previous_weights():
    module = SeedChain.initial(5).materialize(net())
    assert torch.equal(flat(CHAIN.materialize(module, sigma=0.05)), flat(CHAIN.materialize(net(), sigma=0.05)))


def test_another_process_rebuilds_the_same_weights():
    code = (
        "import json, sys, torch\n"
        "from poptune.family import SeedChain\n"
        "m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))\n"
        "SeedChain.from_json(json.loads(sys.argv[1])).materialize(m, sigma=0.05)\n"
        "print(json.dumps([float(x) for p in m.parameters() for x in p.detach().flatten()]))\n"
    )
    import json

    out = subprocess.run([sys.executable, "-c", code, json.dumps(CHAIN.to_json())], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert json.loads(out) == [float(x) for x in flat(CHAIN.materialize(net(), sigma=0.05))]


def test_init_then_noise_in_order():
    base = flat(SeedChain.initial(11).materialize(net()))
    one = flat(SeedChain.initial(11).mutate(22, sigma=0.1).materialize(net()))
    assert 0 < (one - base).std() < 0.2  # sigma-sized noise added to the initial weights
    assert torch.all(flat(SeedChain.initial(11).materialize(net()))[32:40] == 0)  # first bias starts at zero
    swapped = flat(SeedChain.initial(11).mutate(33, sigma=0.1).mutate(22, sigma=0.1).materialize(net()))
    ordered = flat(SeedChain.initial(11).mutate(22, sigma=0.1).mutate(33, sigma=0.1).materialize(net()))
    assert torch.allclose(swapped, ordered, atol=1e-6)  # noise adds up: order only changes rounding
    assert not torch.equal(flat(SeedChain.initial(11).mutate(22, sigma=0.2).materialize(net())), one)


def test_mutate_leaves_the_parent_unchanged():
    parent = SeedChain.initial(1).mutate(2)
    before = flat(parent.materialize(net(), sigma=0.1))
    child = parent.mutate(3, sigma=0.5)
    assert parent.seeds == (1, 2) and parent.sigmas == (None,) and len(parent) == 1
    assert child.seeds == (1, 2, 3) and child.sigmas == (None, 0.5) and len(child) == 2
    assert torch.equal(flat(parent.materialize(net(), sigma=0.1)), before)


def test_json_round_trip_through_the_safe_checkpoint_loader():
    plain = SeedChain.initial(1).mutate(2).mutate(3)
    assert plain.to_json() == [1, 2, 3]
    for chain in (plain, CHAIN):
        loaded = loads(dumps({"genome": chain.to_json()}, "m"), "m")  # the safe (untrusted) loader
        assert SeedChain.from_json(loaded["genome"]) == chain
    assert all(type(s) is int for s in loads(dumps(plain.to_json(), "m"), "m"))


def test_different_chains_give_different_weights():
    weights = [flat(c.materialize(net(), sigma=0.05)) for c in
               (SeedChain.initial(1), SeedChain.initial(2), SeedChain.initial(1).mutate(2), SeedChain.initial(1).mutate(3))]
    for i in range(len(weights)):
        for j in range(i + 1, len(weights)):
            assert not torch.allclose(weights[i], weights[j])


def test_nbytes_and_compression():
    assert SeedChain.initial(1).nbytes() == 8
    assert CHAIN.nbytes() == 8 * 4 + 8 * 2  # four seeds, two recorded sigmas
    big = torch.nn.Linear(1000, 1000)
    assert parameter_nbytes(big) == 4 * (1000 * 1000 + 1000)
    assert parameter_nbytes(big) / CHAIN.nbytes() > 80_000


@pytest.mark.parametrize("bad, match", [
    (lambda: SeedChain.initial(-1), r"SeedChain.initial\(seed\): a seed must be an integer"),
    (lambda: SeedChain.initial(2**63), "a seed must be an integer in"),
    (lambda: SeedChain.initial(1.5), "a seed must be an integer"),
    (lambda: SeedChain.initial(1).mutate(2, sigma=0), r"SeedChain.mutate\(sigma\): sigma must be a positive"),
    (lambda: SeedChain(()), "seeds must be a non-empty list"),
    (lambda: SeedChain((1, 2), (0.1, 0.2)), "sigmas needs one entry per mutation"),
    (lambda: SeedChain.from_json("1,2"), "expected a list of ints or a dict"),
    (lambda: SeedChain.initial(1).mutate(2).materialize(net()), "pass sigma="),
])
def test_bad_input_names_the_argument_and_the_fix(bad, match):
    with pytest.raises(ConfigError, match=match):
        bad()


def test_importing_the_family_does_not_import_torch():
    code = "import sys, poptune.family; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip() == "False"
