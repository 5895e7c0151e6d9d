"""`.local/stack.json` is a contract: other tools find the stack and the sandboxes through it."""

from __future__ import annotations

import pytest
import requests
from pydantic import SecretStr

from bisync.blixo.client import BlixoClient
from bisync.intacct import Credentials, IntacctClient
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

REQUIRED_KEYS = {
    "aws_endpoint",
    "region",
    "stack_name",
    "webhook_url",
    "push_queue_url",
    "push_dlq_url",
    "pull_queue_url",
    "pull_dlq_url",
    "sync_table",
    "idempotency_table",
}


def test_the_document_names_every_deployed_resource(stack: Stack) -> None:
    assert stack.doc.keys() >= REQUIRED_KEYS
    assert "{tenantId}" in stack.doc["webhook_url"]
    sqs = stack.client("sqs")
    for key in ("push_queue_url", "push_dlq_url", "pull_queue_url", "pull_dlq_url"):
        attributes = sqs.get_queue_attributes(QueueUrl=stack.doc[key], AttributeNames=["FifoQueue"])[
            "Attributes"
        ]
        assert attributes["FifoQueue"] == "true", key
    tables = stack.client("dynamodb").list_tables()["TableNames"]
    assert {stack.doc["sync_table"], stack.doc["idempotency_table"]} <= set(tables)


def test_the_intacct_sandbox_accepts_the_recorded_credentials(stack: Stack) -> None:
    intacct = stack.doc["intacct"]
    assert {"url", "sender_id", "sender_password", "company_id", "user_id", "user_password"} <= intacct.keys()
    client = IntacctClient(
        Credentials(
            sender_id=intacct["sender_id"],
            sender_password=SecretStr(intacct["sender_password"]),
            company_id=intacct["company_id"],
            user_id=intacct["user_id"],
            user_password=SecretStr(intacct["user_password"]),
            endpoint_url=intacct["url"],
        )
    )
    entities = list(client.query("LOCATIONENTITY", ["LOCATIONID"], order_by="RECORDNO"))
    assert {row["LOCATIONID"] for row in entities} >= {"E100", "E200"}


def test_the_blixo_sandbox_accepts_the_recorded_key(stack: Stack) -> None:
    blixo = stack.doc["blixo"]
    page = next(BlixoClient(SecretStr(blixo["api_key"]), blixo["url"]).customers.iter_pages(per_page=1))
    assert page.per_page == 1
    refused = requests.get(f"{blixo['url']}/customers", auth=("wrong-key", ""), timeout=10)
    assert refused.status_code == 401


def test_make_up_connected_the_demo_tenant_with_every_flow_on(stack: Stack) -> None:
    assert stack.doc["tenant_id"] == stack.doc["demo_tenant"]["tenant_id"] == "demo"
    settings = stack.store().get_tenant(stack.doc["tenant_id"])
    assert all(settings.flows.model_dump().values())
    assert settings.enabled
    # The sandbox company has entities: the demo tenant lives in the first.
    assert settings.entity_id == stack.doc["intacct"]["entities"][0]
    assert settings.secret_name.startswith(stack.doc["tenant_secret_prefix"])
