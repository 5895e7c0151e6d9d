"""The chaos run on the local stack: a generated workload on both sides while faults are
injected, then the system left to settle, then the checks (ops.chaos.verify).

Faults: Intacct 5 % 5xx, 5 % 429 and 2 % responses lost after commit, plus one expiry of
every session; Blixo 5 % 5xx and every webhook delivered twice; one push invocation killed
mid-batch (its warm worker process, SIGKILL) and one pull killed between two checkpoints.
Settling is what an operator does after an outage: the DLQs replayed once with
`blixo-intacct dlq replay`, and the next pull run.
"""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bisync.blixo.client import Backoff, BlixoClient
from bisync.intacct.client import IntacctClient
from bisync.intacct.limiter import CompanyLimiter
from bisync.intacct.retry import RetryPolicy
from bisync.operate.jobs import pull_now
from bisync.operate.reconcile import reconcile
from bisync.store import SyncStore
from bisync.sync.jobs import PullJob
from blixo_cli.context import tenant_clients
from blixo_cli.onboard import ConnectRequest, connect_tenant
from blixo_cli.output import console
from blixo_cli.queues import QueueSender
from blixo_cli.target import STACK_JSON, Target, from_stack_file
from ops.chaos import verify
from ops.chaos.workload import BlixoWorkload, IntacctWorkload, Made, Sizes
from ops.chaos.world import age_s, kill, log_lines, settled, tenant_dead_letters, wait_until, worker_pids
from ops.local import ROOT, LocalStack, Sandboxes, command_log, keep_output, sandbox_intacct_client

ENTITY = "E100"
INTACCT_FAULTS = {"rate_5xx": 0.05, "rate_429": 0.05, "rate_lost_response": 0.02}
# One of each on top of the rates: at a tenth of the workload 2% of its writes may be none.
INTACCT_FORCED = {"force_429": 1, "force_5xx": 1, "force_lost_response": 1}
BLIXO_FAULTS = {"errorRate": 0.05}
# Blixo retries a webhook for two days; the local sandbox's default gives up after two minutes,
# less than a burst of the whole workload takes to pass the webhook API's throttle. The run
# keeps 13 minutes of retries (still far short of Blixo's) while it lasts.
WEBHOOK_RETRY_DELAYS_S = [1, 2, 5, 10, 30, 60, 60, 120, 180, 300]
RETRY_MARKERS = ("intacct request failed (attempt", "failed (attempt", "push failed, will retry")


@dataclass
class Options:
    scale: float = 1.0
    seed: int = 20261201
    settle_timeout: float = 900.0
    results: Path | None = ROOT / "bench" / "results" / "chaos.json"
    keep_tenant: bool = False


@dataclass
class Run:
    """One run's handles and what it observed on the way."""

    target: Target
    sandboxes: Sandboxes
    store: SyncStore
    tenant_id: str
    company: str
    api_key: str
    functions: dict[str, str]
    started_ms: int
    made: Made = field(default_factory=Made)
    crashes: dict[str, Any] = field(default_factory=dict)
    dlq: dict[str, int] = field(default_factory=dict)
    session_expiry: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def step(self, name: str, action: Callable[[], Any]) -> Any:
        started = time.monotonic()
        with console.status(name):
            value = action()
        self.timings[name] = round(time.monotonic() - started, 1)
        console.print(f"  {name}: {self.timings[name]} s")
        return value


# --------------------------------------------------------------------------------- setup
def _connect(target: Target, sandboxes: Sandboxes, tag: str) -> tuple[str, str, str]:
    company, api_key, tenant_id = f"CHAOS-{tag}", f"chaos-key-{uuid.uuid4().hex}", f"chaos-{tag.lower()}"
    sandboxes.intacct("companies", {"company": company})
    sandboxes.blixo("accounts", {"apiKey": api_key})
    result = connect_tenant(
        target,
        ConnectRequest(
            tenant_id=tenant_id, company_id=company, entity_id=ENTITY, blixo_api_key=api_key, name="Chaos run"
        ),
    )
    if not result.saved:
        raise RuntimeError(
            "the chaos tenant could not be connected: " + "; ".join(p.message for p in result.problems)
        )
    return tenant_id, company, api_key


