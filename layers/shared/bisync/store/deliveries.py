"""Webhook deliveries already queued, by event id: the intake's replay guard.

SQS deduplicates a FIFO message for five minutes only; Blixo signs no timestamp, so a genuine
delivery replayed hours later verifies again. An event id is remembered once its job is on
the queue (never before: a delivery that failed to queue must be retried by Blixo, not refused)
and forgotten after the replay window through the table's TTL. Two copies arriving at once
both pass and meet SQS's deduplication instead, so no lock is needed (and none can be left held
by a function that died)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bisync.store import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# Blixo retries a delivery for two days; a replay of a captured body is refused for 30.
REPLAY_WINDOW = timedelta(days=30)


class DeliveryStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def seen(self, tenant_id: str, event_id: str) -> bool:
        """Whether this event was queued before (within the replay window)."""
        item = self._table.get_item(
            Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.delivery_sk(event_id)},
            ConsistentRead=True,
            ProjectionExpression="PK",
        ).get("Item")
        return item is not None

    def remember(self, tenant_id: str, event_id: str, now: datetime) -> None:
        """This event's job is on the queue: a later delivery of it is a replay."""
        self._table.put_item(
            Item={
                "PK": keys.tenant_pk(tenant_id),
                "SK": keys.delivery_sk(event_id),
                "queuedAt": now.isoformat(timespec="milliseconds"),
                "expiresAt": int((now + REPLAY_WINDOW).timestamp()),
            }
        )
