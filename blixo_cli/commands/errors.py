"""`blixo-intacct errors list|show|retry|ignore`: the open sync errors, one per object."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from bisync.blixo import api
from bisync.blixo.errors import NotFoundError
from bisync.operate import errors as ops
from bisync.settings import TenantSettings
from bisync.store.models import SyncErrorRecord
from blixo_cli.context import target_of, tenant_clients
from blixo_cli.output import JSON_OPTION, OperatorError, emit, when
from blixo_cli.queues import QueueSender
from blixo_cli.target import Target

app = typer.Typer(no_args_is_help=True)

DIRECTION = typer.Option(None, "--direction", help="push or pull.")
TYPE = typer.Option(None, "--type", help="customer, invoice, credit_note, payment ...")
LEVEL = typer.Option(None, "--level", help="error or warning.")
GREP = typer.Option(None, "--grep", help="Only errors whose message contains this text.")


def _error_key(value: str) -> tuple[str, str]:
    object_type, sep, object_id = value.partition(":")
    if not sep or not object_type or not object_id:
        raise OperatorError(f"{value!r} is not TYPE:ID (e.g. invoice:inv_123), as `errors list` shows it")
    return object_type, object_id


def _filter(
    direction: str | None, object_type: str | None, level: str | None, grep: str | None, ignored: bool
) -> ops.ErrorFilter:
    if direction not in (None, "push", "pull"):
        raise OperatorError("--direction is push or pull")
    if level not in (None, "error", "warning"):
        raise OperatorError("--level is error or warning")
    return ops.ErrorFilter(direction, object_type, level, grep, ignored)


@app.command("list")
def list_errors(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., metavar="TENANT"),
    direction: str | None = DIRECTION,
    object_type: str | None = TYPE,
    level: str | None = LEVEL,
    grep: str | None = GREP,
    include_ignored: bool = typer.Option(False, "--include-ignored", help="Ignored ones too."),
    json_output: bool = JSON_OPTION,
) -> None:
    """The tenant's open sync errors, newest first, with a hint each."""
    store = target_of(ctx).store()
    store.get_tenant(tenant_id)
    records = ops.find(store.errors, tenant_id, _filter(direction, object_type, level, grep, include_ignored))
    views = [ops.view(r) for r in records]
    emit([v.model_dump(mode="json") for v in views], json_output, lambda c: _table(c, views))


def _table(console: Console, views: list[ops.ErrorView]) -> None:
    if not views:
        console.print("no open sync errors")
        return
    table = Table(title=f"{len(views)} sync error(s)", title_justify="left")
    for column in ("error", "dir", "level", "attempts", "last seen", "message", "hint"):
        table.add_column(column, overflow="fold")
    for v in views:
        table.add_row(
            f"{v.object_type}:{v.object_id}",
            v.direction,
            v.level + (" (ignored)" if v.ignored else ""),
            str(v.attempts),
            when(v.last_seen),
            v.message,
            v.hint,
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., metavar="TENANT"),
    error: str = typer.Argument(..., metavar="TYPE:ID"),
    json_output: bool = JSON_OPTION,
) -> None:
    """One error in full: the Intacct error text and number, attempts, what a retry re-sends."""
    store = target_of(ctx).store()
    store.get_tenant(tenant_id)
    record = _get(store.errors, tenant_id, error)
    data = {
        **ops.view(record).model_dump(mode="json"),
        "retry": {k: v for k, v in record.retry.items() if k != "event_json"},
    }

    def render(console: Console) -> None:
        for key, value in data.items():
            console.print(f"[bold]{key}[/]: {value}", highlight=False)

    emit(data, json_output, render)


def _get(errors: Any, tenant_id: str, error: str) -> SyncErrorRecord:
    object_type, object_id = _error_key(error)
    record: SyncErrorRecord | None = errors.get(tenant_id, object_type, object_id)
    if record is None:
        raise OperatorError(f"no sync error {error} for tenant {tenant_id} (it may have synced since)")
    return record


@app.command("retry")
def retry(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., metavar="TENANT"),
    errors: list[str] = typer.Argument(None, metavar="[TYPE:ID]...", help="Errors to retry."),
    all_matching: bool = typer.Option(False, "--all", help="Every open error matching the filters."),
    direction: str | None = DIRECTION,
    object_type: str | None = TYPE,
    level: str | None = LEVEL,
    grep: str | None = GREP,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be queued."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Queue the objects again (one, several, or --all matching the filters): a push error
    re-sends the Blixo record as it is now, a pull error re-reads the Intacct record."""
    target = target_of(ctx)
    store = target.store()
    settings = store.get_tenant(tenant_id)
    if errors and all_matching:
        raise OperatorError("name errors or pass --all, not both")
    if errors:
        records = [_get(store.errors, tenant_id, e) for e in errors]
    elif all_matching:
        records = ops.find(store.errors, tenant_id, _filter(direction, object_type, level, grep, False))
    else:
        raise OperatorError("name the errors to retry (TYPE:ID, see `errors list`) or pass --all")
    if dry_run:
        data = [{"error": f"{r.object_type}:{r.object_id}", "direction": r.direction} for r in records]
        emit(
            data,
            json_output,
            lambda c: c.print(f"would retry {len(records)} error(s): " + ", ".join(d["error"] for d in data)),
        )
        return
    results = _queue(target, settings, records)

    def render(console: Console) -> None:
        for r in results:
            state = "queued" if r.queued else "[red]not queued[/]"
            console.print(f"{state} {r.object_type}:{r.object_id}: {r.detail}")

    emit([r.model_dump(mode="json") for r in results], json_output, render)
    if any(not r.queued for r in results):
        raise typer.Exit(1)


def _queue(target: Target, settings: TenantSettings, records: list[SyncErrorRecord]) -> list[ops.RetryResult]:
    sqs = target.client("sqs")
    push = QueueSender(sqs, target.push_queue_url)
    pull = QueueSender(sqs, target.pull_queue_url)
    needs_blixo = any(r.direction == "push" for r in records)

    def run(fetch: ops.FetchBlixo) -> list[ops.RetryResult]:
        return ops.retry(records, fetch_blixo=fetch, send_push=push.send, send_pull=pull.send)

    if not needs_blixo:
        return run(lambda _t, _i: None)
    with tenant_clients(target, settings) as clients:

        def fetch(object_type: str, object_id: str) -> dict[str, Any] | None:
            try:
                data = clients.blixo.get_data(api.object_path(api.ResourceKind(object_type), object_id))
            except NotFoundError:
                return None
            return data if isinstance(data, dict) else None

        return run(fetch)


@app.command("ignore")
def ignore(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., metavar="TENANT"),
    error: str = typer.Argument(..., metavar="TYPE:ID"),
    reason: str = typer.Option(..., "--reason", help="Why it needs no sync (kept with the error)."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Close an error with a reason: it leaves the open list (a later failure opens it again)."""
    store = target_of(ctx).store()
    store.get_tenant(tenant_id)
    if not reason.strip():
        raise OperatorError("--reason must say why")
    object_type, object_id = _error_key(error)
    record = store.errors.ignore(tenant_id, object_type, object_id, reason.strip())
    if record is None:
        raise OperatorError(f"no sync error {error} for tenant {tenant_id}")
    emit(
        ops.view(record).model_dump(mode="json"),
        json_output,
        lambda c: c.print(f"ignored {error}: {reason.strip()}"),
    )
