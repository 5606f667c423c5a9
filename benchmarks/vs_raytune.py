"""poptune vs Ray Tune's PopulationBasedTraining on the same workloads (issue 5).

    python -m pip install -e '.[bench]' torch==2.13.0
    python -m benchmarks.vs_raytune [--repeats 3] [--raytune-repeats noop=1] [--workloads toy noop digits]

Every measurement is appended to ``results/vs_raytune.runs.jsonl`` as it finishes; a rerun
reuses the ones there (delete the file, or pass ``--fresh``, to start over), so a long run that
stops half-way loses nothing.

Workloads: the paper's toy (2 members, 100 steps, ready every 4); a no-op (16 members that only
report, 100 steps, ready every 5); digits (8 MLPs, 30 epochs, ready every 2). Systems: Ray Tune
(function trainables, checkpoints through Ray's storage), and poptune's inline, processes and
Ray runners. Every run is a fresh process (so Ray starts from nothing each time); wall time and
time to the first user step include starting Ray where a system uses it. Peak memory is the
largest total RSS of the run's whole process tree (driver, Ray daemons, workers), sampled every
0.1 s. Medians of ``--repeats`` runs; ``--raytune-repeats`` lowers Ray Tune's count per workload
(default ``noop=1``: one Ray Tune no-op run takes about 20 minutes here). Ratios are Ray Tune's
median over the system's median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time

from benchmarks import common

SYSTEMS = ("raytune", "poptune-inline", "poptune-processes", "poptune-ray")
WORKLOADS = ("toy", "noop", "digits")


def tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measure(kind: str, system: str, seed: int) -> dict:
    """Run one (workload, system) in a fresh interpreter, sampling its process tree's memory."""
    code = (
        "import json, sys\n"
        f"kind, system, seed = {kind!r}, {system!r}, {seed}\n"
        "if system == 'raytune':\n"
        "    from benchmarks.peers import raytune as side; out = side.run(kind, seed)\n"
        "else:\n"
        "    from benchmarks.peers import poptune_side as side; out = side.run(kind, system.split('-')[1], seed)\n"
        "print('RESULT ' + json.dumps(out))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"{system} on {kind} failed (exit {proc.returncode})")
    result = json.loads(line[7:])
    result["peak_rss_mb"] = peak / 2**20
    return result


CACHE = common.RESULTS / "vs_raytune.runs.jsonl"


def cached() -> list[dict]:
    if not CACHE.exists():
        return []
    return [json.loads(line) for line in CACHE.read_text().splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--raytune-repeats", nargs="*", default=["noop=1"], metavar="WORKLOAD=N",
                        help="Ray Tune's repeats for these workloads (others: --repeats)")
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--fresh", action="store_true", help="ignore (and replace) the measurements cached so far")
    args = parser.parse_args()
    try:
        raytune_repeats = {kind: int(n) for kind, n in (item.split("=") for item in args.raytune_repeats)}
    except ValueError:
        parser.error(f"--raytune-repeats takes WORKLOAD=N items, got {args.raytune_repeats}")
    if unknown := set(raytune_repeats) - set(WORKLOADS):
        parser.error(f"--raytune-repeats names unknown workloads {sorted(unknown)}; choose from {sorted(WORKLOADS)}")
    if args.fresh:
        CACHE.unlink(missing_ok=True)
    done = cached()
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    for kind in args.workloads:
        for seed in range(args.repeats):
            for system in SYSTEMS:
                if system == "raytune" and seed >= raytune_repeats.get(kind, args.repeats):
                    continue
                if any(r["workload"] == kind and r["system"] == system and r["seed"] == seed for r in done):
                    continue
                row = {"workload": kind, "system": system, "seed": seed, **measure(kind, system, seed)}
                with CACHE.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                done.append(row)
                print(row, flush=True)
    raw: dict = {}
    table = []
    for kind in args.workloads:
        raw[kind] = {system: [r for r in done if r["workload"] == kind and r["system"] == system] for system in SYSTEMS}
        for runs in raw[kind].values():
            for r in runs:
                r["after_start"] = r["wall"] - r["ray_start"]
        meds = {system: {key: statistics.median(r[key] for r in runs)
                         for key in ("wall", "after_start", "first_step", "score", "peak_rss_mb")}
                for system, runs in raw[kind].items()}
        for system in SYSTEMS:
            med = meds[system]
            ratio = meds["raytune"]["wall"] / med["wall"]
            ratio_up = meds["raytune"]["after_start"] / med["after_start"]
            table.append({
                "workload": kind,
                "system": system,
                "runs": len(raw[kind][system]),
                "wall (s)": f"{med['wall']:.2f}",
                "wall, Ray already up (s)": f"{med['after_start']:.2f}",
                "first step (s)": f"{med['first_step']:.3f}",
                "peak memory (MB)": f"{med['peak_rss_mb']:.0f}",
                "best score": f"{med['score']:.4f}",
                "Ray Tune wall / this": "1.00" if system == "raytune" else f"{ratio:.1f}x",
                "same, Ray already up": "1.00" if system == "raytune" else f"{ratio_up:.1f}x",
            })
    path = common.write("vs_raytune", {"repeats": args.repeats, "runs": raw, "table": table}, table,
                        title="poptune vs Ray Tune PBT (medians, 2 CPUs)",
                        notes="Wall time and first step count from before `ray.init` for the systems that use Ray; "
                        "'Ray already up' subtracts the time `ray.init` took (the case of joining a running cluster). "
                        "Best score: Ray Tune's is the best trial's last report, poptune's the best member's. "
                        "Targets (issue 5, toy): poptune's Ray runner >= 20x less wall time than Ray Tune, "
                        "the processes runner >= 100x.")
    print(path.read_text())


if __name__ == "__main__":
    main()
