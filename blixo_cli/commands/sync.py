"""`blixo-intacct sync now|push`: a pull run queued now (or a backfill), and the push backfill
from Blixo. Both go through the deployed queues and functions, as the schedule and webhooks do."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from bisync.operate.backfill import backfill_jobs, raw_records
from bisync.operate.jobs import PULL_FLOW_NAMES, PUSH_TYPES, JobError, pull_now
from bisync.store.models import Mapping, Origin, RunOutcome, SyncRun
from blixo_cli.context import target_of, tenant_clients
from blixo_cli.output import JSON_OPTION, OperatorError, console, emit
from blixo_cli.queues import QueueSender, depths
from blixo_cli.target import Target

app = typer.Typer(no_args_is_help=True)

WAIT = typer.Option(False, "--wait", help="Follow the run; exit 1 if it failed.")
TIMEOUT = typer.Option(900, "--timeout", help="Seconds --wait waits at most.")
FINISHED = (RunOutcome.SUCCEEDED, RunOutcome.PARTIAL, RunOutcome.FAILED, RunOutcome.SKIPPED)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OperatorError(f"{option} must be a date, YYYY-MM-DD (got {value!r})") from None


@app.command("now")
def now(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., metavar="TENANT"),
    flow: list[str] = typer.Option(None, "--flow", help=f"Only these flows: {', '.join(PULL_FLOW_NAMES)}."),
    since: str | None = typer.Option(None, "--since", help="Backfill: read what changed since DATE."),
    wait: bool = WAIT,
    timeout: int = TIMEOUT,
    json_output: bool = JSON_OPTION,
) -> None:
    """Queue a pull run for TENANT now (the hourly schedule's job, on demand)."""
    target = target_of(ctx)
    settings = target.store().get_tenant(tenant_id)
    if not settings.enabled:
        raise OperatorError(f"{tenant_id} is disabled: `tenant set {tenant_id} enabled=true` first")
    if not settings.pull_enabled:
        raise OperatorError(f"every pull flow of {tenant_id} is off: turn one on with `tenant set`")
    try:
        job = pull_now(tenant_id, flows=flow or (), since=_date(since, "--since"))
    except JobError as exc:
        raise OperatorError(str(exc)) from None
    QueueSender(target.client("sqs"), target.pull_queue_url).send(job.to_message())
    trigger = f"operator:{job.scheduled_for.isoformat()}"
    if not wait:
        emit({"queued": True, "trigger": trigger}, json_output, lambda c: c.print(f"queued pull {trigger}"))
        return
    run = _follow_pull(target, tenant_id, job.scheduled_for.isoformat(), timeout, quiet=json_output)
    failed = sum(v for k, v in run.counts.items() if k.endswith(".failed"))
    data = {"queued": True, "trigger": trigger, "run": run.model_dump(mode="json"), "failed": failed}

    def render(c: object) -> None:
        console.print(
            f"pull {run.outcome.value}: " + ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()) if v)
        )
        if failed:
            console.print(f"[yellow]{failed} record(s) failed: `blixo-intacct errors list {tenant_id}`[/]")

    emit(data, json_output, render)
    if run.outcome is RunOutcome.FAILED or failed:
        raise typer.Exit(1)


def _follow_pull(target: Target, tenant_id: str, stamp: str, timeout: int, *, quiet: bool) -> SyncRun:
    """The run the job started, and its continuations, until the last has finished."""
    store = target.store()
    deadline = time.monotonic() + timeout
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, disable=quiet
    ) as bar:
        task = bar.add_task("waiting for the pull Lambda", total=None)
        while time.monotonic() < deadline:
            runs = [r for r in store.list_runs(tenant_id, limit=20) if r.trigger.endswith(stamp)]
            done = [r for r in runs if r.outcome in FINISHED]
            if done:
                latest = max(done, key=lambda r: r.finished_at or r.started_at)
                written = sum(v for k, v in latest.counts.items() if k.endswith((".created", ".updated")))
                bar.update(task, description=f"pull {latest.outcome.value}: {written} records written")
                queue = depths(target)
                # A run out of time hands over to a continuation job: wait for it too.
                if not (latest.outcome is RunOutcome.PARTIAL and queue.pull + queue.pull_in_flight):
                    return latest
            time.sleep(1.0)
    raise OperatorError(f"the pull did not finish within {timeout}s: `blixo-intacct status {tenant_id}`")


