"""Poppy on random 2-D TSP: a population trained so that its best member per instance is good.

    python examples/poppy_tsp.py            # 12 cities, K=8, one seed (about a minute)
    python examples/poppy_tsp.py --small    # the CI version (seconds)

Grinsztajn et al. 2023 ("Winner Takes It All", arXiv:2210.03475) train K policies for the
population objective E[min_k length(tour_k)]: on each instance only the member with the shortest
tour gets a gradient, its advantage being its margin over the second best
(``poptune.family.winner_takes_all.poppy_loss``). Members specialise; at inference every member
builds one greedy tour and the shortest is kept.

The policy is a tiny attention model (Kool et al. 2019 in miniature: a 2-layer encoder, a
decoder that points at the next unvisited city from [graph mean, first city, last city]), built
as a ``pt.vectorized.Functional`` so that K members train as one stacked model
(``pt.vectorized.Population``). A tour starts at city 0; sampling uses Gumbel noise drawn from a
seeded generator, so every run is reproducible. Compared on a fixed held-out set, each method
keeping K tours per instance:

- Poppy: a shared policy trained ``pretrain`` steps with REINFORCE on K samples per instance
  (baseline: the mean of the K samples, as in POMO), cloned K times, then ``finetune`` steps of
  the winner-takes-all loss (one sample per member and instance); best of the K greedy tours;
- single x K samples: the same shared policy trained ``finetune`` more steps the way it was
  pretrained; best of K sampled tours. Poppy's control: same start, same training instances,
  as many tours built, no winner-takes-all;
- independent: K members from independent initialisations, each trained ``pretrain + finetune``
  steps with REINFORCE (baseline: the member's greedy rollout); best of the K greedy tours.
  They build twice Poppy's training tours (a sampled and a greedy tour per member); the same
  population halfway, when it had built as many as Poppy, is ``independent_equal``;
- nearest neighbour from city 0, and the optimal tour (Held-Karp dynamic programme) for the gap.
"""

from __future__ import annotations

import argparse
import itertools
import math
import time

import numpy as np
import torch

import poptune as pt
from poptune.family.winner_takes_all import poppy_loss, winner_mask

FULL = {"cities": 12, "members": 8, "dim": 32, "batch": 64, "pretrain": 160, "finetune": 140, "lr": 1e-3,
        "held_out": 200}
SMALL = {"cities": 8, "members": 4, "dim": 16, "batch": 32, "pretrain": 40, "finetune": 30, "lr": 2e-3,
         "held_out": 64}
HELD_OUT_SEED = 10_000  # the same held-out instances for every training seed
LAYERS, HEADS, CLIP = 2, 4, 10.0  # encoder depth, attention heads, tanh clipping of the logits


