"""What the chaos run drives and reads: the sandboxes' admin endpoints, the queues, the
Lambdas' logs, and the processes ministack runs the functions in."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bisync.operate.dlq import QueueKind, Selection, peek
from blixo_cli.queues import depths
from blixo_cli.target import Target
from ops.local import Sandboxes, proc_stat


def wait_until(probe: Callable[[], bool], *, timeout: float, interval: float = 1.0, what: str) -> float:
    """Seconds it took; TimeoutError naming `what` after `timeout`."""
    started = time.monotonic()
    while not probe():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - started


def settled(target: Target, sandboxes: Sandboxes, *, quiet_s: float = 3.0) -> bool:
    """Nothing left to do: no webhook delivery pending, both queues empty (in flight included),
    and still so `quiet_s` later (a delivery can queue a message just after a look)."""
    for attempt in range(2):
        drained = sandboxes.blixo("webhooks/drain", {"timeoutSeconds": 1})
        q = depths(target)
        if not drained.get("drained") or q.push + q.push_in_flight + q.pull + q.pull_in_flight:
            return False
        if attempt == 0:
            time.sleep(quiet_s)
    return True


def tenant_dead_letters(target: Target, tenant_id: str) -> int:
    """The tenant's messages in both DLQs (peeked, none consumed). Other tenants' letters are
    not this run's: an e2e test's tenant removed while its last events were queued ends there."""
    sqs = target.client("sqs")
    queues: list[tuple[QueueKind, str]] = [("push", target.push_dlq_url), ("pull", target.pull_dlq_url)]
    return sum(
        len(peek(sqs, kind=kind, dlq_url=url, selection=Selection(tenant_id=tenant_id)).letters)
        for kind, url in queues
    )


# ------------------------------------------------------------------ the functions' processes
def worker_pids(function_name: str) -> list[int]:
    """ministack runs each warm function instance as `python <tmp>/ministack-lambda-<name>-*/_worker.py`."""
    marker = f"ministack-lambda-{function_name}-"
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(marker.encode() in part and part.endswith(b"_worker.py") for part in cmdline):
            pids.append(int(entry.name))
    return sorted(pids)


def age_s(pid: int) -> float:
    """Seconds since the process started (0 if it is gone)."""
    fields = proc_stat(pid)
    if fields is None:
        return 0.0
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")


def kill(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


# ------------------------------------------------------------------------------ their logs
def log_lines(logs: Any, group: str, since_ms: int = 0) -> Iterator[str]:
    """Every message of a CloudWatch log group from `since_ms` on (none if the group is absent)."""
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since_ms}
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return
        yield from (str(e.get("message", "")) for e in page.get("events", []))
        token = page.get("nextToken")
        if not token or not page.get("events"):
            return
        kwargs["nextToken"] = token
