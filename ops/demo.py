"""`make demo`: the main job on the local stack, end to end, the way an operator sees it.

1. Blixo side: customers, invoices, a credit note, payments (one partial, one with a
   convenience fee). Their signed webhooks go API Gateway -> webhook Lambda -> PushQueue ->
   push Lambda -> Intacct.
2. Intacct side: customers, Order Entry invoices and a return, an A/R payment. The hourly pull
   runs now (`sync now`): PullQueue -> pull Lambda -> Blixo.
3. Prints the status table and the reconciliation, and ends with
   `demo: <N> records synced, 0 differences`; exits 1 if anything did not sync.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

import requests

from bisync.blixo import api
from bisync.blixo import models as bm
from bisync.blixo.client import BlixoClient
from bisync.intacct import functions as fn
from bisync.intacct.client import IntacctClient
from bisync.operate.jobs import pull_now
from bisync.operate.reconcile import reconcile
from bisync.operate.status import status_report
from bisync.store import SyncStore
from blixo_cli.commands.reconcile import render as render_reconciliation
from blixo_cli.commands.status import render as render_status
from blixo_cli.context import tenant_clients
from blixo_cli.output import console
from blixo_cli.queues import QueueSender, depths
from blixo_cli.target import Target, from_stack_file
from ops.demo_tenant import DEMO_TENANT, ensure_demo_tenant
from ops.local import STACK_JSON, LocalStack, sandbox_intacct_client

T = TypeVar("T")


class DemoFailedError(Exception):
    pass


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 180.0) -> T:
    deadline = time.monotonic() + timeout
    with console.status(f"waiting for {what}"):
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            time.sleep(1.0)
    raise DemoFailedError(f"timed out waiting for {what}")


# ------------------------------------------------------------------------------ Blixo side
def seed_blixo(blixo: BlixoClient, tag: str) -> dict[str, list[str]]:
    """Two customers, three invoices, a credit note, three payments (full, partial, with fee)."""
    key = iter(range(1000))

    def idem(what: str) -> str:
        return f"demo-{tag}-{what}-{next(key)}"

    today = datetime.now(UTC).date()
    acme = blixo.customers.create(
        bm.CustomerWrite(
            name=f"Acme Rockets {tag}", customer_no=f"ACME-{tag}", email="ap@acme.example", currency="USD"
        ),
        idempotency_key=idem("customer"),
    )
    globex = blixo.customers.create(
        bm.CustomerWrite(name=f"Globex & Partners {tag}", customer_no=f"GLOBEX-{tag}", currency="USD"),
        idempotency_key=idem("customer"),
    )

    def invoice(customer: str, lines: list[tuple[str, str, str]]) -> bm.Invoice:
        return blixo.invoices.create(
            bm.InvoiceWrite(
                customer_id=customer,
                currency="USD",
                issue_date=today,
                items=[
                    bm.LineItemWrite(name=n, quantity=Decimal(q), unit_price=Decimal(p)) for n, q, p in lines
                ],
                status=api.InvoiceStatus.ISSUED,
            ),
            idempotency_key=idem("invoice"),
        )

    inv1 = invoice(acme.id, [("Implementation <phase 1>", "3", "1250.00"), ("Training", "2", "199.99")])
    inv2 = invoice(acme.id, [("Support plan", "1", "480.00")])
    inv3 = invoice(globex.id, [("Consulting", "7.5", "180.00")])
    credit = blixo.credit_notes.create(
        bm.CreditNoteWrite(
            customer_id=acme.id,
            invoice_id=inv2.id,
            currency="USD",
            issue_date=today,
            items=[bm.LineItemWrite(name="Service credit", quantity=Decimal(1), unit_price=Decimal("80.00"))],
            status=api.CreditNoteStatus.OPEN,
        ),
        idempotency_key=idem("credit"),
    )

    def payment(customer: str, amount: str, method: str, applied: list[bm.ApplicationWrite]) -> bm.Payment:
        return blixo.payments.create(
            bm.PaymentWrite(
                customer_id=customer,
                currency="USD",
                date=today,
                amount=Decimal(amount),
                method=api.PaymentMethod(method),
                applied_to=applied,
            ),
            idempotency_key=idem("payment"),
        )

    full = payment(
        acme.id, str(inv1.total), "check", [bm.InvoiceApplicationWrite(invoice_id=inv1.id, amount=inv1.total)]
    )
    partial = payment(
        globex.id, "500.00", "ach", [bm.InvoiceApplicationWrite(invoice_id=inv3.id, amount=Decimal("500.00"))]
    )
    with_fee = payment(
        acme.id,
        "412.00",
        "credit_card",
        [
            bm.InvoiceApplicationWrite(invoice_id=inv2.id, amount=Decimal("400.00")),
            bm.ConvenienceFeeApplicationWrite(amount=Decimal("12.00")),
        ],
    )
    return {
        "customer": [acme.id, globex.id],
        "invoice": [inv1.id, inv2.id, inv3.id],
        "credit_note": [credit.id],
        "payment": [full.id, partial.id, with_fee.id],
        "convenience_fee": [with_fee.id],
    }


# ---------------------------------------------------------------------------- Intacct side
def seed_intacct(intacct: IntacctClient, tag: str) -> dict[str, list[str]]:
    """Two customers, two Sales Invoices, a Sales Return, a payment on one invoice."""
    day = datetime.now(UTC).date()
    ids = [f"IA-NORTH-{tag}", f"IA-SOUTH-{tag}"]
    for number, cid in enumerate(ids):
        intacct.run(
            fn.create_customer(
                fn.CustomerInput(customer_id=cid, name=f"{['Northwind', 'Southpaw'][number]} Traders {tag}"),
                controlid=f"demo-c-{cid}",
            )
        )

    def order(kind: str, customer: str, number: str, quantity: int, item: str = "WIDGET") -> str:
        tx = fn.SoTransactionInput(
            transactiontype=kind,
            datecreated=day,
            customerid=customer,
            documentno=number,
            lines=(fn.SoLineInput(itemid=item, quantity=Decimal(quantity)),),
        )
        return str(intacct.run(fn.create_sotransaction(tx, controlid=f"demo-{number}")).key)

    first = order("Sales Invoice", ids[0], f"SI-{tag}-1", 6)
    order("Sales Invoice", ids[1], f"SI-{tag}-2", 3)
    order("Sales Return", ids[0], f"SR-{tag}-1", 1)
    [doc] = intacct.execute([fn.read_by_name("SODOCUMENT", [first], ["PRRECORDKEY", "TOTAL"])])[0].records
    intacct.run(
        fn.create_arpayment(
            fn.ArPaymentInput(
                customerid=ids[0],
                paymentamount=Decimal(50),
                datereceived=day,
                paymentmethod="Printed Check",
                bankaccountid="BOA-CHK",
                refid=f"CHK-{tag}",
                applications=(
                    fn.PaymentApplicationInput(invoicekey=str(doc["PRRECORDKEY"]), amount=Decimal(50)),
                ),
            ),
            controlid=f"demo-p-{tag}",
        )
    )
    return {
        "customer": ids,
        "sodocument": [f"SI-{tag}-1", f"SI-{tag}-2", f"SR-{tag}-1"],
        "payment": [f"CHK-{tag}"],
    }


# --------------------------------------------------------------------------------- the run
def wait_pushed(store: SyncStore, seeded: dict[str, list[str]]) -> int:
    def pushed() -> int | None:
        missing = [
            (kind, oid)
            for kind, ids in seeded.items()
            for oid in ids
            if store.mappings.by_blixo(DEMO_TENANT, kind, oid) is None
        ]
        errors = [
            e
            for e in store.errors.list(DEMO_TENANT)
            if e.level.value == "error" and e.object_id in {i for ids in seeded.values() for i in ids}
        ]
        if errors:
            raise DemoFailedError(
                "push errors: " + "; ".join(f"{e.object_type} {e.object_id}: {e.message}" for e in errors)
            )
        return None if missing else sum(len(v) for v in seeded.values())

    return wait_for(pushed, "the webhooks to reach Intacct through the push Lambda")


def run_pull(target: Target, store: SyncStore) -> int:
    job = pull_now(DEMO_TENANT)
    QueueSender(target.client("sqs"), target.pull_queue_url).send(job.to_message())
    stamp = job.scheduled_for.isoformat()

    def finished() -> int | None:
        for run in store.list_runs(DEMO_TENANT, limit=10):
            if run.trigger.endswith(stamp) and run.finished_at is not None:
                if run.outcome.value not in ("succeeded", "partial"):
                    raise DemoFailedError(f"the pull run {run.outcome.value}: {run.counts}")
                return 1 + sum(v for k, v in run.counts.items() if k.endswith((".created", ".updated")))
        return None

    return wait_for(finished, "the pull Lambda to finish the run") - 1


def check_pulled(store: SyncStore, customers: list[str]) -> None:
    unsynced = [c for c in customers if store.mappings.by_intacct(DEMO_TENANT, "customer", c) is None]
    if unsynced:
        raise DemoFailedError(f"the pull did not bring customers {', '.join(unsynced)} to Blixo")


def drain_webhooks(doc: dict[str, object]) -> None:
    """Blixo's webhooks for what the pull wrote are echoes: let them arrive before reconciling."""
    blixo = doc["blixo"]
    assert isinstance(blixo, dict)
    admin = str(blixo["url"]).removesuffix("/v1") + "/_sandbox/webhooks/drain"
    requests.post(admin, json={"timeoutSeconds": 60}, timeout=70).raise_for_status()


