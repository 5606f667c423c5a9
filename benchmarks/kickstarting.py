"""Kickstarting with a PBT-scheduled distillation weight against fixed weights and a hand-written decay.

    python -m benchmarks.kickstarting [--seeds 5]

Runs ``examples/kickstarting.py``: on scikit-learn's digits a student MLP (64-256-256-10) has 100
labelled images for its task loss and distils a weak teacher (64-5-10, about 88% test accuracy)
on 1078 pool images. Every method is a PBT run over the learning rate (8 members, 30 steps of 10
Adam updates, ready every 3 steps, inline runner), so all get equal steps; they differ in the
distillation weight ``w``: explored by PBT, fixed at 0, 0.1 or 3, or decayed 1 -> 0 by hand. The
table reports the test accuracy of the member with the best final validation accuracy, the test
accuracy of the validation-best member at steps 1, 2 and 5 (early learning), and ``w`` along the best
member's lineage. Writes ``results/kickstarting.json`` and ``results/kickstarting.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import common



def run_all(seeds: int, root: Path) -> tuple[list[dict], dict]:
    ex = common.example("kickstarting")
    size = ex.FULL
    teacher = ex.make_teacher(root / "teacher.pt")
    about = {"teacher_test": ex.accuracy(teacher.module, ex.X_TEST, ex.Y_TEST),
             "teacher_val": ex.accuracy(teacher.module, ex.X_VAL, ex.Y_VAL)}
    rows = []
    for seed in range(seeds):
        started = time.monotonic()
        row = {"seed": seed, **ex.compare(seed, size["population"], size["steps"], size["interval"], root, teacher)}
        row["seconds"] = time.monotonic() - started
        print(f"seed {seed} ({row['seconds']:.0f} s): " + ", ".join(
            f"{m} {v['test']:.3f}" for m, v in row.items() if isinstance(v, dict)), flush=True)
        rows.append(row)
    return rows, about


def mean_w(curve: list[dict], first: int, last: int) -> float:
    return statistics.fmean(c["w"] for c in curve if first <= c["step"] <= last)


def summary(rows: list[dict], about: dict, steps: int) -> list[dict]:
    methods = [m for m in rows[0] if isinstance(rows[0][m], dict)]
    third = steps // 3
    thirds = [(1, third), (third + 1, 2 * third), (2 * third + 1, steps)]
    early = [step for step in (1, 2, 5) if step <= steps]
    lineage = "mean w on best lineage, " + " / ".join(f"steps {a}-{b}" for a, b in thirds)
    table = []
    for method in methods:
        final = [r[method]["test"] for r in rows]
        wins = sum(r[method]["test"] > r["w = 0 (no teacher)"]["test"] for r in rows)
        ties = sum(r[method]["test"] == r["w = 0 (no teacher)"]["test"] for r in rows)
        table.append({
            "method": method,
            "final test acc, mean ± std": "{:.1%} ± {:.1%}".format(*common.mean_std(final)),
            "per seed": ", ".join(f"{v:.1%}" for v in final),
            "vs w = 0 (wins/ties/losses)": "" if method == "w = 0 (no teacher)" else
            f"{wins}/{ties}/{len(rows) - wins - ties}",
            **{f"test acc at step {step}": "{:.1%} ± {:.1%}".format(
                *common.mean_std([r[method]["anytime"][step] for r in rows])) for step in early},
            lineage: " / ".join(f"{statistics.fmean(mean_w(r[method]['curve'], a, b) for r in rows):.2g}"
                                for a, b in thirds),
        })
    table.append({"method": "teacher alone", "final test acc, mean ± std": f"{about['teacher_test']:.1%}",
                  "per seed": "", "vs w = 0 (wins/ties/losses)": "",
                  **{f"test acc at step {step}": "" for step in early}, lineage: ""})
    return table


def schedules(rows: list[dict]) -> str:
    """PBT's weight along the best lineage, per seed: when the student passes the teacher, w before/after."""
    lines = []
    for r in rows:
        s = r["PBT-scheduled w"]
        ws = " ".join(f"{c['w']:.2g}" for c in s["curve"][::3])
        after = "-" if s["w_after"] is None else f"{s['w_after']:.2g}"
        lines.append(f"- seed {r['seed']}: w at steps 1, 4, 7, ...: {ws}; the lineage passes the teacher's validation "
                     f"accuracy at step {s['passes_teacher_at']}; mean w up to then {s['w_before']:.2g}, after {after}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        rows, about = run_all(args.seeds, Path(tmp))
    seconds = time.monotonic() - started
    ex = common.example("kickstarting")
    size = ex.FULL
    notes = (f"`python -m benchmarks.kickstarting --seeds {args.seeds}`, {seconds:.0f} s, runner inline, torch 1 "
             f"thread. Digits: student has {len(ex.LABELLED)} labels, distils on {len(ex.X_POOL)} pool images; "
             f"validation {len(ex.Y_VAL)} and test {len(ex.Y_TEST)} images. Teacher 64-5-10: test "
             f"{about['teacher_test']:.1%}, validation {about['teacher_val']:.1%}. Each method: PBT over lr in "
             f"[{ex.SPACE['lr'].low:g}, {ex.SPACE['lr'].high:g}], {size['population']} members x {size['steps']} "
             f"steps x {ex.UPDATES} updates, ready every {size['interval']}, Truncation, PerturbOrResample(factors="
             f"(0.5, 2)); PBT-scheduled w also explores kick_weight in [{ex.SPACE['kick_weight'].low:g}, "
             f"{ex.SPACE['kick_weight'].high:g}] (log), below {ex.FLOOR:g} = 0. Decay: w = 1 -> 0 linearly over "
             f"steps 1-{size['steps'] // 2}. 'step k' is the test accuracy of the member with the best validation accuracy at that step.\n\n"
             f"PBT's discovered weight along the best lineage:\n\n{schedules(rows)}")
    path = common.write("kickstarting", {"rows": rows, "seeds": args.seeds, "seconds": seconds, **about,
                                         "size": size, "updates": ex.UPDATES, "floor": ex.FLOOR},
                        summary(rows, about, size["steps"]), "Kickstarting: a PBT-scheduled distillation weight", notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
