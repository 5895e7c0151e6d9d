"""Intacct slots: leases that cap a tenant's requests in flight across every container.

N items TENANT#t / SLOT#<n>. Taking one is a conditional write that succeeds when the slot is
free or its lease has expired (a crashed holder frees it by time); giving it back is a delete
conditioned on still being its holder.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from bisync.store import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class SlotStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def try_acquire(self, tenant_id: str, slots: int, holder: str, lease_seconds: float) -> int | None:
        """A free slot's number, now held by `holder` for `lease_seconds`; None if all are held."""
        now_ms = int(time.time() * 1000)
        order = list(range(slots))
        random.shuffle(order)  # spread contenders over the slots
        for n in order:
            try:
                self._table.put_item(
                    Item={
                        "PK": keys.tenant_pk(tenant_id),
                        "SK": keys.slot_sk(n),
                        "holder": holder,
                        "leaseUntilMs": now_ms + int(lease_seconds * 1000),
                        # Expired leases are also swept by the table's TTL (seconds).
                        "expiresAt": int(now_ms / 1000 + lease_seconds) + 3600,
                    },
                    ConditionExpression="attribute_not_exists(PK) OR leaseUntilMs < :now",
                    ExpressionAttributeValues={":now": now_ms},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    continue
                raise
            return n
        return None

    def release(self, tenant_id: str, slot: int, holder: str) -> None:
        try:
            self._table.delete_item(
                Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.slot_sk(slot)},
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": holder},
            )
        except ClientError as exc:
            # Our lease expired and someone else holds the slot now: theirs to give back.
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
