"""The conformance checks every engine's run log must pass (inline, processes, Ray, vectorized).

A run log is conformant when:

- every decision in it is the decision the core makes from the log before it (the same log and
  seed give the same decisions, whatever the runner);
- every decision was made in a round that had its quorum (synchronous: every member alive);
- every exploit copied the checkpoint its source saved at the target's own step (members are
  compared, and copied, at matching steps only);
- every member reported every step of its budget and finished.
"""

from __future__ import annotations

from collections import Counter

from poptune.core import events as ev
from poptune.core.decide import Decider
from poptune.core.engine import quorum_size
from poptune.core.state import PopulationState
from poptune.space import Space
from poptune.store import Store, store_path
from poptune.strategies import as_exploit, as_explore


def read(run_dir) -> list[ev.Event]:
    with Store(store_path(run_dir), readonly=True) as store:
        return store.read()


def decisions(run_dir) -> list[tuple]:
    """Every decision of a run, as comparable tuples, sorted by (step, member)."""
    out = []
    for e in read(run_dir):
        if isinstance(e, ev.Exploited):
            out.append((e.step, e.member, "exploit", e.source, e.source_step, tuple(sorted(e.new.items()))))
        elif isinstance(e, ev.Explored):
            out.append((e.step, e.member, "explore", None, None, tuple(sorted(e.new.items()))))
        elif isinstance(e, ev.Kept):
            out.append((e.step, e.member, "keep", None, None, ()))
    return sorted(out)


def check(run_dir, exploit, explore) -> int:
    """Assert that the log in ``run_dir`` conforms; return how many decisions it holds."""
    events = read(run_dir)
    config = events[0].config
    state = PopulationState(window=getattr(as_exploit(exploit), "window", 1), live=True)
    decider = Decider(state, Space.from_description(config["space"]), as_exploit(exploit), as_explore(explore),
                      seed=config["seed"])
    count = 0
    for e in events:
        if e.kind in ev.DECISIONS:
            count += 1
            round = state.rounds.get(e.step)
            if decider.compares:
                assert round is not None and e.member in round.entries, f"{e} was made outside its round"
                needed = state.alive if config["synchronous"] else quorum_size(config["quorum"], state.alive)
                assert len(round.entries) >= needed, f"{e} was made before its round had a quorum ({round})"
            assert decider.decide(e.member, e.step) == e, f"the core decides otherwise than the log: {e}"
            if isinstance(e, ev.Exploited):
                assert e.source_step == e.step and e.ref == round.entries[e.source].ref
        state.apply(e)
    steps = [e for e in events if isinstance(e, ev.RunStarted)][-1].config["steps"]  # a resume may raise it
    final = {e.member for e in events if isinstance(e, ev.MemberFinished)}
    reported = Counter((e.member, e.step) for e in events if isinstance(e, ev.Reported))
    assert final == set(range(config["population"]))
    assert set(reported) == {(m, s) for m in range(config["population"]) for s in range(1, steps + 1)}
    return count


def kill_and_resume(module: str, run_dir, kill_after: int, env: dict | None = None) -> list[ev.Event]:
    """Run ``python -m module run_dir`` until ``kill_after`` reports are in the log, SIGKILL it,
    then ``python -m module run_dir resume`` to the end. Returns the log as the kill left it."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", module, str(run_dir)], cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            done = sum(e.kind == "report" for e in read(run_dir))
        except Exception:
            done = 0
        if done >= kill_after or proc.poll() is not None:
            break
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed = read(run_dir)
    assert not any(e.kind == "end" for e in killed), "the run ended before it was killed"
    resumed = subprocess.run([sys.executable, "-m", module, str(run_dir), "resume"], cwd=root, capture_output=True,
                             timeout=120, env=env)
    assert resumed.returncode == 0, resumed.stderr.decode()
    return killed
