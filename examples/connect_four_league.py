"""A self-play league on PettingZoo's Connect Four, against one self-play learner at equal compute.

    pip install 'poptune[pettingzoo]'                 # pettingzoo, pygame (connect_four_v3 imports it), torch
    python examples/connect_four_league.py              # 3 seeds, a few minutes on 2 cores
    python examples/connect_four_league.py --small      # 1 seed of a short run (seconds; CI)
    python -m benchmarks.league_pettingzoo              # the same comparison, written to benchmarks/results/

The game is ``pettingzoo.classic.connect_four_v3``, played through the AEC API (``env.agent_iter()``,
``env.last()``, the observation's ``action_mask``). A policy is a tiny MLP (84 board inputs: the
mover's stones and the other side's, 64 tanh units, 7 column logits; illegal columns masked),
trained by REINFORCE: every move of a game gets the game's outcome (+1, 0, -1) minus the batch
mean, plus an entropy bonus, one Adam update per step from that step's ``GAMES`` games. The
hyperparameters PBT tunes are ``lr`` and ``entropy`` (the bonus's weight).

Three ways to spend the same games and updates (``POPULATION * STEPS`` updates of ``GAMES`` games):

- ``league + PBT``: a ``pt.League`` of members, PFSP opponents among live members and snapshots,
  Elo from the games as fitness, ``Truncation(0.25)`` exploit with perturbed hyperparameters;
- ``league, no PBT``: the same league with ``exploit=None`` (each member keeps its draw);
- ``self-play, random hparams``: one learner against its current policy (it learns from the moves
  of both seats), lr and entropy drawn from the same space, one draw per seed;
- ``self-play, default hparams``: the same with ``DEFAULT`` (Adam's usual lr, a small bonus).

What each method would ship is then held out against fixed opponents that never train: ``random``
(a legal column at random), ``greedy`` (wins now if it can, else blocks the other side's immediate
win, else random) and ``minimax-2`` (depth-2 search, win/loss exact, leaves scored by open
lines of 2 and 3 and the centre column), ``EVAL_GAMES`` games each, alternating who starts.
For the league: its top-rated live member, and its Nash mixture (``result.nash()``), a player
drawn from the mixture for each game. Policies play by sampling, as they trained.

What the numbers say (``benchmarks/README.md``, 3 seeds): every method learns against random play
(an untrained policy wins about half), the league's top-rated member most (0.88 to 0.91 of games
won, against 0.71 to 0.74 for the self-play learner), with or without PBT: the gain is the
population (six hyperparameter draws, the top one picked by Elo, and varied opponents), not the
exploit. No method beats the tactical bots at this budget (greedy: 0.04 to 0.10 of games won,
within the noise of each other; depth-2 minimax: none).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
from pathlib import Path

import numpy as np
import torch
import pettingzoo

import poptune as pt
from poptune.league import Player


def connect_four():
    """PettingZoo's ``connect_four_v3`` (AEC): through the registry where PettingZoo has one (1.27
    deprecates importing the module), else the module."""
    if hasattr(pettingzoo, "make"):
        return pettingzoo.make("aec", "classic/connect_four-v3")
    from pettingzoo.classic import connect_four_v3

    return connect_four_v3.env()

POPULATION, STEPS, INTERVAL, GAMES = 6, 30, 5, 32  # a league run: 6 * 30 = 180 updates, 5,760 games
OPPONENTS, MAX_SNAPSHOTS, HIDDEN, EVAL_GAMES = 4, 36, 64, 100
SPACE = {"lr": pt.Float(1e-4, 0.1, log=True), "entropy": pt.Float(1e-4, 0.3, log=True)}
DEFAULT = {"lr": 1e-3, "entropy": 0.01}
SMALL = dict(population=4, steps=10, games=32, eval_games=40, seeds=1)
ROWS, COLS = 6, 7


# -- the policy: a tiny MLP; numpy plays the moves, torch computes the update -------------------

def make_model() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(2 * ROWS * COLS, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, COLS))


def features(obs: dict) -> np.ndarray:
    return obs["observation"].reshape(-1).astype(np.float32)  # (84,): planes of (6, 7, 2), the mover's first


class Policy:
    """Plays a model's masked softmax with numpy (views of the torch weights: updates show through)."""

    def __init__(self, model: torch.nn.Module, rng: np.random.Generator):
        self.w1, self.b1, self.w2, self.b2 = (p.detach().numpy() for p in model.parameters())
        self.rng = rng

    def __call__(self, obs: dict, moves: list | None = None) -> int:
        x, mask = features(obs), obs["action_mask"].astype(bool)
        z = np.tanh(x @ self.w1.T + self.b1) @ self.w2.T + self.b2  # (7,)
        z = np.where(mask, z - z[mask].max(), -np.inf)
        p = np.exp(z) / np.exp(z).sum()
        action = int(self.rng.choice(COLS, p=p))
        if moves is not None:
            moves.append((x, mask, action))
        return action


