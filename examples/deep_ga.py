"""Deep GA as a poptune run: mutation-only evolution of a policy network stored as a seed chain.

    python examples/deep_ga.py            # 8 members x 40 steps, 5 seeds (about a minute)
    python examples/deep_ga.py --small    # the CI version (seconds)

Such et al. 2017 ("Deep Neuroevolution") evolve network weights with no gradient: a child is its
parent plus Gaussian noise, the best parents are kept (truncation selection) and the elite
survives unchanged. The genome is a chain of seeds (``poptune.family.SeedChain``): the seed of
the initial weights, then one seed per mutation; the weights are rebuilt by replaying it.

Here the GA is a PBT run on gymnasium's CartPole-v1 with a deterministic MLP policy (4 -> 64 ->
64 -> 2, tanh, argmax action):

- a member's state is its genome (``SeedChain.to_json()``) and its fitness;
- a step mutates the genome (a new seed drawn from ``member.seed`` and the step, noise scale
  ``sigma``) and evaluates the child on ``EPISODES`` training episodes; elitism: the child
  replaces its parent only if it scores no worse, so a member never gets worse;
- ``exploit=pt.Truncation(0.25)`` is truncation selection: at a ready step the bottom quarter
  copy a top-quarter member's genome (and sigma), and explore perturbs ``sigma``, the mutation
  strength PBT tunes.

The training episodes are fixed (the same reset seeds for every evaluation), so fitness is
deterministic and elitism keeps no lucky evaluation; the best policy is then scored on held-out
episodes it never saw. Compared at equal training episodes:

- Deep GA under PBT (selection, elitism, sigma explored);
- independent climbers: the same run with ``exploit=None`` (no selection between members);
- random search over seeds: a fresh one-seed genome per evaluation, the best kept.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

import poptune as pt
from poptune.family import SeedChain, parameter_nbytes

ENV = "CartPole-v1"
MAX_STEPS = 500  # CartPole-v1's time limit
HIDDEN = 64
EPISODES = 3  # training episodes per evaluation
TRAIN_SEEDS = tuple(range(EPISODES))  # fixed reset seeds: a deterministic fitness
HELD_OUT = tuple(range(10_000, 10_030))  # 30 episodes never used in training
SPACE = {"sigma": pt.Float(0.005, 0.5, log=True)}  # mutation noise scale, explored by PBT
FULL = {"population": 8, "steps": 40, "interval": 5, "seeds": 5}
SMALL = {"population": 6, "steps": 12, "interval": 3, "seeds": 1}

_ENV = None


def environment():
    """One CartPole per process, without gymnasium's wrappers (the time limit is applied below)."""
    global _ENV
    if _ENV is None:
        import gymnasium as gym

        _ENV = gym.make(ENV).unwrapped
    return _ENV


def network():
    import torch

    return torch.nn.Sequential(torch.nn.Linear(4, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, HIDDEN),
                               torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 2))


def weights(genome: SeedChain) -> list[np.ndarray]:
    """The genome's policy as numpy arrays [W1, b1, W2, b2, W3, b3] (fast to run step by step)."""
    return [p.detach().numpy().copy() for p in genome.materialize(network()).parameters()]


def act(params: list[np.ndarray], obs: np.ndarray) -> int:
    w1, b1, w2, b2, w3, b3 = params
    h = np.tanh(w1 @ obs + b1)  # (HIDDEN,)
    h = np.tanh(w2 @ h + b2)  # (HIDDEN,)
    return int(np.argmax(w3 @ h + b3))


def episode_return(params: list[np.ndarray], seed: int) -> float:
    env = environment()
    obs, _ = env.reset(seed=seed)
    total = 0.0
    for _ in range(MAX_STEPS):
        obs, reward, terminated, _, _ = env.step(act(params, obs))
        total += reward
        if terminated:
            break
    return total


def fitness(genome: SeedChain, seeds=TRAIN_SEEDS) -> float:
    """Mean return over the episodes with these reset seeds."""
    params = weights(genome)
    return statistics.fmean(episode_return(params, s) for s in seeds)


