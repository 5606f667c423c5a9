"""Moving a checkpoint from one Ray actor to another: files vs Ray's object store (issue 5).

    python -m benchmarks.checkpoint_transfer [--repeats 5]

Actor A produces a checkpoint of a given size, actor B loads it (what an exploit does when the
source and the target run in different actors). Files: A writes atomically (temp + rename) to a
local folder, B reads it. Object store: A ``ray.put``s it and hands over the reference, B
``ray.get``s it. Local Ray, 2 CPUs; medians of ``--repeats``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from benchmarks import common

SIZES = {"1 KB": 1 << 10, "100 KB": 100 << 10, "10 MB": 10 << 20, "100 MB": 100 << 20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import ray

    from poptune.checkpoints import LocalCheckpoints

    ray.init(num_cpus=2, object_store_memory=600 << 20, include_dashboard=False, log_to_driver=False)

    @ray.remote(num_cpus=1)
    class Actor:
        def __init__(self, root):
            self.store = LocalCheckpoints(root)

        def write_file(self, name, size):
            payload = os.urandom(size)
            start = time.perf_counter()
            self.store.save(name, payload)
            return time.perf_counter() - start

        def read_file(self, name):
            start = time.perf_counter()
            payload = self.store.load(name)
            return time.perf_counter() - start, len(payload)

        def put(self, size):
            payload = os.urandom(size)
            start = time.perf_counter()
            ref = ray.put(payload)
            return [ref], time.perf_counter() - start  # a list: the reference, not the value, travels

        def get(self, refs):
            start = time.perf_counter()
            payload = ray.get(refs[0])
            return time.perf_counter() - start, len(payload)

    table, raw = [], {}
    with tempfile.TemporaryDirectory() as root:
        a, b = Actor.remote(root), Actor.remote(root)
        for label, size in SIZES.items():
            files, objects = [], []
            for i in range(args.repeats):
                write = ray.get(a.write_file.remote(f"m0/{i}.pkl", size))
                read, n = ray.get(b.read_file.remote(f"m0/{i}.pkl"))
                assert n == size
                files.append(write + read)
                refs, put = ray.get(a.put.remote(size))
                got, n = ray.get(b.get.remote(refs))
                assert n == size
                objects.append(put + got)
            raw[label] = {"files": files, "object_store": objects}
            table.append({
                "checkpoint": label,
                "files: write + read (ms)": f"{common.median(files) * 1e3:.2f}",
                "object store: put + get (ms)": f"{common.median(objects) * 1e3:.2f}",
                "files / object store": f"{common.median(files) / common.median(objects):.2f}",
            })
            print(table[-1], flush=True)
    ray.shutdown()
    path = common.write("checkpoint_transfer", {"repeats": args.repeats, "runs": raw, "table": table}, table,
                        title=f"Checkpoint from one Ray actor to another (medians of {args.repeats})",
                        notes="Object-store times leave out the driver round trip that hands the reference over.")
    print(path.read_text())


if __name__ == "__main__":
    main()
