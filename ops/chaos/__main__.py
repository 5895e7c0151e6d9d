"""`make chaos` (`python -m ops.chaos --scale full|small|<factor>`): the fault-injection run on
the local stack; prints the figures, writes bench/results/chaos.json, exits 1 unless nothing was
duplicated, lost, left unbalanced or written again by a second pass."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.table import Table

from blixo_cli.output import console
from ops.chaos.run import Options, execute

SCALES = {"full": 1.0, "small": 0.1}
MUST_BE_ZERO = ("duplicates", "lost", "balance_differences", "second_pass_writes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.chaos", description=__doc__)
    parser.add_argument(
        "--scale", default="full", help="full (the issue's sizes), small (a tenth) or a factor"
    )
    parser.add_argument("--seed", type=int, default=Options.seed)
    parser.add_argument("--results", type=Path, default=Options.results)
    parser.add_argument("--keep-tenant", action="store_true", help="keep the tenant's settings afterwards")
    args = parser.parse_args(argv)
    try:
        scale = SCALES[args.scale] if args.scale in SCALES else float(args.scale)
    except ValueError:
        parser.error(f"--scale must be full, small or a number, not {args.scale!r}")
    if not 0 < scale <= 10:
        parser.error("--scale must be in (0, 10]")
    report = execute(Options(scale=scale, seed=args.seed, results=args.results, keep_tenant=args.keep_tenant))
    table = Table(title=f"chaos run ({report['tenant_id']}, scale {scale:g})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in ("events", "faults_injected", "retries", "dlq_messages", *MUST_BE_ZERO, "open_sync_errors"):
        table.add_row(key, str(report[key]))
    console.print(table)
    console.print("faults: " + ", ".join(f"{k} {v}" for k, v in report["faults"].items()), highlight=False)
    for kind, lines in report["details"].items():
        for line in lines[:10]:
            console.print(f"  {kind}: {line}", highlight=False, markup=False)
    if args.results:
        console.print(f"written to {args.results}")
    return 1 if any(report[k] for k in MUST_BE_ZERO) else 0


if __name__ == "__main__":
    sys.exit(main())
