"""`blixo-intacct status [TENANT]`: sync timing per tenant and flow, and the queues."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from bisync.operate.status import StatusReport, status_report
from blixo_cli.context import target_of
from blixo_cli.output import JSON_OPTION, emit, when
from blixo_cli.queues import depths

_OUTCOME_STYLE = {"succeeded": "green", "partial": "yellow", "failed": "red", "running": "cyan"}


def status(
    ctx: typer.Context,
    tenant_id: str | None = typer.Argument(None, metavar="[TENANT]", help="One tenant (default: all)."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Per tenant and flow: on/off, last run and outcome, last success, next pull, records in the
    last run, open errors; and the queue and DLQ depths."""
    target = target_of(ctx)
    store = target.store()
    tenants = [store.get_tenant(tenant_id)] if tenant_id else list(store.iter_tenants())
    report = status_report(tenants, store, now=datetime.now(UTC), queues=depths(target))
    emit(report.model_dump(mode="json"), json_output, lambda console: render(console, report))


def render(console: Console, report: StatusReport) -> None:
    if not report.tenants:
        console.print("no tenants yet: onboard one with `blixo-intacct tenant connect TENANT`")
    for tenant in report.tenants:
        title = f"{tenant.tenant_id} ({tenant.name})" if tenant.name else tenant.tenant_id
        if not tenant.enabled:
            title += " [red]disabled[/]"
        table = Table(title=title, title_justify="left")
        for column in ("flow", "on", "last run", "outcome", "last success", "records", "errors"):
            table.add_column(column, no_wrap=column == "flow")
        for flow in tenant.flows:
            outcome = flow.last_outcome.value if flow.last_outcome else "-"
            style = _OUTCOME_STYLE.get(outcome, "")
            table.add_row(
                flow.flow,
                "on" if flow.enabled else "[dim]off[/]",
                when(flow.last_run_finished),
                f"[{style}]{outcome}[/]" if style else outcome,
                when(flow.last_success),
                str(flow.records_last_run),
                f"[red]{flow.open_errors}[/]" if flow.open_errors else "0",
            )
        console.print(table)
        console.print(
            f"next pull: {when(tenant.next_pull)}   open errors: {tenant.open_errors}"
            f"   warnings: {tenant.open_warnings}"
        )
    if report.queues:
        q = report.queues
        console.print(
            f"queues: push {q.push} waiting, {q.push_in_flight} in flight, DLQ {q.push_dlq}; "
            f"pull {q.pull} waiting, {q.pull_in_flight} in flight, DLQ {q.pull_dlq}"
        )
