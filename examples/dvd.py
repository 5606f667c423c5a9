"""Diversity via Determinants (DvD) on a deceptive 2-D point-mass task, as one stacked population.

    python examples/dvd.py             # 5 seeds x 2 tasks x 3 methods, 300 steps (about a minute of CPU)
    python examples/dvd.py --small     # the CI version: one seed, deceptive task (seconds)

Parker-Holder et al. 2020 train the whole population on one objective, the sum of the members'
rewards plus ``λ · log det K``, K an RBF kernel over the members' behaviours, and pick λ online
with a Thompson-sampling bandit rewarded when the population's best reward improves
(``poptune.family.diversity``).

The task: a point starts at the origin and takes ``T`` steps ``MAX_STEP · tanh(policy(x))``;
its reward is a function of where it ends (a differentiable rollout, so every member climbs by
gradient ascent). The policy is a 2-32-2 MLP; P members are one ``pt.vectorized.Population``.

- ``deceptive``: a broad bump of height 1 near the start (the local optimum every member falls
  into) and a narrow bump of height 2 further away, whose gradient is invisible from the start.
- ``unimodal``: the broad bump alone; diversity can only get in the way.

A member's behavioural embedding is its trajectory (the T positions it visits). Methods, at
equal gradient steps (Adam, one rollout per step): λ = 0 (independent members), fixed λ, and
DvD's bandit choosing λ in ``ARMS`` every ``INTERVAL`` steps.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
from torch import nn

import poptune as pt
from poptune.family.diversity import DiversityBandit, dvd_loss, population_embeddings

T, MAX_STEP = 10, 0.5  # steps per episode, largest move per step: the arena is [-5, 5]^2
LOCAL = ((0.0, 1.5), 1.5, 1.0)  # centre, width, height: broad, near the start
GLOBAL = ((1.0, -3.5), 0.6, 2.0)  # narrow, twice as high, behind the start
OPTIMUM = {"deceptive": 2.0, "unimodal": 1.0}
POPULATION, LR, ARMS, INTERVAL = 5, 0.01, (0.0, 0.5), 10  # ARMS as in the paper
PROBES = torch.cartesian_prod(torch.linspace(-1, 1, 5), torch.linspace(-1, 1, 5))  # (25, 2) scaled states
METHODS = ("λ = 0", "fixed λ = 0.5", "DvD bandit")
FULL = {"seeds": 5, "steps": 300, "tasks": ("deceptive", "unimodal")}
SMALL = {"seeds": 1, "steps": 200, "tasks": ("deceptive",)}


def bump(position: torch.Tensor, spec) -> torch.Tensor:
    centre, width, height = spec
    return height * torch.exp(-(position - torch.tensor(centre)).pow(2).sum(-1) / (2 * width**2))


def reward(final: torch.Tensor, task: str) -> torch.Tensor:
    """(P, 2) final positions -> (P,) rewards."""
    return bump(final, LOCAL) + (bump(final, GLOBAL) if task == "deceptive" else 0.0)


def policy() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))


def rollout(pop: pt.vectorized.Population) -> tuple[torch.Tensor, torch.Tensor]:
    """Every member's episode at once: final positions (P, 2) and trajectories (P, T, 2)."""
    x = torch.zeros(pop.size, 1, 2)  # (P, 1, 2): one state per member
    path = []
    for _ in range(T):
        x = x + MAX_STEP * torch.tanh(pop(x / 5, per_member=True))  # states scaled to [-1, 1]
        path.append(x)
    return x[:, 0], torch.cat(path, dim=1)


def train(task: str, method: str, seed: int, steps: int, embedding: str = "trajectory") -> dict:
    """One population trained for ``steps`` gradient steps; the best member at the end."""
    pop = pt.vectorized.Population(policy, POPULATION, optimizer=pt.vectorized.Adam(lr=LR), seed=seed)
    bandit = DiversityBandit(arms=ARMS, seed=seed)
    arm, start_best, choices = 0, None, []
    for step in range(steps):
        final, path = rollout(pop)
        rewards = reward(final, task)  # (P,)
        if method == "DvD bandit" and step % INTERVAL == 0:
            best = float(rewards.detach().max())  # the current weights' best: no extra rollout
            if start_best is not None:
                bandit.update(arm, best - start_best)
            arm, start_best = bandit.select(), best
            choices.append(bandit.arms[arm])
        weight = {"λ = 0": 0.0, "fixed λ = 0.5": ARMS[1], "DvD bandit": bandit.arms[arm]}[method]
        if embedding == "trajectory":
            behaviour = path.reshape(pop.size, -1)  # (P, T * 2)
        else:  # the paper's choice for policies: actions on fixed probe states
            behaviour = population_embeddings(pop, PROBES)  # (P, 25 * 2)
        pop.step(dvd_loss(rewards, behaviour, weight))
    with torch.no_grad():
        final, _ = rollout(pop)
        rewards = reward(final, task)
    best = float(rewards.max())
    return {"best": best, "found": best >= 0.9 * OPTIMUM[task], "choices": choices,
            "final": final.tolist()}


def compare(task: str, seeds: range | list[int], steps: int, embedding: str = "trajectory") -> dict[str, list[dict]]:
    return {m: [train(task, m, s, steps, embedding) for s in seeds] for m in METHODS}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="DvD on a deceptive point-mass task")
    parser.add_argument("--small", action="store_true", help="CI size: one seed, the deceptive task, fewer steps")
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--steps", type=int)
    args = parser.parse_args(argv)
    config = {**(SMALL if args.small else FULL)}
    config.update({k: v for k, v in (("seeds", args.seeds), ("steps", args.steps)) if v})
    torch.set_num_threads(1)
    results = {}
    for task in config["tasks"]:
        results[task] = compare(task, range(config["seeds"]), config["steps"])
        for method, runs in results[task].items():
            line = (f"{task:9s} {method:13s} best reward {statistics.fmean(r['best'] for r in runs):.2f} "
                    f"(per seed {', '.join(format(r['best'], '.2f') for r in runs)}), "
                    f"global optimum found {sum(r['found'] for r in runs)}/{len(runs)}")
            if method == "DvD bandit":
                share = np.mean([np.mean(np.asarray(r["choices"]) > 0) for r in runs])
                line += f", bandit chose λ > 0 in {share:.0%} of windows"
            print(line)
    return results


if __name__ == "__main__":
    main()
