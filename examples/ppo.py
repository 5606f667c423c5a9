"""PBT for deep RL: a compact PPO on gymnasium's classic control, tuned while it trains.

    python -m pip install -e '.[torch,rl]' torch==2.13.0
    python examples/ppo.py                          # CartPole-v1, 8 members x 60 iterations
    python examples/ppo.py --task Acrobot-v1 --steps 80
    poptune report runs/example-ppo-CartPole-v1     # the schedule PBT found for lr, entropy, clip, lambda

One step is one PPO iteration: a rollout of 8 environments x 128 steps (1,024 environment steps)
and 4 epochs of minibatch updates on it. The score is the mean return of the last 20 finished
training episodes, as in the PBT paper's RL experiments. PBT changes the learning rate, the
entropy coefficient, the clip range and GAE's lambda of the population while it trains.
"""

from __future__ import annotations

import argparse
import functools
from collections import deque

import gymnasium as gym
import numpy as np
import torch
from torch import nn

import poptune as pt

SPACE = {
    "lr": pt.Float(1e-4, 3e-3, log=True),
    "ent_coef": pt.Float(1e-4, 0.05, log=True),
    "clip": pt.Float(0.05, 0.4),
    "gae_lambda": pt.Float(0.8, 0.99),
}
THRESHOLDS = {"CartPole-v1": 475.0, "Acrobot-v1": -100.0}  # gymnasium's reward_threshold of each task
ENVS, HORIZON, GAMMA, EPOCHS, MINIBATCHES = 8, 128, 0.99, 4, 4
STEPS_PER_ITERATION = ENVS * HORIZON


class Agent(nn.Module):
    def __init__(self, obs_dim: int, actions: int):
        super().__init__()

        def mlp(out: int, gain: float) -> nn.Sequential:
            net = nn.Sequential(nn.Linear(obs_dim, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, out))
            for layer in net[::2]:
                nn.init.orthogonal_(layer.weight, gain if layer is net[-1] else np.sqrt(2))
                nn.init.zeros_(layer.bias)
            return net

        self.actor, self.critic = mlp(actions, 0.01), mlp(1, 1.0)

    def dist(self, obs: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.actor(obs))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)


def advantages(rewards, values, dones, last_value, lam):
    """GAE(gamma, lambda) over a rollout of shape (HORIZON, ENVS); ``dones[t]`` ends the episode after step t."""
    adv, running = torch.zeros_like(rewards), torch.zeros(rewards.shape[1])
    for t in reversed(range(len(rewards))):
        next_value = last_value if t == len(rewards) - 1 else values[t + 1]
        alive = 1.0 - dones[t]
        delta = rewards[t] + GAMMA * next_value * alive - values[t]
        running = delta + GAMMA * lam * alive * running
        adv[t] = running
    return adv


def update(agent, opt, h, obs, actions, logp_old, adv, returns, generator):
    """PPO's clipped objective, EPOCHS passes over MINIBATCHES shuffled minibatches."""
    n = len(obs)
    for _ in range(EPOCHS):
        for idx in torch.randperm(n, generator=generator).chunk(MINIBATCHES):
            dist = agent.dist(obs[idx])
            ratio = torch.exp(dist.log_prob(actions[idx]) - logp_old[idx])
            a = adv[idx]
            a = (a - a.mean()) / (a.std() + 1e-8)
            policy_loss = -torch.min(ratio * a, ratio.clamp(1 - h["clip"], 1 + h["clip"]) * a).mean()
            value_loss = 0.5 * (agent.value(obs[idx]) - returns[idx]).pow(2).mean()
            loss = policy_loss + 0.5 * value_loss - h["ent_coef"] * dist.entropy().mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
            opt.step()


def train(member: pt.Member, task: str = "CartPole-v1") -> None:
    h = member.hparams
    torch.set_num_threads(1)
    torch.manual_seed(member.seed)
    envs = gym.vector.SyncVectorEnv([lambda: gym.make(task)] * ENVS, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    agent = Agent(envs.single_observation_space.shape[0], envs.single_action_space.n)
    opt = torch.optim.Adam(agent.parameters(), lr=h["lr"], eps=1e-5)
    recent = deque(maxlen=20)  # returns of the last finished episodes: the score
    if member.checkpoint is not None:  # own state after a pause, or the source's after an exploit
        agent.load_state_dict(member.checkpoint["agent"])
        opt.load_state_dict(member.checkpoint["opt"])
        recent.extend(member.checkpoint["recent"])
        for group in opt.param_groups:
            group["lr"] = h["lr"]
    generator = torch.Generator().manual_seed(member.seed)
    obs, _ = envs.reset(seed=int(np.random.default_rng([member.seed, member.id]).integers(2**31)))
    episode_return = np.zeros(ENVS)
    for step in member.steps():
        batch = {k: [] for k in ("obs", "actions", "logp", "values", "rewards", "dones")}
        for _ in range(HORIZON):
            x = torch.as_tensor(obs, dtype=torch.float32)
            with torch.no_grad():
                dist = agent.dist(x)
                action = dist.sample()
                batch["logp"].append(dist.log_prob(action))
                batch["values"].append(agent.value(x))
            obs, reward, terminated, truncated, _ = envs.step(action.numpy())
            done = terminated | truncated  # a time-limit end counts as an end (kept simple)
            episode_return += reward
            recent.extend(episode_return[done])
            episode_return[done] = 0.0
            batch["obs"].append(x)
            batch["actions"].append(action)
            batch["rewards"].append(torch.as_tensor(reward, dtype=torch.float32))
            batch["dones"].append(torch.as_tensor(done, dtype=torch.float32))
        rollout = {k: torch.stack(v) for k, v in batch.items()}
        with torch.no_grad():
            last_value = agent.value(torch.as_tensor(obs, dtype=torch.float32))
        adv = advantages(rollout["rewards"], rollout["values"], rollout["dones"], last_value, h["gae_lambda"])
        flat = {k: v.flatten(0, 1) for k, v in rollout.items()}
        update(agent, opt, h, flat["obs"], flat["actions"], flat["logp"], adv.flatten(), (adv + rollout["values"]).flatten(),
               generator)
        score = float(np.mean(recent)) if recent else float(np.sum(episode_return) / ENVS)
        member.report(
            score,
            checkpoint=lambda: {"agent": agent.state_dict(), "opt": opt.state_dict(), "recent": list(recent)},
            env_steps=step * STEPS_PER_ITERATION,
            episodes=len(recent),
        )
    envs.close()


def first_step_at(result: pt.Result, threshold: float) -> int | None:
    """Environment steps per member until the first member's score reached ``threshold`` (None: never)."""
    reached = [r.step for r in result.reports if r.score >= threshold]
    return min(reached) * STEPS_PER_ITERATION if reached else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="CartPole-v1", choices=sorted(THRESHOLDS))
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--steps", type=int, default=60, help="PPO iterations per member")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = pt.run(
        functools.partial(train, task=args.task), SPACE, population=args.population, steps=args.steps, interval=5,
        exploit=pt.Truncation(0.25), dir=f"runs/example-ppo-{args.task}", overwrite=True, seed=args.seed,
    )
    best, threshold = result.best, THRESHOLDS[args.task]
    reached = first_step_at(result, threshold)
    print(f"{args.task}: best member {best.id} mean return {best.score:.1f} "
          f"(threshold {threshold:g} reached after {reached if reached else 'no'} environment steps per member)")
    for step, hparams in result.schedule():
        print(f"  from iteration {step + 1}: " + " ".join(f"{k}={v:.3g}" for k, v in hparams.items()))


if __name__ == "__main__":
    main()
