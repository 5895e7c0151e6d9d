"""Sync errors: one item per object (ERR#<type>#<id>), overwritten on each failure, deleted
when the object next syncs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bisync.store import keys
from bisync.store.models import ErrorLevel, SyncErrorRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class ErrorStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record(
        self,
        tenant_id: str,
        object_type: str,
        object_id: str,
        *,
        direction: str,
        message: str,
        level: ErrorLevel = ErrorLevel.ERROR,
        intacct_errorno: str | None = None,
        retry: dict[str, str] | None = None,
        now: datetime | None = None,
    ) -> SyncErrorRecord:
        """Open (or overwrite) the object's error; attempts count up, first_seen stays."""
        moment = _iso(now or datetime.now(UTC))
        reply = self._table.update_item(
            Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.error_sk(object_type, object_id)},
            UpdateExpression=(
                "SET objectType = :t, objectId = :i, direction = :d, #level = :l, message = :m, "
                "errorno = :e, retryContext = :r, lastSeen = :now, firstSeen = if_not_exists(firstSeen, :now), "
                "ignored = :false REMOVE ignoredReason ADD attempts :one"
            ),
            ExpressionAttributeNames={"#level": "level"},
            ExpressionAttributeValues={
                ":t": object_type,
                ":i": object_id,
                ":d": direction,
                ":l": level.value,
                ":m": message[:2000],
                ":e": intacct_errorno or "",
                ":r": dict(retry or {}),
                ":now": moment,
                ":one": 1,
                ":false": False,
            },
            ReturnValues="ALL_NEW",
        )
        return self._record(tenant_id, reply["Attributes"])

    def clear(self, tenant_id: str, object_type: str, object_id: str) -> bool:
        """Delete the object's error (it synced); True if there was one."""
        reply = self._table.delete_item(
            Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.error_sk(object_type, object_id)},
            ReturnValues="ALL_OLD",
        )
        return bool(reply.get("Attributes"))

    def ignore(self, tenant_id: str, object_type: str, object_id: str, reason: str) -> SyncErrorRecord | None:
        try:
            reply = self._table.update_item(
                Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.error_sk(object_type, object_id)},
                UpdateExpression="SET ignored = :true, ignoredReason = :why",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":true": True, ":why": reason[:500]},
                ReturnValues="ALL_NEW",
            )
        except self._table.meta.client.exceptions.ConditionalCheckFailedException:
            return None
        return self._record(tenant_id, reply["Attributes"])

    def get(self, tenant_id: str, object_type: str, object_id: str) -> SyncErrorRecord | None:
        item = self._table.get_item(
            Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.error_sk(object_type, object_id)},
            ConsistentRead=True,
        ).get("Item")
        return self._record(tenant_id, item) if item else None

    def list(self, tenant_id: str, *, include_ignored: bool = False) -> list[SyncErrorRecord]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :err)",
            "ExpressionAttributeValues": {":pk": keys.tenant_pk(tenant_id), ":err": keys.ERROR_PREFIX},
            "ConsistentRead": True,
        }
        out: list[SyncErrorRecord] = []
        while True:
            page = self._table.query(**kwargs)
            out.extend(self._record(tenant_id, item) for item in page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [e for e in out if include_ignored or not e.ignored]

    @staticmethod
    def _record(tenant_id: str, item: dict[str, Any]) -> SyncErrorRecord:
        return SyncErrorRecord(
            tenant_id=tenant_id,
            object_type=str(item["objectType"]),
            object_id=str(item["objectId"]),
            direction=str(item.get("direction", "")),
            level=ErrorLevel(str(item.get("level", "error"))),
            message=str(item.get("message", "")),
            intacct_errorno=str(item.get("errorno") or "") or None,
            attempts=int(str(item.get("attempts", 1))),
            first_seen=datetime.fromisoformat(str(item["firstSeen"])),
            last_seen=datetime.fromisoformat(str(item["lastSeen"])),
            retry={str(k): str(v) for k, v in dict(item.get("retryContext") or {}).items()},
            ignored=bool(item.get("ignored", False)),
            ignored_reason=str(item["ignoredReason"]) if item.get("ignoredReason") else None,
        )