def random_player(rng: np.random.Generator):
    return lambda obs, moves=None: int(rng.choice(np.flatnonzero(obs["action_mask"])))


def load_policy(state: dict | None, rng: np.random.Generator):
    """A saved state's policy (``{"model": state_dict, ...}``); ``None`` (a member that saved nothing
    yet) plays an untrained model (not the held-out random bot: no method trains against that)."""
    model = make_model()
    if state is not None:
        model.load_state_dict(state["model"])
    return Policy(model, rng)


def update(model, optimizer, samples: list, entropy: float) -> None:
    """One REINFORCE step: ``samples`` are ``(x, mask, action, outcome)`` for every move learned from."""
    x = torch.from_numpy(np.stack([s[0] for s in samples]))  # (N, 84)
    mask = torch.from_numpy(np.stack([s[1] for s in samples]))  # (N, 7)
    action = torch.tensor([s[2] for s in samples])  # (N,)
    outcome = torch.tensor([s[3] for s in samples], dtype=torch.float32)  # (N,)
    logp = torch.log_softmax(model(x).masked_fill(~mask, -1e9), dim=1)  # (N, 7)
    bonus = -(logp.exp() * logp).sum(1).mean()
    loss = -((outcome - outcome.mean()) * logp.gather(1, action[:, None])[:, 0]).mean() - entropy * bonus
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


# -- games through PettingZoo's AEC API ----------------------------------------------------------

def play(env, first, second) -> tuple[float, list, list]:
    """One game, ``first`` moving first. Returns ``first``'s reward (+1 win, 0 draw, -1 loss) and
    each seat's moves ``(x, mask, action)``. A player is ``f(obs, moves) -> column``."""
    env.reset()
    seats = dict(zip(env.agents, (first, second)))
    moves = {agent: [] for agent in env.agents}
    rewards = {}
    for agent in env.agent_iter():
        obs, reward, termination, truncation, _ = env.last()
        if termination or truncation:
            rewards[agent] = reward
            env.step(None)
        else:
            env.step(seats[agent](obs, moves[agent]))
    a, b = env.possible_agents
    return float(rewards[a]), moves[a], moves[b]


def played(samples: list, moves: list, reward: float) -> None:
    samples.extend((x, mask, action, reward) for x, mask, action in moves)


# -- the held-out opponents: they never train ------------------------------------------------------

def _windows() -> np.ndarray:
    cells = np.arange(ROWS * COLS).reshape(ROWS, COLS)
    out = []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        for r in range(ROWS):
            for c in range(COLS):
                line = [(r + i * dr, c + i * dc) for i in range(4)]
                if all(0 <= rr < ROWS and 0 <= cc < COLS for rr, cc in line):
                    out.append([cells[rr, cc] for rr, cc in line])
    return np.array(out)  # (69, 4): every line of four, as flat cells


WINDOWS = _windows()
LINE_VALUE = np.array([0.0, 0.0, 1.0, 5.0, 0.0])  # open lines holding 2 and 3 of one side's stones
CENTRE = np.arange(ROWS) * COLS + COLS // 2


def drop(mine: np.ndarray, theirs: np.ndarray, col: int) -> np.ndarray:
    """``mine`` with a stone dropped in ``col`` (flat (42,) planes; row 0 is the top)."""
    free = np.flatnonzero((mine + theirs)[col::COLS] == 0)
    out = mine.copy()
    out[free[-1] * COLS + col] = 1
    return out


def wins(stones: np.ndarray) -> bool:
    return bool((stones[WINDOWS].sum(1) == 4).any())


