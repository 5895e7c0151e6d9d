"""The benchmark's markdown table and chart, from the result files alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def markdown(pull: dict[str, Any] | None, push: dict[str, Any] | None, cold: dict[str, Any] | None) -> str:
    lines = ["# make bench", ""]
    if pull:
        t = pull["targets"]
        lines += [
            f"## Pull ({pull['records']} records; Intacct {pull['latency']['intacct_ms']:g} ms × {pull['latency']['intacct_concurrency']}, "
            f"Blixo {pull['latency']['blixo_ms']:g} ms × {pull['latency']['blixo_concurrency']})",
            "",
            "| way | Intacct requests | wall s | records/s |",
            "|---|---:|---:|---:|",
            f"| the sync's pull (reads and Blixo writes) | {pull['intacct_requests']} | {pull['wall_s']:.1f} | {pull['records_per_s']:.0f} |",
            f"| lower bound | {pull['intacct_requests_lower_bound']} | {pull['wall_s_lower_bound']:.1f} | |",
            f"| record numbers, then `read` 100 at a time (reads only) | {pull['intacct_requests_ids_then_read']} | {pull['ids_then_read']['wall_s']:.1f} | |",
            f"| sageintacctsdk `get_all_generator` (reads only) | {pull['intacct_requests_sageintacctsdk']} | {pull['sageintacctsdk']['wall_s']:.1f} | |",
            "",
            f"Blixo requests {pull['blixo_requests']} (bound {pull['blixo_requests_lower_bound']}), Intacct transactions "
            f"{pull['intacct_transactions']}, peak RSS {pull['peak_rss_mb']:.0f} MB. CPU seconds during the pull "
            f"({pull.get('machine_cores')} cores): "
            + ", ".join(f"{k} {v}" for k, v in pull.get("cpu_s", {}).items())
            + ".",
            "",
            "| target | value | met |",
            "|---|---:|---|",
            *[
                f"| {name} | {v['value']} (target {v['target']}) | {'yes' if v['met'] else 'NO'} |"
                for name, v in t.items()
            ],
            "",
            "| scale | records | Intacct requests | Blixo requests | wall s | s per 1k records |",
            "|---:|---:|---:|---:|---:|---:|",
            *[
                f"| {s['factor']:g}× | {s['records']} | {s['intacct_requests']} | {s['blixo_requests']} | {s['wall_s']:.1f} | {1000 * s['wall_s'] / s['records']:.2f} |"
                for s in pull["scale"]
            ],
            "",
        ]
    if push:
        off = push.get("batching_off", {})
        lines += [
            f"## Push ({push['events']} webhook events through the deployed local stack)",
            "",
            "| batching | events/s | p50 s | p95 s | p99 s | Intacct requests / event |",
            "|---|---:|---:|---:|---:|---:|",
            f"| batch size {push['batch_size']} | {push['events_per_s']} | {push['p50_s']} | {push['p95_s']} | {push['p99_s']} | {push['intacct_requests_per_event']} |",
        ]
        if off:
            lines.append(
                f"| off (batch size {off['batch_size']}) | {off['events_per_s']} | {off['p50_s']} | {off['p95_s']} | {off['p99_s']} | {off['intacct_requests_per_event']} |"
            )
        lines.append("")
    if cold:
        lines += [
            f"## Cold start ({cold['runtime']}, median of {cold['runs_per_handler']})",
            "",
            "| handler | init ms | package MB (code + layer, zipped, no boto3) | unzipped MB |",
            "|---|---:|---:|---:|",
            *[
                f"| {name} | {h['init_ms']:.0f} | {h['package_mb']:.2f} | {h['unzipped_mb']:.1f} |"
                for name, h in cold["handlers"].items()
            ],
            "",
        ]
    return "\n".join(lines)


def chart(pull: dict[str, Any], path: Path) -> None:
    """The pull's Intacct requests and wall time beside the bound and the two other ways."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    names = ["this sync", "lower bound", "ids then read", "sageintacctsdk"]
    req = [
        pull["intacct_requests"],
        pull["intacct_requests_lower_bound"],
        pull["intacct_requests_ids_then_read"],
        pull["intacct_requests_sageintacctsdk"],
    ]
    wall = [
        pull["wall_s"],
        pull["wall_s_lower_bound"],
        pull["ids_then_read"]["wall_s"],
        pull["sageintacctsdk"]["wall_s"],
    ]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = ["#2b6cb0", "#9ae6b4", "#e53e3e", "#dd6b20"]
    left.bar(names, req, color=colors)
    left.set_title("Intacct requests")
    left.set_yscale("log")
    for i, v in enumerate(req):
        left.text(i, v, str(v), ha="center", va="bottom", fontsize=9)
    right.bar(names, wall, color=colors)
    right.set_title("wall time (s); the other two ways read only")
    for i, v in enumerate(wall):
        right.text(i, v, f"{v:.1f}", ha="center", va="bottom", fontsize=9)
    for ax in (left, right):
        ax.tick_params(axis="x", labelrotation=15)
    fig.suptitle(f"pull of {pull['records']} records")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
