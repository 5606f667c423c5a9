"""The workloads through poptune's runners."""

from __future__ import annotations

import tempfile
import time

import poptune as pt
from benchmarks.peers import workloads
from benchmarks.peers.raytune import WORKLOADS


def _train(kind):
    def train(member):
        first = time.time()
        h = member.hparams
        if kind == "digits":
            import torch

            torch.set_num_threads(1)
            model, opt = workloads.digits_state(h)
            if member.checkpoint is not None:
                model.load_state_dict(member.checkpoint["model"])
                opt.load_state_dict(member.checkpoint["opt"])
            generator = torch.Generator().manual_seed(member.seed)
            for _ in member.steps():
                score = workloads.digits_epoch(model, opt, h, generator)
                member.report(score, checkpoint=lambda: {"model": model.state_dict(), "opt": opt.state_dict()},
                              first_step_time=first)
            return
        state = member.checkpoint
        step_fn = workloads.toy_step if kind == "toy" else workloads.noop_step
        for _ in member.steps():
            score, state = step_fn(state, h)
            member.report(score, checkpoint=state, first_step_time=first)

    return train


def run(kind: str, runner: str, seed: int) -> dict:
    population, steps, interval, names, initial = WORKLOADS[kind]
    space = {
        "toy": {"h0": pt.Float(0.0, 1.0), "h1": pt.Float(0.0, 1.0)},
        "noop": {"x": pt.Float(0.0, 1.0)},
        "digits": {"lr": pt.Float(1e-3, 1.0, log=True), "momentum": pt.Float(0.0, 0.99)},
    }[kind]
    runners = {
        "inline": lambda: "inline",
        "processes": lambda: pt.runners.Processes(workers=2),
        "ray": lambda: pt.runners.Ray(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        start = time.time()
        ray_start = 0.0
        if runner == "ray":  # started here (as the runner would) to time it apart: a cluster is up already
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            ray_start = time.time() - start
        result = pt.run(
            _train(kind), space, population=population, steps=steps, interval=interval, initial=initial,
            exploit=pt.Truncation(0.5 if kind == "toy" else 0.25),
            explore=workloads.toy_explore if kind == "toy" else pt.PerturbOrResample(),
            runner=runners[runner](), dir=tmp, seed=seed, progress=False,
        )
        wall = time.time() - start
        if runner == "ray":
            import ray

            ray.shutdown()
        return {"wall": wall, "ray_start": ray_start, "first_step": min(r.metrics["first_step_time"] for r in result.reports) - start,
                "score": result.best.score, "reports": len(result.reports)}
