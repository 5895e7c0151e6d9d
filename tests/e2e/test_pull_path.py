"""EventBridge schedule -> pull-schedule Lambda -> PullQueue -> pull Lambda, on the deployed stack."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import partial

import pytest

from bisync.settings import Flows
from tests.e2e.conftest import Stack, entity_for_tests, eventually

pytestmark = pytest.mark.e2e


def scheduled_event(stack: Stack) -> dict[str, object]:
    """What EventBridge sends the pull-schedule Lambda every hour."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": stack.doc["region"],
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/hourly"],
        "detail": {},
    }


PULLS_OFF = Flows(pull_customers=False, pull_invoices=False, pull_credit_notes=False, pull_payments=False)


def test_the_schedule_enqueues_one_pull_per_tenant(stack: Stack, onboard) -> None:
    first, second = onboard(), onboard()
    quiet = onboard(flows=PULLS_OFF)
    scheduled = scheduled_event(stack)

    reply = stack.client("lambda").invoke(
        FunctionName=stack.doc["functions"]["pull_schedule"], Payload=json.dumps(scheduled).encode()
    )
    result = json.loads(reply["Payload"].read())

    assert "FunctionError" not in reply, result
    assert {first.tenant_id, second.tenant_id} <= set(result["tenants"])
    assert quiet.tenant_id not in result["tenants"]
    # Each job went through PullQueue to the deployed pull Lambda, which records one run.
    for tenant in (first, second):
        runs = eventually(
            partial(stack.store().list_runs, tenant.tenant_id),
            timeout=60,
            what=f"a pull run for {tenant.tenant_id}",
        )
        assert len(runs) == 1
        assert runs[0].trigger.startswith("schedule:")
    assert stack.store().list_runs(quiet.tenant_id) == []


def test_intacct_records_reach_blixo_after_a_scheduled_pull(stack: Stack, onboard) -> None:
    """A customer, an Order Entry invoice, a Sales Return and an A/R payment created in the
    Intacct sandbox reach Blixo through the deployed schedule and pull Lambdas, with matching
    balances."""
    from decimal import Decimal

    import requests

    from bisync.intacct import functions as fn

    # A tenant of its own: this hour's scheduled job of the demo tenant may have run already
    # (the schedule's job id is per tenant and hour).
    tenant = onboard()
    demo = tenant.tenant_id
    intacct = stack.intacct_client(entity=entity_for_tests(stack))
    tag = uuid.uuid4().hex[:6].upper()
    day = datetime.now(UTC).date()
    intacct.run(
        fn.create_customer(
            fn.CustomerInput(customer_id=f"PULL-{tag}", name=f"Pulled {tag}"), controlid=f"e2e-c-{tag}"
        )
    )

    def order(kind: str, number: str, quantity: int) -> str:
        tx = fn.SoTransactionInput(
            transactiontype=kind,
            datecreated=day,
            customerid=f"PULL-{tag}",
            documentno=number,
            lines=(fn.SoLineInput(itemid="WIDGET", quantity=Decimal(quantity)),),
        )
        return str(intacct.run(fn.create_sotransaction(tx, controlid=f"e2e-{number}")).key)

    docid = order("Sales Invoice", f"PI-{tag}", 4)  # 100.00
    order("Sales Return", f"PR-{tag}", 1)  # 25.00 credit
    [doc] = intacct.execute([fn.read_by_name("SODOCUMENT", [docid], ["PRRECORDKEY"])])[0].records
    intacct.run(
        fn.create_arpayment(
            fn.ArPaymentInput(
                customerid=f"PULL-{tag}",
                paymentamount=Decimal(40),
                datereceived=day,
                paymentmethod="Printed Check",
                bankaccountid="BOA-CHK",
                refid=f"CHK-{tag}",
                applications=(
                    fn.PaymentApplicationInput(invoicekey=str(doc["PRRECORDKEY"]), amount=Decimal(40)),
                ),
            ),
            controlid=f"e2e-p-{tag}",
        )
    )
    scheduled = scheduled_event(stack)
    reply = stack.client("lambda").invoke(
        FunctionName=stack.doc["functions"]["pull_schedule"], Payload=json.dumps(scheduled).encode()
    )
    assert demo in json.loads(reply["Payload"].read())["tenants"]
    store = stack.store()

    def payment_pulled() -> str | None:
        errors = [e for e in store.errors.list(demo) if e.direction == "pull"]
        assert not [e for e in errors if tag in e.message], errors
        for key in (str(doc["PRRECORDKEY"]),):
            if store.mappings.by_intacct(demo, "invoice", key) is None:
                return None
        rows = [r for r in intacct.query("ARPYMT", ["DOCNUMBER"]) if r.get("DOCNUMBER") == f"CHK-{tag}"]
        return rows and store.mappings.by_intacct(demo, "payment", str(rows[0]["RECORDNO"])) and "ok"  # type: ignore[return-value]

    eventually(payment_pulled, timeout=180, interval=2, what="the pull to bring the payment to Blixo")
    blixo = stack.doc["blixo"]
    session = requests.Session()
    session.auth = (tenant.blixo_api_key, "")
    invoice_id = store.mappings.by_intacct(demo, "invoice", str(doc["PRRECORDKEY"])).blixo_id  # type: ignore[union-attr]
    invoice = session.get(f"{blixo['url']}/invoices/{invoice_id}", timeout=10).json()["data"]
    assert Decimal(str(invoice["total"])) == Decimal("100")
    assert Decimal(str(invoice["balance"])) == Decimal("60")
    [ar] = [
        r for r in intacct.query("ARINVOICE", ["TOTALDUE"]) if str(r["RECORDNO"]) == str(doc["PRRECORDKEY"])
    ]
    assert Decimal(str(ar["TOTALDUE"])) == Decimal(str(invoice["balance"]))
    customer_id = store.mappings.by_intacct(demo, "customer", f"PULL-{tag}").blixo_id  # type: ignore[union-attr]
    notes: list[dict[str, object]] = []
    page = 1
    while True:  # every page: the tenant's account holds all of the shared company's returns
        batch = session.get(
            f"{blixo['url']}/credit-notes", params={"perPage": 100, "page": page}, timeout=10
        ).json()["data"]
        notes += batch
        if len(batch) < 100:
            break
        page += 1
    assert [Decimal(str(n["total"])) for n in notes if n["customerId"] == customer_id] == [Decimal("25")]
