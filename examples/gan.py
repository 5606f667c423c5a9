"""PBT for GANs (as in the PBT paper): a small GAN on a 2-D mixture of 8 Gaussians, binary tournament.

    python -m pip install -e '.[torch]' torch==2.13.0
    python examples/gan.py                      # 8 members x 20 steps, about 40 s on 2 cores
    poptune report runs/example-gan

The data are 8 Gaussians on a ring (generated, nothing to download). One step is 100 training
iterations of generator and discriminator (batches of 256). The score, minimized, is the energy
distance between 2,048 generated points and 2,048 points of the true mixture: 0 only when the
two distributions match, so a generator that drops modes or blurs them scores worse. Also
reported: how many of the 8 modes receive samples and the share of samples near a mode.
PBT moves the generator's and the discriminator's learning rates.
"""

from __future__ import annotations

import argparse
import math

import torch
from torch import nn

import poptune as pt

SPACE = {
    "lr_g": pt.Float(1e-4, 1e-2, log=True),
    "lr_d": pt.Float(1e-4, 1e-2, log=True),
}
MODES, RADIUS, STD = 8, 2.0, 0.05
NOISE, WIDTH, BATCH, ITERATIONS = 8, 128, 256, 100
CENTERS = torch.tensor([[RADIUS * math.cos(2 * math.pi * k / MODES), RADIUS * math.sin(2 * math.pi * k / MODES)]
                        for k in range(MODES)])


def real(n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` points of the mixture."""
    modes = torch.randint(MODES, (n,), generator=generator)
    return CENTERS[modes] + STD * torch.randn(n, 2, generator=generator)


def mlp(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH), nn.ReLU(),
                         nn.Linear(WIDTH, outputs))


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """2 E|X - Y| - E|X - X'| - E|Y - Y'| (Szekely): zero iff the distributions are equal."""
    return float(2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean() - torch.cdist(y, y).mean())


def mode_stats(samples: torch.Tensor) -> tuple[int, float]:
    """Modes that get at least 1% of the samples within 3 standard deviations; share of such samples."""
    distance, nearest = torch.cdist(samples, CENTERS).min(dim=1)
    good = distance < 3 * STD
    counts = torch.bincount(nearest[good], minlength=MODES)
    return int((counts >= 0.01 * len(samples)).sum()), float(good.float().mean())


def evaluate(generator_net: nn.Module) -> dict:
    """Quality of 2,048 samples from fixed noise against 2,048 fixed points of the mixture."""
    fixed = torch.Generator().manual_seed(12345)
    target, z = real(2048, fixed), torch.randn(2048, NOISE, generator=fixed)
    with torch.no_grad():
        samples = generator_net(z)
    modes, quality = mode_stats(samples)
    return {"energy": energy_distance(samples, target), "modes": modes, "near_mode": quality}


def train(member: pt.Member) -> None:
    h = member.hparams
    torch.set_num_threads(1)
    torch.manual_seed(member.seed)
    g, d = mlp(NOISE, 2), mlp(2, 1)
    opt_g = torch.optim.Adam(g.parameters(), lr=h["lr_g"], betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=h["lr_d"], betas=(0.5, 0.999))
    if member.checkpoint is not None:  # own state after a pause, or the tournament winner's
        for module, key in ((g, "g"), (d, "d"), (opt_g, "opt_g"), (opt_d, "opt_d")):
            module.load_state_dict(member.checkpoint[key])
        opt_g.param_groups[0]["lr"], opt_d.param_groups[0]["lr"] = h["lr_g"], h["lr_d"]
    data = torch.Generator().manual_seed(member.seed)
    bce = nn.functional.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
    for _ in member.steps():
        for _ in range(ITERATIONS):
            fake = g(torch.randn(BATCH, NOISE, generator=data))
            loss_d = bce(d(real(BATCH, data)), ones) + bce(d(fake.detach()), zeros)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = bce(d(fake), ones)  # the non-saturating generator loss
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        quality = evaluate(g)
        member.report(
            quality.pop("energy"),
            checkpoint=lambda: {"g": g.state_dict(), "d": d.state_dict(), "opt_g": opt_g.state_dict(),
                                "opt_d": opt_d.state_dict()},
            **quality,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = pt.run(train, SPACE, population=args.population, steps=args.steps, interval=2, direction="minimize",
                    exploit=pt.Tournament(), dir="runs/example-gan", overwrite=True, seed=args.seed)
    best = result.best
    metrics = next(r.metrics for r in result.reports if (r.member, r.step) == (best.id, best.step))
    print(f"best member {best.id}: energy distance {best.score:.4f}, {metrics['modes']}/{MODES} modes, "
          f"{metrics['near_mode']:.0%} of samples near a mode")
    for step, hparams in result.schedule():
        print(f"  from step {step + 1}: lr_g={hparams['lr_g']:.3g} lr_d={hparams['lr_d']:.3g}")


if __name__ == "__main__":
    main()
