"""`make bench [SCALE=small]`: the pull, push and cold-start benchmarks on the local stack.

Writes bench/results/pull.json, push.json, coldstart.json, results.md (the table it prints)
and pull.png (the pull beside its lower bound and the two other ways of reading Intacct).
Sizes and latencies are options (`python -m bench --help`); SCALE=small is a tenth of the data.
Speed and memory are measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.markdown import Markdown

from bench import coldstart, push
from bench import pull as pull_bench
from bench.report import chart, markdown
from ops.local import ROOT, LocalStack, Sandboxes

RESULTS = ROOT / "bench" / "results"
console = Console(width=160)


def _pull(scale: float, latency: pull_bench.Latency, factors: list[float]) -> dict[str, Any]:
    doc = LocalStack.load().doc
    admin = Sandboxes.of(doc)
    base = pull_bench.Data().times(scale)
    runs = []
    first: dict[str, Any] = {}
    for factor in factors:
        data = base.times(factor)
        with console.status(f"pull {factor:g}×: seeding"):
            company, counts = pull_bench.seed(admin, data)
        with console.status(f"pull {factor:g}×: the sync's pull"):
            measured = pull_bench.measure(company, latency)
        if measured["outcome"] != "succeeded":
            raise RuntimeError(f"the pull run ended {measured['outcome']}: {measured['run_counts']}")
        bound = pull_bench.lower_bound(counts, latency)
        records = sum(counts.values())
        runs.append(
            {
                "factor": factor,
                "records": records,
                "counts": counts,
                "wall_s": round(measured["wall_s"], 2),
                "intacct_requests": measured["intacct_requests"],
                "intacct_requests_lower_bound": bound["intacct_requests"],
                "blixo_requests": measured["blixo_requests"],
                "wall_s_lower_bound": round(bound["wall_s"], 2),
                "peak_rss_mb": round(measured["peak_rss_mb"], 1),
                "cpu_s": measured["cpu_s"],
            }
        )
        console.print(
            f"  pull {factor:g}×: {records} records, {measured['wall_s']:.1f} s, {measured['intacct_requests']} Intacct requests"
        )
        if not first:
            with console.status("pull: record numbers then read"):
                ids = pull_bench.ids_then_read(doc, admin, company, latency)
            with console.status("pull: sageintacctsdk"):
                sdk = pull_bench.sageintacctsdk_reads(doc, admin, company, latency)
            first = {
                "counts": counts,
                "measured": measured,
                "bound": bound,
                "ids": ids,
                "sdk": sdk,
                "records": records,
            }
    m, b = first["measured"], first["bound"]
    result: dict[str, Any] = {
        "latency": asdict(latency),
        "counts": first["counts"],
        "records": first["records"],
        "rows_read": m["rows"],
        "run_counts": m["run_counts"],
        "wall_s": round(m["wall_s"], 2),
        "wall_s_lower_bound": round(b["wall_s"], 2),
        "wall_s_lower_bound_parts": {
            "intacct_s": round(b["intacct_s"], 2),
            "blixo_s": round(b["blixo_s"], 2),
        },
        "records_per_s": round(first["records"] / m["wall_s"], 1),
        "intacct_requests": m["intacct_requests"],
        "intacct_requests_lower_bound": b["intacct_requests"],
        "intacct_transactions": m["intacct_transactions"],
        "intacct_requests_ids_then_read": first["ids"]["intacct_requests"],
        "intacct_requests_sageintacctsdk": first["sdk"]["intacct_requests"],
        "ids_then_read": first["ids"],
        "sageintacctsdk": first["sdk"],
        "blixo_requests": m["blixo_requests"],
        "blixo_requests_lower_bound": b["blixo_requests"],
        "peak_rss_mb": round(m["peak_rss_mb"], 1),
        "cpu_s": m["cpu_s"],
        "machine_cores": os.cpu_count(),
        "scale": runs,
    }
    result["targets"] = {
        "Intacct requests ≤ 1.2 × lower bound": _target(m["intacct_requests"] / b["intacct_requests"], 1.2),
        "≥ 10 × fewer than ids-then-read": _target(
            first["ids"]["intacct_requests"] / max(1, m["intacct_requests"]), 10, at_least=True
        ),
        "wall ≤ 1.5 × latency bound": _target(m["wall_s"] / b["wall_s"], 1.5),
    }
    return result


def _target(ratio: float, target: float, *, at_least: bool = False) -> dict[str, Any]:
    met = ratio >= target if at_least else ratio <= target
    return {"value": f"{ratio:.2f}×", "target": f"{'≥' if at_least else '≤'} {target:g}×", "met": met}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", default="full", help="full, small (a tenth) or a factor of the sizes")
    parser.add_argument(
        "--only", default="coldstart,pull,push", help="comma-separated: coldstart, pull, push"
    )
    parser.add_argument("--intacct-latency-ms", type=float, default=150.0)
    parser.add_argument("--blixo-latency-ms", type=float, default=50.0)
    parser.add_argument("--push-events", type=int, default=2000)
    parser.add_argument("--factors", default="1,2,4", help="the pull's data multiples")
    args = parser.parse_args(argv)
    scale = {"full": 1.0, "small": 0.1}.get(args.scale) or float(args.scale)
    only = set(args.only.split(","))
    RESULTS.mkdir(parents=True, exist_ok=True)
    latency = pull_bench.Latency(intacct_ms=args.intacct_latency_ms, blixo_ms=args.blixo_latency_ms)

    def load(name: str) -> dict[str, Any] | None:
        path = RESULTS / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def save(name: str, data: dict[str, Any]) -> None:
        (RESULTS / f"{name}.json").write_text(
            json.dumps({"scale": scale, **data}, indent=2, sort_keys=True) + "\n"
        )

    if "coldstart" in only:
        with console.status("cold start"):
            save("coldstart", coldstart.measure())
    if "pull" in only:
        save("pull", _pull(scale, latency, [float(f) for f in args.factors.split(",")]))
    if "push" in only:
        events = max(20, round(args.push_events * scale))
        with console.status(f"push: {events} events, batch size 10"):
            batched = push.run(events, 10)
        with console.status(f"push: {events} events, batching off"):
            single = push.run(events, 1)
        save("push", {**batched, "batching_off": single})
    pulled, pushed, cold = load("pull"), load("push"), load("coldstart")
    text = markdown(pulled, pushed, cold)
    (RESULTS / "results.md").write_text(text + "\n")
    if pulled:
        chart(pulled, RESULTS / "pull.png")
    console.print(Markdown(text))
    console.print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
