"""The ``poptune`` command: a thin layer over the public API.

    poptune demo                 PBT vs random search on digits (the main demo)
    poptune status DIR           members of a run, while it runs or after
    poptune best DIR             best member, schedule and lineage as JSON
    poptune plot DIR             PNG plots into DIR/plots
    poptune report DIR           a self-contained HTML page, DIR/report.html
    poptune report DIR1 DIR2 ... several runs compared (also a folder of runs: runs/demo/compare)
    poptune serve DIR            a live dashboard of a run, while it runs or after
    poptune export DIR           reports as CSV or Parquet
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

import poptune as pt
from poptune.files import write_atomic
from poptune.progress import format_hparams, format_value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="poptune", description="Population Based Training: run, inspect, report.")
    parser.add_argument("--version", action="version", version=f"poptune {pt.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="PBT vs random search on digits at equal compute")
    demo.add_argument("--population", type=int, default=16, help="members per run (default 16)")
    demo.add_argument("--steps", type=int, default=15, help="epochs per member (default 15)")
    demo.add_argument("--interval", type=int, default=1, help="epochs between ready points (default 1)")
    demo.add_argument("--seeds", type=int, default=5, help="seeds per method (default 5)")
    demo.add_argument("--noise", type=float, default=0.3, help="share of randomized training labels (default 0.3)")
    demo.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    demo.add_argument("--dir", default="runs/demo", help="run directory (default runs/demo)")
    demo.add_argument("--resume", action="store_true", help="continue an interrupted demo")
    demo.set_defaults(handler=_demo)

    status = commands.add_parser("status", help="table of a run's members (works while it runs)")
    status.add_argument("dir")
    status.set_defaults(handler=_status)

    best = commands.add_parser("best", help="best member, its schedule and lineage, as JSON")
    best.add_argument("dir")
    best.add_argument("--member", type=int, default=None, help="another member than the best")
    best.set_defaults(handler=_best)

    plot = commands.add_parser("plot", help="write PNG plots (scores, schedule, lineage, drift; a league's ratings, "
                                            "payoff, nash)")
    plot.add_argument("dir")
    plot.add_argument("--out", default=None, help="output folder (default DIR/plots)")
    plot.set_defaults(handler=_plot)

    report = commands.add_parser("report", help="write a self-contained HTML report (several runs: a comparison)")
    report.add_argument("dir", nargs="+", help="a run directory; several, or a folder of runs, to compare them")
    report.add_argument("--out", default=None,
                        help="output file (default DIR/report.html; a comparison: compare.html in the folder given)")
    report.add_argument("--static", action="store_true", help="PNG pictures instead of interactive ones")
    report.set_defaults(handler=_report)

    serve = commands.add_parser("serve", help="a live dashboard of a run in the browser (while it runs or after)")
    serve.add_argument("dir")
    serve.add_argument("--port", type=int, default=8080, help="TCP port (default 8080; 0: any free port)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.set_defaults(handler=_serve)

    export = commands.add_parser("export", help="write every report (one row per member and step)")
    export.add_argument("dir")
    export.add_argument("--format", choices=("csv", "parquet"), default="csv")
    export.add_argument("--out", default=None, help="output file (default DIR/reports.<format>)")
    export.set_defaults(handler=_export)

    args = parser.parse_args(argv)
    try:
        return args.handler(args) or 0
    except pt.PoptuneError as err:
        print(f"poptune: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("poptune: interrupted; resume with the same command and --resume", file=sys.stderr)
        return 130


def _demo(args) -> int:
    from poptune.demo.main import demo

    demo(
        population=args.population, steps=args.steps, interval=args.interval, seeds=args.seeds,
        noise=args.noise, workers=args.workers, dir=args.dir, resume=args.resume,
    )
    return 0


def _status(args) -> int:
    result = pt.Result.load(args.dir)
    # piped to a file or another program: as wide as the table needs, nothing cut short
    console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 100_000)
    console.print(result.summary())
    best_scores = result.best_scores()
    table = Table(box=None, header_style="bold")
    for column in ("member", "status", "step", "score", "best", "gen", "exploits", "copied", "hyperparameters"):
        table.add_column(column, justify="left" if column in ("status", "hyperparameters") else "right")
    for m in result.ranked():
        table.add_row(
            str(m.id), m.status, f"{m.step}/{result.config['steps']}", format_value(m.score),
            format_value(best_scores[m.id]), str(m.generation), str(m.exploits), str(m.copied),
            format_hparams(m.hparams),
        )
    console.print(table)
    return 0


def _best(args) -> int:
    result = pt.Result.load(args.dir)
    member = result.best if args.member is None else result.member(args.member)
    out = {
        "member": member.id,
        "score": member.score,
        "step": member.step,
        "generation": member.generation,
        "hparams": member.hparams,
        "schedule": [{"step": step, "hparams": hparams} for step, hparams in result.schedule(member.id)],
        "lineage": [vars(s) for s in result.lineage(member.id)],
    }
    print(json.dumps(out, indent=2, default=str))
    return 0


def _plot(args) -> int:
    from poptune.plots import save_all

    out = args.out or str(Path(args.dir) / "plots")
    for name, path in save_all(pt.Result.load(args.dir), out).items():
        print(f"{name}: {path}")
    return 0


def _report(args) -> int:
    from poptune.report import write

    print(write(args.dir, args.out, static=args.static))
    return 0


def _serve(args) -> int:
    from poptune.report.live import serve

    serve(args.dir, host=args.host, port=args.port)
    return 0


def _export(args) -> int:
    if args.format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise pt.PoptuneError("Parquet export needs pyarrow: pip install 'poptune[pandas]'") from None
    frame = pt.Result.load(args.dir).to_pandas()
    out = Path(args.out or Path(args.dir) / f"reports.{args.format}")
    buffer = io.BytesIO()
    if args.format == "csv":
        frame.to_csv(buffer, index=False)
    else:
        frame.to_parquet(buffer, index=False)
    write_atomic(out, buffer.getvalue())  # (a link there is replaced, not followed)
    print(f"{len(frame)} rows -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