def _faults(run: Run, on: bool, seed: int) -> None:
    if on:
        run.sandboxes.intacct(
            "faults", {"company": run.company, **INTACCT_FAULTS, **INTACCT_FORCED, "seed": seed}
        )
        run.sandboxes.blixo("faults", {**BLIXO_FAULTS, "seed": seed})
        run.sandboxes.blixo(
            "webhook-settings", {"duplicateDelivery": True, "retryDelaysSeconds": WEBHOOK_RETRY_DELAYS_S}
        )
    else:
        run.sandboxes.intacct("faults", {"company": run.company, "clear": True})
        run.sandboxes.blixo("faults", {})
        run.sandboxes.blixo("webhook-settings", {"duplicateDelivery": False})


def _clients(doc: dict[str, Any], run: Run) -> tuple[BlixoClient, IntacctClient]:
    """The generator's own clients: patient retries, every write keyed."""
    blixo = BlixoClient(
        run.api_key,
        doc["blixo"]["url"],
        max_retries=10,
        backoff=Backoff(initial=0.05, maximum=1.0, jitter=0.05),
    )
    intacct = sandbox_intacct_client(
        doc,
        company=run.company,
        entity=ENTITY,
        retry=RetryPolicy(attempts=15, initial=0.05, maximum=1.0),
        limiter=CompanyLimiter(1),
    )
    return blixo, intacct


# -------------------------------------------------------------------------------- crashes
def _crash_push(run: Run, ready: threading.Event, stop: threading.Event) -> None:
    """Kill the push function's warm worker process (SIGKILL) while an invocation is inside a
    batch. Intacct is made slow for a moment, so the invocation is surely waiting on one of its
    requests (its Blixo reads and earlier rounds done, later ones not); ministack's report that
    the worker died mid-invocation proves the kill hit one (an idle worker killed is only
    respawned: then it is tried again)."""
    log = ROOT / ".local" / "ministack.log"
    name = run.functions["push"]
    ready.wait()
    for _attempt in range(5):
        # A worker long past its start: one killed during init only fails to start.
        while not stop.is_set() and not any(age_s(p) > 6.0 for p in worker_pids(name)):
            time.sleep(0.5)
        if stop.is_set():
            break
        run.sandboxes.intacct("faults", {"company": run.company, "latency_ms": 3000})
        try:
            if not _push_busy(run, stop):
                continue
            time.sleep(1.0)  # well inside the slow request
            size = log.stat().st_size if log.exists() else 0
            warm = sorted((p for p in worker_pids(name) if age_s(p) > 6.0), key=age_s, reverse=True)
            if not warm or not kill(warm[0]):
                continue
        finally:
            run.sandboxes.intacct("faults", {"company": run.company, "latency_ms": 0})
        hit = _wait_for_line(log, size, f"Lambda {name} failed processing SQS batch", "Worker process died")
        if hit:
            run.crashes["push"] = {"pid": warm[0], "esm": hit.split("ESM: ", 1)[-1][:200]}
            return
    run.crashes["push"] = {"error": "no push invocation was caught in flight"}


def _push_busy(run: Run, stop: threading.Event) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not stop.is_set():
        q = run.target.client("sqs").get_queue_attributes(
            QueueUrl=run.target.push_queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )
        if int(q["Attributes"]["ApproximateNumberOfMessagesNotVisible"]) > 0:
            return True
        time.sleep(0.1)
    return False


