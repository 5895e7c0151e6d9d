"""The push's guarantees: exactly once under retries and redeliveries, echoes suppressed,
dependencies first whatever the order, business errors visible and cleared, batching, and the
tenant's Intacct concurrency held across workers."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from typing import Any

from bisync.config import RuntimeConfig
from bisync.secrets import IntacctCredentials, TenantSecrets
from bisync.store.models import ErrorLevel, Mapping, Origin
from bisync.sync.tenant import intacct_client
from sandbox.intacct import COMPANY_ID, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD
from tests.integration.foundation.conftest import LambdaContext, sqs
from tests.integration.push.conftest import TENANT, World, settings_for


def queued(world: World) -> list[dict[str, Any]]:
    reply = sqs().receive_message(
        QueueUrl=world.aws.push_queue_url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["All"],
        VisibilityTimeout=0,
    )
    return list(reply.get("Messages", []))


def drop_queued(world: World, event_prefix: str) -> int:
    """Lose the queued events of one type (as if they never arrived)."""
    world.blixo_admin("POST", "/_sandbox/webhooks/drain", {"timeoutSeconds": 20})
    dropped = 0
    for _ in range(10):
        messages = queued(world)
        if not messages:
            break
        for message in messages:
            if json.loads(message["Body"])["event_type"].startswith(event_prefix):
                sqs().delete_message(
                    QueueUrl=world.aws.push_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                dropped += 1
        if not any(json.loads(m["Body"])["event_type"].startswith(event_prefix) for m in messages):
            break
    return dropped


def test_a_lost_intacct_response_leaves_exactly_one_record(world: World) -> None:
    customer = world.customer("Lossy", customerNo="LOS-1")
    invoice = world.invoice(customer.id, "40.00")
    world.intacct_admin("faults", {"rate_lost_response": 1, "seed": 7})
    assert world.pump() == []
    world.intacct_admin("faults", {"clear": True})
    assert world.counters()["lost_responses"] >= 2  # the customer's and the invoice's replies
    assert [c["CUSTOMERID"] for c in world.dump("CUSTOMER")].count("LOS-1") == 1
    invoices = [r for r in world.dump("ARINVOICE") if r["CUSTOMERID"] == "LOS-1"]
    assert len(invoices) == 1
    assert world.mapping("invoice", invoice.id).intacct_key == str(invoices[0]["RECORDNO"])
    world.assert_ledgers_agree()


def test_a_duplicate_delivery_writes_once_even_hours_later(world: World) -> None:
    world.blixo_admin("POST", "/_sandbox/webhook-settings", {"duplicateDelivery": True})
    customer = world.customer("Twice", customerNo="TWI-1")
    invoice = world.invoice(customer.id, "12.34")
    assert world.pump() == []
    # A redelivery past SQS's five-minute dedupe is a new message: push it again by hand.
    events = world.blixo_admin("GET", "/_sandbox/events")["data"]
    before = world.counters()["transactions"]
    invoice_event = next(e for e in events if e["type"] == "invoice.created")
    job = {
        "tenant_id": TENANT,
        "event_id": invoice_event["id"],
        "event_type": "invoice.created",
        "customer_id": customer.id,
        "received_at": "2026-11-27T10:00:00Z",
        "event_json": json.dumps(invoice_event),
    }
    sqs().send_message(
        QueueUrl=world.aws.push_queue_url,
        MessageBody=json.dumps(job),
        MessageGroupId=f"{TENANT}:{customer.id}",
        MessageDeduplicationId="late-redelivery",
    )
    assert world.pump() == []
    assert world.counters()["transactions"] == before  # nothing read, nothing written
    assert len([r for r in world.dump("ARINVOICE") if r["CUSTOMERID"] == "TWI-1"]) == 1
    assert world.mapping("invoice", invoice.id) is not None


def test_an_echo_of_a_pulled_record_is_not_pushed_back(world: World) -> None:
    customer = world.customer("Pulled Co", customerNo="PUL-1", metadata={"intacct.source": "intacct"})
    other = world.customer("Pulled by mapping", customerNo="PUL-2")
    world.aws.store.mappings.link(
        Mapping(
            tenant_id=TENANT,
            object_type="customer",
            blixo_id=other.id,
            intacct_key="PUL-2",
            origin=Origin.INTACCT,
        )
    )
    assert world.pump() == []
    ids = [c["CUSTOMERID"] for c in world.dump("CUSTOMER")]
    assert "PUL-1" not in ids
    assert "PUL-2" not in ids
    assert world.mapping("customer", customer.id) is None


def test_an_invoice_whose_customer_event_was_lost_still_posts_both(world: World) -> None:
    customer = world.customer("Late Customer", customerNo="LAT-1")
    invoice = world.invoice(customer.id, "99.99")
    assert drop_queued(world, "customer.") >= 1
    assert world.pump() == []
    assert world.mapping("customer", customer.id).intacct_key == "LAT-1"
    ar = world.ar_invoice(world.mapping("invoice", invoice.id).intacct_key)
    assert ar["CUSTOMERID"] == "LAT-1"
    world.assert_ledgers_agree()


def test_a_payment_before_its_invoice_pushes_the_invoice_first(world: World) -> None:
    customer = world.customer("Early Payer", customerNo="EAR-1")
    invoice = world.invoice(customer.id, "60.00")
    world.pay(customer.id, "60.00", {"type": "invoice", "invoiceId": invoice.id, "amount": "60.00"})
    assert drop_queued(world, "invoice.") >= 1
    assert world.pump() == []
    ar = world.ar_invoice(world.mapping("invoice", invoice.id).intacct_key)
    assert Decimal(ar["TOTALDUE"]) == Decimal("0")
    world.assert_ledgers_agree()


def test_an_edit_of_a_paid_invoice_is_a_visible_warning(world: World) -> None:
    customer = world.customer("Paid Up", customerNo="PAI-1")
    invoice = world.invoice(customer.id, "100.00")
    world.pay(customer.id, "40.00", {"type": "invoice", "invoiceId": invoice.id, "amount": "40.00"})
    assert world.pump() == []
    # Blixo locks amounts once paid; an echo of different amounts reaches the push only as a
    # crafted event here: what the push must do is refuse loudly, never silently.
    event = next(
        e for e in world.blixo_admin("GET", "/_sandbox/events")["data"] if e["type"] == "invoice.created"
    )
    event["id"] = "evt_edit_paid"
    event["type"] = "invoice.updated"
    obj = event["data"]["object"]
    obj["items"] = [{"name": "More", "quantity": 1, "unitPrice": 150.0, "amount": 150.0}]
    obj["subtotal"] = obj["total"] = 150.0
    obj["balance"] = 110.0
    obj["updatedAt"] = "2099-01-01T00:00:00Z"
    job = {
        "tenant_id": TENANT,
        "event_id": event["id"],
        "event_type": "invoice.updated",
        "customer_id": customer.id,
        "received_at": "2026-11-27T10:00:00Z",
        "event_json": json.dumps(event),
    }
    sqs().send_message(
        QueueUrl=world.aws.push_queue_url,
        MessageBody=json.dumps(job),
        MessageGroupId=f"{TENANT}:{customer.id}",
        MessageDeduplicationId="edit-paid",
    )
    assert world.pump() == []
    [error] = world.aws.store.errors.list(TENANT)
    assert error.level is ErrorLevel.WARNING
    assert (error.object_type, error.object_id) == ("invoice", invoice.id)
    assert "cannot change" in error.message
    ar = world.ar_invoice(world.mapping("invoice", invoice.id).intacct_key)
    assert Decimal(ar["TOTALENTERED"]) == Decimal("100.00")  # Intacct's amounts stand


def test_a_business_error_is_a_sync_error_that_clears_after_the_fix(world: World) -> None:
    world.aws.store.put_tenant(
        world.settings.model_copy(
            update={"accounts": world.settings.accounts.model_copy(update={"revenue_account": "9999"})}
        )
    )
    customer = world.customer("Misconfigured", customerNo="MIS-1")
    invoice = world.invoice(customer.id, "10.00")
    assert world.pump() == []  # not retried: the queue goes on
    [error] = world.aws.store.errors.list(TENANT)
    assert (error.object_type, error.object_id, error.level) == ("invoice", invoice.id, ErrorLevel.ERROR)
    assert error.intacct_errorno == "BL01001973"
    assert "9999" in error.message
    assert error.retry["event_type"] == "invoice.created"

    world.aws.store.put_tenant(world.settings)  # the operator fixes the account mapping
    world.blixo.invoices.update(
        invoice.id, {"purchaseOrder": "PO-after-fix"}, idempotency_key=world.key("fix")
    )
    assert world.pump() == []
    assert world.aws.store.errors.list(TENANT) == []
    assert world.mapping("invoice", invoice.id) is not None
    world.assert_ledgers_agree()


def test_ten_customers_invoices_cost_far_fewer_than_ten_requests_each(world: World) -> None:
    customers = [world.customer(f"Batch {i}", customerNo=f"BAT-{i}") for i in range(10)]
    assert world.pump() == []
    before = world.counters()["requests"]
    for c in customers:
        world.invoice(c.id, "10.00")
    world.batch_size = 10
    assert world.pump() == []
    requests = world.counters()["requests"] - before
    assert requests <= 3, requests  # one create_invoice request for ten events (+ a session)
    world.assert_ledgers_agree()


def test_one_customers_invoices_share_a_request_after_their_customer(world: World) -> None:
    customer = world.customer("Many Invoices", customerNo="MANY-1")
    invoices = [world.invoice(customer.id, f"{n + 1}0.00") for n in range(4)]
    before = world.counters().get("requests", 0)  # nothing asked of this company yet
    world.batch_size = 10
    assert world.pump() == []
    requests = world.counters()["requests"] - before
    # Customer lookup, customer create, the four invoices together (+ a session).
    assert requests <= 4, requests
    keys = {world.mapping("invoice", i.id).intacct_key for i in invoices}
    assert len(keys) == 4
    assert sorted(Decimal(world.ar_invoice(k)["TOTALDUE"]) for k in keys) == [
        Decimal("10.00"),
        Decimal("20.00"),
        Decimal("30.00"),
        Decimal("40.00"),
    ]
    world.assert_ledgers_agree()


def test_invoices_side_by_side_whose_customer_event_was_lost_create_it_once(world: World) -> None:
    customer = world.customer("Lost Then Many", customerNo="LTM-1")
    invoices = [world.invoice(customer.id, "25.00") for _ in range(3)]
    assert drop_queued(world, "customer.") >= 1
    world.batch_size = 10
    assert world.pump() == []
    assert [c["CUSTOMERID"] for c in world.dump("CUSTOMER")].count("LTM-1") == 1
    assert world.aws.store.errors.list(TENANT) == []
    for invoice in invoices:
        ar = world.ar_invoice(world.mapping("invoice", invoice.id).intacct_key)
        assert (ar["CUSTOMERID"], Decimal(ar["TOTALDUE"])) == ("LTM-1", Decimal("25.00"))
    world.assert_ledgers_agree()


def test_two_push_workers_and_a_pull_never_exceed_the_tenant_concurrency(
    world: World, serialized_dynamodb: None
) -> None:
    # serialized_dynamodb: the slots' conditional writes are atomic in DynamoDB, not in moto.
    world.intacct_admin("config", {"concurrency_limit": 10})
    world.intacct_admin("faults", {"latency_ms": 40})
    customers = [world.customer(f"Par {i}", customerNo=f"PAR-{i}") for i in range(8)]
    for c in customers:
        world.invoice(c.id, "5.00")
    world.blixo_admin("POST", "/_sandbox/webhooks/drain", {"timeoutSeconds": 20})
    messages: list[dict[str, Any]] = []
    for _ in range(10):
        batch = queued(world)
        if not batch:
            break
        messages += batch
        for m in batch:
            sqs().delete_message(QueueUrl=world.aws.push_queue_url, ReceiptHandle=m["ReceiptHandle"])
    # One group per worker container: split the messages by group between two workers.
    halves: list[list[dict[str, Any]]] = [[], []]
    for m in messages:
        halves[hash(m["Attributes"]["MessageGroupId"]) % 2].append(m)
    secrets = TenantSecrets(
        intacct=IntacctCredentials(
            sender_id=SENDER_ID,
            sender_password=SENDER_PASSWORD,
            company_id=COMPANY_ID,
            user_id=USER_ID,
            user_password=USER_PASSWORD,
        ),
        blixo_api_key="k",
        webhook_secrets=["w"],
    )
    pull_client = intacct_client(
        settings_for(),
        secrets,
        RuntimeConfig(sync_table="t", intacct_endpoint_url=world.intacct_handle.gateway_url),
        slots=world.aws.store.slots,
    )
    errors: list[BaseException] = []

    def worker(records: list[dict[str, Any]]) -> None:
        try:
            handler = __import__(
                "tests.integration.foundation.conftest", fromlist=["load_handler"]
            ).load_handler("push")
            for start in range(0, len(records), 2):
                chunk = records[start : start + 2]
                handler.lambda_handler({"Records": [World._record(m) for m in chunk]}, LambdaContext())
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    def pull() -> None:
        try:
            for _ in range(6):
                list(pull_client.query("GLACCOUNT", ["ACCOUNTNO"]))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(h,)) for h in halves] + [threading.Thread(target=pull)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert time.monotonic() - started < 60
    counters = world.counters()
    assert counters["in_flight_peak_attempted"] >= 1
    assert counters["in_flight_max"] <= world.settings.intacct_concurrency
    assert counters["rate_limited"] == 0
    for c in customers:
        assert world.mapping("customer", c.id) is not None


def test_a_transient_intacct_outage_fails_the_messages_for_a_retry(world: World) -> None:
    customer = world.customer("Outage", customerNo="OUT-1")
    world.intacct_admin("faults", {"rate_5xx": 1, "seed": 1})
    world.blixo_admin("POST", "/_sandbox/webhooks/drain", {"timeoutSeconds": 20})
    [message] = queued(world)
    result = world.push.lambda_handler({"Records": [World._record(message)]}, LambdaContext())
    assert result["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    assert world.aws.store.errors.list(TENANT) == []  # transient: not an operator's error
    world.intacct_admin("faults", {"clear": True})
    assert world.pump() == []
    assert world.mapping("customer", customer.id) is not None


def test_a_customer_number_reused_by_another_customer_is_refused_before_any_write(world: World) -> None:
    first = world.customer("Original D", customerNo="REUSE-1")
    assert world.pump() == []
    world.blixo.customers.update(first.id, {"customerNo": "REUSE-1-NEW"}, idempotency_key=world.key("renum"))
    impostor = world.customer("Impostor D", customerNo="REUSE-1")
    assert world.pump() == []  # a business error: nothing waits in the queue
    [row] = [c for c in world.dump("CUSTOMER") if c["CUSTOMERID"] == "REUSE-1"]
    assert row["NAME"] == "Original D"  # never overwritten
    errors = {(e.object_type, e.object_id): e for e in world.aws.store.errors.list(TENANT)}
    assert "already linked" in errors[("customer", impostor.id)].message
    renumbered = errors[("customer", first.id)]
    assert renumbered.level is ErrorLevel.WARNING
    assert "CUSTOMERID cannot change" in renumbered.message


def test_invoice_terms_reach_intacct_mapped_or_as_named(world: World) -> None:
    world.aws.store.put_tenant(world.settings.model_copy(update={"terms": {"Net 15": "N15"}}))
    customer = world.customer("Termed", customerNo="TRM-1")
    mapped = world.invoice(customer.id, "20.00", paymentTerms="Net 15", dueDate=None)
    named = world.invoice(customer.id, "30.00", paymentTerms="N30")
    assert world.pump() == []
    rows = {r["RECORDNO"]: r for r in world.dump("ARINVOICE")}
    assert rows[world.mapping("invoice", mapped.id).intacct_key]["TERMNAME"] == "N15"
    assert rows[world.mapping("invoice", named.id).intacct_key]["TERMNAME"] == "N30"


def test_an_error_is_cleared_when_its_object_is_resolved_another_way(world: World) -> None:
    world.aws.store.put_tenant(
        world.settings.model_copy(
            update={"accounts": world.settings.accounts.model_copy(update={"revenue_account": "9999"})}
        )
    )
    customer = world.customer("Resolved", customerNo="RES-1")
    invoice = world.invoice(customer.id, "10.00")
    assert world.pump() == []
    assert [e.object_id for e in world.aws.store.errors.list(TENANT)] == [invoice.id]
    world.blixo.invoices.void(invoice.id, idempotency_key=world.key("void"))
    assert world.pump() == []
    assert world.aws.store.errors.list(TENANT) == []  # voided before it was synced: nothing stands


def _deliver_in_this_order(world: World, events: list[dict[str, Any]], group: str) -> None:
    for n, ev in enumerate(events):
        job = {
            "tenant_id": TENANT,
            "event_id": ev["id"],
            "event_type": ev["type"],
            "customer_id": group,
            "received_at": "2026-11-27T10:00:00Z",
            "event_json": json.dumps(ev),
        }
        sqs().send_message(
            QueueUrl=world.aws.push_queue_url,
            MessageBody=json.dumps(job),
            MessageGroupId=f"{TENANT}:{group}",
            MessageDeduplicationId=f"out-of-order-{n}-{ev['id']}",
        )


def test_voids_that_overtake_their_creations_leave_nothing_open(world: World) -> None:
    """Webhooks come in any order (a throttled delivery is retried later): the push writes each
    object as Blixo has it now, so a creation delivered after its void writes nothing open."""
    [hook] = world.blixo.request("GET", "webhooks")["data"]
    world.blixo.request("DELETE", f"webhooks/{hook['id']}")  # the test delivers, in its own order
    customer = world.customer("Late Events", customerNo="LATE-1")
    invoice = world.invoice(customer.id, "80.00")
    paid = world.invoice(customer.id, "50.00")
    payment = world.pay(customer.id, "50.00", {"type": "invoice", "invoiceId": paid.id, "amount": "50.00"})
    world.blixo.invoices.void(invoice.id, idempotency_key=world.key("void"))
    world.blixo.payments.void(payment.id, idempotency_key=world.key("pvoid"))
    events = world.blixo_admin("GET", "/_sandbox/events")["data"]
    # Newest first: every void, and every update, arrives before the creation it follows.
    _deliver_in_this_order(world, list(reversed(events)), customer.id)
    assert world.pump() == []
    assert world.mapping("invoice", invoice.id) is None  # voided before it was synced
    ar_paid = world.ar_invoice(world.mapping("invoice", paid.id).intacct_key)
    assert Decimal(ar_paid["TOTALDUE"]) == Decimal("50.00")  # its payment was voided first
    assert world.mapping("payment", payment.id) is None
    assert [r["TOTALDUE"] for r in world.dump("ARINVOICE") if r["CUSTOMERID"] == "LATE-1"] == ["50"]
    world.assert_ledgers_agree()
