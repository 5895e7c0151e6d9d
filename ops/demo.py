"""`make demo`: the main job on the local stack, end to end.

1. Onboards the demo tenant (settings in DynamoDB, credentials in Secrets Manager) and
   subscribes the stack's webhook URL in the Blixo sandbox with the tenant's webhook secret.
2. Creates a customer and an invoice in the Blixo sandbox: the sandbox delivers its signed
   webhooks to API Gateway -> webhook Lambda -> PushQueue -> push Lambda.
3. Fires the hourly schedule: pull-schedule Lambda -> PullQueue -> pull Lambda.
4. Shows the tenant's status: when each flow last ran and what it processed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from bisync.blixo.client import BlixoClient
from bisync.blixo.models import CustomerWrite, InvoiceWrite, LineItemWrite
from bisync.store import SyncStore
from ops.demo_tenant import DEMO_TENANT, ensure_demo_tenant
from ops.local import LocalStack

console = Console()
T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 90.0) -> T:
    deadline = time.monotonic() + timeout
    with console.status(f"waiting for {what}"):
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            time.sleep(0.5)
    raise SystemExit(f"demo failed: timed out waiting for {what}")


def push_flow(stack: LocalStack, store: SyncStore) -> None:
    before = store.get_cursor(DEMO_TENANT, "push").processed
    blixo = BlixoClient(SecretStr(stack.doc["blixo"]["api_key"]), stack.doc["blixo"]["url"])
    run = uuid.uuid4().hex[:8]
    customer = blixo.customers.create(
        CustomerWrite(name=f"Globex & Partners ({run})", email="ap@globex.example", currency="USD"),
        idempotency_key=f"demo-customer-{run}",
    )
    invoice = blixo.invoices.create(
        InvoiceWrite(
            customer_id=customer.id,
            currency="USD",
            items=[
                LineItemWrite(
                    name="Implementation <phase 1>", quantity=Decimal(3), unit_price=Decimal("1250.00")
                )
            ],
            status="issued",
        ),
        idempotency_key=f"demo-invoice-{run}",
    )
    console.print(
        f"Blixo: created customer [bold]{customer.id}[/] and invoice [bold]{invoice.id}[/] ({invoice.total})"
    )
    processed = wait_for(
        lambda: (n := store.get_cursor(DEMO_TENANT, "push").processed) >= before + 2 and n,
        "the push Lambda to process both webhook events",
    )
    console.print(f"push: {processed - before} events verified, queued and processed by the deployed Lambdas")


def pull_flow(stack: LocalStack, store: SyncStore) -> None:
    before = len(store.list_runs(DEMO_TENANT))
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": stack.doc["region"],
        "resources": [],
        "detail": {},
    }
    reply = stack.client("lambda").invoke(
        FunctionName=stack.doc["functions"]["pull_schedule"], Payload=json.dumps(event).encode()
    )
    result = json.loads(reply["Payload"].read())
    if "FunctionError" in reply:
        raise SystemExit(f"demo failed: pull-schedule Lambda error: {result}")
    console.print(f"schedule: pull jobs queued for {len(result['tenants'])} tenant(s)")
    # The schedule dedupes a tenant's job per hour, so a rerun within the hour adds no run.
    runs = wait_for(lambda: store.list_runs(DEMO_TENANT) or None, "the pull Lambda to record a run")
    console.print(
        f"pull: {len(runs) - before} new run(s); latest {runs[0].outcome.value} ({runs[0].trigger})"
    )


def show_status(store: SyncStore) -> None:
    table = Table(title=f"Tenant {DEMO_TENANT}: sync status")
    for column in ("flow", "last run finished", "outcome", "processed"):
        table.add_column(column)
    for flow in ("push", "pull"):
        cursor = store.get_cursor(DEMO_TENANT, flow)
        finished = (
            cursor.last_run_finished.isoformat(timespec="seconds") if cursor.last_run_finished else "never"
        )
        outcome = cursor.last_outcome.value if cursor.last_outcome else "-"
        table.add_row(flow, finished, outcome, str(cursor.processed))
    console.print(table)


def main() -> None:
    stack = LocalStack.load()
    store = SyncStore(stack.table())
    ensure_demo_tenant(stack)
    console.print(
        f"tenant [bold]{DEMO_TENANT}[/] onboarded; Blixo sandbox webhooks -> {stack.doc['webhook_url']}"
    )
    push_flow(stack, store)
    pull_flow(stack, store)
    show_status(store)


if __name__ == "__main__":
    main()
