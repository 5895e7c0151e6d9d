"""Webhook -> API Gateway -> webhook Lambda -> PushQueue -> push Lambda, on the deployed stack."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from bisync.blixo.webhooks import sign
from bisync.store import FlowCursor, RunOutcome
from bisync.sync.jobs import PushJob
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e


def customer_event(event_id: str, customer_id: str) -> bytes:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    event = {
        "id": event_id,
        "type": "customer.created",
        "createdAt": now,
        "data": {
            "object": {"id": customer_id, "name": "Ledger & Sons <E2E>", "createdAt": now, "updatedAt": now}
        },
    }
    return json.dumps(event).encode()


def test_signed_webhook_reaches_the_push_lambda(stack: Stack, onboard) -> None:
    tenant = onboard()
    body = customer_event(f"evt_{uuid.uuid4().hex}", f"cus_e2e_1_{uuid.uuid4().hex[:8]}")

    reply = requests.post(
        stack.webhook_url(tenant.tenant_id),
        data=body,
        headers={"Content-Type": "application/json", "X-Blixo-Signature": sign(body, tenant.webhook_secret)},
        timeout=30,
    )

    assert reply.status_code == 202, reply.text
    assert reply.json()["status"] == "queued"

    # The side effect of the deployed push Lambda: the tenant's push status counts the event.
    def recorded() -> FlowCursor | None:
        cursor = stack.store().get_cursor(tenant.tenant_id, "push")
        return cursor if cursor.processed >= 1 else None

    cursor = eventually(recorded, timeout=60, what="the push Lambda to record the event")
    assert cursor.processed == 1
    assert cursor.last_outcome is RunOutcome.SUCCEEDED


def test_the_same_event_delivered_twice_is_processed_once(stack: Stack, onboard) -> None:
    tenant = onboard()
    body = customer_event(f"evt_{uuid.uuid4().hex}", f"cus_e2e_dup_{uuid.uuid4().hex[:8]}")
    headers = {"Content-Type": "application/json", "X-Blixo-Signature": sign(body, tenant.webhook_secret)}

    replies = [
        requests.post(stack.webhook_url(tenant.tenant_id), data=body, headers=headers, timeout=30)
        for _ in range(2)
    ]
    # The first is queued; the second is known by its event id: acknowledged, not queued.
    assert [r.status_code for r in replies] == [202, 200], [r.text for r in replies]
    assert replies[1].json()["status"] == "replayed"

    eventually(
        lambda: stack.store().get_cursor(tenant.tenant_id, "push").processed >= 1,
        timeout=60,
        what="the push Lambda to record the event",
    )
    # A second, separate event (another customer) is the marker that the queue has moved past
    # the duplicate.
    marker = customer_event(f"evt_{uuid.uuid4().hex}", f"cus_e2e_marker_{uuid.uuid4().hex[:8]}")
    requests.post(
        stack.webhook_url(tenant.tenant_id),
        data=marker,
        headers={
            "Content-Type": "application/json",
            "X-Blixo-Signature": sign(marker, tenant.webhook_secret),
        },
        timeout=30,
    ).raise_for_status()
    eventually(
        lambda: stack.store().get_cursor(tenant.tenant_id, "push").processed >= 2,
        timeout=60,
        what="the marker event",
    )
    assert stack.store().get_cursor(tenant.tenant_id, "push").processed == 2


def test_bad_signature_and_unknown_tenant_are_refused(stack: Stack, onboard) -> None:
    tenant = onboard()
    body = customer_event(f"evt_{uuid.uuid4().hex}", f"cus_e2e_2_{uuid.uuid4().hex[:8]}")

    forged = requests.post(
        stack.webhook_url(tenant.tenant_id),
        data=body,
        headers={"X-Blixo-Signature": sign(body, "not-the-secret")},
        timeout=30,
    )
    unknown = requests.post(
        stack.webhook_url("no-such-tenant"),
        data=body,
        headers={"X-Blixo-Signature": sign(body, tenant.webhook_secret)},
        timeout=30,
    )

    assert forged.status_code == 401
    assert unknown.status_code == 404
    assert stack.store().get_cursor(tenant.tenant_id, "push").processed == 0


def test_a_message_the_push_lambda_fails_on_ends_in_the_dlq(stack: Stack) -> None:
    sqs = stack.client("sqs")
    # A job for a tenant that was never onboarded: the push Lambda raises on every receive.
    job = PushJob(
        tenant_id=f"ghost-{uuid.uuid4().hex[:8]}",
        event_id=f"evt_{uuid.uuid4().hex}",
        event_type="customer.created",
        customer_id="cus_ghost",
        received_at=datetime.now(UTC),
        event_json='{"id": "x"}',
    )
    message = job.to_message()
    sqs.send_message(
        QueueUrl=stack.doc["push_queue_url"],
        MessageBody=message.body,
        MessageGroupId=message.group_id,
        MessageDeduplicationId=message.deduplication_id,
    )

    def in_dlq() -> dict[str, Any] | None:
        reply = sqs.receive_message(
            QueueUrl=stack.doc["push_dlq_url"],
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
        )
        for msg in reply.get("Messages", []):
            if PushJob.model_validate_json(msg["Body"]).event_id == job.event_id:
                sqs.delete_message(QueueUrl=stack.doc["push_dlq_url"], ReceiptHandle=msg["ReceiptHandle"])
                return dict(msg)
            # Not ours: make it visible again for whoever owns it.
            sqs.change_message_visibility(
                QueueUrl=stack.doc["push_dlq_url"], ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0
            )
        return None

    # MaxReceiveCount receives, each after a visibility timeout (30 s locally).
    dead = eventually(in_dlq, timeout=180, interval=2, what="the failed message in the push DLQ")
    redrive = sqs.get_queue_attributes(QueueUrl=stack.doc["push_queue_url"], AttributeNames=["RedrivePolicy"])
    max_receives = int(json.loads(redrive["Attributes"]["RedrivePolicy"])["maxReceiveCount"])
    # The push Lambda received it MaxReceiveCount times before SQS moved it; this test's own
    # receive from the DLQ is one more.
    assert int(dead["Attributes"]["ApproximateReceiveCount"]) >= max_receives + 1
    assert PushJob.model_validate_json(dead["Body"]).tenant_id == job.tenant_id


def test_a_change_in_the_blixo_sandbox_reaches_the_push_lambda_for_the_demo_tenant(stack: Stack) -> None:
    demo = stack.doc["demo_tenant"]
    blixo = stack.doc["blixo"]
    before = stack.store().get_cursor(demo["tenant_id"], "push").processed

    created = requests.post(
        f"{blixo['url']}/customers",
        auth=(blixo["api_key"], ""),
        json={"name": f"Webhook Path {uuid.uuid4().hex[:6]}"},
        headers={"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text

    # The sandbox signs the customer.created event with the demo tenant's secret and delivers
    # it to the stack's webhook URL; the deployed push Lambda counts it.
    eventually(
        lambda: stack.store().get_cursor(demo["tenant_id"], "push").processed > before,
        timeout=60,
        what="the Blixo sandbox's webhook to reach the push Lambda",
    )


def test_customer_invoice_and_partial_payment_with_a_fee_reach_intacct_with_matching_balances(
    stack: Stack,
) -> None:
    """Created in the Blixo sandbox; its webhooks go through the deployed webhook and push
    Lambdas to the Intacct sandbox; both ledgers end with the same balances."""
    demo = stack.doc["demo_tenant"]["tenant_id"]
    blixo = stack.doc["blixo"]
    session = requests.Session()
    session.auth = (blixo["api_key"], "")
    tag = uuid.uuid4().hex[:6].upper()

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = session.post(
            f"{blixo['url']}/{path}",
            json=body,
            headers={"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"},
            timeout=10,
        )
        assert reply.status_code == 201, reply.text
        data: dict[str, Any] = reply.json()["data"]
        return data

    customer = post("customers", {"name": f"E2E Ledger {tag}", "customerNo": f"E2E-{tag}", "currency": "USD"})
    invoice = post(
        "invoices",
        {
            "customerId": customer["id"],
            "issueDate": datetime.now(UTC).date().isoformat(),
            "items": [{"name": "Consulting", "quantity": 2, "unitPrice": 150}],
        },
    )
    payment = post(
        "payments",
        {
            "customerId": customer["id"],
            "amount": 104.5,
            "method": "credit_card",
            "appliedTo": [
                {"type": "invoice", "invoiceId": invoice["id"], "amount": 100},
                {"type": "convenience_fee", "amount": 4.5},
            ],
        },
    )
    intacct = stack.intacct_client()

    def fee_invoice_paid() -> dict[str, Any] | None:
        mapping = stack.store().mappings.by_blixo(demo, "payment", payment["id"])
        return mapping.model_dump() if mapping else None

    eventually(fee_invoice_paid, timeout=120, interval=1, what="the payment to reach Intacct")
    store = stack.store()
    invoice_key = store.mappings.by_blixo(demo, "invoice", invoice["id"]).intacct_key  # type: ignore[union-attr]
    fee_key = store.mappings.by_blixo(demo, "convenience_fee", payment["id"]).intacct_key  # type: ignore[union-attr]
    rows = {
        r["RECORDNO"]: r
        for r in intacct.query(
            "ARINVOICE", ["RECORDID", "TOTALENTERED", "TOTALDUE", "CUSTOMERID"], show_private=True
        )
        if r["RECORDNO"] in (invoice_key, fee_key)
    }
    blixo_invoice = session.get(f"{blixo['url']}/invoices/{invoice['id']}", timeout=10).json()["data"]
    assert str(blixo_invoice["balance"]) in ("200", "200.0", "200.00")
    assert rows[invoice_key]["TOTALENTERED"] == "300"
    assert rows[invoice_key]["TOTALDUE"] == "200"
    assert rows[fee_key]["RECORDID"] == f"CF-{payment['id']}"
    assert rows[fee_key]["TOTALDUE"] == "0"
    customers = list(intacct.query("CUSTOMER", ["CUSTOMERID", "TOTALDUE"], show_private=True))
    [row] = [c for c in customers if c["CUSTOMERID"] == f"E2E-{tag}"]
    assert row["TOTALDUE"] == "200"
