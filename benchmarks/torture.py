"""Kill runs at random points, resume them, and count what was lost.

    python -m benchmarks.torture [--kills 20] [--runners inline processes ray]

For each runner, a run (4 members x 40 steps, ready every 4, a few milliseconds per step) is
started in a process group of its own and killed with SIGKILL to the whole group at a random
moment: from the first milliseconds (while the run directory is being created) to the end of
the run; then it is resumed (``resume=True``) until it finishes, and checked:

- lost: reports that were in the log before the kill and are not after the resume (must be 0);
- duplicated: (member, step) pairs that appear more than once in ``Result.reports`` (0);
- corrupt: checkpoint files the log says exist that do not load back (0);
- orphans: processes of the killed run still alive 5 s after the kill (0);
- resumes that did not finish (0).

Steps re-run after a resume (those after each member's last checkpoint) are in the raw log
twice by design and counted apart. The small version of this runs in the test suite
(tests/test_torture.py).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

POPULATION, STEPS, INTERVAL = 4, 40, 4
ROOT = Path(__file__).resolve().parents[1]


def train(member):
    pause = float(os.environ.get("POPTUNE_TORTURE_SLEEP", "0.004"))
    x = member.checkpoint or 0.0
    for _ in member.steps():
        time.sleep(pause)
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


def child(run_dir: str, runner: str) -> None:
    """The run itself (in its own process group): start it, or resume it."""
    import poptune as pt

    runners = {"inline": "inline", "processes": pt.runners.Processes(workers=2),
               "ray": pt.runners.Ray(max_concurrent=2, init_kwargs={"num_cpus": 2})}
    pt.run(train, {"lr": pt.Float(0.01, 1.0)}, population=POPULATION, steps=STEPS, interval=INTERVAL,
           runner=runners[runner], dir=run_dir, seed=0, resume=True, progress=False)


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


def start(run_dir: Path, runner: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "benchmarks.torture", "--child", str(run_dir), runner], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def raw_reports(run_dir: Path) -> list[tuple]:
    from poptune.core import events as ev
    from poptune.errors import PoptuneError
    from poptune.store import Store, store_path

    try:
        with Store(store_path(run_dir), readonly=True) as store:
            return [(e.member, e.step, e.score) for e in store.read(kinds=[ev.REPORT])]
    except PoptuneError:
        return []


def one_kill(run_dir: Path, runner: str, delay: float, at_creation: bool = False, settle: float = 5.0) -> dict:
    """Start, kill the whole group after ``delay`` seconds (counted from the moment the run
    directory appears when ``at_creation``), count the processes still alive ``settle`` seconds
    later, resume to the end; what was lost."""
    proc = start(run_dir, runner)
    seen: set[int] = set()
    if at_creation:  # the directory appears once the imports are done: kill while it is being made
        while not (run_dir / "poptune.lock").exists() and proc.poll() is None:
            time.sleep(0.0005)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and proc.poll() is None:
        seen |= descendants(proc.pid)
        time.sleep(0.005)
    finished_first = proc.poll() is not None
    seen |= descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    before = raw_reports(run_dir)
    time.sleep(settle)
    orphans = sorted(p for p in seen if alive(p))
    resumed = start(run_dir, runner)
    _, err = resumed.communicate(timeout=600)
    return {"runner": runner, "delay": delay, "at_creation": at_creation, "finished_before_kill": finished_first,
            "reports_before": len(before),
            "resume_ok": resumed.returncode == 0, "error": err.decode()[-1500:] if resumed.returncode else "",
            "orphans": len(orphans), **check(run_dir, before)}


def check(run_dir: Path, before: list[tuple]) -> dict:
    """Lost, duplicated and corrupt counts of a resumed run."""
    import poptune as pt
    from poptune.checkpoints import loads, open_checkpoints
    from poptune.core import events as ev

    after = raw_reports(run_dir)
    lost = len(Counter(before) - Counter(after))
    try:
        result = pt.Result.load(run_dir)
    except pt.PoptuneError:
        return {"lost": lost, "duplicated": -1, "corrupt": -1, "rerun_steps": 0}
    per_step = Counter((r.member, r.step) for r in result.reports)
    duplicated = sum(count - 1 for count in per_step.values())
    missing = POPULATION * STEPS - len(per_step)
    written = {e.ref for e in result.events if isinstance(e, ev.Checkpointed)}
    deleted = {e.ref for e in result.events if isinstance(e, ev.CheckpointDeleted)}
    store = open_checkpoints(Path(run_dir) / "checkpoints")
    corrupt = 0
    for ref in written - deleted:
        try:
            loads(store.load(ref), ref)
        except pt.PoptuneError:
            corrupt += 1
    return {"lost": lost, "duplicated": duplicated, "missing": missing, "corrupt": corrupt,
            "rerun_steps": len(after) - POPULATION * STEPS}


BEGIN, END = "<!-- torture:begin -->", "<!-- torture:end -->"


def update_readme() -> None:
    """The README's table, from results/torture.md."""
    from benchmarks import common

    lines = [line for line in (common.RESULTS / "torture.md").read_text().splitlines() if line.startswith("|")]
    keep = [0, 1, 2, 4, 5, 6, 7, 8, 9]  # runner, kills, at creation, resumes, lost, dup, missing, corrupt, orphans
    table = "\n".join("| " + " | ".join(line.strip("|").split("|")[i].strip() for i in keep) + " |" for line in lines)
    readme = ROOT / "README.md"
    head, rest = readme.read_text().split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{table}\n\n(`python -m benchmarks.torture`: 20 kills per runner at random "
                      f"points, a fifth of them while the run directory was being created. Orphans under Ray are Ray's "
                      f"own worker processes, left by kills made while Ray itself was starting; they exit within a "
                      f"minute: see [`benchmarks/README.md`](benchmarks/README.md#killing-runs--python--m-benchmarkstorture"
                      f"--kills-20).)\n{END}{tail}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--runners", nargs="+", default=["inline", "processes", "ray"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=2, metavar=("DIR", "RUNNER"), help=argparse.SUPPRESS)
    parser.add_argument("--readme-only", action="store_true", help="rebuild the README's table from the results")
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return
    if args.readme_only:
        update_readme()
        return
    from benchmarks import common

    rng = random.Random(args.seed)
    rows, table = [], []
    for runner in args.runners:
        span = {"inline": 1.0, "processes": 0.75, "ray": 6.0}.get(runner, 2.0)  # about a run's length here
        creation = max(1, args.kills // 5)  # a fifth of the kills while the directory is being made
        plan = [(rng.uniform(0.0, 0.01), True) for _ in range(creation)]
        plan += [(rng.uniform(0.0, span), False) for _ in range(args.kills - creation)]
        results = []
        for delay, at_creation in plan:
            with tempfile.TemporaryDirectory() as tmp:
                results.append(one_kill(Path(tmp) / "run", runner, delay, at_creation))
            print(results[-1], flush=True)
        rows += results
        table.append({
            "runner": runner,
            "kills": len(results),
            "of them while creating the directory": sum(r["at_creation"] for r in results),
            "killed before the run finished": sum(not r["finished_before_kill"] for r in results),
            "resumes finished": f"{sum(r['resume_ok'] for r in results)}/{len(results)}",
            "reports lost": sum(r["lost"] for r in results),
            "duplicated": sum(max(r["duplicated"], 0) for r in results),
            "missing": sum(max(r.get("missing", 0), 0) for r in results),
            "corrupt checkpoints": sum(max(r["corrupt"], 0) for r in results),
            "orphans 5 s after": sum(r["orphans"] for r in results),
            "steps re-run (median)": f"{statistics.median(r['rerun_steps'] for r in results):.0f}",
        })
    path = common.write(
        "torture", {"kills": args.kills, "population": POPULATION, "steps": STEPS, "runs": rows}, table,
        title=f"SIGKILL of the whole process group at random points, then resume=True "
              f"({POPULATION} members x {STEPS} steps)",
        notes="Steps re-run: reports made after a member's last checkpoint before the kill, trained again "
              "after the resume (in the raw log twice by design; one row each in Result.reports).",
    )
    print(path.read_text())
    if args.kills >= 20 and len(args.runners) == 3:
        update_readme()


if __name__ == "__main__":
    main()
