"""Ray Tune's own PB2 on the moving-optimum toy of ``benchmarks/pb2.py``, for comparison.

Ray Tune's PB2 needs GPy, which is kept out of poptune's environments; run this module in an
environment that has Ray Tune and GPy, from the repository's root:

    python -m venv /tmp/raytune-pb2
    /tmp/raytune-pb2/bin/pip install "ray[tune]==2.60.0" GPy scikit-learn pandas
    /tmp/raytune-pb2/bin/python -m benchmarks.pb2_raytune --seeds 3

It writes ``results/pb2_raytune.json`` and ``.md``: the same problem (4 members x 100 steps,
ready every 5, learning rate in [1e-4, 0.02], the best member's final accuracy) through
``ray.tune.schedulers.pb2.PB2``, with wall times. ``benchmarks/README.md`` sets it beside
``results/pb2_toy.md``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import tempfile
import time

import numpy as np

from benchmarks import common


def moving_target_step(acc: float, lr: float, rng: np.random.Generator) -> float:
    """One step of Ray Tune's pbt_function (the same dynamics as benchmarks.pb2.moving_target)."""
    optimal = 0.01 * acc / 100 if acc < 100 else 0.01 - 0.01 * (acc - 100) / 100
    optimal = min(0.01, max(0.001, optimal))
    q_err = max(lr, optimal) / min(lr, optimal)
    if q_err < 3:
        acc += (1.0 / q_err) * rng.random()
    elif lr > optimal:
        acc -= (q_err - 3) * rng.random()
    return max(0.0, acc + 2 * rng.normal())


def trainable(config):
    from ray import tune
    from ray.tune import Checkpoint

    acc, step = 0.0, 0
    checkpoint = tune.get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as folder, open(os.path.join(folder, "state.pkl"), "rb") as f:
            acc, step = pickle.load(f)
    rng = np.random.default_rng([config["seed"], step, int(config["lr"] * 1e9)])
    while step < 100:
        acc = moving_target_step(acc, config["lr"], rng)
        step += 1
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "state.pkl"), "wb") as f:
                pickle.dump((acc, step), f)
            tune.report({"acc": acc}, checkpoint=Checkpoint.from_directory(folder))


def run(seed: int) -> dict:
    import ray
    from ray import tune
    from ray.tune.schedulers.pb2 import PB2

    started = time.time()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        scheduler = PB2(time_attr="training_iteration", perturbation_interval=5, metric="acc", mode="max",
                        hyperparam_bounds={"lr": [1e-4, 0.02]}, quantile_fraction=0.25)
        tuner = tune.Tuner(
            trainable,
            param_space={"lr": tune.uniform(1e-4, 0.02), "seed": seed},
            tune_config=tune.TuneConfig(scheduler=scheduler, num_samples=4),
            run_config=tune.RunConfig(stop={"training_iteration": 100}, verbose=0,
                                      storage_path=tempfile.mkdtemp(prefix="raytune-pb2-")),
        )
        results = tuner.fit()
        finals = [float(r.metrics_dataframe["acc"].iloc[-1]) for r in results]
        return {"seed": seed, "best": max(finals), "seconds": time.time() - started}
    finally:
        ray.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    runs = []
    for seed in range(args.seeds):
        runs.append(run(seed))
        print(runs[-1], flush=True)
    values = [r["best"] for r in runs]
    mean, std = common.mean_std(values)
    table = [{"method": "Ray Tune PB2", "median": f"{statistics.median(values):.1f}", "worst seed": f"{min(values):.1f}",
              "mean ± std": f"{mean:.1f} ± {std:.1f}",
              "seconds per run (median)": f"{statistics.median(r['seconds'] for r in runs):.1f}"}]
    import ray

    path = common.write("pb2_raytune", {"seeds": args.seeds, "ray": ray.__version__, "runs": runs}, table,
                        title=f"Ray Tune {ray.__version__} PB2 on the moving optimum, 4 members x 100 steps, ready every 5 "
                              f"({args.seeds} seeds)")
    print(path.read_text())


if __name__ == "__main__":
    main()