def main() -> int:
    stack = LocalStack.load()
    ensure_demo_tenant(stack)
    target = from_stack_file(STACK_JSON)
    store = target.store()
    settings = store.get_tenant(DEMO_TENANT)
    tag = uuid.uuid4().hex[:6].upper()
    console.print(f"[bold]demo[/] tenant [bold]{DEMO_TENANT}[/] on the local stack (run {tag})")
    try:
        with tenant_clients(target, settings) as clients:
            seeded = seed_blixo(clients.blixo, tag)
            console.print(
                "Blixo: created "
                + ", ".join(
                    f"{len(v)} {k.replace('_', ' ')}(s)" for k, v in seeded.items() if k != "convenience_fee"
                )
            )
            pushed = wait_pushed(store, seeded)
            console.print(f"push: {pushed} records reached Intacct through the webhook and push Lambdas")
            intacct = sandbox_intacct_client(stack.doc, entity=settings.entity_id)
            made = seed_intacct(intacct, tag)
            console.print(
                f"Intacct: created {len(made['customer'])} customers, {len(made['sodocument'])} Order Entry "
                "documents (2 invoices, 1 return) and 1 payment"
            )
            pulled = run_pull(target, store)
            check_pulled(store, made["customer"])
            console.print(f"pull: the pull Lambda wrote {pulled} records to Blixo")
            drain_webhooks(stack.doc)
            wait_for(
                lambda: (q := depths(target)).push + q.push_in_flight == 0 or None,
                "the push queue to drain",
                120,
            )
            render_status(
                console, status_report([store.get_tenant(DEMO_TENANT)], store, queues=depths(target))
            )
            result = reconcile(
                settings, clients.blixo, clients.intacct, store.mappings, store.errors.list(DEMO_TENANT)
            )
            render_reconciliation(console, result)
    except DemoFailedError as exc:
        console.print(f"[bold red]demo failed:[/] {exc}")
        return 1
    differences = result.totals.customer_differences + result.totals.document_differences
    if result.totals.open_errors:
        console.print(
            f"[bold red]{result.totals.open_errors} open sync error(s)[/]: `blixo-intacct errors list demo`"
        )
    console.print(
        "The stack keeps running. Try next: `blixo-intacct status demo`, `blixo-intacct reconcile demo`, "
        f"`blixo-intacct errors list demo`, the Accounting Sync API at {stack.doc.get('api_url', '(see .local/stack.json)')}; "
        "`make down` stops it all."
    )
    console.print(f"demo: {pushed + pulled} records synced, {differences} differences", highlight=False)
    return 1 if differences or result.totals.open_errors else 0


if __name__ == "__main__":
    sys.exit(main())
