"""Run by tests in a subprocess: python -m tests.vectorized.vectorized_script DIR [resume]."""

import sys
import time

import torch

import poptune as pt

if __name__ == "__main__":
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x, y = torch.randn(256, 8), torch.randint(0, 3, (256,))

    class Slow(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(8, 3)

        def forward(self, x):
            time.sleep(0.002)  # slow enough to be killed mid-run
            return self.lin(x)

    pt.vectorized.run(Slow, {"lr": pt.Float(1e-3, 1.0, log=True), "momentum": pt.Float(0.0, 0.9)},
                      data=(x, y), val=(x, y), population=6, steps=30, interval=3, batch_size=32,
                      dir=sys.argv[1], seed=0, resume="resume" in sys.argv[2:], progress=False, device="cpu")