def legal(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    return np.flatnonzero((mine + theirs)[:COLS] == 0)


def value(mine: np.ndarray, theirs: np.ndarray) -> float:
    m, t = mine[WINDOWS].sum(1), theirs[WINDOWS].sum(1)  # (69,)
    return float(((t == 0) * LINE_VALUE[m]).sum() - ((m == 0) * LINE_VALUE[t]).sum()
                 + 0.5 * (mine[CENTRE].sum() - theirs[CENTRE].sum()))


def greedy_player(rng: np.random.Generator):
    """Win now if possible, else block the other side's immediate win, else a random legal column."""
    def act(obs, moves=None):
        mine, theirs = (obs["observation"][..., i].reshape(-1).astype(np.int64) for i in (0, 1))
        cols = legal(mine, theirs)
        for stones, other in ((mine, theirs), (theirs, mine)):
            for col in cols:
                if wins(drop(stones, other, col)):
                    return int(col)
        return int(rng.choice(cols))
    return act


def minimax_player(rng: np.random.Generator):
    """Depth-2 search: each own move, then the reply that is worst for us; a win ends the search."""
    def act(obs, moves=None):
        mine, theirs = (obs["observation"][..., i].reshape(-1).astype(np.int64) for i in (0, 1))
        scores = {}
        for col in legal(mine, theirs):
            after = drop(mine, theirs, col)
            if wins(after):
                return int(col)
            replies = [drop(theirs, after, reply) for reply in legal(after, theirs)]
            scores[col] = min((-1e6 if wins(t) else value(after, t) for t in replies), default=0.0)
        best = max(scores.values())
        return int(rng.choice([c for c, s in scores.items() if s == best]))
    return act


BOTS = {"random": random_player, "greedy": greedy_player, "minimax-2": minimax_player}


def evaluate(make_player, bot: str, games: int, seed: int) -> dict[str, float]:
    """Win/draw/loss rates of ``make_player()`` (called once per game) against ``BOTS[bot]``, each
    side starting half of the games."""
    env, rng = connect_four(), np.random.default_rng([seed, 99])
    opponent = BOTS[bot](rng)
    outcomes = []
    for game in range(games):
        player = make_player()
        outcomes.append(play(env, player, opponent)[0] if game % 2 == 0 else -play(env, opponent, player)[0])
    outcomes = np.array(outcomes)
    return {"win": float((outcomes > 0).mean()), "draw": float((outcomes == 0).mean()), "loss": float((outcomes < 0).mean())}


# -- training: a league member, and the self-play learner ----------------------------------------

def train(member, games: int = GAMES, archive: Path | None = None):
    """A league member: every step, ``games`` games against the stretch's opponents (each seat in
    turn), every game reported as a match, then one update. Its score is its share of this step's
    games won, for the record: the fitness PBT ranks by is the Elo rating of the matches."""
    rng = np.random.default_rng(member.seed)
    env, model = connect_four(), make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=member.hparams["lr"])
    pt.torch_restore(member, model, optimizer)
    me = Policy(model, rng)
    for step in member.steps():
        drawn = member.opponents
        samples, won = [], 0.0
        for game in range(games):
            opponent = drawn[game % len(drawn)]
            other = me if opponent.is_self else load_policy(opponent.checkpoint, rng)
            first, second = (me, other) if (game // len(drawn)) % 2 == 0 else (other, me)
            reward, moves_first, moves_second = play(env, first, second)
            mine, theirs = (reward, -reward) if first is me else (-reward, reward)
            played(samples, moves_first if first is me else moves_second, mine)
            if opponent.is_self:  # its own current policy: the other seat's moves are its moves too
                played(samples, moves_second, theirs)
            else:
                member.report_match(opponent, (mine + 1) / 2)
            won += mine > 0
        update(model, optimizer, samples, member.hparams["entropy"])
        if archive is not None and step % INTERVAL == 0:  # the state that snapshot Player(member, step) holds
            torch.save(pt.torch_checkpoint(model), archive / f"{member.id}@{step}.pt")
        member.report(won / games, checkpoint=lambda: pt.torch_checkpoint(model, optimizer))


def self_play(hparams: dict, seed: int, updates: int, games: int = GAMES):
    """One learner, all of a league's updates and games, against its own current policy."""
    torch.manual_seed(seed)
    rng, env, model = np.random.default_rng(seed), connect_four(), make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=hparams["lr"])
    me = Policy(model, rng)
    for _ in range(updates):
        samples = []
        for _ in range(games):
            reward, moves_first, moves_second = play(env, me, me)
            played(samples, moves_first, reward)
            played(samples, moves_second, -reward)
        update(model, optimizer, samples, hparams["entropy"])
    return model


