"""Poppy (winner-takes-all population training) on random 2-D TSP, against K independently
trained members and a single policy sampled K times, over several seeds.

    python -m benchmarks.poppy_tsp [--seeds 3]

Runs ``examples/poppy_tsp.py`` (its FULL configuration) once per seed: the same training
instance stream and the same held-out instances for every method; every learned method keeps K
tours per held-out instance and is scored by the mean of its best tour. Nearest neighbour and
the optimal tour (Held-Karp) are computed on the same held-out set. Writes
``results/poppy_tsp.json`` and ``results/poppy_tsp.md``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks import common

METHODS = {
    "poppy": "Poppy: shared pretrain, then winner-takes-all (best of K greedy)",
    "independent": "K independent members, same steps per member (best of K greedy)",
    "independent_equal": "K independent members, as many training tours as Poppy (best of K greedy)",
    "single_samples": "single policy, best of K samples",
    "single_greedy": "single policy, greedy (1 tour)",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="the example's CI configuration (a smoke test)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    ex = common.example("poppy_tsp")
    cfg = ex.SMALL if args.small else ex.FULL
    started = time.monotonic()
    refs = ex.held_out_references(cfg)
    runs = []
    for seed in range(args.seeds):
        run = ex.compare(seed, cfg)
        runs.append(run)
        print(f"seed {seed}: " + ", ".join(f"{m} {run[m]:.4f}" for m in METHODS) + f" (optimal {refs['optimal']:.4f})",
              flush=True)
    seconds = time.monotonic() - started

    train_seconds = {
        "poppy": [r["pretrain_seconds"] + r["poppy_seconds"] for r in runs],
        "independent": [r["independent_seconds"] for r in runs],
        "independent_equal": [r["independent_equal_seconds"] for r in runs],
        "single_samples": [r["pretrain_seconds"] + r["single_seconds"] for r in runs],
    }
    train_seconds["single_greedy"] = train_seconds["single_samples"]
    K, T1, T2 = cfg["members"], cfg["pretrain"], cfg["finetune"]
    tours = {key: K for key in METHODS} | {"single_greedy": 1}
    built = runs[0]["tours_built"] | {"single_greedy": runs[0]["tours_built"]["single_samples"]}
    table = []
    for key, label in METHODS.items():
        lengths = [r[key] for r in runs]
        gaps = [100 * (v / refs["optimal"] - 1) for v in lengths]
        (mean, std), (gap, gap_std) = common.mean_std(lengths), common.mean_std(gaps)
        table.append({"method": label, "tours per instance": tours[key],
                      "mean best tour length ± std": f"{mean:.4f} ± {std:.4f}",
                      "gap to optimal ± std": f"{gap:.2f}% ± {gap_std:.2f}%",
                      "per seed (gap %)": ", ".join(f"{g:.2f}" for g in gaps),
                      "training tours (x batch)": built[key],
                      "training s (mean)": f"{statistics.fmean(train_seconds[key]):.0f}"})
    for key, label in (("nearest_neighbour", "nearest neighbour from city 0"), ("optimal", "optimal (Held-Karp)")):
        table.append({"method": label, "tours per instance": 1, "mean best tour length ± std": f"{refs[key]:.4f}",
                      "gap to optimal ± std": f"{100 * (refs[key] / refs['optimal'] - 1):.2f}%",
                      "per seed (gap %)": "", "training tours (x batch)": "", "training s (mean)": ""})

    beats = sum(r["poppy"] < r["independent"] for r in runs)
    beats_equal = sum(r["poppy"] < r["independent_equal"] for r in runs)
    beats_single = sum(r["poppy"] < r["single_samples"] for r in runs)
    top_share = statistics.fmean(max(r["poppy_wins"]) / cfg["held_out"] for r in runs)
    member_gap = {key: statistics.fmean(100 * (r[f"{key}_member_mean"] / refs["optimal"] - 1) for r in runs)
                  for key in ("poppy", "independent")}
    notes = (f"`python -m benchmarks.poppy_tsp --seeds {args.seeds}{' --small' if args.small else ''}`, "
             f"{seconds:.0f} s wall, torch on 1 thread. {cfg['cities']} cities uniform in the unit square, "
             f"K={K} members, {cfg['held_out']} fixed held-out instances (the same for every seed), batch "
             f"{cfg['batch']} fresh instances per step, Adam lr {cfg['lr']}, attention policy d={cfg['dim']}. "
             f"Poppy: {T1} REINFORCE steps of one policy on K samples per instance (baseline: their mean), "
             f"cloned K times, then {T2} winner-takes-all steps (advantage = margin over the second best member). "
             f"Independent: K members "
             f"from independent initialisations, {T1 + T2} REINFORCE steps each (greedy-rollout baseline; "
             f"as many steps per member as Poppy's lineage, so more compute), and the same population after "
             f"{runs[0]['tours_built']['independent_equal'] // (2 * K)} steps, when it had built as many training "
             f"tours as Poppy (equal compute). Single: the shared policy, "
             f"{T2} more steps the way it was pretrained. Poppy beats "
             f"independent on {beats}/{len(runs)} seeds, independent at equal tours on {beats_equal}/{len(runs)}, and single x K samples on {beats_single}/{len(runs)}; "
             f"on the held-out set Poppy's most-winning member wins {top_share:.0%} of instances "
             f"(1/K = {1 / K:.0%}), and its members alone average a {member_gap['poppy']:.2f}% gap (independent "
             f"members {member_gap['independent']:.2f}%, the single policy's greedy tour "
             f"{statistics.fmean(100 * (r['single_greedy'] / refs['optimal'] - 1) for r in runs):.2f}%).")
    common.write("poppy_tsp", {"config": cfg, "seeds": args.seeds, "seconds": seconds, "references": refs,
                               "runs": runs}, table, "Poppy on TSP: best of K tours per held-out instance", notes)
    print(notes)


if __name__ == "__main__":
    main()
