"""The digits demo task, vectorized: 64 members trained as one stacked model in one process.

    python -m pip install -e '.[torch]' torch==2.13.0
    python examples/digits_vectorized.py             # ~10 s on one CPU core
    python examples/digits_vectorized.py --compile   # torch.compile'd step: compiles once
    poptune report runs/example-vectorized

The task of `poptune demo`: scikit-learn's digits with 30% of the training labels randomized,
one step = one epoch, score = validation accuracy (test accuracy is only reported). Every member
has its own learning rate, momentum, weight decay and dropout rate; every epoch the bottom
quarter copies the top quarter (weights and optimizer state, an in-place copy of slices) and
explores.
"""

import argparse
import time

import torch

import poptune as pt
from poptune.demo import digits

parser = argparse.ArgumentParser()
parser.add_argument("--population", type=int, default=64)
parser.add_argument("--compile", action="store_true")
args = parser.parse_args()
torch.set_num_threads(1)  # the stacked model keeps one core busy; more threads do not help on 2 cores

data = digits.load(seed=0, noise=0.3)  # standardized splits as tensors: x (N, 64), y (N,)
start = time.perf_counter()
result = pt.vectorized.run(
    digits.dropout_mlp,  # 64-128-128-10; its `dropout` buffer takes each member's rate
    digits.SPACE,  # lr, momentum, weight_decay, dropout
    data=(data.x_train, data.y_train),  # every member draws its own shuffle each epoch
    val=(data.x_val, data.y_val),
    population=args.population,
    steps=15,
    interval=1,
    batch_size=32,
    exploit=pt.Truncation(0.25),
    dir="runs/example-vectorized",
    overwrite=True,
    seed=0,
    compile=args.compile,
)
seconds = time.perf_counter() - start

best = result.best
model = digits.dropout_mlp()
model.load_state_dict(result.checkpoint()["model"])  # the best member, as one ordinary module
test = digits.accuracy(model, data.x_test, data.y_test)
print(f"{args.population} members x 15 epochs in {seconds:.1f}s: best member {best.id}, "
      f"validation {best.score:.2%}, test {test:.2%}")
for step, hparams in result.schedule():
    print(f"  from epoch {step + 1}: " + ", ".join(f"{k}={v:.3g}" for k, v in hparams.items()))