def instances(count: int, cities: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(count, cities, 2, generator=generator)  # (B, N, 2), uniform in the unit square


# -- the policy, for one member (vmapped over the population by pt.vectorized) ---------------------

def init_policy(dim: int):
    def init(generator: torch.Generator) -> dict[str, torch.Tensor]:
        shapes = {"embed": (2, dim), "ctx": (3 * dim, dim), "key": (dim, dim)}
        for layer in range(LAYERS):
            shapes.update({f"{layer}.{w}": (dim, dim) for w in ("q", "k", "v", "o")})
            shapes.update({f"{layer}.ff1": (dim, 2 * dim), f"{layer}.ff2": (2 * dim, dim)})
        # the query starts 10x smaller: a near-uniform first policy (with CLIP=10 and unit-scale
        # logits the untrained policy is nearly deterministic, and REINFORCE can stall on it)
        scale = {name: (0.1 if name == "ctx" else 1.0) / math.sqrt(shape[0]) for name, shape in shapes.items()}
        return {name: scale[name] * torch.randn(shape, generator=generator) for name, shape in shapes.items()}
    return init


def encode(p: dict[str, torch.Tensor], coords: torch.Tensor) -> torch.Tensor:
    h = coords @ p["embed"]  # (B, N, D)
    B, N, D = h.shape
    for layer in range(LAYERS):
        q, k, v = (torch.nn.functional.layer_norm(h, (D,)) @ p[f"{layer}.{w}"] for w in "qkv")
        q, k, v = (t.view(B, N, HEADS, D // HEADS).transpose(1, 2) for t in (q, k, v))  # (B, H, N, D/H)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // HEADS), dim=-1)  # (B, H, N, N)
        h = h + (att @ v).transpose(1, 2).reshape(B, N, D) @ p[f"{layer}.o"]
        h = h + torch.relu(torch.nn.functional.layer_norm(h, (D,)) @ p[f"{layer}.ff1"]) @ p[f"{layer}.ff2"]
    return torch.nn.functional.layer_norm(h, (D,))  # (B, N, D)


def rollout(p: dict[str, torch.Tensor], coords: torch.Tensor, noise: torch.Tensor):
    """Build one tour per instance: ``noise`` (B, N-1, N) is Gumbel noise (zeros: greedy).
    Returns the tours (B, N) and their log-probabilities (B,)."""
    h = encode(p, coords)  # (B, N, D)
    B, N, D = h.shape
    keys = h @ p["key"]  # (B, N, D)
    first = last = h[:, 0]  # (B, D)
    graph = h.mean(dim=1)  # (B, D)
    visited = torch.arange(N).expand(B, N) == 0  # (B, N)
    city = torch.zeros(B, dtype=torch.long)
    tour, logp = [city], torch.zeros(B)
    for t in range(N - 1):
        query = torch.cat([graph, first, last], dim=-1) @ p["ctx"]  # (B, D)
        logits = CLIP * torch.tanh((keys @ query[:, :, None]).squeeze(-1) / math.sqrt(D))  # (B, N)
        logprobs = torch.log_softmax(logits.masked_fill(visited, -math.inf), dim=-1)  # (B, N)
        city = (logprobs + noise[:, t]).argmax(dim=-1)  # (B,): Gumbel-max sampling
        logp = logp + logprobs.gather(1, city[:, None]).squeeze(1)
        visited = visited | torch.nn.functional.one_hot(city, N).bool()
        last = h.gather(1, city[:, None, None].expand(B, 1, D)).squeeze(1)  # (B, D)
        tour.append(city)
    return torch.stack(tour, dim=1), logp


def tour_lengths(coords: torch.Tensor, tours: torch.Tensor) -> torch.Tensor:
    """coords (B, N, 2), tours (..., B, N) -> lengths (..., B), the tour closed back to its start."""
    points = coords.expand(*tours.shape[:-2], *coords.shape).gather(-2, tours[..., None].expand(*tours.shape, 2))
    return (points - points.roll(-1, dims=-2)).norm(dim=-1).sum(dim=-1)


def tours_of(pop: pt.vectorized.Population, coords: torch.Tensor, generator: torch.Generator | None):
    """One tour per member and instance (greedy when ``generator`` is None): tours (P, B, N),
    log-probabilities (P, B), lengths (P, B)."""
    B, N, _ = coords.shape
    noise = torch.zeros(pop.size, B, N - 1, N)
    if generator is not None:
        noise = -noise.exponential_(generator=generator).clamp_min(1e-20).log()  # (P, B, N-1, N) Gumbel(0, 1)
    tours, logp = pop(coords.expand(pop.size, B, N, 2), noise, per_member=True)
    return tours, logp, tour_lengths(coords, tours)


# -- training ----------------------------------------------------------------------------------

def population(cfg: dict, members: int, seed: int) -> pt.vectorized.Population:
    return pt.vectorized.Population(pt.vectorized.Functional(rollout, init_policy(cfg["dim"])), members,
                                    optimizer=pt.vectorized.Adam(lr=cfg["lr"]), seed=seed)


def train(pop, cfg: dict, steps: int, generator: torch.Generator, objective: str, samples: int = 1) -> None:
    """``objective``: "reinforce" (each member alone; baseline: its greedy rollout, or with
    ``samples > 1`` the mean of the instance's samples) or "poppy" (winner takes all).
    ``samples`` tiles each instance that many times in a member's batch. ``generator`` draws
    the instances, and one seed per step for the sampling noise, so that every method given
    the same generator state trains on the same instances."""
    if objective not in ("reinforce", "poppy"):
        raise ValueError(f"train: objective must be 'reinforce' or 'poppy', got {objective!r}")
    for _ in range(steps):
        coords = instances(cfg["batch"], cfg["cities"], generator).repeat(samples, 1, 1)  # (S*B, N, 2)
        noise = torch.Generator().manual_seed(int(torch.randint(2**62, (), generator=generator)))
        _, logp, lengths = tours_of(pop, coords, noise)  # (P, S*B)
        if objective == "poppy":
            losses = poppy_loss(logp, lengths, direction="minimize")  # (P,)
        elif samples > 1:  # POMO's shared baseline: the mean length of the instance's S samples
            baseline = lengths.view(pop.size, samples, -1).mean(dim=1).repeat(1, samples)  # (P, S*B)
            losses = -((baseline - lengths) * logp).mean(dim=1)  # (P,)
        else:
            with torch.no_grad():
                baseline = tours_of(pop, coords, None)[2]  # (P, B) greedy rollout
            losses = -((baseline - lengths) * logp).mean(dim=1)  # (P,)
        pop.step(losses)


# -- references ----------------------------------------------------------------------------------

def nearest_neighbour(coords: np.ndarray) -> np.ndarray:
    """Tour lengths (B,) of the greedy nearest-neighbour tour from city 0."""
    B, N, _ = coords.shape
    dist = np.linalg.norm(coords[:, :, None] - coords[:, None], axis=-1)  # (B, N, N)
    visited, city, total = np.zeros((B, N), bool), np.zeros(B, int), np.zeros(B)
    visited[:, 0] = True
    rows = np.arange(B)
    for _ in range(N - 1):
        nxt = np.where(visited, np.inf, dist[rows, city]).argmin(axis=1)
        total += dist[rows, city, nxt]
        visited[rows, nxt], city = True, nxt
    return total + dist[rows, city, 0]


def optimal(coords: np.ndarray) -> np.ndarray:
    """Optimal tour lengths (B,) by Held-Karp dynamic programming, vectorised over instances
    (O(2^N N^2) per instance: fine up to about 15 cities)."""
    B, N, _ = coords.shape
    m = N - 1  # cities other than the start
    d = np.linalg.norm(coords[:, :, None] - coords[:, None], axis=-1).transpose(1, 2, 0)  # (N, N, B)
    dp = np.full((1 << m, m, B), np.inf)  # dp[S, j]: shortest path 0 -> S, ending at j
    for j in range(m):
        dp[1 << j, j] = d[0, j + 1]
    for size in range(2, m + 1):
        subsets = np.array([sum(1 << i for i in c) for c in itertools.combinations(range(m), size)])
        for j in range(m):
            s = subsets[(subsets >> j) & 1 == 1]
            dp[s, j] = (dp[s ^ (1 << j)] + d[1:, j + 1][None]).min(axis=1)  # (|s|, m, B) -> (|s|, B)
    return (dp[(1 << m) - 1] + d[1:, 0]).min(axis=0)


def fork(generator: torch.Generator) -> torch.Generator:
    copy = torch.Generator()
    copy.set_state(generator.get_state())
    return copy


def compare(seed: int, cfg: dict) -> dict:
    """Train every method for one seed (the same training instances) and score it on the held-out set."""
    torch.manual_seed(seed)
    held = instances(cfg["held_out"], cfg["cities"], torch.Generator().manual_seed(HELD_OUT_SEED))
    K, T1, T2, out = cfg["members"], cfg["pretrain"], cfg["finetune"], {}
    equal = (T1 + T2) // 2  # independent steps that build as many tours as Poppy (2 per member)
    out["tours_built"] = {"poppy": K * (T1 + T2), "single_samples": K * (T1 + T2),  # x batch
                          "independent": 2 * K * (T1 + T2), "independent_equal": 2 * K * equal}
    stream = torch.Generator().manual_seed(seed)  # the same training instances for every method
    started = time.perf_counter()
    shared = population(cfg, 1, seed)
    train(shared, cfg, T1, stream, "reinforce", samples=K)
    out["pretrain_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    poppy = population(cfg, K, seed)
    poppy.load_members([(shared.state_dict(), 0)] * K)  # phase 2 starts from K clones
    train(poppy, cfg, T2, fork(stream), "poppy")
    out["poppy_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    single = population(cfg, 1, seed)
    single.load_members([(shared.state_dict(), 0)])
    train(single, cfg, T2, fork(stream), "reinforce", samples=K)
    out["single_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    independent = population(cfg, K, seed + 7919)
    stream = torch.Generator().manual_seed(seed)
    train(independent, cfg, equal, stream, "reinforce")
    out["independent_equal_seconds"] = time.perf_counter() - started
    with torch.no_grad():  # the same population at equal tours built, then trained on
        independent_equal = tours_of(independent, held, None)[2]  # (K, B)
    train(independent, cfg, T1 + T2 - equal, stream, "reinforce")
    out["independent_seconds"] = time.perf_counter() - started

    with torch.no_grad():
        poppy_len = tours_of(poppy, held, None)[2]  # (K, B)
        independent_len = tours_of(independent, held, None)[2]  # (K, B)
        sampled = tours_of(single, held.repeat(K, 1, 1), torch.Generator().manual_seed(seed))[2]  # (1, K*B)
        sampled = sampled.view(K, -1)  # (K, B)
        single_greedy = tours_of(single, held, None)[2][0]  # (B,)
    wins = winner_mask(poppy_len, direction="minimize").sum(dim=1)  # (K,) held-out instances won
    out.update({
        "poppy": float(poppy_len.min(dim=0).values.mean()),
        "poppy_member_mean": float(poppy_len.mean()),
        "poppy_wins": [int(w) for w in wins],
        "independent": float(independent_len.min(dim=0).values.mean()),
        "independent_member_mean": float(independent_len.mean()),
        "independent_equal": float(independent_equal.min(dim=0).values.mean()),
        "single_samples": float(sampled.min(dim=0).values.mean()),
        "single_greedy": float(single_greedy.mean()),
    })
    return out


def held_out_references(cfg: dict) -> dict:
    held = instances(cfg["held_out"], cfg["cities"], torch.Generator().manual_seed(HELD_OUT_SEED)).numpy()
    return {"nearest_neighbour": float(nearest_neighbour(held).mean()), "optimal": float(optimal(held).mean())}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the CI configuration (seconds)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cfg = SMALL if args.small else FULL
    refs = held_out_references(cfg)
    result = {**compare(args.seed, cfg), **refs}
    print(f"{cfg['cities']} cities, K={cfg['members']}, {cfg['held_out']} held-out instances, seed {args.seed}: "
          f"mean tour length (gap to optimal)")
    for key in ("poppy", "independent", "independent_equal", "single_samples", "single_greedy", "nearest_neighbour", "optimal"):
        print(f"  {key:>18}: {result[key]:.4f} ({result[key] / refs['optimal'] - 1:+.2%})")
    print(f"  Poppy members' held-out wins: {result['poppy_wins']}")
    return result


if __name__ == "__main__":
    main()