@app.command("push")
def push(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., metavar="TENANT"),
    since: str = typer.Option(..., "--since", help="Send the Blixo records changed since DATE."),
    object_type: list[str] = typer.Option(None, "--type", help=f"Only these: {', '.join(PUSH_TYPES)}."),
    wait: bool = WAIT,
    timeout: int = TIMEOUT,
    json_output: bool = JSON_OPTION,
) -> None:
    """Backfill Intacct from Blixo: each record changed since DATE goes through the push path as
    its webhook would; anything already synced is a no-op."""
    target = target_of(ctx)
    store = target.store()
    settings = store.get_tenant(tenant_id)
    if not settings.enabled:
        raise OperatorError(f"{tenant_id} is disabled: `tenant set {tenant_id} enabled=true` first")
    if not settings.push_enabled:
        raise OperatorError(f"every push flow of {tenant_id} is off: turn one on with `tenant set`")
    start = _date(since, "--since")
    assert start is not None
    moment = datetime.combine(start, datetime.min.time(), UTC)
    sender = QueueSender(target.client("sqs"), target.push_queue_url)
    started = datetime.now(UTC)
    sent: dict[str, int] = {}
    records: list[tuple[str, str, str]] = []
    with tenant_clients(target, settings) as clients, Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} queued"),
        console=console, disable=json_output,
    ) as bar:  # fmt: skip
        task = bar.add_task("reading Blixo", total=None)
        try:
            for job in backfill_jobs(
                tenant_id, moment, raw_records(clients.blixo.request), types=object_type or PUSH_TYPES
            ):
                sender.send(job.to_message())
                kind = job.event_type.split(".", 1)[0]
                sent[kind] = sent.get(kind, 0) + 1
                record = job.event()["data"]["object"]
                records.append((kind, str(record["id"]), str(record.get("updatedAt") or "")))
                bar.update(task, advance=1, description=f"queuing {kind}s")
        except JobError as exc:
            raise OperatorError(str(exc)) from None
    total = sum(sent.values())
    data: dict[str, object] = {"queued": sent, "total": total}
    if wait and total:
        synced, errored = _follow_push(target, tenant_id, records, started, timeout, quiet=json_output)
        data.update(synced=synced, open_errors=errored)
    emit(
        data,
        json_output,
        lambda c: c.print(
            f"queued {total} record(s) for the push: " + ", ".join(f"{v} {k}" for k, v in sent.items())
        ),
    )
    if wait and total and data.get("open_errors"):
        console.print(
            f"[yellow]{data['open_errors']} push error(s) open: `blixo-intacct errors list {tenant_id}`[/]"
        )
        raise typer.Exit(1)


def _follow_push(
    target: Target,
    tenant_id: str,
    sent: list[tuple[str, str, str]],
    started: datetime,
    timeout: int,
    *,
    quiet: bool,
) -> tuple[int, int]:
    """Until every record sent is synced at (at least) the version sent, or has a sync error:
    (synced, errored). A record already synced before is done at once (its job is a no-op)."""
    store = target.store()
    deadline = time.monotonic() + timeout
    pending = {(t, i): v for t, i, v in sent}
    synced = errored = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=console, disable=quiet) as bar:  # fmt: skip
        task = bar.add_task("pushing to Intacct", total=len(sent))
        while pending and time.monotonic() < deadline:
            # Only errors of this backfill: an older one of the same record says nothing yet.
            errors = {
                (e.object_type, e.object_id)
                for e in store.errors.list(tenant_id)
                if e.direction == "push" and e.last_seen >= started
            }
            for object_type in {t for t, _ in pending}:
                ids = [i for t, i in pending if t == object_type]
                links = store.mappings.many_by_blixo(tenant_id, object_type, ids)
                for object_id in ids:
                    link = links.get(object_id)
                    if link is not None and _done(link, pending[(object_type, object_id)], started):
                        synced += 1
                        del pending[(object_type, object_id)]
                    elif (object_type, object_id) in errors:
                        errored += 1
                        del pending[(object_type, object_id)]
            bar.update(task, completed=synced + errored)
            if pending:
                time.sleep(1.0)
    if pending:
        raise OperatorError(
            f"{len(pending)} record(s) not synced within {timeout}s: `blixo-intacct status {tenant_id}`"
        )
    return synced, errored


def _done(link: Mapping, sent: str, started: datetime) -> bool:
    """The record is synced as sent: its link was written by this backfill (a void, say), or it
    records the version sent or a later one; a record the pull brought is Intacct's, and its
    push is a no-op."""
    if link.origin is Origin.INTACCT:
        return True
    if link.updated_at is not None and _aware(link.updated_at) >= started:
        return True
    if link.source_version is None or not sent:
        return True
    try:
        return _aware(_moment(link.source_version)) >= _aware(_moment(sent))
    except ValueError:
        return link.source_version >= sent


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