def train(member: pt.Member) -> None:
    state = member.checkpoint
    for step in member.steps():
        if state is None:  # a fresh member: its first evaluation is its initial genome
            genome = SeedChain.initial(int(np.random.default_rng([member.seed, member.id]).integers(2**63)))
            state = {"genome": genome.to_json(), "score": fitness(genome)}
        else:
            parent = SeedChain.from_json(state["genome"])
            seed = int(np.random.default_rng([member.seed, step]).integers(2**63))
            child = parent.mutate(seed, sigma=member.hparams["sigma"])
            score = fitness(child)
            if score >= state["score"]:  # elitism: the parent survives a worse child
                state = {"genome": child.to_json(), "score": score}
        member.report(state["score"], checkpoint=state, generation=member.generation,
                      mutations=len(SeedChain.from_json(state["genome"])))


def run_ga(seed: int, population: int, steps: int, interval: int, folder: Path, exploit=True) -> pt.Result:
    return pt.run(train, SPACE, population=population, steps=steps, interval=interval, direction="maximize",
                  exploit=pt.Truncation(0.25) if exploit else None, explore=pt.PerturbOrResample(),
                  runner="inline", dir=folder, overwrite=True, seed=seed, progress=False)


def best_of(result: pt.Result) -> dict:
    """The genome with the best training fitness, its held-out return and its size."""
    states = [result.checkpoint(m.id) for m in result.members]
    state = max(states, key=lambda s: s["score"])
    return summary(SeedChain.from_json(state["genome"]), state["score"])


def summary(genome: SeedChain, train_score: float) -> dict:
    held_out = [episode_return(weights(genome), s) for s in HELD_OUT]
    return {"train": train_score, "held_out": statistics.fmean(held_out), "held_out_min": min(held_out),
            "mutations": len(genome), "genome_bytes": genome.nbytes(), "network_bytes": parameter_nbytes(network()),
            "genome": genome.to_json()}


def random_search(seed: int, evaluations: int) -> dict:
    """A fresh one-seed genome per evaluation (initial weights only), the best kept."""
    rng = np.random.default_rng([seed, 1])
    best = None
    for _ in range(evaluations):
        genome = SeedChain.initial(int(rng.integers(2**63)))
        score = fitness(genome)
        if best is None or score > best[0]:
            best = (score, genome)
    return summary(best[1], best[0])


def random_policy(seed: int) -> float:
    """The reference floor: a policy acting uniformly at random, mean return on the held-out episodes."""
    env, rng, total = environment(), np.random.default_rng([seed, 2]), []
    for s in HELD_OUT:
        env.reset(seed=s)
        ret = 0.0
        for _ in range(MAX_STEPS):
            _, reward, terminated, _, _ = env.step(int(rng.integers(2)))
            ret += reward
            if terminated:
                break
        total.append(ret)
    return statistics.fmean(total)


METHODS = ("Deep GA (PBT)", "independent climbers", "random search over seeds")


def compare(seed: int, population: int, steps: int, interval: int, root: Path) -> dict:
    """Every method at ``population * steps`` evaluations (x EPISODES training episodes)."""
    return {
        "Deep GA (PBT)": best_of(run_ga(seed, population, steps, interval, root / f"ga-seed{seed}")),
        "independent climbers": best_of(run_ga(seed, population, steps, interval, root / f"climbers-seed{seed}",
                                               exploit=False)),
        "random search over seeds": random_search(seed, population * steps),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="the CI version: " + str(SMALL))
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--dir", default="runs/example-deep-ga")
    args = parser.parse_args(argv)
    size = dict(SMALL if args.small else FULL)
    if args.seeds:
        size["seeds"] = args.seeds
    evaluations = size["population"] * size["steps"]
    print(f"{size['population']} members x {size['steps']} steps, ready every {size['interval']}, {size['seeds']} "
          f"seeds: {evaluations} evaluations = {evaluations * EPISODES} training episodes per method; best policy "
          f"scored on {len(HELD_OUT)} held-out episodes")
    runs = [compare(seed, size["population"], size["steps"], size["interval"], Path(args.dir))
            for seed in range(size["seeds"])]
    for method in METHODS:
        held = [r[method]["held_out"] for r in runs]
        spread = statistics.stdev(held) if len(held) > 1 else 0.0
        genome = statistics.fmean(r[method]["genome_bytes"] for r in runs)
        print(f"  {method:26s} held-out return {statistics.fmean(held):6.1f} ± {spread:5.1f}   train "
              f"{statistics.fmean(r[method]['train'] for r in runs):6.1f}   genome {genome:.0f} B")
    print(f"  {'random policy':26s} held-out return {statistics.fmean(random_policy(s) for s in range(size['seeds'])):6.1f}")
    print(f"network: {runs[0][METHODS[0]]['network_bytes']} B of float32 parameters")


if __name__ == "__main__":
    main()
