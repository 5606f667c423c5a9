import pickle

import pytest

import poptune as pt
from poptune.checkpoints import LocalCheckpoints
from poptune.member import Member
from poptune.core.messages import YIELD, Continue, Restart, Task


class FakeChannel:
    def __init__(self, replies=()):
        self.reports = []
        self.replies = list(replies)

    def report(self, report):
        self.reports.append(report)
        if not report.ready:
            return None
        return self.replies.pop(0) if self.replies else Continue(stop=report.step + 2)  # interval 2

    def alive(self):
        pass


def task(**kw):
    settings = dict(member=3, hparams={"lr": 0.1}, ref=None, start=0, stop=2, budget=6, seed=7)
    settings.update(kw)
    return Task(**settings)


def test_steps_are_one_based_and_checkpoints_saved_only_at_ready_and_final_steps(tmp_path):
    channel, calls = FakeChannel(), []
    member = Member(task(), channel, LocalCheckpoints(tmp_path))

    def state():
        calls.append(member.step + 1)
        return {"w": 1}

    assert [s for s in member.steps() if member.report(0.5, checkpoint=state) is None] == [1, 2, 3, 4, 5, 6]
    assert calls == [2, 4, 6]
    assert [(r.step, r.ready, r.final, r.ref is not None) for r in channel.reports] == [
        (1, False, False, False), (2, True, False, True), (3, False, False, False),
        (4, True, False, True), (5, False, False, False), (6, False, True, True),
    ]
    assert pickle.loads((tmp_path / channel.reports[-1].ref).read_bytes()) == {"w": 1}


def test_yield_and_restart_end_the_segment(tmp_path):
    restart = Restart(task(hparams={"lr": 0.2}, start=2))
    for reply in (YIELD, restart):
        member = Member(task(), FakeChannel([reply]), LocalCheckpoints(tmp_path))
        done = [s for s in member.steps() if member.report(1.0, checkpoint=0) is None]
        assert done == [1, 2] and member.done and member._outcome == reply


def test_resumed_segment_starts_after_its_checkpoint_and_loads_it_lazily(tmp_path):
    ckpts = LocalCheckpoints(tmp_path)
    ckpts.save("m0003/s00000004.pkl", pickle.dumps({"w": 4}))
    member = Member(task(ref="m0003/s00000004.pkl", start=4, stop=6), FakeChannel(), ckpts)
    assert member._checkpoint is not None  # not loaded yet (sentinel)
    assert member.checkpoint == {"w": 4}
    steps = member.steps()
    assert next(steps) == 5
    with pytest.raises(pt.UsageError, match="step 5 ended without member.report"):
        next(steps)


def test_metrics_are_converted_to_plain_numbers(tmp_path):
    np = pytest.importorskip("numpy")
    channel = FakeChannel()
    member = Member(task(stop=6), channel, LocalCheckpoints(tmp_path))
    for _ in member.steps():
        member.report(np.float32(0.5), checkpoint=0, acc=np.float64(0.25), n=np.int64(3), tag="x")
        break
    report = channel.reports[0]
    assert report.score == 0.5 and type(report.score) is float
    assert report.metrics == {"acc": 0.25, "n": 3, "tag": "x"} and type(report.metrics["n"]) is int


def test_a_zero_dim_tensor_is_a_valid_score(tmp_path):
    torch = pytest.importorskip("torch")
    channel = FakeChannel()
    member = Member(task(stop=6), channel, LocalCheckpoints(tmp_path))
    member.report(torch.tensor(0.75), checkpoint=0)
    assert channel.reports[0].score == 0.75
    with pytest.raises(pt.UsageError, match="must be a number"):
        member.report(torch.tensor([0.5, 0.5]))
