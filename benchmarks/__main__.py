"""``python -m benchmarks``: the PBT paper at CPU scale (toy, supervised, RL, GAN), then the README.

    python -m pip install -e '.[bench]' torch==2.13.0
    python -m benchmarks                 # about 11 minutes on 2 cores
    python -m benchmarks --only toy gan  # a subset; the README is rebuilt from every result there

Each part writes ``results/paper_<part>.json`` / ``.md`` (and a figure where it has one); the
section "Reproducing the PBT paper" of ``benchmarks/README.md`` is then rebuilt from those files.
The other benchmarks (overhead, vectorized, replay, peers) run on their own: see the README.
"""

from __future__ import annotations

import argparse
import json
import re
import time

from benchmarks import common

PARTS = {  # name: (module, section title, figure or None)
    "toy": ("paper_toy", "Toy problem (paper section 4.1, figure 2) — `python -m benchmarks.paper_toy`", "paper_toy.png"),
    "supervised": ("paper_supervised", "Supervised: digits — `python -m benchmarks.paper_supervised`",
                   "paper_supervised.png"),
    "rl": ("paper_rl", "Deep RL: PPO on CartPole and Acrobot — `python -m benchmarks.paper_rl`", None),
    "gan": ("paper_gan", "GAN: ring of 8 Gaussians — `python -m benchmarks.paper_gan`", None),
}
BEGIN, END = "<!-- paper:begin -->", "<!-- paper:end -->"
README = common.RESULTS.parent / "README.md"


TIMINGS = common.RESULTS / "paper_timings.json"


def section() -> str:
    """The README section, from the result files present."""
    parts = []
    if TIMINGS.exists():
        timings = json.loads(TIMINGS.read_text())
        each = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
        parts.append(f"Last measured wall time of each part on this machine: {each} "
                     f"(total {sum(timings.values()) / 60:.1f} min). Every method of a part gets the same "
                     f"compute; spreads are over seeds.\n")
    for module, title, figure in PARTS.values():
        table = common.RESULTS / f"{module}.md"
        if not table.exists():
            continue
        body = table.read_text().strip()
        body = re.sub(r"^### .*\n+", "", body)  # the README heading replaces the table's own
        parts.append(f"### {title}\n\n{body}\n")
        if figure and (common.RESULTS / figure).exists():
            parts.append(f"![{module}](results/{figure})\n")
        notes = common.RESULTS / f"{module}.notes.md"  # reading of the numbers, written by hand
        if notes.exists():
            parts.append(notes.read_text().strip() + "\n")
    return "\n".join(parts)


def update_readme() -> None:
    text = README.read_text()
    if BEGIN not in text:
        text = text.rstrip() + f"\n\n## Reproducing the PBT paper at CPU scale — `python -m benchmarks`\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{section()}{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(PARTS), default=list(PARTS))
    parser.add_argument("--readme-only", action="store_true", help="rebuild the README section from the results")
    args = parser.parse_args()
    if not args.readme_only:
        import importlib

        timings = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
        for name in args.only:
            started = time.monotonic()
            importlib.import_module(f"benchmarks.{PARTS[name][0]}").main([])
            timings[name] = time.monotonic() - started
            TIMINGS.write_text(json.dumps(timings, indent=2) + "\n")
            print(f"[{name}: {timings[name]:.0f} s]", flush=True)
    update_readme()
    print(f"updated {README}")


if __name__ == "__main__":
    main()