def run_league(seed: int, dir: Path, population: int = POPULATION, steps: int = STEPS, games: int = GAMES,
               exploit: bool = True) -> pt.Result:
    archive = Path(dir) / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    league = pt.League(pt.league.PFSP(), pt.league.Elo(), opponents=OPPONENTS, max_snapshots=MAX_SNAPSHOTS)
    return pt.run(functools.partial(train, games=games, archive=archive), SPACE, population=population, steps=steps,
                  interval=INTERVAL, exploit=pt.Truncation(0.25) if exploit else None, league=league, runner="inline", dir=dir,
                  overwrite=True, seed=seed, progress=False)


def state_of(result: pt.Result, player: Player) -> dict:
    """A player's saved state: a live member's final state, or the snapshot the example archived."""
    if not player.is_snapshot:
        return result.checkpoint(player.member)
    return torch.load(Path(result.dir) / "archive" / f"{player.member}@{player.step}.pt", weights_only=True)


def deployed_league(result: pt.Result, seed: int, eval_games: int = EVAL_GAMES) -> dict[tuple[str, str], float]:
    """The league's top-rated member and its Nash mixture against every held-out bot."""
    ratings, mixture = result.ratings(), result.nash()
    top = max((Player(m.id) for m in result.members), key=lambda p: ratings.get(p, -np.inf))
    players = [p for p, w in mixture.items() if w > 0]
    weights = np.array([mixture[p] for p in players])
    rng = np.random.default_rng([seed, 7])
    policies = [load_policy(state_of(result, p), rng) for p in players]
    best = load_policy(result.checkpoint(top.member), rng)
    out = {}
    for bot in BOTS:
        for deployed, make in (("top-rated member", lambda: best),
                               ("Nash mixture", lambda: policies[rng.choice(len(policies), p=weights / weights.sum())])):
            out |= {(deployed, bot, k): v for k, v in evaluate(make, bot, eval_games, seed).items()}
    return out


def deployed_model(model, seed: int, eval_games: int = EVAL_GAMES) -> dict:
    rng = np.random.default_rng([seed, 7])
    policy = Policy(model, rng)
    return {(bot, k): v for bot in BOTS for k, v in evaluate(lambda: policy, bot, eval_games, seed).items()}


def random_hparams(seed: int) -> dict:
    """What a user without tuning would pick: one draw from SPACE per seed."""
    return pt.Space(SPACE).sample(np.random.default_rng([seed, 17]))


def compare(seed: int, root: Path, population: int = POPULATION, steps: int = STEPS, games: int = GAMES,
            eval_games: int = EVAL_GAMES) -> tuple[dict, pt.Result]:
    """``{(method, deployed, bot, win|draw|loss): rate}`` for one seed, and the PBT league's result."""
    torch.set_num_threads(1)
    out = {}
    for method, exploit in (("league, no PBT", False), ("league + PBT", True)):
        result = run_league(seed, root / f"{method.replace(' ', '').replace(',', '-')}-{seed}", population, steps,
                            games, exploit)
        out |= {(method, *k): v for k, v in deployed_league(result, seed, eval_games).items()}
    for method, hparams in (("self-play, random hparams", random_hparams(seed)), ("self-play, default hparams", DEFAULT)):
        model = self_play(hparams, seed, population * steps, games)
        out |= {(method, "last iterate", *k): v for k, v in deployed_model(model, seed, eval_games).items()}
    return out, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="a short run and 1 seed (CI)")
    args = parser.parse_args()
    size = dict(population=POPULATION, steps=STEPS, games=GAMES, eval_games=EVAL_GAMES)
    seeds = args.seeds
    if args.small:
        size, seeds = {k: v for k, v in SMALL.items() if k != "seeds"}, min(seeds, SMALL["seeds"])
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            rates, result = compare(seed, Path(tmp), **size)
            runs.append(rates)
            ratings = sorted(result.ratings().items(), key=lambda kv: -kv[1])
            print(f"seed {seed}: {len(result.matches)} matches; top ratings "
                  + ", ".join(f"{p} {r:.0f}" for p, r in ratings[:6]), flush=True)
    updates = size["population"] * size["steps"]
    print(f"win / draw / loss vs held-out bots, {updates} updates of {size['games']} games per method, "
          f"{size['eval_games']} games per bot, {seeds} seeds:")
    for method, deployed, bot in dict.fromkeys(k[:3] for k in runs[0]):
        cells = []
        for k in ("win", "draw", "loss"):
            values = [r[(method, deployed, bot, k)] for r in runs]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.fmean(values):.2f} +- {spread:.2f}")
        print(f"{method:>26} | {deployed:<16} | {bot:<9}: " + " / ".join(cells))


if __name__ == "__main__":
    main()
