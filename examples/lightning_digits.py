"""PBT with PyTorch Lightning: scikit-learn's digits, an MLP LightningModule, one Trainer per member.

    python -m pip install -e '.[lightning]' scikit-learn
    python examples/lightning_digits.py             # 8 members x 12 epochs, about 20 s on 2 cores
    python examples/lightning_digits.py --small     # 4 members x 4 epochs, for CI

One step is one epoch; the score is the validation accuracy the module logs as "val_acc".
``PoptuneCallback`` restores the member's state (after an exploit: the source's) with
``member.hparams`` in the optimizer, reports every epoch and stops the Trainer at the end of the
member's segment. Everything Lightning would write (checkpoints, logs) is off: poptune keeps both.
"""

import argparse
import logging

import lightning.pytorch as L
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import poptune as pt
from poptune.integrations.lightning import PoptuneCallback

# -- data: loaded once, before the workers start (forked workers share it) -------------------
x, y = load_digits(return_X_y=True)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, stratify=y, random_state=0)
mean, std = x_train.mean(0), x_train.std(0) + 1e-6
TRAIN = torch.utils.data.TensorDataset(torch.tensor((x_train - mean) / std, dtype=torch.float32), torch.tensor(y_train))
VAL = torch.utils.data.TensorDataset(torch.tensor((x_val - mean) / std, dtype=torch.float32), torch.tensor(y_val))

SPACE = {
    "lr": pt.Float(1e-3, 1.0, log=True),
    "momentum": pt.Float(0.0, 0.99),
    "width": pt.Int(32, 256, log=True, explore=False),  # architecture: fixed per lineage
}


class MLP(L.LightningModule):
    def __init__(self, width, lr, momentum):
        super().__init__()
        self.lr, self.momentum = lr, momentum
        self.net = torch.nn.Sequential(torch.nn.Linear(64, width), torch.nn.ReLU(), torch.nn.Linear(width, 10))

    def training_step(self, batch, _):
        x, y = batch  # (B, 64), (B,)
        loss = torch.nn.functional.cross_entropy(self.net(x), y)
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        self.log("val_acc", (self.net(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        # the callback overwrites lr and momentum with member.hparams after loading the state
        return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=self.momentum)


def train(member: pt.Member):
    h = member.hparams
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no "GPU available" per Trainer
    trainer = L.Trainer(
        max_epochs=member.budget,  # one step = one epoch; the callback starts at member.step
        callbacks=[PoptuneCallback(member, monitor="val_acc")],
        accelerator="cpu", devices=1,  # one process per member: poptune runs members in parallel
        enable_checkpointing=False, logger=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(MLP(h["width"], h["lr"], h["momentum"]),
                torch.utils.data.DataLoader(TRAIN, batch_size=32, shuffle=True),
                torch.utils.data.DataLoader(VAL, batch_size=256))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="4 members x 4 epochs (CI)")
    cli = parser.parse_args()
    population, epochs = (4, 4) if cli.small else (8, 12)
    result = pt.run(train, SPACE, population=population, steps=epochs, interval=2, dir="runs/example-lightning",
                    overwrite=True, seed=0, progress=False)
    best = result.best
    print(f"{population} members x {epochs} epochs; best member {best.id}: validation {best.score:.2%}")
    for step, hparams in result.schedule():
        print(f"  from epoch {step + 1}: lr={hparams['lr']:.3g} momentum={hparams['momentum']:.2f}")
