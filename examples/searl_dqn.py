"""SEARL-style DQN as a poptune run: one replay memory shared by the population, widths evolved.

    python examples/searl_dqn.py            # 4 members x 20 steps, shared and private, 3 seeds
    python examples/searl_dqn.py --small    # the CI version (seconds)

Franke et al. 2021 ("Sample-Efficient Automated Deep Reinforcement Learning") train a population
of off-policy agents that all write their transitions into one replay memory and sample from
everyone's, while the population evolves hyperparameters and architecture. Here, on
gymnasium's CartPole-v1 with DQN (MLP 4 -> hidden -> hidden -> 2, ReLU):

- a step collects ``ENV_STEPS`` transitions with the member's epsilon-greedy policy (its own
  environment, carried over from step to step), writes them as one shard of a
  ``poptune.family.SharedReplay`` (``<run dir>/replay/member-<id>/step-<n>.npz``), then runs
  ``UPDATES`` gradient updates on batches drawn from the replay, then scores the greedy policy
  on ``EVAL_EPISODES`` fixed episodes;
- a member's state is its online and target networks, its Adam state and its environment
  progress (the CartPole state mid-episode, env steps, episodes);
- PBT evolves ``lr`` and the width ``hidden``: ``explore=[pt.PerturbOrResample(),
  Widen("hidden")]`` perturbs ``lr`` and sometimes grows ``hidden``; a member whose width grew
  widens the copied weights Net2Net-style (``poptune.family.widen``: same function, more units)
  and starts a fresh Adam state.

``shared=False`` runs the same code with a private memory (each member samples only its own
shards), so both sides take the same env steps and the same gradient updates.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import statistics
from pathlib import Path

import numpy as np

import poptune as pt
from poptune.family.net2net import Widen, widen, width
from poptune.family.shared_replay import SharedReplay

ENV = "CartPole-v1"
MAX_STEPS = 500  # CartPole-v1's time limit
THRESHOLD = 195.0  # the classic "solved" return
ENV_STEPS = 500  # transitions collected per step, per member
UPDATES = 250  # gradient updates per step, per member
BATCH = 64
GAMMA = 0.99
EPS_DECAY = 5_000  # env steps (of the lineage) over which epsilon falls from 1 to 0.05
LEARN_START = 1_000  # transitions in the sampled memory before the first update
CAPACITY = 100_000
EVAL_EPISODES = 3
EVAL_SEEDS = tuple(range(1_000, 1_000 + EVAL_EPISODES))  # fixed: the score is the same episodes every step
HELD_OUT = tuple(range(10_000, 10_020))
SPACE = {"lr": pt.Float(1e-4, 3e-3, log=True), "hidden": pt.Int(16, 64)}
FULL = {"population": 4, "steps": 20, "interval": 4, "seeds": 3}
SMALL = {"population": 3, "steps": 4, "interval": 2, "seeds": 1}

_ENVS: dict[int, object] = {}
_REPLAYS: dict[tuple, SharedReplay] = {}  # one memory per process: shards are loaded once


def environment(member: int):
    if member not in _ENVS:
        import gymnasium as gym

        _ENVS[member] = gym.make(ENV).unwrapped  # the time limit is applied below
    return _ENVS[member]


def network(hidden: int):
    import torch

    return torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                               torch.nn.ReLU(), torch.nn.Linear(hidden, 2))


def greedy(params: list[np.ndarray], obs: np.ndarray) -> int:
    w1, b1, w2, b2, w3, b3 = params
    h = np.maximum(w1 @ obs + b1, 0)  # (hidden,)
    h = np.maximum(w2 @ h + b2, 0)  # (hidden,)
    return int(np.argmax(w3 @ h + b3))


def evaluate(params: list[np.ndarray], seeds=EVAL_SEEDS) -> float:
    env, returns = environment(-1), []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        total = 0.0
        for _ in range(MAX_STEPS):
            obs, reward, terminated, _, _ = env.step(greedy(params, obs))
            total += reward
            if terminated:
                break
        returns.append(total)
    return statistics.fmean(returns)


def memory(directory: Path, member: int, shared: bool) -> SharedReplay:
    key = (str(directory), None if shared else member)
    if key not in _REPLAYS:
        _REPLAYS[key] = SharedReplay(directory, CAPACITY, members=None if shared else [member])
    return _REPLAYS[key]


def train(member: pt.Member, replay_dir: str, shared: bool = True) -> None:
    import torch

    rng = np.random.default_rng(member.seed)
    replay = memory(Path(replay_dir), member.id, shared)
    replay.rewind(member.id, member.step)  # a resumed member redoes the steps after its checkpoint
    state = member.checkpoint
    hidden = max(member.hparams["hidden"], width(state["online"], "0")) if state else member.hparams["hidden"]
    online, target = network(hidden), network(hidden)
    optimizer = torch.optim.Adam(online.parameters(), lr=member.hparams["lr"], fused=True)
    env = environment(member.id)
    if state is None:
        obs, _ = env.reset(seed=member.seed)
        progress = {"t": 0, "env_steps": 0, "episodes": 0}
        target.load_state_dict(online.state_dict())
    else:
        online_sd, target_sd, grown = state["online"], state["target"], width(state["online"], "0") < hidden
        if grown:  # the copied network is narrower than this member's width: widen it, same function
            seed = int(rng.integers(2**63))
            online_sd, target_sd = (widen(widen(sd, "0", hidden, np.random.default_rng(seed)), "2", hidden,
                                          np.random.default_rng(seed + 1)) for sd in (state["online"], state["target"]))
        online.load_state_dict(online_sd)
        target.load_state_dict(target_sd)
        if not grown:
            optimizer.load_state_dict(state["optim"])
            for group in optimizer.param_groups:
                group["lr"] = member.hparams["lr"]
        env.reset(seed=member.seed)
        env.state, obs = np.array(state["env"]), np.array(state["env"], dtype=np.float32)
        progress = dict(state["progress"])

    def snapshot():
        return {"online": online.state_dict(), "target": target.state_dict(), "optim": optimizer.state_dict(),
                "env": [float(x) for x in env.state], "progress": dict(progress)}

    for step in member.steps():
        params = [p.detach().numpy() for p in online.parameters()]
        rows = {"obs": [], "action": [], "reward": [], "next_obs": [], "done": []}
        for _ in range(ENV_STEPS):  # collect with epsilon-greedy
            epsilon = max(0.05, 1.0 - 0.95 * progress["env_steps"] / EPS_DECAY)
            action = int(rng.integers(2)) if rng.random() < epsilon else greedy(params, obs)
            next_obs, reward, terminated, _, _ = env.step(action)
            progress["t"] += 1
            progress["env_steps"] += 1
            for name, value in zip(rows, (obs, action, reward, next_obs, terminated)):
                rows[name].append(value)
            obs = next_obs
            if terminated or progress["t"] >= MAX_STEPS:
                obs, _ = env.reset(seed=int(rng.integers(2**31)))
                progress["t"], progress["episodes"] = 0, progress["episodes"] + 1
        replay.write(member.id, step, **{name: np.asarray(values, dtype=np.float32 if name != "action" else np.int64)
                                         for name, values in rows.items()})
        replay.refresh()  # other members' newest shards
        target.load_state_dict(online.state_dict())  # the target network follows once per step
        for _ in range(UPDATES if len(replay) >= LEARN_START else 0):
            b = {k: torch.from_numpy(v) for k, v in replay.sample(BATCH, rng).items()}
            q = online(b["obs"]).gather(1, b["action"][:, None]).squeeze(1)  # (B,)
            with torch.no_grad():
                y = b["reward"] + GAMMA * (1 - b["done"]) * target(b["next_obs"]).max(1).values  # (B,)
            loss = torch.nn.functional.smooth_l1_loss(q, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        score = evaluate([p.detach().numpy() for p in online.parameters()])
        member.report(score, checkpoint=snapshot, env_steps=progress["env_steps"], hidden=hidden,
                      replay=len(replay), replay_members=len(replay.sources()))


def run_searl(seed: int, population: int, steps: int, interval: int, folder: Path, shared: bool = True,
              runner: str = "inline") -> pt.Result:
    folder = Path(folder) / f"{'shared' if shared else 'private'}-seed{seed}"
    shutil.rmtree(folder / "replay", ignore_errors=True)  # overwrite=True clears poptune's files, not ours
    return pt.run(functools.partial(train, replay_dir=str(folder / "replay"), shared=shared), SPACE,
                  population=population, steps=steps, interval=interval, exploit=pt.Truncation(0.25),
                  explore=[pt.PerturbOrResample(), Widen("hidden", by=16, probability=0.3)], runner=runner,
                  dir=folder, overwrite=True, seed=seed, progress=False)


def summary(result: pt.Result) -> dict:
    """Env steps the population had taken when a member first scored >= THRESHOLD; the best final member.

    Counted in report order (each report closes one step of ``ENV_STEPS``), not as ``step x
    population``: with the inline runner a member runs ``interval`` steps before the next one
    starts, so a member at step 5 may already sample other members' steps 6 to 8.
    """
    ordered = sorted(result.reports, key=lambda r: r.time)
    reached = [i + 1 for i, r in enumerate(ordered) if r.score >= THRESHOLD]
    best = result.checkpoint(result.best.id)
    hidden = width(best["online"], "0")
    net = network(hidden)
    net.load_state_dict(best["online"])
    return {"env_steps_to_threshold": min(reached) * ENV_STEPS if reached else None,
            "final_best_eval": result.best.score,
            "final_mean_eval": statistics.fmean(r.score for r in result.reports if r.step == result.best.step),
            "held_out": evaluate([p.detach().numpy() for p in net.parameters()], HELD_OUT),
            "best_hidden": hidden, "env_steps": len(result.reports) * ENV_STEPS,
            "max_replay_members": max(r.metrics["replay_members"] for r in result.reports)}


def main(argv: list[str] | None = None) -> None:
    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="the CI version: " + str(SMALL))
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--runner", default="inline", choices=["inline", "processes"])
    parser.add_argument("--dir", default="runs/example-searl-dqn")
    args = parser.parse_args(argv)
    size = dict(SMALL if args.small else FULL)
    size["seeds"] = args.seeds or size["seeds"]
    print(f"{size['population']} members x {size['steps']} steps x {ENV_STEPS} env steps, {UPDATES} updates per step, "
          f"ready every {size['interval']}; {size['seeds']} seeds")
    for shared in (True, False):
        rows = [summary(run_searl(seed, size["population"], size["steps"], size["interval"], Path(args.dir), shared,
                                  args.runner)) for seed in range(size["seeds"])]
        reached = [r["env_steps_to_threshold"] for r in rows]
        print(f"  {'shared' if shared else 'private'} replay: env steps to {THRESHOLD:g} {reached}, final best "
              f"eval {statistics.fmean(r['final_best_eval'] for r in rows):.1f}, held-out "
              f"{statistics.fmean(r['held_out'] for r in rows):.1f}, widths {[r['best_hidden'] for r in rows]}")


if __name__ == "__main__":
    main()
