import pickle

import pytest

torch = pytest.importorskip("torch")

import poptune as pt  # noqa: E402
from poptune.checkpoints import dumps, loads  # noqa: E402

TENSORS = {
    "float32": torch.randn(3, 4),
    "float64": torch.randn(2, dtype=torch.float64),
    "bfloat16": torch.randn(5, dtype=torch.bfloat16),
    "int64": torch.arange(6).reshape(2, 3),
    "bool": torch.tensor([True, False, True]),
    "complex64": torch.randn(3, dtype=torch.complex64),
    "scalar": torch.tensor(2.5),
    "empty": torch.empty(0, 3),
    "transposed": torch.randn(4, 5).t(),
    "slice": torch.arange(10.0)[2:7:2],
}


@pytest.mark.parametrize("name", list(TENSORS))
def test_plain_tensors_come_back_equal_with_their_dtype_and_shape(name):
    tensor = TENSORS[name]
    back = loads(dumps({"t": tensor}, "m"), "m")["t"]
    assert type(back) is torch.Tensor
    assert back.dtype == tensor.dtype and back.shape == tensor.shape
    assert torch.equal(back, tensor)


def test_a_loaded_tensor_is_writable_and_owns_its_memory():
    tensor = torch.zeros(4)
    back = loads(dumps(tensor, "m"), "m")
    back.add_(1)  # no warning about a read-only buffer, no change to the original
    assert torch.equal(back, torch.ones(4)) and torch.equal(tensor, torch.zeros(4))


def test_plain_tensors_skip_torchs_per_storage_archives_and_others_keep_them():
    fast = dumps({"w": torch.ones(3)}, "m")
    assert b"_load_from_bytes" not in fast and b"_tensor" in fast
    needs_grad = torch.ones(3, requires_grad=True)
    slow = dumps(needs_grad, "m")
    assert b"_load_from_bytes" in slow
    assert loads(slow, "m").requires_grad
    parameter = loads(dumps(torch.nn.Parameter(torch.ones(3)), "m"), "m")  # torch's rebuild, its data fast
    assert type(parameter) is torch.nn.Parameter and parameter.requires_grad


def test_a_tensor_named_twice_is_one_tensor_after_loading():
    shared = torch.ones(2)
    back = loads(dumps({"a": shared, "b": shared}, "m"), "m")
    assert back["a"] is back["b"]


def test_a_state_dict_round_trip_restores_the_model_and_optimizer():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(5, 4)).sum().backward()
    opt.step()
    state = loads(dumps({"model": model.state_dict(), "opt": opt.state_dict()}, "m"), "m")
    copy = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    copy.load_state_dict(state["model"])
    copy_opt = torch.optim.SGD(copy.parameters(), lr=0.1, momentum=0.9)
    copy_opt.load_state_dict(state["opt"])
    x = torch.randn(3, 4)
    assert torch.equal(copy(x), model(x))
    assert torch.equal(copy_opt.state_dict()["state"][0]["momentum_buffer"],
                       opt.state_dict()["state"][0]["momentum_buffer"])


def test_checkpoints_pickled_by_torch_itself_still_load():
    old = pickle.dumps({"w": torch.arange(4.0)}, protocol=pickle.HIGHEST_PROTOCOL)  # torch's own reduction
    assert b"_load_from_bytes" in old
    assert torch.equal(loads(old, "m")["w"], torch.arange(4.0))


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_tensors_raw_bytes_cannot_describe_keep_torchs_pickling():
    expanded = torch.zeros(1).expand(10_000)
    assert len(dumps(expanded, "m")) < 2_000  # its one element, not 10,000 copies
    assert torch.equal(loads(dumps(expanded, "m"), "m"), expanded)
    tagged = torch.ones(2)
    tagged.note = "kept"
    back = loads(dumps(tagged, "m"), "m", trusted=True)
    assert back.note == "kept" and torch.equal(back, tagged)
    nested = torch.nested.nested_tensor([torch.ones(2), torch.ones(3)])
    back = loads(dumps(nested, "m"), "m", trusted=True)
    assert [t.tolist() for t in back.unbind()] == [[1.0, 1.0], [1.0, 1.0, 1.0]]


class _Forged:
    """Pickles as a call of the tensor rebuilder with arguments of one's choosing."""

    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        from poptune.checkpoints import serialize

        return serialize._tensor, self.args


@pytest.mark.parametrize("args, error, message", [
    (("load", (1,), bytearray(4)), pt.CheckpointError, "tensor of 'load'"),  # not a dtype
    (("qint8", (3,), bytearray(b"abc")), pt.CheckpointError, "tensor of 'qint8'"),  # needs a quantizer
    (("float32", (10**12,), bytearray()), pt.CheckpointLostError, "without data"),  # claims memory
])
def test_the_safe_loader_builds_plain_tensors_from_their_bytes_only(args, error, message):
    with pytest.raises(error, match=message):
        loads(pickle.dumps(_Forged(*args), protocol=pickle.HIGHEST_PROTOCOL), "m")
