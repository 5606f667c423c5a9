import functools

import pytest

import poptune as pt
from tests.helpers import load_example


pytest.importorskip("gymnasium")
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def ex():
    torch.set_num_threads(1)
    return load_example("searl_dqn")


@pytest.mark.parametrize("runner", ["inline", "processes"])
def test_small_run_shares_every_members_experience_and_learns(ex, tmp_path, runner):
    size = ex.SMALL
    result = ex.run_searl(0, size["population"], size["steps"], size["interval"], tmp_path, shared=True,
                          runner=runner)
    replay = tmp_path / "shared-seed0" / "replay"
    for member in range(size["population"]):
        names = sorted(p.name for p in (replay / f"member-{member}").iterdir())
        assert names == sorted(f"step-{s}.npz" for s in range(1, size["steps"] + 1))
    assert all(r.metrics["env_steps"] == r.step * ex.ENV_STEPS for r in result.reports if r.step <= size["interval"])
    last = [r for r in result.reports if r.step == size["steps"]]
    assert all(r.metrics["replay_members"] == size["population"] for r in last)
    # the member that wrote the last shard saw every member's every shard
    assert max(r.metrics["replay"] for r in last) == size["population"] * size["steps"] * ex.ENV_STEPS
    summary = ex.summary(result)
    assert summary["max_replay_members"] == size["population"]
    if runner == "inline":  # deterministic; with processes, when others' shards appear varies
        # a uniformly random policy lasts about 22 steps, an untrained greedy one about 10
        assert max(result.best_scores().values()) > 30


def test_private_memory_samples_only_the_members_own_shards(ex, tmp_path):
    result = ex.run_searl(0, 2, 2, 1, tmp_path, shared=False)
    assert {r.metrics["replay_members"] for r in result.reports} == {1}
    assert all(r.metrics["replay"] == r.step * ex.ENV_STEPS for r in result.reports if r.step == 1)


def test_a_member_whose_width_grew_widens_the_copied_network(ex, tmp_path):
    train = functools.partial(ex.train, replay_dir=str(tmp_path / "replay"))
    result = pt.run(train, ex.SPACE, population=2, steps=3, interval=2, exploit=pt.Truncation(0.5),
                    explore=[pt.PerturbOrResample(), ex.Widen("hidden", by=16, probability=1.0)],
                    initial=[{"hidden": 16}, {"hidden": 20}], runner="inline", dir=tmp_path / "run", seed=0,
                    progress=False)
    at = {(r.member, r.step): r.metrics["hidden"] for r in result.reports}
    assert sorted(at[m, 2] for m in range(2)) == [16, 20]
    copied = [m for m in range(2) if at[m, 3] != at[m, 2]]  # the exploiting member
    assert len(copied) == 1 and at[copied[0], 3] == at[1 - copied[0], 2] + 16
    assert ex.width(result.checkpoint(copied[0])["online"], "2") == at[copied[0], 3]
