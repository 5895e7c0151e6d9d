"""The four Lambda handlers in process, on moto, fed the events/ samples."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from bisync.blixo.webhooks import sign
from bisync.settings import Flows, TenantSettings
from bisync.sync.jobs import PullJob, PushJob
from tests.integration.foundation.conftest import (
    OLD_WEBHOOK_SECRET,
    WEBHOOK_SECRET,
    Aws,
    LambdaContext,
    load_handler,
    sample_event,
)

SAMPLE_EVENT_ID = "evt_01JDEMO0000000000000000001"
SAMPLE_CUSTOMER = "cus_01JDEMO001"
PULLS_OFF = Flows(pull_customers=False, pull_invoices=False, pull_credit_notes=False, pull_payments=False)


def webhook_event(
    tenant_id: str = "acme",
    secret: str = WEBHOOK_SECRET,
    header: str = "X-Blixo-Signature",
    body: str | None = None,
    signature: str | None = None,
) -> dict[str, Any]:
    """The API Gateway sample, re-addressed and re-signed."""
    event = sample_event("webhook_invoice_created.json")
    if body is not None:
        event["body"] = body
    sig = signature if signature is not None else sign(event["body"].encode(), secret)
    headers = {k: v for k, v in event["headers"].items() if k.lower() != "x-blixo-signature"}
    headers[header] = sig
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    event["pathParameters"] = {"tenantId": tenant_id}
    event["path"] = f"/webhooks/blixo/{tenant_id}"
    return event


@pytest.fixture
def acme(aws: Aws) -> Aws:
    aws.store.put_tenant(TenantSettings(tenant_id="acme"))
    aws.put_secret("acme", [WEBHOOK_SECRET])
    return aws


# --------------------------------------------------------------------------- webhook
def test_webhook_queues_a_fifo_message_grouped_by_customer_and_deduped_on_event_id(acme: Aws) -> None:
    handler = load_handler("webhook")

    response = handler.lambda_handler(webhook_event(), LambdaContext())

    assert response["statusCode"] == 202
    assert json.loads(response["body"]) == {"status": "queued", "eventId": SAMPLE_EVENT_ID}
    [message] = acme.receive(acme.push_queue_url)
    assert message["Attributes"]["MessageGroupId"] == f"acme:{SAMPLE_CUSTOMER}"
    assert message["Attributes"]["MessageDeduplicationId"] == SAMPLE_EVENT_ID
    job = PushJob.model_validate_json(message["Body"])
    assert (job.tenant_id, job.event_id, job.event_type) == ("acme", SAMPLE_EVENT_ID, "invoice.created")
    assert acme.receive(acme.pull_queue_url) == []


def test_webhook_finds_the_signature_header_whatever_its_case(acme: Aws) -> None:
    handler = load_handler("webhook")
    response = handler.lambda_handler(webhook_event(header="x-blixo-signature"), LambdaContext())
    assert response["statusCode"] == 202


def test_webhook_decodes_a_base64_body(acme: Aws) -> None:
    event = webhook_event()
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    response = load_handler("webhook").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 202
    assert len(acme.receive(acme.push_queue_url)) == 1


def test_a_redelivered_webhook_is_acknowledged_and_queued_once(acme: Aws) -> None:
    handler = load_handler("webhook")
    first = handler.lambda_handler(webhook_event(), LambdaContext())
    again = handler.lambda_handler(webhook_event(), LambdaContext())
    assert (first["statusCode"], again["statusCode"]) == (202, 200)
    assert json.loads(again["body"])["status"] == "replayed"
    assert len(acme.receive(acme.push_queue_url)) == 1


def test_webhook_accepts_the_previous_secret_stored_for_a_rotation(aws: Aws) -> None:
    aws.store.put_tenant(TenantSettings(tenant_id="acme"))
    aws.put_secret("acme", [WEBHOOK_SECRET, OLD_WEBHOOK_SECRET])
    response = load_handler("webhook").lambda_handler(
        webhook_event(secret=OLD_WEBHOOK_SECRET), LambdaContext()
    )
    assert response["statusCode"] == 202


def test_webhook_with_a_bad_signature_is_401_and_queues_nothing(acme: Aws) -> None:
    handler = load_handler("webhook")
    response = handler.lambda_handler(webhook_event(secret="not-the-tenant-secret"), LambdaContext())
    assert response["statusCode"] == 401
    assert acme.receive(acme.push_queue_url) == []


def test_webhook_for_an_unknown_tenant_is_404_and_queues_nothing(acme: Aws) -> None:
    response = load_handler("webhook").lambda_handler(webhook_event(tenant_id="ghost"), LambdaContext())
    assert response["statusCode"] == 404
    assert acme.receive(acme.push_queue_url) == []


def test_webhook_over_the_configured_size_is_413(acme: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_MAX_BODY_BYTES", "100")
    response = load_handler("webhook").lambda_handler(webhook_event(), LambdaContext())
    assert response["statusCode"] == 413
    assert acme.receive(acme.push_queue_url) == []


def test_webhook_of_an_unhandled_type_is_acknowledged_counted_and_not_queued(
    acme: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps(
        {
            "id": "evt_sub_1",
            "type": "subscription.created",
            "createdAt": "2026-11-26T10:00:00Z",
            "data": {"object": {}},
        }
    )
    response = load_handler("webhook").lambda_handler(webhook_event(body=body), LambdaContext())

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ignored"
    assert acme.receive(acme.push_queue_url) == []
    # Powertools writes the metrics as one EMF document on stdout when the handler returns.
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    counted = [doc for doc in emf if doc.get("WebhookEventsIgnored") in (1.0, [1.0])]
    assert counted, emf


# --------------------------------------------------------------------------- push
# --------------------------------------------------------------------------- pull schedule
def test_pull_schedule_queues_one_job_per_pull_enabled_tenant(aws: Aws) -> None:
    for settings in [
        TenantSettings(tenant_id="acme"),
        TenantSettings(tenant_id="beta"),
        TenantSettings(tenant_id="nopull", flows=PULLS_OFF),
        TenantSettings(tenant_id="paused", enabled=False),
    ]:
        aws.store.put_tenant(settings)
    handler = load_handler("pull_schedule")
    event = sample_event("pull_schedule_event.json")

    first = handler.lambda_handler(event, LambdaContext())
    second = handler.lambda_handler(event, LambdaContext())  # EventBridge fires twice

    assert first == {"queued": 2, "tenants": ["acme", "beta"]}
    assert second == first
    messages = aws.receive(aws.pull_queue_url)
    assert sorted(
        (m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"]) for m in messages
    ) == [
        ("acme", "pull:acme:schedule:20261126T150000"),
        ("beta", "pull:beta:schedule:20261126T150000"),
    ]
    jobs = [PullJob.model_validate_json(m["Body"]) for m in messages]
    assert {j.scheduled_for for j in jobs} == {datetime(2026, 11, 26, 15, tzinfo=UTC)}
    assert aws.receive(aws.push_queue_url) == []


# --------------------------------------------------------------------------- pull
def test_pull_for_a_removed_tenant_is_dropped_with_a_warning_and_records_nothing(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    # A job is a trigger, not data: retrying it into the DLQ would page an operator for nothing.
    handler = load_handler("pull")
    warnings: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())

    # The service's logger keeps the stream it was first made with; listen on the logger itself.
    keep = Keep(level=logging.WARNING)
    service_logger = logging.getLogger(handler.logger.name)
    service_logger.addHandler(keep)
    try:
        result = handler.lambda_handler(sample_event("pull_sqs_batch.json"), LambdaContext())
    finally:
        service_logger.removeHandler(keep)
    assert result == {"batchItemFailures": []}
    assert aws.store.list_runs("acme") == []
    assert warnings == ["pull job for a tenant that no longer exists: dropped"]
    assert '"PullJobsForRemovedTenants":[1.0]' in capsys.readouterr().out
