"""`blixo-intacct tenant connect|show|set`: onboard a tenant and change its settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from bisync.operate.connect import check_intacct
from bisync.operate.settings_edit import (
    CHECKED_IN_INTACCT,
    SettingsChangeError,
    apply_change,
    parse_assignments,
)
from blixo_cli.context import target_of, tenant_clients
from blixo_cli.onboard import ConnectRequest, ConnectResult, MissingValueError, connect_tenant
from blixo_cli.output import JSON_OPTION, OperatorError, emit, to_json

app = typer.Typer(no_args_is_help=True)


@app.command("connect")
def connect(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., metavar="TENANT"),
    company_id: str | None = typer.Option(None, "--company-id", help="Intacct company ID."),
    user_id: str | None = typer.Option(None, "--user-id", help="Intacct web-services user."),
    user_password: str | None = typer.Option(
        None,
        "--user-password",
        envvar="INTACCT_USER_PASSWORD",
        help="Its password (env INTACCT_USER_PASSWORD).",
    ),
    sender_id: str | None = typer.Option(None, "--sender-id", help="Web Services sender ID (optional)."),
    sender_password: str | None = typer.Option(
        None,
        "--sender-password",
        envvar="INTACCT_SENDER_PASSWORD",
        help="Sender password (env INTACCT_SENDER_PASSWORD).",
    ),
    entity: str | None = typer.Option(None, "--entity", help="Intacct entity the tenant lives in."),
    blixo_api_key: str | None = typer.Option(
        None,
        "--blixo-api-key",
        envvar="BLIXO_API_KEY",
        help="The tenant's Blixo API key (env BLIXO_API_KEY).",
    ),
    name: str | None = typer.Option(None, "--name", help="Display name."),
    webhook_secret: str | None = typer.Option(
        None, "--webhook-secret", envvar="BLIXO_WEBHOOK_SECRET", hidden=True, help="Pin the webhook secret."
    ),
    check_only: bool = typer.Option(False, "--check", help="Only check the credentials; store nothing."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Check and store the tenant's Intacct and Blixo credentials, and subscribe its webhook.

    Opens an Intacct session, reads CUSTOMER, SODOCUMENT, ARINVOICE, ARADJUSTMENT and ARPYMT,
    looks up the mapped GL and bank accounts, checks the Blixo key, then registers the webhook
    with a generated secret kept in Secrets Manager. Values not given are kept from an earlier
    connect; nothing is stored when a check fails. Safe to run again."""
    target = target_of(ctx)
    request = ConnectRequest(
        tenant_id=tenant_id,
        company_id=company_id,
        user_id=user_id,
        user_password=user_password,
        sender_id=sender_id,
        sender_password=sender_password,
        entity_id=entity,
        blixo_api_key=blixo_api_key,
        name=name,
        webhook_secret=webhook_secret,
    )
    try:
        result = connect_tenant(target, request, check_only=check_only)
    except MissingValueError as exc:
        raise OperatorError(f"{exc} is needed (nothing is stored for {tenant_id} yet)") from None
    emit(result.public(), json_output, lambda c: _render_connect(c, result, check_only))
    if result.problems:
        raise typer.Exit(1)


def _render_connect(console: Console, result: ConnectResult, check_only: bool) -> None:
    if result.problems:
        what = "the checks failed" if check_only else "is not connected"
        console.print(f"[bold red]{result.tenant_id}: {what}[/]; nothing was stored:")
        for problem in result.problems:
            console.print(f"  - {problem.message}", highlight=False)
        return
    if check_only:
        console.print(f"[green]{result.tenant_id}: every check passed[/] (nothing stored: --check)")
        return
    console.print(f"[green]{result.tenant_id} connected[/]: Intacct and Blixo credentials checked")
    console.print(f"  secret: {result.secret_name}")
    console.print(f"  webhook: {result.webhook_url} ({result.webhook})")


@app.command("show")
def show(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., metavar="TENANT"),
    json_output: bool = JSON_OPTION,
) -> None:
    """The tenant's settings: flows, definitions, start date, look-back, accounts, entity."""
    settings = target_of(ctx).store().get_tenant(tenant_id)
    data = settings.model_dump(mode="json")
    emit(data, json_output, lambda c: c.print_json(to_json(data)))


@app.command("set")
def set_settings(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., metavar="TENANT"),
    assignments: list[str] = typer.Argument(
        None, metavar="[NAME=VALUE]...", help="e.g. flows.pull_invoices=false lookback_minutes=30"
    ),
    from_file: Path | None = typer.Option(None, "--file", help="A JSON object of settings to merge in."),
    no_check: bool = typer.Option(
        False, "--no-check", help="Do not look accounts, definitions and entity up in Intacct."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Change settings: validated as a whole before anything is saved (values are JSON when
    they parse as JSON, else text; nested names use dots). A change of accounts or transaction
    definitions is also looked up in the tenant's Intacct company first; the entity is changed
    with `tenant connect --entity`."""
    target = target_of(ctx)
    store = target.store()
    current = store.get_tenant(tenant_id)
    change: dict[str, Any] = {}
    if from_file is not None:
        try:
            loaded = json.loads(from_file.read_text())
        except (OSError, ValueError) as exc:
            raise OperatorError(f"cannot read {from_file}: {exc}") from None
        if not isinstance(loaded, dict):
            raise OperatorError(f"{from_file} must hold a JSON object")
        change.update(loaded)
    try:
        change.update(parse_assignments(assignments or []))
        if not change:
            raise OperatorError("nothing to change: pass NAME=VALUE pairs or --file")
        if "entity_id" in change:
            # The entity is where the tenant signs in: part of its credentials, checked there.
            raise OperatorError(
                f"the entity is set by `blixo-intacct tenant connect {tenant_id} --entity ID`"
            )
        updated = apply_change(current, change)
    except SettingsChangeError as exc:
        raise OperatorError(str(exc)) from None
    if not no_check and CHECKED_IN_INTACCT & set(change):
        with tenant_clients(target, updated) as clients:
            problems = check_intacct(clients.intacct.execute, updated, clients.intacct.credentials.company_id)
        if problems:
            listed = "\n  ".join(p.message for p in problems)
            raise OperatorError(f"not saved; Intacct says:\n  {listed}")
    store.put_tenant(updated)
    data = updated.model_dump(mode="json")
    emit(data, json_output, lambda c: c.print(f"saved settings of {tenant_id}: {', '.join(sorted(change))}"))
