"""A deployed stack's data plane in moto (the sync table as the template declares it, the four
FIFO queues, a tenant secret) and the `Target` the commands resolve to on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from typer.testing import CliRunner

from blixo_cli.target import Target
from tests.integration.foundation.conftest import (
    REGION,
    SECRET_PREFIX,
    clear_caches,
    create_fifo_queue,
    create_sync_table,
    sqs,
)


def _dlq(name: str) -> str:
    url: str = sqs().create_queue(
        QueueName=f"blixo-intacct-dev-{name}-dlq.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )["QueueUrl"]
    return url


@pytest.fixture
def moto_target(monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "BLIXO_INTACCT_STACK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clear_caches()
    with mock_aws():
        table = create_sync_table()
        yield Target(
            region=REGION,
            sync_table=table.name,
            push_queue_url=create_fifo_queue("PushQueue"),
            push_dlq_url=_dlq("push"),
            pull_queue_url=create_fifo_queue("PullQueue"),
            pull_dlq_url=_dlq("pull"),
            tenant_secret_prefix=SECRET_PREFIX,
            stage="dev",
            webhook_url="https://hooks.example/dev/webhooks/blixo/{tenantId}",
        )
    clear_caches()


def invoke(target: Target, *args: str, input: str | None = None) -> Any:
    """The whole command, as an operator runs it (global options and error handling included)."""
    from blixo_cli.app import app

    return CliRunner().invoke(app, list(args), obj=target, input=input, catch_exceptions=False)


def messages(target: Target, url: str) -> list[dict[str, Any]]:
    """Everything on a queue (received, so a second call sees none)."""
    out: list[dict[str, Any]] = []
    while True:
        got = sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        batch = got.get("Messages", [])
        if not batch:
            return out
        out += batch
        for m in batch:
            sqs().delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
