"""PB2 against PBT and random search: a moving optimum, a mixed space, PPO, and what a decision costs.

    python -m pip install -e '.[bench]' torch==2.13.0
    python -m benchmarks.pb2 [--parts toy mixed ppo cost] [--seeds 20] [--ppo-seeds 5]

- ``toy``: Ray Tune's ``pbt_function`` problem (the optimal learning rate rises then falls as
  the accuracy grows; a learning rate three times off the optimum loses accuracy), ported: 4
  members, 100 steps, ready every 5, learning rate in [1e-4, 0.02]. Score: the best member's
  final accuracy. ``--seeds`` seeds per method.
- ``mixed``: the same problem with a categorical hyperparameter that matters (an "optimizer"
  among three; one doubles progress, one halves it), for PB2-Mix.
- ``ppo``: ``examples/ppo.py`` on CartPole-v1, 4 members x 40 iterations (40,960 environment steps
  each), ready every 4, ``--ppo-seeds`` seeds.
- ``cost``: seconds per PB2 decision against the population size and the data window, timed
  call by call in runs of the toy (no-op training), synchronous rounds.

Methods share the exploit (``Truncation(0.25)``), the initial members and the budget: PB2
(``explore=pt.PB2()``), PBT (``explore=pt.PerturbOrResample()``, poptune's default), and random
search (no exploit). Ray Tune's own PB2 needs GPy; ``python -m benchmarks.pb2_raytune`` runs it
in an environment that has it (see that module).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import poptune as pt
from benchmarks import common

PARTS = ("toy", "mixed", "ppo", "cost")
LR = pt.Float(1e-4, 0.02)
OPTIMIZERS = {"fast": 2.0, "plain": 1.0, "slow": 0.5}  # the mixed part's categorical: progress factor


def methods(space_has_choice: bool = False) -> dict:
    return {
        "PB2-Mix" if space_has_choice else "PB2": (pt.Truncation(0.25), pt.PB2()),
        "PBT": (pt.Truncation(0.25), pt.PerturbOrResample()),
        "random search": (None, pt.PerturbOrResample()),
    }


def moving_target(member):
    """Ray Tune's pbt_function, ported: accuracy grows fastest at an optimal lr that moves."""
    state = member.checkpoint or {"acc": 0.0}
    acc, lr = state["acc"], member.hparams["lr"]
    speed = OPTIMIZERS[member.hparams.get("optimizer", "plain")]
    rng = np.random.default_rng(member.seed)
    for _ in member.steps():
        optimal = 0.01 * acc / 100 if acc < 100 else 0.01 - 0.01 * (acc - 100) / 100
        optimal = min(0.01, max(0.001, optimal))
        q_err = max(lr, optimal) / min(lr, optimal)
        if q_err < 3:
            acc += speed * (1.0 / q_err) * rng.random()
        elif lr > optimal:
            acc -= (q_err - 3) * rng.random()
        acc = max(0.0, acc + 2 * rng.normal())
        member.report(acc, checkpoint={"acc": acc}, optimal_lr=optimal)


def toy_runs(seeds: int, space: dict, root: Path) -> dict:
    raw = {}
    for name, (exploit, explore) in methods("optimizer" in space).items():
        raw[name] = []
        for seed in range(seeds):
            started = time.perf_counter()
            result = pt.run(moving_target, space, population=4, steps=100, interval=5, exploit=exploit,
                            explore=explore, runner="inline", dir=root / f"{name}-{seed}", seed=seed, progress=False)
            raw[name].append({"seed": seed, "best": result.best.score, "seconds": time.perf_counter() - started,
                              "hparams": result.best.hparams, "schedule": [[s, h] for s, h in result.schedule()],
                              "optimal_lr": optimal_along_lineage(result)})
            print(f"{name} seed {seed}: {result.best.score:.1f}", flush=True)
    return raw


def optimal_along_lineage(result: pt.Result) -> list[list[float]]:
    """``[step, optimal lr]`` along the best member's lineage (the problem's own optimum there)."""
    reports = {(r.member, r.step): r for r in result.reports}
    out = []
    for stretch in result.lineage():
        for own in range(stretch.own_start + 1, stretch.own_end + 1):
            report = reports.get((stretch.member, own))
            if report is not None:
                out.append([stretch.start + own - stretch.own_start, report.metrics["optimal_lr"]])
    return out


