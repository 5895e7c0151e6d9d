"""One invoice's whole story from the functions' structured logs, with one query by its id: its
webhook in (tenant, event id), its push to Intacct (the same event id, the Intacct key).

The query is a CloudWatch Logs Insights query over the functions' log groups, the one an
operator runs (ministack runs the Lambdas and keeps their output in those groups, and answers
Insights queries that filter on @message, a subset AWS answers the same way)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from tests.e2e.conftest import OnboardedTenant, Stack, eventually

pytestmark = pytest.mark.e2e

FUNCTIONS = ("webhook", "push", "pull")


def story_query(object_id: str) -> str:
    """What an operator types: every log line of every function that names the object."""
    return (
        "fields @timestamp, @log, @message"
        f' | filter @message like /"object_id":"{object_id}"/'
        " | sort @timestamp asc"
    )


def run_query(stack: Stack, query: str, since: float) -> list[dict[str, Any]]:
    """The matching log lines, oldest first, each as its JSON record plus the log group."""
    logs = stack.client("logs")
    groups = [f"/aws/lambda/{stack.doc['functions'][name]}" for name in FUNCTIONS]
    existing = {
        g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    }
    started = logs.start_query(
        logGroupNames=[g for g in groups if g in existing],
        startTime=int(since) - 60,
        endTime=int(time.time()) + 60,
        queryString=query,
    )
    while True:
        reply = logs.get_query_results(queryId=started["queryId"])
        if reply["status"] not in ("Scheduled", "Running"):
            break
        time.sleep(0.2)
    lines = []
    for row in reply["results"]:
        fields = {f["field"]: f["value"] for f in row}
        try:
            record = json.loads(fields["@message"])
        except ValueError:
            continue
        lines.append({**record, "@log": fields.get("@log", "")})
    return lines


def test_one_query_by_the_invoice_id_follows_it_from_its_webhook_to_its_intacct_key(
    stack: Stack, onboard: Callable[..., OnboardedTenant]
) -> None:
    since = time.time()
    tenant = onboard()
    blixo = requests.Session()
    blixo.auth = (tenant.blixo_api_key, "")
    url = str(stack.doc["blixo"]["url"])

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = blixo.post(
            f"{url}/{path}", json=body, headers={"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}, timeout=10
        )
        assert reply.status_code == 201, reply.text
        data: dict[str, Any] = reply.json()["data"]
        return data

    # The tenant's Blixo account delivers its events, signed, to the stack's webhook URL.
    post(
        "webhooks",
        {"url": stack.webhook_url(tenant.tenant_id), "events": ["*"], "secret": tenant.webhook_secret},
    )
    tag = uuid.uuid4().hex[:6].upper()
    customer = post("customers", {"name": f"Story {tag}", "customerNo": f"STORY-{tag}", "currency": "USD"})
    invoice = post(
        "invoices",
        {
            "customerId": customer["id"],
            "issueDate": datetime.now(UTC).date().isoformat(),
            "items": [{"name": "Consulting", "quantity": 1, "unitPrice": 120}],
        },
    )

    mapping = eventually(
        lambda: stack.store().mappings.by_blixo(tenant.tenant_id, "invoice", invoice["id"]),
        timeout=120,
        interval=1,
        what="the invoice to reach Intacct",
    )

    def story() -> list[dict[str, Any]] | None:
        lines = run_query(stack, story_query(invoice["id"]), since)
        messages = {line.get("message") for line in lines}
        return lines if {"webhook answered", "push done"} <= messages else None

    lines = eventually(story, timeout=60, interval=1, what="the invoice's webhook and push log lines")

    webhook = next(line for line in lines if line["message"] == "webhook answered")
    push = next(line for line in lines if line["message"] == "push done")
    assert webhook["@log"].endswith(stack.doc["functions"]["webhook"])
    assert push["@log"].endswith(stack.doc["functions"]["push"])
    for line in (webhook, push):
        assert line["tenant_id"] == tenant.tenant_id
        assert line["flow"] == "push"
        assert line["object_type"] == "invoice"
        assert line["object_id"] == invoice["id"]
        assert line["event_type"] == "invoice.created"
    # The same event, from its arrival to where it went in Intacct.
    assert webhook["event_id"] == push["event_id"]
    assert webhook["event_id"]
    assert webhook["outcome"] == "queued"
    assert push["intacct_key"] == mapping.intacct_key
    assert push["customer_id"] == customer["id"]
    assert lines.index(webhook) < lines.index(push)
    # Nothing secret rides along.
    text = json.dumps(lines)
    assert tenant.webhook_secret not in text
    assert tenant.blixo_api_key not in text
