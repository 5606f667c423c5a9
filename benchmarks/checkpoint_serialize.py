"""Time to turn a PyTorch member's checkpoint into bytes and back (per checkpoint, CPU).

    python -m benchmarks.checkpoint_serialize [--repeats 7]

The checkpoint is ``{"model": model.state_dict(), "opt": opt.state_dict()}`` after one step,
for three MLPs: the demo's (64-256-256-10, SGD with momentum), a wide one (64-1024-1024-10,
Adam) and a ~10M-parameter one (4 x 1600-wide layers, Adam). Side by side in one run:

- poptune: ``poptune.checkpoints.dumps`` / ``loads`` (plain tensors as raw bytes);
- torch's pickling: ``pickle.dumps`` with torch's own reduction of tensors (each storage a small
  ``torch.save`` archive, read back with ``torch.load``: what poptune wrote before), loaded with
  poptune's safe loader;
- ``torch.save`` / ``torch.load(weights_only=True)`` into memory, for reference.

Each repetition times ``--calls`` calls of each and keeps the median call; the table shows the
median over repetitions.
"""

from __future__ import annotations

import argparse
import io
import pickle
import statistics
import time

import torch

from benchmarks import common
from poptune.checkpoints import dumps, loads

MODELS = {
    "demo MLP 64-256-256-10, SGD": ((64, 256, 256, 10), "sgd"),
    "wide MLP 64-1024-1024-10, Adam": ((64, 1024, 1024, 10), "adam"),
    "MLP 4 x 1600 (10M parameters), Adam": ((1600, 1600, 1600, 1600, 1600), "adam"),
}


def checkpoint(sizes, optimizer: str) -> dict:
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=1e-3))
    model(torch.randn(8, sizes[0])).sum().backward()
    opt.step()
    return {"model": model.state_dict(), "opt": opt.state_dict()}


def _torch_save(state) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


WAYS = {
    "poptune": (lambda s: dumps(s, "bench"), lambda b: loads(b, "bench")),
    "torch's pickling": (lambda s: pickle.dumps(s, protocol=pickle.HIGHEST_PROTOCOL), lambda b: loads(b, "bench")),
    "torch.save / torch.load": (_torch_save, lambda b: torch.load(io.BytesIO(b), weights_only=True)),
}


def _median_call(fn, arg, calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    raw: dict[str, dict[str, dict[str, list[float]]]] = {}
    sizes: dict[str, int] = {}
    for name, (layers, optimizer) in MODELS.items():
        state = checkpoint(layers, optimizer)
        raw[name] = {way: {"dump": [], "load": []} for way in WAYS}
        for _ in range(args.repeats):  # the ways interleaved within each repetition
            for way, (dump, load) in WAYS.items():
                payload = dump(state)
                sizes[name] = sizes.get(name) or len(payload)
                raw[name][way]["dump"].append(_median_call(dump, state, args.calls))
                raw[name][way]["load"].append(_median_call(load, payload, args.calls))
    table = []
    for name in MODELS:
        row = {"checkpoint": name, "size (MB)": f"{sizes[name] / 1e6:.2f}"}
        for way in WAYS:
            dump, load = (statistics.median(raw[name][way][k]) for k in ("dump", "load"))
            row[f"{way}: save / load (ms)"] = f"{dump * 1e3:.2f} / {load * 1e3:.2f}"
        old = raw[name]["torch's pickling"]
        new = raw[name]["poptune"]
        row["poptune vs torch's pickling"] = (
            f"{statistics.median(o / n for o, n in zip(old['dump'], new['dump'])):.1f}x / "
            f"{statistics.median(o / n for o, n in zip(old['load'], new['load'])):.1f}x")
        table.append(row)
    path = common.write("checkpoint_serialize", {"repeats": args.repeats, "calls": args.calls, "runs": raw,
                                                 "sizes": sizes, "table": table}, table,
                        title=f"A PyTorch checkpoint to bytes and back, per checkpoint (medians of {args.repeats})",
                        notes="One torch thread. Ratios within each repetition, then the median.")
    print(path.read_text())


if __name__ == "__main__":
    main()
