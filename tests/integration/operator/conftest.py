"""The operators' command against the in-process world: moto for AWS, both sandboxes over HTTP."""

from __future__ import annotations

import pytest

from blixo_cli.target import Target
from tests.integration.foundation.conftest import (  # noqa: F401 - fixtures
    REGION,
    SECRET_PREFIX,
    _fast_moto_transactions,
    aws,
    aws_env,
    create_fifo_queue,
    sqs,
    table,
)
from tests.integration.pull.conftest import Seeder
from tests.integration.push.conftest import World, blixo_sandbox, intacct_sandbox, world  # noqa: F401 - fixtures

__all__ = ["Seeder", "World"]


@pytest.fixture
def target(world: World) -> Target:  # noqa: F811 - the fixture above
    """The stack as the commands see it: the world's table and queues, the sandboxes' URLs."""
    dlq = {
        name: sqs().create_queue(
            QueueName=f"blixo-intacct-dev-{name}-dlq.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
        )["QueueUrl"]
        for name in ("push", "pull")
    }
    return Target(
        region=REGION,
        sync_table=world.aws.table.name,
        push_queue_url=world.aws.push_queue_url,
        push_dlq_url=dlq["push"],
        pull_queue_url=world.aws.pull_queue_url,
        pull_dlq_url=dlq["pull"],
        tenant_secret_prefix=SECRET_PREFIX,
        stage="dev",
        webhook_url=world.receiver.url.rstrip("/") + "/hooks/{tenantId}",
        blixo_url=world.blixo_url,
        local={"intacct": {"url": world.intacct_handle.gateway_url}},
    )
