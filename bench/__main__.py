"""`make bench`: speed and memory of the hot paths, measured (never asserted in tests).

- cold start: importing each handler module in a fresh interpreter (what a Lambda cold start
  pays before the first event);
- webhook verification throughput (HMAC + strict JSON + models) for a typical invoice event;
- Intacct response parsing: a 2000-record `query` page (the largest page) into typed models,
  time and peak memory;
- Intacct request building for a batch of 50 write functions.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bisync.blixo.webhooks import sign, verify
from bisync.intacct.models import Customer, parse_records
from bisync.intacct.xml import parse_response

ROOT = Path(__file__).resolve().parent.parent
console = Console()


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and p95 seconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def lambda_like_runtime() -> tuple[str, Path, str]:
    """The interpreter and layer a deployed function gets: ministack's venv (boto3 without the
    dev tools' extras) and the layer `sam build` made, when both exist; else the dev venv."""
    built = ROOT / ".aws-sam" / "build" / "SharedLayer" / "python"
    ministack = ROOT / ".ministack-venv" / "bin" / "python"
    if built.is_dir() and ministack.exists():
        return str(ministack), built, "built layer, ministack's interpreter"
    return (
        sys.executable,
        ROOT / "layers" / "shared",
        "source layer, dev venv (run `make up` for the built one)",
    )


def cold_imports() -> tuple[list[tuple[str, float]], str]:
    python, layer, label = lambda_like_runtime()
    results = []
    for name in ("webhook", "push", "pull_schedule", "pull"):
        code = (
            "import time,importlib.util,sys;"
            f"sys.path.insert(0,{str(layer)!r});"
            "t=time.perf_counter();"
            f"s=importlib.util.spec_from_file_location('app',{str(ROOT / 'functions' / name / 'app.py')!r});"
            "m=importlib.util.module_from_spec(s);s.loader.exec_module(m);"
            "print(time.perf_counter()-t)"
        )
        env = {"SYNC_TABLE": "t", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
        runs = []
        for _ in range(3):
            out = subprocess.run(  # noqa: S603 - fixed argv
                [python, "-c", code], capture_output=True, text=True, env=env, check=True
            )
            runs.append(float(out.stdout.strip()))
        results.append((name, statistics.median(runs)))
    return results, label


def bench_webhook() -> tuple[float, float, int]:
    event = json.loads((ROOT / "events" / "webhook_invoice_created.json").read_text())["body"].encode()
    secret = "whsec_demo_current"  # the sample event's public test secret
    signature = sign(event, secret)
    median, p95 = timed(lambda: verify(event, signature, [secret]), 2000)
    return median, p95, len(event)


def intacct_page(rows: int) -> bytes:
    records = "".join(
        f"<CUSTOMER><RECORDNO>{i}</RECORDNO><CUSTOMERID>C{i:06d}</CUSTOMERID><NAME>Customer &amp; Co {i}</NAME>"
        f"<STATUS>active</STATUS><TOTALDUE>{Decimal(i) / 7:.2f}</TOTALDUE>"
        f"<WHENMODIFIED>11/26/2026 10:{i % 60:02d}:00</WHENMODIFIED></CUSTOMER>"
        for i in range(1, rows + 1)
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><response><control><status>success</status>"
        "<senderid>s</senderid><controlid>c</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion>"
        "</control><operation><authentication><status>success</status><userid>u</userid><companyid>C</companyid>"
        "<locationid></locationid><sessiontimestamp>2026-11-26T10:00:00+00:00</sessiontimestamp>"
        "<sessiontimeout>2026-11-26T18:00:00+00:00</sessiontimeout></authentication><result>"
        "<status>success</status><function>query</function><controlid>f-1</controlid>"
        f'<data listtype="CUSTOMER" totalcount="{rows}" offset="0" count="{rows}" numremaining="0">'
        f"{records}</data></result></operation></response>"
    ).encode()


def bench_intacct_parse() -> tuple[float, float, float]:
    body = intacct_page(2000)

    def run() -> None:
        response = parse_response(body)
        data = response.results[0].data
        assert data is not None
        parse_records(Customer, data.records)

    median, p95 = timed(run, 10)
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return median, p95, peak / 1_048_576


def main() -> None:
    table = Table(title="make bench")
    for column in ("what", "median", "p95 / note"):
        table.add_column(column)
    imports, label = cold_imports()
    for name, seconds in imports:
        table.add_row(
            f"cold import functions/{name}/app.py", f"{seconds * 1000:.0f} ms", f"median of 3; {label}"
        )
    median, p95, size = bench_webhook()
    table.add_row(
        f"webhook verify ({size} B invoice event)", f"{median * 1e6:.0f} µs", f"p95 {p95 * 1e6:.0f} µs"
    )
    try:
        median, p95, peak = bench_intacct_parse()
        table.add_row(
            "Intacct 2000-row CUSTOMER page → models",
            f"{median * 1000:.0f} ms",
            f"p95 {p95 * 1000:.0f} ms, peak {peak:.1f} MiB",
        )
    except ImportError as exc:  # the parser's public names are part of the Intacct client
        table.add_row("Intacct 2000-row page → models", "n/a", f"not measured: {exc}")
    console.print(table)


if __name__ == "__main__":
    main()
