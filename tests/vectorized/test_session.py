import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import poptune as pt  # noqa: E402
from poptune.report import write_report  # noqa: E402
from poptune.core import events as ev
from poptune.store import Store, store_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SPACE = {"lr": pt.Float(1e-3, 1.0, log=True), "momentum": pt.Float(0.0, 0.9)}


def data():
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    y = (x[:, :3].argmax(1))  # learnable
    return x, y


def vrun(run_dir, **kw):
    x, y = data()
    settings = dict(data=(x, y), val=(x, y), population=8, steps=12, interval=3, batch_size=32, dir=run_dir,
                    seed=0, progress=False, device="cpu")
    settings.update(kw)
    return pt.vectorized.run(lambda: torch.nn.Linear(8, 3), SPACE, **settings)


def test_a_vectorized_run_writes_the_same_log_as_any_run(run_dir):
    result = vrun(run_dir)
    assert result.status == "finished" and result.config["runner"]["name"] == "vectorized"
    assert Counter((r.member, r.step) for r in result.reports) == Counter({(m, s): 1 for m in range(8) for s in range(1, 13)})
    assert result.exploits and all(m.step == 12 and m.status == "finished" for m in result.members)
    assert all("train_loss" in r.metrics for r in result.reports)
    lineage = result.lineage()
    assert lineage[-1].end == 12 and lineage[0].start == 0  # synchronous: model time == steps
    assert result.schedule()[0][0] == 0


def test_exploit_copies_the_source_state_in_place(run_dir):
    x, y = data()
    pop = pt.vectorized.Population(lambda: torch.nn.Linear(8, 3), 6,
                                   optimizer=pt.vectorized.SGD(lr="lr", momentum="momentum"))
    step = pop.make_step(torch.nn.functional.cross_entropy, per_member=False)
    with pt.vectorized.Session(pop, SPACE, steps=6, interval=3, dir=run_dir, seed=0, progress=False,
                               exploit=pt.Truncation(0.5)) as session:
        for s in session.steps():
            step(x, y)
            if s == 3:
                break
            session.report(-torch.arange(6.0))  # member 0 best ... member 5 worst
        weights = pop.params["weight"].detach().clone()
        momentum = pop.state["momentum_buffer"]["weight"].clone()
        session.report(-torch.arange(6.0))  # step 3: ready
    exploits = session.result().exploits
    assert exploits and {x.target for x in exploits} <= {3, 4, 5} and {x.source for x in exploits} <= {0, 1, 2}
    for x in exploits:
        assert torch.equal(pop.params["weight"][x.target], weights[x.source])
        assert torch.equal(pop.state["momentum_buffer"]["weight"][x.target], momentum[x.source])
        assert pop.hparams[x.target] == x.new
        assert pop.hparam("lr")[x.target].item() == pytest.approx(x.new["lr"])


def test_the_best_member_reloads_into_one_module(run_dir):
    result = vrun(run_dir)
    model = torch.nn.Linear(8, 3)
    model.load_state_dict(result.checkpoint()["model"])
    x, y = data()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert accuracy == pytest.approx(result.best.score, abs=1e-6)


def test_only_the_last_and_final_population_files_are_kept(run_dir):
    vrun(run_dir)
    files = sorted(p.name for p in (run_dir / "checkpoints" / "population").iterdir())
    assert files == ["s00000012.pkl"]


def test_report_and_plots_work_on_a_vectorized_run(run_dir):
    vrun(run_dir)
    static = write_report(run_dir, static=True).read_text()
    assert static.count("<img src='data:image/png") == 4 and "vectorized" in static
    interactive = write_report(run_dir).read_text()
    assert interactive.count("<div class='plot' id='plot-") == 4 and "vectorized" in interactive


def test_session_misuse(run_dir):
    pop = pt.vectorized.Population(lambda: torch.nn.Linear(2, 1), 2, optimizer=pt.vectorized.SGD(lr="lr"))
    with pytest.raises(pt.ConfigError, match=r"reads hyperparameter\(s\) \['lr'\]"):
        pt.vectorized.Session(pop, {"momentum": pt.Float(0.0, 0.9)}, steps=4, interval=2, dir=run_dir,
                              progress=False)
    session = pt.vectorized.Session(pop, {"lr": pt.Float(0.01, 0.1)}, steps=4, interval=2, dir=run_dir, progress=False,
                                    overwrite=True)
    steps = session.steps()
    next(steps)
    with pytest.raises(pt.UsageError, match="2 values for 2 members|has 3 values for 2 members"):
        session.report([0.1, 0.2, 0.3])
    session.close("interrupted")


def test_kill_mid_run_then_resume_keeps_every_report(run_dir):
    proc = subprocess.Popen([sys.executable, "-m", "tests.vectorized.vectorized_script", str(run_dir)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        try:
            with Store(store_path(run_dir), readonly=True) as store:
                if len(store.read(kinds=[ev.REPORT])) >= 6 * 10:
                    break
        except Exception:
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store(store_path(run_dir), readonly=True) as store:
        before = [(e.member, e.step, e.score) for e in store.read(kinds=[ev.REPORT])]
    again = subprocess.run([sys.executable, "-m", "tests.vectorized.vectorized_script", str(run_dir), "resume"],
                           cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ})
    assert again.returncode == 0, again.stderr
    with Store(store_path(run_dir), readonly=True) as store:
        after = [(e.member, e.step, e.score) for e in store.read(kinds=[ev.REPORT])]
    assert after[: len(before)] == before
    result = pt.Result.load(run_dir)
    assert result.status == "finished"
    assert Counter((r.member, r.step) for r in result.reports) == Counter({(m, s): 1 for m in range(6) for s in range(1, 31)})
