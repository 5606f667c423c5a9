import os
import pickle

import numpy as np
import pytest

import poptune as pt
from poptune.checkpoints import dumps
from poptune.errors import CheckpointError, ConfigError, UsageError
from poptune.family.kickstart import Teacher, distillation_loss

torch = pytest.importorskip("torch")
scipy_special = pytest.importorskip("scipy.special")

LOADS = {"count": 0}  # factory calls in this process (a forked worker counts its own)


def net():
    LOADS["count"] += 1
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))


def saved(tmp_path, name="teacher.pt", state=None):
    path = tmp_path / name
    torch.manual_seed(0)
    torch.save(net().state_dict() if state is None else state, path)
    return path


# -- distillation_loss -----------------------------------------------------------------------

def test_loss_is_the_kl_from_the_softened_teacher_times_t_squared():
    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    for temperature in (1.0, 3.0):
        p = scipy_special.softmax(t.numpy() / temperature, axis=1)
        q = scipy_special.softmax(s.numpy() / temperature, axis=1)
        expected = scipy_special.rel_entr(p, q).sum(1) * temperature**2
        got = distillation_loss(s, t, temperature=temperature, reduction="none")
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9)
        assert float(distillation_loss(s, t, temperature=temperature)) == pytest.approx(expected.mean(), rel=1e-9)
    assert float(distillation_loss(t.clone(), t)) == pytest.approx(0.0, abs=1e-12)


def test_gradient_pulls_the_student_towards_the_teacher_and_not_the_teacher():
    s = torch.zeros(4, 3, requires_grad=True)
    t = torch.randn(4, 3, requires_grad=True)
    distillation_loss(s, t, temperature=2.0).backward()
    expected = (torch.softmax(s / 2, 1) - torch.softmax(t / 2, 1)) * 2 / 4  # the cross-entropy's gradient
    torch.testing.assert_close(s.grad, expected.detach())
    assert t.grad is None


