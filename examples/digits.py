"""PBT on scikit-learn's digits with a small PyTorch MLP: the template to copy.

    python -m pip install -e '.[torch]' torch==2.13.0
    python examples/digits.py                 # 8 members x 20 epochs, ~10 s on 2 cores
    poptune status runs/example-digits        # while it runs, or after

One step is one epoch; the score is validation accuracy; the test split is only reported.
"""

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import poptune as pt

# -- data: loaded once, before the workers start (forked workers share it) -------------------
x, y = load_digits(return_X_y=True)
x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=0.4, stratify=y, random_state=0)
x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=0)
mean, std = x_train.mean(0), x_train.std(0) + 1e-6
X_TRAIN, X_VAL, X_TEST = (torch.tensor((a - mean) / std, dtype=torch.float32) for a in (x_train, x_val, x_test))
Y_TRAIN, Y_VAL, Y_TEST = (torch.tensor(a) for a in (y_train, y_val, y_test))

SPACE = {
    "lr": pt.Float(1e-3, 1.0, log=True),
    "momentum": pt.Float(0.0, 0.99),
    "weight_decay": pt.Float(1e-6, 1e-2, log=True),
    "width": pt.Int(32, 256, log=True, explore=False),  # architecture: fixed per lineage
}


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def train(member: pt.Member):
    h = member.hparams
    torch.manual_seed(member.seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, h["width"]), torch.nn.ReLU(), torch.nn.Linear(h["width"], 10))
    opt = torch.optim.SGD(model.parameters(), lr=h["lr"], momentum=h["momentum"], weight_decay=h["weight_decay"])
    # our own state after a pause, or the source's after an exploit; then member.hparams (lr,
    # momentum, weight_decay) into the optimizer, not the source's values its state carried
    pt.torch_restore(member, model, opt)
    for _ in member.steps():
        model.train()
        for idx in torch.randperm(len(Y_TRAIN)).split(32):  # one epoch, batches of 32
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X_TRAIN[idx]), Y_TRAIN[idx]).backward()
            opt.step()
        member.report(
            accuracy(model, X_VAL, Y_VAL),
            checkpoint=lambda: pt.torch_checkpoint(model, opt),
            test_accuracy=accuracy(model, X_TEST, Y_TEST),
        )


if __name__ == "__main__":
    result = pt.run(train, SPACE, population=8, steps=20, interval=2, dir="runs/example-digits",
                    overwrite=True, seed=0)
    best = result.best
    test = next(r.metrics["test_accuracy"] for r in result.reports if (r.member, r.step) == (best.id, best.step))
    print(f"best member {best.id}: validation {best.score:.2%}, test {test:.2%}")
    for step, hparams in result.schedule():
        print(f"  from epoch {step + 1}: lr={hparams['lr']:.3g} momentum={hparams['momentum']:.2f}")
