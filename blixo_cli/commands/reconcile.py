"""`blixo-intacct reconcile TENANT`: open balances per customer in Blixo and in Intacct side by
side, the differences, and the records that explain them (unsynced, errored, mismatched)."""

from __future__ import annotations

from decimal import Decimal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bisync.blixo.errors import BlixoError
from bisync.intacct.errors import IntacctError
from bisync.operate.reconcile import ExplanationKind, Reconciliation
from bisync.operate.reconcile import reconcile as run_reconcile
from blixo_cli.context import target_of, tenant_clients
from blixo_cli.output import JSON_OPTION, OperatorError, emit

_KIND_STYLE = {
    ExplanationKind.UNSYNCED: "yellow",
    ExplanationKind.ERRORED: "red",
    ExplanationKind.MISMATCH: "magenta",
    ExplanationKind.MISSING: "cyan",
}


def reconcile(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., metavar="TENANT", help="The tenant to reconcile."),
    differences_only: bool = typer.Option(
        False, "--differences-only", help="List only the customers whose balances differ."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Open balance per customer in Blixo and in Intacct side by side (open invoices and
    convenience-fee invoices, less open credit and unapplied cash), the documents that differ,
    and the records that explain it: unsynced, errored, mismatched or missing.

    Exit code 1 when anything differs (with --json too), 0 when both ledgers agree, so a
    script can gate on it."""
    target = target_of(ctx)
    store = target.store()
    settings = store.get_tenant(tenant_id)
    errors = store.errors.list(tenant_id)
    try:
        with tenant_clients(target, settings) as clients:
            result = run_reconcile(settings, clients.blixo, clients.intacct, store.mappings, errors)
    except IntacctError as exc:
        raise OperatorError(f"Intacct: {exc}") from None
    except BlixoError as exc:
        raise OperatorError(f"Blixo: {exc}") from None
    emit(result, json_output, lambda console: render(console, result, differences_only=differences_only))
    if not result.balanced:
        raise typer.Exit(1)


def _money(amount: Decimal | None) -> str:
    return "—" if amount is None else f"{amount:,.2f}"


def _signed(amount: Decimal) -> str:
    return f"{amount:+,.2f}" if amount else "0.00"


def _difference(amount: Decimal) -> str:
    return f"[bold red]{_signed(amount)}[/]" if amount else "[green]0.00[/]"


def render(console: Console, result: Reconciliation, *, differences_only: bool = False) -> None:
    where = f" (entity {result.entity_id})" if result.entity_id else ""
    title = f"Open balances of {result.tenant_id}{where} at {result.as_of.isoformat(timespec='seconds')}"
    table = Table(title=title, title_justify="left")
    for column in ("customer", "Blixo id", "Intacct id"):
        table.add_column(column)
    for column in ("Blixo", "Intacct", "difference"):
        table.add_column(column, justify="right")
    shown = [c for c in result.customers if c.difference or not differences_only]
    for row in shown:
        table.add_row(
            escape(row.name),
            escape(row.blixo_id or "—"),
            escape(row.intacct_id or "—"),
            _money(row.blixo.total if row.blixo else None),
            _money(row.intacct.total if row.intacct else None),
            _difference(row.difference),
            style="bold" if row.difference else None,
        )
    console.print(table)
    if len(shown) < len(result.customers):
        console.print(f"[dim]{len(result.customers) - len(shown)} customers in balance not listed[/]")
    if result.documents:
        docs = Table(title="Documents that differ", title_justify="left")
        for column in ("type", "number", "Blixo id", "Intacct key"):
            docs.add_column(column)
        for column in ("Blixo", "Intacct", "difference"):
            docs.add_column(column, justify="right")
        for doc in result.documents:
            docs.add_row(
                doc.object_type,
                escape(doc.number or "—"),
                escape(doc.blixo_id or "—"),
                escape(doc.intacct_key or "—"),
                _money(doc.blixo_open),
                _money(doc.intacct_open),
                _difference(doc.difference),
            )
        console.print(docs)
    if result.explanations:
        console.print("[bold]Explanations[/]")
        for item in result.explanations:
            style = _KIND_STYLE[item.kind]
            ids = " / ".join(x for x in (item.blixo_id, item.intacct_key) if x)
            label = " ".join(x for x in (item.object_type, item.number, f"({ids})" if ids else None) if x)
            amount = f" {_signed(item.amount)}" if item.amount else ""
            what = escape(f"{label}{amount}: {item.message}")
            console.print(f"  [{style}]{item.kind.value}[/] {what}", highlight=False)
    t = result.totals
    line = (
        f"Blixo {t.blixo_open:,.2f}, Intacct {t.intacct_open:,.2f}, difference {_signed(t.difference)}; "
        + result.summary()
    )
    console.print(f"[green]{line}[/]" if result.balanced else f"[bold red]{line}[/]", highlight=False)
