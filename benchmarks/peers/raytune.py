"""The workloads through Ray Tune's PopulationBasedTraining (function trainables, checkpoints on disk)."""

from __future__ import annotations

import os
import pickle
import tempfile
import time

import numpy as np

from benchmarks.peers import workloads

WORKLOADS = {
    # name: (population, steps, interval, space, initial)
    "toy": (2, 100, 4, ("h0", "h1"), [{"h0": 1.0, "h1": 0.0}, {"h0": 0.0, "h1": 1.0}]),
    "noop": (16, 100, 5, ("x",), None),
    "digits": (8, 30, 2, ("lr", "momentum"), None),
}


def _trainable(kind, steps):
    def train(config):
        from ray import tune
        from ray.tune import Checkpoint

        first = time.time()
        state, step = None, 0
        checkpoint = tune.get_checkpoint()
        if checkpoint:
            with checkpoint.as_directory() as folder, open(os.path.join(folder, "state.pkl"), "rb") as f:
                state, step = pickle.load(f)
        if kind == "digits":
            import torch

            torch.set_num_threads(1)
            model, opt = workloads.digits_state(config)
            if state is not None:
                model.load_state_dict(state["model"])
                opt.load_state_dict(state["opt"])
            generator = torch.Generator().manual_seed(step)
        while step < steps:
            if kind == "toy":
                score, state = workloads.toy_step(state, config)
            elif kind == "noop":
                score, state = workloads.noop_step(state, config)
            else:
                score = workloads.digits_epoch(model, opt, config, generator)
                state = {"model": model.state_dict(), "opt": opt.state_dict()}
            step += 1
            with tempfile.TemporaryDirectory() as folder:
                with open(os.path.join(folder, "state.pkl"), "wb") as f:
                    pickle.dump((state, step), f)
                tune.report({"score": score, "first_step_time": first, "step": step},
                            checkpoint=Checkpoint.from_directory(folder))

    return train


def run(kind: str, seed: int) -> dict:
    import ray
    from ray import tune
    from ray.tune.schedulers import PopulationBasedTraining

    population, steps, interval, names, initial = WORKLOADS[kind]
    rng = np.random.default_rng(seed)
    start = time.time()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start = time.time() - start
    try:
        if kind == "toy":
            mutations = {"h0": tune.uniform(0.0, 1.0), "h1": tune.uniform(0.0, 1.0)}
            space = {"h0": tune.grid_search([1.0, 0.0])}
            space["h1"] = tune.sample_from(lambda spec: 1.0 - spec.config["h0"])
            explore = lambda config: {**config, **workloads.toy_explore({"h0": config["h0"], "h1": config["h1"]}, rng)}  # noqa: E731
        elif kind == "noop":
            mutations = {"x": tune.uniform(0.0, 1.0)}
            space = {"x": tune.uniform(0.0, 1.0)}
            explore = None
        else:
            mutations = {"lr": tune.loguniform(1e-3, 1.0), "momentum": tune.uniform(0.0, 0.99)}
            space = dict(mutations)
            explore = None
        scheduler = PopulationBasedTraining(time_attr="training_iteration", perturbation_interval=interval,
                                            metric="score", mode="max", hyperparam_mutations=mutations,
                                            quantile_fraction=0.5 if kind == "toy" else 0.25,
                                            custom_explore_fn=explore)
        tuner = tune.Tuner(
            _trainable(kind, steps),
            param_space=space,
            tune_config=tune.TuneConfig(scheduler=scheduler, num_samples=1 if kind == "toy" else population),
            run_config=tune.RunConfig(stop={"training_iteration": steps}, verbose=0,
                                      storage_path=tempfile.mkdtemp(prefix="raytune-")),
        )
        results = tuner.fit()
        wall = time.time() - start
        history = [r.metrics_dataframe for r in results]  # every report of every trial
        return {"wall": wall, "ray_start": ray_start, "first_step": float(min(h["first_step_time"].min() for h in history) - start),
                "score": float(max(h["score"].iloc[-1] for h in history)),
                "reports": int(sum(len(h) for h in history))}
    finally:
        ray.shutdown()
