"""PBT with the Hugging Face Trainer: scikit-learn's digits, a small MLP, one Trainer per member.

    python -m pip install -e '.[huggingface]' scikit-learn
    python examples/huggingface_digits.py           # 8 members x 12 epochs, about 20 s on 2 cores
    python examples/huggingface_digits.py --small   # 4 members x 4 epochs, for CI

One step is one evaluation, here one epoch (``eval_strategy="epoch"``); the score is the
``eval_accuracy`` that ``compute_metrics`` returns. Hyperparameters named like
``TrainingArguments`` (``learning_rate``, ``weight_decay``) are written into the optimizer and the
learning-rate schedule after every restore. Any ``torch.nn.Module`` that returns a loss works
with the Trainer; a ``PreTrainedModel`` built from a config does too.
"""

import argparse
import tempfile

import torch
import transformers
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import poptune as pt
from poptune.integrations.huggingface import PoptuneCallback

# -- data: loaded once, before the workers start (forked workers share it) -------------------
x, y = load_digits(return_X_y=True)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, stratify=y, random_state=0)
mean, std = x_train.mean(0), x_train.std(0) + 1e-6


class Digits(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x, self.y = torch.tensor((x - mean) / std, dtype=torch.float32), torch.tensor(y)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"pixels": self.x[i], "labels": self.y[i]}  # keys = forward()'s arguments


TRAIN, VAL = Digits(x_train, y_train), Digits(x_val, y_val)

SPACE = {
    "learning_rate": pt.Float(1e-4, 3e-2, log=True),
    "weight_decay": pt.Float(1e-5, 1e-1, log=True),
    "width": pt.Int(32, 256, log=True, explore=False),  # architecture: fixed per lineage
}


class MLP(torch.nn.Module):
    def __init__(self, width):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(64, width), torch.nn.ReLU(), torch.nn.Linear(width, 10))

    def forward(self, pixels, labels=None):  # (B, 64), (B,)
        logits = self.net(pixels)  # (B, 10)
        loss = None if labels is None else torch.nn.functional.cross_entropy(logits, labels)
        return {"loss": loss, "logits": logits}


def accuracy(prediction):
    return {"accuracy": float((prediction.predictions.argmax(-1) == prediction.label_ids).mean())}


def train(member: pt.Member):
    h = member.hparams
    transformers.logging.set_verbosity_error()
    args = transformers.TrainingArguments(
        output_dir=tempfile.gettempdir(),  # nothing is written there: poptune keeps the state
        num_train_epochs=member.budget, eval_strategy="epoch",  # one step = one evaluation = one epoch
        learning_rate=h["learning_rate"], weight_decay=h["weight_decay"], lr_scheduler_type="cosine",
        per_device_train_batch_size=32, per_device_eval_batch_size=256,
        save_strategy="no", report_to=[], logging_strategy="no", disable_tqdm=True, use_cpu=True,
        seed=member.seed % 2**32,
    )
    callback = PoptuneCallback(member, monitor="eval_accuracy")
    trainer = transformers.Trainer(model=MLP(h["width"]), args=args, train_dataset=TRAIN, eval_dataset=VAL,
                                   compute_metrics=accuracy, callbacks=[callback])
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)  # no metrics dict printed per epoch
    # after a pause or an exploit: the saved weights, epoch and batch, then member.hparams
    trainer.train(resume_from_checkpoint=callback.resume_from)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="4 members x 4 epochs (CI)")
    cli = parser.parse_args()
    population, epochs = (4, 4) if cli.small else (8, 12)
    result = pt.run(train, SPACE, population=population, steps=epochs, interval=2, dir="runs/example-huggingface",
                    overwrite=True, seed=0, progress=False)
    best = result.best
    print(f"{population} members x {epochs} epochs; best member {best.id}: validation {best.score:.2%}")
    for step, hparams in result.schedule():
        print(f"  from epoch {step + 1}: learning_rate={hparams['learning_rate']:.3g} "
              f"weight_decay={hparams['weight_decay']:.2g}")
