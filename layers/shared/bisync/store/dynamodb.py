"""DynamoDB repository: tenants, cursors and runs here; mappings, sync errors and Intacct slots
in their own modules, reached as `store.mappings`, `store.errors`, `store.slots`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bisync.settings import TenantSettings
from bisync.store import keys
from bisync.store.deliveries import DeliveryStore
from bisync.store.errors import ErrorStore
from bisync.store.mappings import MappingStore
from bisync.store.models import FlowCursor, RunOutcome, SyncRun
from bisync.store.slots import SlotStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# Runs are history for operators, not state: they expire (the table's TTL attribute).
RUN_RETENTION = timedelta(days=30)


class TenantNotFoundError(LookupError):
    """No settings are stored for this tenant id."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class SyncStore:
    """Typed access to the sync table. Takes a boto3 Table so tests can hand it a moto one."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self.mappings = MappingStore(table)
        self.errors = ErrorStore(table)
        self.slots = SlotStore(table)
        self.deliveries = DeliveryStore(table)

    # ------------------------------------------------------------------ tenants
    def put_tenant(self, settings: TenantSettings) -> None:
        self._table.put_item(
            Item={
                "PK": keys.tenant_pk(settings.tenant_id),
                "SK": keys.SETTINGS_SK,
                "GSI1PK": keys.TENANT_INDEX_PK,
                "GSI1SK": settings.tenant_id,
                "settings": settings.model_dump_json(),
                "updatedAt": _iso(datetime.now(UTC)),
            }
        )

    def get_tenant(self, tenant_id: str) -> TenantSettings:
        item = self._table.get_item(
            Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.SETTINGS_SK}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise TenantNotFoundError(tenant_id)
        return TenantSettings.model_validate_json(str(item["settings"]))

    def delete_tenant(self, tenant_id: str) -> None:
        """Remove a tenant's settings (its schedule stops); mappings and history stay."""
        self._table.delete_item(Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.SETTINGS_SK})

    def iter_tenants(self) -> Iterator[TenantSettings]:
        """Every tenant, through the sparse tenant index (paged; no scan)."""
        kwargs: dict[str, Any] = {
            "IndexName": keys.TENANT_INDEX,
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": keys.TENANT_INDEX_PK},
        }
        while True:
            page = self._table.query(**kwargs)
            for item in page.get("Items", []):
                yield TenantSettings.model_validate_json(str(item["settings"]))
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    # ------------------------------------------------------------------ runs and cursors
    def put_run(self, run: SyncRun) -> None:
        expires = (run.finished_at or run.started_at) + RUN_RETENTION
        self._table.put_item(
            Item={
                "PK": keys.tenant_pk(run.tenant_id),
                "SK": keys.run_sk(_iso(run.started_at), run.run_id),
                "run": run.model_dump_json(),
                "expiresAt": int(expires.timestamp()),
            }
        )

    def list_runs(self, tenant_id: str, limit: int = 20) -> list[SyncRun]:
        """The newest runs first."""
        page = self._table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :run)",
            ExpressionAttributeValues={":pk": keys.tenant_pk(tenant_id), ":run": "RUN#"},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [SyncRun.model_validate_json(str(item["run"])) for item in page.get("Items", [])]

    def get_cursor(self, tenant_id: str, flow: str) -> FlowCursor:
        item = self._table.get_item(
            Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.cursor_sk(flow)}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return FlowCursor(tenant_id=tenant_id, flow=flow)
        return FlowCursor(
            tenant_id=tenant_id,
            flow=flow,
            high_water=item.get("highWater"),
            last_run_started=item.get("lastRunStarted"),
            last_run_finished=item.get("lastRunFinished"),
            last_outcome=item.get("lastOutcome"),
            processed=int(str(item.get("processed", 0))),
            last_processed=int(str(item.get("lastProcessed", 0))),
            last_success=item.get("lastSuccess"),
        )

    def advance_high_water(self, tenant_id: str, flow: str, high_water: str) -> bool:
        """Move the flow's high-water mark forward (never back); True if it moved. Called only
        after the page it covers is written (a checkpoint)."""
        try:
            self._table.update_item(
                Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.cursor_sk(flow)},
                UpdateExpression="SET highWater = :h",
                ConditionExpression="attribute_not_exists(highWater) OR highWater < :h",
                ExpressionAttributeValues={":h": high_water},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def reset_high_water(self, tenant_id: str, flow: str) -> None:
        """Forget the flow's high-water mark (a backfill reads from the beginning again)."""
        self._table.update_item(
            Key={"PK": keys.tenant_pk(tenant_id), "SK": keys.cursor_sk(flow)},
            UpdateExpression="REMOVE highWater",
        )

    def record_flow_activity(
        self,
        tenant_id: str,
        flow: str,
        *,
        started: datetime,
        finished: datetime,
        outcome: RunOutcome,
        processed: int,
    ) -> None:
        """Count a flow's work and move its last-run status forward, atomically.

        Concurrent consumers (push runs one Lambda per message group) update the same item, so
        the counter is an ADD and the status only moves to a later finish time.
        """
        key = {"PK": keys.tenant_pk(tenant_id), "SK": keys.cursor_sk(flow)}
        self._table.update_item(
            Key=key,
            UpdateExpression="ADD #processed :n",
            ExpressionAttributeNames={"#processed": "processed"},
            ExpressionAttributeValues={":n": processed},
        )
        try:
            self._table.update_item(
                Key=key,
                UpdateExpression="SET lastRunStarted = :s, lastRunFinished = :f, lastOutcome = :o, "
                "lastProcessed = :n" + (", lastSuccess = :f" if outcome is RunOutcome.SUCCEEDED else ""),
                ConditionExpression="attribute_not_exists(lastRunFinished) OR lastRunFinished <= :f",
                ExpressionAttributeValues={
                    ":s": _iso(started),
                    ":f": _iso(finished),
                    ":o": outcome.value,
                    ":n": processed,
                },
            )
        except ClientError as exc:
            # The condition failed: a later run already reported, and its status stands. Matched
            # by code, not class: botocore builds its exception classes per client, lazily.
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