def _wait_for_line(log: Path, offset: int, *needles: str, timeout: float = 10.0) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with log.open("rb") as f:
            f.seek(offset)
            tail = f.read().decode(errors="replace")
        hit = next((line for line in tail.splitlines() if all(n in line for n in needles)), None)
        if hit:
            return hit
        time.sleep(0.2)
    return None


def _lambda_env(run: Run) -> dict[str, str]:
    config = run.target.client("lambda").get_function_configuration(FunctionName=run.functions["pull"])
    env = dict(config.get("Environment", {}).get("Variables", {}))
    doc = json.loads(STACK_JSON.read_text())
    env.update(
        PATH="/usr/bin:/bin",
        PYTHONPATH=f"{ROOT / 'layers' / 'shared'}:{ROOT}",
        AWS_ENDPOINT_URL=doc["aws_endpoint"],
        AWS_DEFAULT_REGION=doc["region"],
        AWS_REGION=doc["region"],
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_LAMBDA_FUNCTION_NAME=run.functions["pull"],
    )
    return env


def _crash_pull(run: Run) -> None:
    """A pull run of the pull function's code in a process of its own, SIGKILLed as soon as
    its first checkpoint (a flow's high-water mark) is stored and before the run finishes."""
    flows = [f"pull:{f}" for f in ("customers", "invoices", "credit_notes", "payments")]
    before = {f: run.store.get_cursor(run.tenant_id, f).high_water for f in flows}
    job = pull_now(run.tenant_id)
    # Its output is kept for the log scan: a worker that dies mid-run logs like any other.
    with command_log("chaos-pull-worker").open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - our own module, our own arguments
            [sys.executable, "-m", "ops.chaos.pull_worker", job.model_dump_json()],
            cwd=ROOT,
            env=_lambda_env(run),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    moved: str | None = None
    try:
        while process.poll() is None and moved is None:
            moved = next(
                (f for f in flows if run.store.get_cursor(run.tenant_id, f).high_water != before[f]), None
            )
            if moved is None:
                time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    finished = any(
        r.trigger.endswith(job.scheduled_for.isoformat()) for r in run.store.list_runs(run.tenant_id)
    )
    run.crashes["pull"] = {
        "after_checkpoint": moved,
        "killed_before_the_end": moved is not None and not finished,
        "exit": process.returncode,
    }


# --------------------------------------------------------------------------------- phases
def _pull(run: Run, timeout: float) -> dict[str, int]:
    """The hourly job, now, through the deployed pull Lambda; its counts once it finished."""
    job: PullJob = pull_now(run.tenant_id)
    QueueSender(run.target.client("sqs"), run.target.pull_queue_url).send(job.to_message())
    stamp = job.scheduled_for.isoformat()
    found: dict[str, int] = {}

    def done() -> bool:
        for r in run.store.list_runs(run.tenant_id, limit=10):
            if r.trigger.endswith(stamp) and r.finished_at is not None:
                found.update(r.counts, outcome=0 if r.outcome.value in ("succeeded", "partial") else 1)
                return True
        # It failed its way to the DLQ.
        return not _queued(run) and tenant_dead_letters(run.target, run.tenant_id) > 0

    wait_until(done, timeout=timeout, what="the pull run to finish")
    return found


def _synced(run: Run, wanted: dict[str, list[str]], options: Options) -> None:
    """Until each of these Blixo objects has its mapping (the push reached Intacct with it)."""

    def done() -> bool:
        return all(
            len(run.store.mappings.many_by_blixo(run.tenant_id, kind, ids)) == len(ids)
            for kind, ids in wanted.items()
        )

    wait_until(
        done, timeout=options.settle_timeout, interval=2.0, what="the objects to edit and void to sync"
    )