def figure(raw: dict, path: Path, seeds: int = 4) -> None:
    """The learning-rate schedules PB2 and PBT found (best members, first seeds) and the optimum."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in raw if n != "random search"]
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 3.4), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names):
        for run, color in zip(raw[name][:seeds], ("tab:blue", "tab:orange", "tab:green", "tab:red")):
            steps = [s for s, _ in run["schedule"]] + [100]
            values = [h["lr"] for _, h in run["schedule"]]
            ax.step(steps, values + values[-1:], where="post", color=color, lw=1.2, label=f"seed {run['seed']}")
            if run["optimal_lr"]:
                optimal = np.array(run["optimal_lr"])
                ax.plot(optimal[:, 0], optimal[:, 1], color=color, lw=0.8, ls="--", alpha=0.7)
        ax.set(title=f"{name}: lr along the best lineage (dashed: the optimum there)", xlabel="step", yscale="log")
        ax.title.set_fontsize(9)
    axes[0, 0].set_ylabel("learning rate")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def ppo_figure(raw: dict, path: Path) -> None:
    """The schedules PB2 and PBT found for PPO (best members): one panel per hyperparameter."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["lr", "ent_coef", "clip", "gae_lambda"]
    fig, axes = plt.subplots(1, len(names), figsize=(14, 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        for method, color in (("PB2", "tab:blue"), ("PBT", "tab:orange")):
            for i, run in enumerate(raw.get(method, [])):
                steps = [s for s, _ in run["schedule"]] + [40]
                values = [h[name] for _, h in run["schedule"]]
                ax.step(steps, values + values[-1:], where="post", color=color, lw=1.0, alpha=0.8,
                        label=method if i == 0 else None)
        ax.set(title=name, xlabel="iteration", yscale="log" if name in ("lr", "ent_coef") else "linear")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("PPO on CartPole-v1: schedules along the best lineage, 5 seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def summary_rows(raw: dict) -> list[dict]:
    rows = []
    for name, runs in raw.items():
        values = [r["best"] for r in runs]
        mean, std = common.mean_std(values)
        rows.append({"method": name, "median": f"{statistics.median(values):.1f}", "worst seed": f"{min(values):.1f}",
                     "mean ± std": f"{mean:.1f} ± {std:.1f}",
                     "seconds per run (median)": f"{statistics.median(r['seconds'] for r in runs):.2f}"})
    return rows


def ppo_runs(seeds: int, root: Path) -> dict:
    ppo = common.example("ppo")
    raw = {}
    for name, (exploit, explore) in methods().items():
        raw[name] = []
        for seed in range(seeds):
            started = time.perf_counter()
            result = pt.run(functools.partial(ppo.train, task="CartPole-v1"), ppo.SPACE, population=4, steps=40,
                            interval=4, exploit=exploit, explore=explore, runner=pt.runners.Processes(workers=2),
                            dir=root / f"ppo-{name}-{seed}", seed=seed, progress=False)
            reached = ppo.first_step_at(result, ppo.THRESHOLDS["CartPole-v1"])
            raw[name].append({"seed": seed, "best": result.best.score, "steps_to_threshold": reached,
                              "seconds": time.perf_counter() - started,
                              "schedule": [[s, h] for s, h in result.schedule()]})
            print(f"ppo {name} seed {seed}: {result.best.score:.1f}", flush=True)
    return raw


def cost_runs(root: Path) -> list[dict]:
    """Time of PB2's explore calls (timed call by call) and of every decision per round, for
    populations of 4 and 32, window 300, synchronous rounds."""
    from poptune.core.decide import Decider
    from poptune.strategies.gp import TimeVaryingGP
    from poptune.strategies.pb2 import PB2

    rows = []
    for population, steps in ((4, 150), (32, 160)):
        calls: dict[str, list] = {"propose": [], "decide": [], "fit": []}
        originals = {"propose": PB2.propose, "decide": Decider.decide, "fit": TimeVaryingGP.fit.__func__}

        def timing(name, originals=originals, calls=calls):
            original = originals[name]

            def timed(*args, **kwargs):
                started = time.perf_counter_ns()
                try:
                    return original(*args, **kwargs)
                finally:
                    calls[name].append(time.perf_counter_ns() - started)
            return timed

        PB2.propose, Decider.decide = timing("propose"), timing("decide")
        TimeVaryingGP.fit = classmethod(timing("fit"))
        try:
            started = time.perf_counter()
            pt.run(moving_target, {"lr": LR}, population=population, steps=steps, interval=5,
                   exploit=pt.Truncation(0.25), explore=pt.PB2(), runner="inline", dir=root / f"cost-{population}",
                   seed=0, progress=False, synchronous=True)
            total = time.perf_counter() - started
        finally:
            PB2.propose, Decider.decide = originals["propose"], originals["decide"]
            TimeVaryingGP.fit = classmethod(originals["fit"])
        propose, fits = np.array(calls["propose"]) / 1e6, np.array(calls["fit"]) / 1e6
        rounds = steps // 5 - 1
        per_round = np.array(calls["decide"]).sum() / 1e9 / rounds
        rows.append({"population": population, "rounds": rounds, "PB2 explores": len(propose),
                     "per explore, median (ms)": f"{np.median(propose):.1f}", "p90 (ms)": f"{np.percentile(propose, 90):.1f}",
                     "GP fits": len(fits), "per fit, median (ms)": f"{np.median(fits):.0f}",
                     "all decisions of a round (s, mean)": f"{per_round:.2f}", "whole run (s)": f"{total:.1f}"})
        print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--ppo-seeds", type=int, default=5)
    parser.add_argument("--figures-only", action="store_true", help="redraw the figures from the results files")
    args = parser.parse_args(argv)
    if args.figures_only:
        import json

        figure(json.loads((common.RESULTS / "pb2_toy.json").read_text())["runs"], common.RESULTS / "pb2_toy.png")
        ppo_figure(json.loads((common.RESULTS / "pb2_ppo.json").read_text())["runs"], common.RESULTS / "pb2_ppo.png")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "toy" in args.parts:
            raw = toy_runs(args.seeds, {"lr": LR}, root / "toy")
            common.RESULTS.mkdir(parents=True, exist_ok=True)
            figure(raw, common.RESULTS / "pb2_toy.png")
            path = common.write("pb2_toy", {"seeds": args.seeds, "runs": raw}, summary_rows(raw),
                                title=f"Moving optimum (Ray Tune's pbt_function), 4 members x 100 steps, ready every 5 "
                                      f"({args.seeds} seeds): best member's final accuracy",
                                notes="Figure: `results/pb2_toy.png`.")
            print(path.read_text())
        if "mixed" in args.parts:
            raw = toy_runs(args.seeds, {"lr": LR, "optimizer": pt.Choice(list(OPTIMIZERS))}, root / "mixed")
            path = common.write("pb2_mixed", {"seeds": args.seeds, "runs": raw}, summary_rows(raw),
                                title=f"Moving optimum with a categorical that matters (optimizer among "
                                      f"{', '.join(OPTIMIZERS)}), 4 members x 100 steps ({args.seeds} seeds)")
            print(path.read_text())
        if "ppo" in args.parts:
            raw = ppo_runs(args.ppo_seeds, root / "ppo")
            rows = summary_rows(raw)
            for row, runs in zip(rows, raw.values()):
                hit = [r["steps_to_threshold"] for r in runs if r["steps_to_threshold"] is not None]
                row["seeds reaching 475"] = f"{len(hit)}/{len(runs)}"
                row["env steps to 475 (median)"] = f"{statistics.median(hit):,.0f}" if hit else "never"
            common.RESULTS.mkdir(parents=True, exist_ok=True)
            ppo_figure(raw, common.RESULTS / "pb2_ppo.png")
            path = common.write("pb2_ppo", {"seeds": args.ppo_seeds, "runs": raw}, rows,
                                title=f"PPO on CartPole-v1, 4 members x 40 iterations (40,960 env steps each), "
                                      f"ready every 4 ({args.ppo_seeds} seeds): best member's final return",
                                notes="Figure: `results/pb2_ppo.png`.")
            print(path.read_text())
        if "cost" in args.parts:
            rows = cost_runs(root)
            path = common.write("pb2_cost", {"rows": rows}, rows,
                                title="What PB2 costs: its explore calls and the decisions of a round (window 300, "
                                      "synchronous rounds, timed call by call)")
            print(path.read_text())


if __name__ == "__main__":
    main()