def test_sample_weight_masks_samples_and_an_all_zero_mask_gives_zero():
    s, t = torch.randn(3, 4), torch.randn(3, 4)
    masked = distillation_loss(s, t, sample_weight=torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(masked, distillation_loss(s[:1], t[:1]))
    assert float(distillation_loss(s, t, sample_weight=torch.zeros(3))) == 0.0
    summed = distillation_loss(s, t, sample_weight=torch.tensor([2.0, 1.0, 0.0]), reduction="sum")
    per = distillation_loss(s, t, reduction="none")
    torch.testing.assert_close(summed, 2 * per[0] + per[1])


@pytest.mark.parametrize("kwargs, error, words", [
    ({"student_logits": [1.0, 2.0]}, TypeError, "student_logits must be a floating-point tensor"),
    ({"teacher_logits": torch.zeros(2, 4)}, ValueError, "(2, 3) and (2, 4)"),
    ({"temperature": 0}, ValueError, "temperature must be a positive"),
    ({"temperature": float("nan")}, ValueError, "temperature"),
    ({"reduction": "batchmean"}, ValueError, "reduction must be one of"),
    ({"sample_weight": torch.ones(3)}, ValueError, "leading shape (2,)"),
])
def test_bad_arguments_name_the_argument(kwargs, error, words):
    args = {"student_logits": torch.zeros(2, 3), "teacher_logits": torch.zeros(2, 3), **kwargs}
    with pytest.raises(error) as info:
        distillation_loss(**args)
    assert words in str(info.value)


# -- Teacher ---------------------------------------------------------------------------------

def test_a_missing_file_or_a_bad_factory_is_refused_when_the_teacher_is_created(tmp_path):
    with pytest.raises(ConfigError, match="is not a file.*torch.save"):
        Teacher(net, tmp_path / "nope.pt")
    with pytest.raises(TypeError, match="factory must be a callable"):
        Teacher(tmp_path / "teacher.pt")


def test_the_teacher_loads_the_saved_weights_frozen_and_once_per_process(tmp_path):
    path = saved(tmp_path)
    reference = net()
    reference.load_state_dict(torch.load(path, weights_only=True))
    before = LOADS["count"]
    teacher = Teacher(net, path)
    assert LOADS["count"] == before  # lazy: nothing loads until used
    x = torch.randn(6, 4)
    out = teacher(x)
    torch.testing.assert_close(out, reference(x).detach())
    assert not out.requires_grad and not teacher.module.training
    assert not any(p.requires_grad for p in teacher.module.parameters())
    again = Teacher(net, str(path))  # another Teacher with the same recipe (e.g. made inside train)
    assert again.module is teacher.module and LOADS["count"] == before + 1


def test_a_poptune_checkpoint_file_loads_and_a_wrong_architecture_says_so(tmp_path):
    torch.manual_seed(3)
    model = net()
    path = saved(tmp_path, "ckpt.pt", pt.torch_checkpoint(model, torch.optim.SGD(model.parameters(), lr=0.1)))
    torch.testing.assert_close(Teacher(net, path).module[0].weight, model[0].weight)
    wrong = saved(tmp_path, "wrong.pt", torch.nn.Linear(4, 3).state_dict())
    with pytest.raises(UsageError, match="do not fit the module factory"):
        Teacher(net, wrong).load()


def test_the_teacher_refuses_to_be_member_state(tmp_path):
    teacher = Teacher(net, saved(tmp_path))
    teacher.load()
    for obj in (teacher, teacher.module, {"model": {}, "teacher": teacher.module}):
        with pytest.raises(TypeError, match="not member state"):
            pickle.dumps(obj)
    with pytest.raises(CheckpointError, match="not member state"):
        dumps({"student": net().state_dict(), "teacher": teacher}, "member 0 step 1")
    assert isinstance(pickle.loads(pickle.dumps(teacher.module.state_dict())), dict)  # copying its weights works


@pytest.mark.parametrize("change", ["in place", "train mode", "trainable", "load_state_dict"])
def test_changing_the_shared_teacher_is_caught_at_the_next_call(tmp_path, change):
    teacher = Teacher(net, saved(tmp_path, f"{change}.pt"))
    teacher(torch.zeros(1, 4))
    if change == "in place":
        with torch.no_grad():
            teacher.module[0].weight.add_(1.0)
    elif change == "train mode":
        teacher.module.train()
    elif change == "trainable":
        teacher.module.requires_grad_(True)
    else:
        teacher.module.load_state_dict(net().state_dict())
    with pytest.raises(UsageError, match="must stay read-only"):
        teacher(torch.zeros(1, 4))


def test_teacher_without_a_file_uses_what_the_factory_returns():
    model = torch.nn.Linear(2, 2)
    teacher = Teacher(lambda: model)
    assert teacher.module is model and not model.weight.requires_grad
    with pytest.raises(UsageError, match="must return a torch.nn.Module"):
        Teacher(lambda: "not a module").load()


def _train_with_teacher(path):
    def train(member):
        LOADS["calls"] = LOADS.get("calls", 0) + 1
        teacher = Teacher(net, path)  # made in every call of train: the load is still once per process
        x = member.checkpoint or 0.0
        for _ in member.steps():
            x += float(teacher(torch.ones(1, 4)).sum()) * member.hparams["w"]
            member.report(x, checkpoint=x, pid=os.getpid(), loads=LOADS["count"],
                          calls=LOADS["calls"])
    return train


def test_with_worker_processes_each_worker_loads_the_teacher_once(tmp_path):
    path = saved(tmp_path)
    in_parent = LOADS["count"]
    result = pt.run(_train_with_teacher(path), {"w": pt.Float(0.1, 1.0)}, population=4, steps=6, interval=2,
                    runner=pt.runners.Processes(workers=2, start_method="fork"), dir=tmp_path / "run", seed=0,
                    progress=False)
    assert LOADS["count"] == in_parent  # the parent never loaded it
    loads: dict[int, set] = {}
    for r in result.reports:
        loads.setdefault(r.metrics["pid"], set()).add(r.metrics["loads"] - in_parent)
    assert len(loads) == 2 and all(counts == {1} for counts in loads.values())
    calls = {pid: max(r.metrics["calls"] for r in result.reports if r.metrics["pid"] == pid) for pid in loads}
    assert sum(calls.values()) > 2  # train was called more often than the teacher loaded