def _queued(run: Run) -> bool:
    q = run.target.client("sqs").get_queue_attributes(
        QueueUrl=run.target.pull_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(q["ApproximateNumberOfMessages"]) + int(q["ApproximateNumberOfMessagesNotVisible"]) > 0


def _settle(run: Run, timeout: float) -> None:
    wait_until(
        lambda: settled(run.target, run.sandboxes), timeout=timeout, interval=2.0, what="the queues to drain"
    )


def _replay(run: Run) -> int:
    """`blixo-intacct dlq replay` on both queues, as an operator runs it; messages moved."""
    moved = 0
    for queue in ("push", "pull"):
        out = subprocess.run(  # noqa: S603 - our own command
            [
                str(ROOT / ".venv" / "bin" / "blixo-intacct"),
                "dlq", "replay", "--queue", queue, "--all", "--tenant", run.tenant_id, "--new-dedup-id", "--json",
            ],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        keep_output("chaos-cli", out.stdout, out.stderr)
        if out.returncode != 0:
            raise RuntimeError(f"dlq replay --queue {queue} failed: {out.stderr.strip()}")
        moved += sum(1 for o in json.loads(out.stdout)["outcomes"] if o.get("status") == "replayed")
    return moved


def _deliveries(run: Run) -> list[dict[str, Any]]:
    """Every delivery attempt of the run's webhook endpoint(s), as the Blixo sandbox logs them."""
    hooks = [w["id"] for w in run.sandboxes.blixo("dump", apiKey=run.api_key).get("webhooks", [])]
    return [r for hook in hooks for r in run.sandboxes.blixo("deliveries", endpointId=hook).get("data", [])]


def _retries(run: Run, deliveries: list[dict[str, Any]]) -> dict[str, int]:
    logs = run.target.client("logs")
    lines = [
        line
        for fn in ("push", "pull")
        for line in log_lines(logs, f"/aws/lambda/{run.functions[fn]}", run.started_ms)
    ]
    return {
        "client_and_message": sum(1 for line in lines if any(m in line for m in RETRY_MARKERS)),
        "webhook_redeliveries": sum(1 for r in deliveries if int(r.get("attempt", 1)) > 1),
    }


def _given_up(deliveries: list[dict[str, Any]]) -> int:
    """Deliveries Blixo stopped retrying: their events never reached the intake."""
    return sum(1 for r in deliveries if r.get("outcome") == "failed")


def _counters(run: Run) -> dict[str, int]:
    return dict(run.sandboxes.intacct("counters", company=run.company).get(run.company, {}))


def _expire_sessions(run: Run, intacct: IntacctClient) -> None:
    """Every live session of the company ends at once, the push's included; what the sandbox
    counts afterwards shows requests refused for it and the logins that followed. The Intacct
    workload's client holds a session first, so at least one holder meets the expiry for sure
    (a push container may log in anew before it would)."""
    next(intacct.query("GLACCOUNT", ["ACCOUNTNO"], pagesize=1), None)
    before = _counters(run)
    ended = int(run.sandboxes.intacct("expire-sessions", {"company": run.company}).get("expired", 0))
    run.session_expiry = {
        "sessions_ended": ended,
        "refusals_before": int(before.get("expired_session_refusals", 0)),
        "logins_before": int(before.get("logins", 0)),
    }


def _after_expiry(run: Run) -> dict[str, int]:
    after = _counters(run)
    seen = run.session_expiry
    return {
        "sessions_ended": seen.get("sessions_ended", 0),
        "requests_refused_after": int(after.get("expired_session_refusals", 0))
        - seen.get("refusals_before", 0),
        "logins_after": int(after.get("logins", 0)) - seen.get("logins_before", 0),
    }


def _injected(run: Run) -> dict[str, int]:
    intacct = run.sandboxes.intacct("counters", company=run.company).get(run.company, {})
    blixo = run.sandboxes.blixo("faults").get("injected", {})
    copies = sum(1 for r in _deliveries(run) if int(r.get("copy", 1)) == 2 and int(r.get("attempt", 1)) == 1)
    return {
        "intacct_5xx": int(intacct.get("injected_5xx", 0)),
        "intacct_429": int(intacct.get("injected_429", 0)),
        "intacct_lost_responses": int(intacct.get("lost_responses", 0)),
        "intacct_session_expiries": run.session_expiry.get("sessions_ended", 0),
        "blixo_5xx": int(blixo.get("error", 0)) + int(blixo.get("errorAfterWrite", 0)),
        "webhook_second_copies": copies,
        "push_crashes": 1 if "pid" in run.crashes.get("push", {}) else 0,
        "pull_crashes": 1 if run.crashes.get("pull", {}).get("killed_before_the_end") else 0,
    }


def execute(options: Options) -> dict[str, Any]:
    # The generator's own clients retry through the faults: their warnings are not the figures.
    logging.getLogger("bisync").setLevel(logging.ERROR)
    stack = LocalStack.load()
    target = from_stack_file(STACK_JSON)
    sandboxes = Sandboxes.of(stack.doc)
    tag = uuid.uuid4().hex[:6].upper()
    tenant_id, company, api_key = _connect(target, sandboxes, tag)
    run = Run(
        target, sandboxes, target.store(), tenant_id, company, api_key,
        dict(stack.doc["functions"]), int(time.time() * 1000) - 1000,
    )  # fmt: skip
    sizes = Sizes.at(options.scale)
    rng = random.Random(options.seed)
    console.print(f"[bold]chaos[/] tenant {tenant_id} (Intacct company {company}), scale {options.scale:g}")
    ready, stop = threading.Event(), threading.Event()
    crasher = threading.Thread(target=_crash_push, args=(run, ready, stop), daemon=True)
    webhook_settings = sandboxes.blixo("webhook-settings")
    try:
        # Start from a quiet stack: what other tenants left queued (an e2e test's last events,
        # its tenant removed) settles or fails its way to a DLQ first, not in the run's figures.
        run.step("the stack is quiet", lambda: _settle(run, options.settle_timeout))
        _faults(run, True, options.seed)
        crasher.start()
        blixo, intacct = _clients(stack.doc, run)
        blixo_work = BlixoWorkload(blixo, sizes, tag, rng)
        made_so_far = [0]
        third = (sizes.blixo_customers + sizes.blixo_invoices) // 3

        def progress(n: int) -> None:
            made_so_far[0] += n
            if made_so_far[0] >= third:
                ready.set()

        run.step(
            "Blixo workload (webhooks flow into the push meanwhile)",
            lambda: blixo_work.run(run.made, progress),
        )
        ready.set()
        run.step("Intacct sessions expire", lambda: _expire_sessions(run, intacct))
        intacct_work = IntacctWorkload(intacct, sizes, tag, rng)
        run.step("Intacct workload", lambda: intacct_work.run(run.made))
        run.step(
            "what is edited and voided next is synced", lambda: _synced(run, blixo_work.to_change(), options)
        )
        run.step("Blixo edits and voids", lambda: blixo_work.change(run.made))
        run.step("push settles", lambda: _settle(run, options.settle_timeout))
        stop.set()
        crasher.join(timeout=10)
        run.step("a pull killed between two checkpoints", lambda: _crash_pull(run))
        run.step("the next pull (deployed Lambda)", lambda: _pull(run, options.settle_timeout))
        run.step("Intacct Order Entry edits and payment reversals", lambda: intacct_work.change(run.made))
        run.step("the pull after them", lambda: _pull(run, options.settle_timeout))
        run.step("settles", lambda: _settle(run, options.settle_timeout))
        injected = _injected(run)
        run.session_expiry = _after_expiry(run)
        _faults(run, False, options.seed)
        run.dlq["before_replay"] = tenant_dead_letters(target, tenant_id)
        run.dlq["replayed"] = run.step("dlq replay", lambda: _replay(run))
        run.step("settles after the replay", lambda: _settle(run, options.settle_timeout))
        run.step("the hourly pull", lambda: _pull(run, options.settle_timeout))
        run.step("settles", lambda: _settle(run, options.settle_timeout))
        report = _verify(run, injected, sizes, options)
    finally:
        stop.set()
        _faults(run, False, options.seed)
        sandboxes.blixo("webhook-settings", {"retryDelaysSeconds": webhook_settings["retryDelaysSeconds"]})
    if options.results is not None:
        options.results.parent.mkdir(parents=True, exist_ok=True)
        options.results.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    if not options.keep_tenant and _clean(report):
        run.store.delete_tenant(tenant_id)
    return report


def _clean(report: dict[str, Any]) -> bool:
    return not any(report[k] for k in ("duplicates", "lost", "balance_differences", "second_pass_writes"))


def _verify(run: Run, injected: dict[str, int], sizes: Sizes, options: Options) -> dict[str, Any]:
    settings = run.store.get_tenant(run.tenant_id)
    snapshot = verify.Snapshot.take(run.sandboxes, run.api_key, run.company)
    mappings = verify.mappings_of(run.store, run.tenant_id)
    errors = [e for e in run.store.errors.list(run.tenant_id) if e.level.value == "error"]
    found = verify.check(
        snapshot, mappings, run.made, [(e.object_type, e.object_id, e.message) for e in errors]
    )
    with tenant_clients(run.target, settings) as clients:
        result = run.step(
            "reconcile",
            lambda: reconcile(
                settings,
                clients.blixo,
                clients.intacct,
                run.store.mappings,
                run.store.errors.list(run.tenant_id),
            ),
        )
    stuck = tenant_dead_letters(run.target, run.tenant_id)
    found.lost += [f"{stuck} message(s) still in a DLQ after the replay"] if stuck else []
    # The second pass: another pull and replay must write nothing anywhere.
    run.step("second pass: pull", lambda: _pull(run, options.settle_timeout))
    second_replay = run.step("second pass: dlq replay", lambda: _replay(run))
    run.step("second pass settles", lambda: _settle(run, options.settle_timeout))
    changes = verify.changed_records(snapshot, verify.Snapshot.take(run.sandboxes, run.api_key, run.company))
    deliveries = _deliveries(run)
    retries = _retries(run, deliveries)
    events = snapshot.blixo_events + run.made.intacct_writes
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "tenant_id": run.tenant_id,
        "scale": options.scale,
        "seed": options.seed,
        "sizes": sizes.__dict__,
        "made": run.made.counts(),
        "events": events,
        "events_by_source": {
            "blixo_webhook_events": snapshot.blixo_events,
            "intacct_writes": run.made.intacct_writes,
        },
        "faults_injected": sum(injected.values()),
        "faults": injected,
        "crashes": run.crashes,
        "session_expiry": run.session_expiry,
        "retries": sum(retries.values()),
        "retries_by_kind": retries,
        "dlq_messages": run.dlq.get("before_replay", 0),
        "webhooks_given_up": _given_up(deliveries),
        "dlq_replayed": run.dlq.get("replayed", 0) + second_replay,
        "mapped": found.mapped,
        "undone_before_synced": dict(found.undone_unsynced),
        "duplicates": len(found.duplicates),
        "lost": len(found.lost),
        "balance_differences": len(found.balance_differences)
        + result.totals.customer_differences
        + result.totals.document_differences,
        "reconciliation": result.summary(),
        "open_sync_errors": len(found.open_errors),
        "second_pass_writes": sum(changes.values()),
        "second_pass_changes": changes,
        "details": {
            "duplicates": found.duplicates[:50],
            "lost": found.lost[:50],
            "balance_differences": found.balance_differences[:50]
            + [
                f"{d.object_type} {d.number}: Blixo {d.blixo_open} Intacct {d.intacct_open}"
                for d in result.documents
            ][:50],
            "open_sync_errors": found.open_errors[:50],
        },
        "timings_s": run.timings,
    }
