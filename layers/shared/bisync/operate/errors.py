"""Open sync errors: listing with a hint, retry (re-queue the object) and ignore (close it).

A retry never replays a stale copy: a push error re-sends the Blixo record as it is now (so a
fix made in Blixo is what goes), a pull error re-reads the Intacct record by key. Both go
through the same queue and writers as the sync itself, so a retry of something that has
synced meanwhile writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel

from bisync.operate.jobs import pull_now, push_record
from bisync.store.models import SyncErrorRecord
from bisync.sync.jobs import PullJob, PushJob, QueueMessage

PULL_FLOWS_BY_TYPE = {
    "customer": "customers",
    "invoice": "invoices",
    "credit_note": "credit_notes",
    "payment": "payments",
}

# (substring of the message, lower case) -> what an operator can do about it.
_HINTS: tuple[tuple[str, str], ...] = (
    ("waiting:", "it waits for the records it depends on; each pull retries it by itself"),
    ("is not in blixo", "the customer is not synced yet: retry after the customers flow has run"),
    ("period", "the Intacct period is closed: reopen it, or date the record in an open period"),
    (
        "location is required",
        "a multi-entity company needs a location: connect the tenant to its entity "
        "(`tenant connect --entity`) or set accounts.location_id",
    ),
    ("account", "check the account mappings: `blixo-intacct tenant show` / `tenant set accounts.*`"),
    ("permission", "the Intacct web-services user lacks a permission for this module"),
    ("authentication", "the tenant's credentials were refused: run `tenant connect` again"),
    ("credential", "the tenant's credentials were refused: run `tenant connect` again"),
    ("currency", "check the tenant's base_currency and exchange_rate_type settings"),
    ("exists", "a record with this number already exists on the other side; link or renumber it"),
)


def hint(record: SyncErrorRecord) -> str:
    text = record.message.lower()
    for needle, advice in _HINTS:
        if needle in text:
            return advice
    if record.level.value == "warning":
        return "synced, with a caveat: read it, then ignore it with a reason"
    return "fix the cause in the system that refused it, then retry"


class ErrorView(BaseModel):
    """An error as operators see it (the store's record plus a hint)."""

    tenant_id: str
    object_type: str
    object_id: str
    direction: str
    level: str
    message: str
    intacct_errorno: str | None
    attempts: int
    first_seen: datetime
    last_seen: datetime
    ignored: bool
    ignored_reason: str | None
    hint: str


def view(record: SyncErrorRecord) -> ErrorView:
    return ErrorView(
        tenant_id=record.tenant_id,
        object_type=record.object_type,
        object_id=record.object_id,
        direction=record.direction,
        level=record.level.value,
        message=record.message,
        intacct_errorno=record.intacct_errorno,
        attempts=record.attempts,
        first_seen=record.first_seen,
        last_seen=record.last_seen,
        ignored=record.ignored,
        ignored_reason=record.ignored_reason,
        hint=hint(record),
    )


@dataclass(frozen=True)
class ErrorFilter:
    direction: str | None = None
    object_type: str | None = None
    level: str | None = None
    contains: str | None = None
    include_ignored: bool = False

    def matches(self, record: SyncErrorRecord) -> bool:
        return (
            (self.direction is None or record.direction == self.direction)
            and (self.object_type is None or record.object_type == self.object_type)
            and (self.level is None or record.level.value == self.level)
            and (self.contains is None or self.contains.lower() in record.message.lower())
            and (self.include_ignored or not record.ignored)
        )


class ErrorReads(Protocol):
    def list(self, tenant_id: str, *, include_ignored: bool = False) -> list[SyncErrorRecord]: ...
    def get(self, tenant_id: str, object_type: str, object_id: str) -> SyncErrorRecord | None: ...


def find(errors: ErrorReads, tenant_id: str, flt: ErrorFilter) -> list[SyncErrorRecord]:
    records = errors.list(tenant_id, include_ignored=flt.include_ignored)
    return sorted((r for r in records if flt.matches(r)), key=lambda r: r.last_seen, reverse=True)


class RetryResult(BaseModel):
    object_type: str
    object_id: str
    direction: str
    queued: bool
    detail: str


# Reads a Blixo record's raw JSON (None when it no longer exists).
FetchBlixo = Callable[[str, str], dict[str, Any] | None]


def retry(
    records: Sequence[SyncErrorRecord],
    *,
    fetch_blixo: FetchBlixo,
    send_push: Callable[[QueueMessage], None],
    send_pull: Callable[[QueueMessage], None],
    now: datetime | None = None,
) -> list[RetryResult]:
    """Queue each record's object again: push errors one job each, pull errors one pull job
    per tenant reading exactly those records."""
    moment = now or datetime.now(UTC)
    results: list[RetryResult] = []
    pulls: dict[str, dict[str, list[str]]] = {}
    pulled: dict[str, list[SyncErrorRecord]] = {}
    for record in records:
        if record.direction == "pull":
            flow = record.retry.get("flow") or PULL_FLOWS_BY_TYPE.get(record.object_type)
            key = record.retry.get("intacct_key") or record.object_id
            if flow is None:
                results.append(_result(record, False, "no pull flow syncs this object type"))
                continue
            pulls.setdefault(record.tenant_id, {}).setdefault(flow, []).append(key)
            pulled.setdefault(record.tenant_id, []).append(record)
            continue
        job = _push_job(record, fetch_blixo, moment)
        if isinstance(job, str):
            results.append(_result(record, False, job))
            continue
        send_push(job.to_message())
        results.append(_result(record, True, f"queued as {job.event_type}"))
    for tenant_id, keys in pulls.items():
        pull_job: PullJob = pull_now(tenant_id, keys=keys, now=moment)
        send_pull(pull_job.to_message())
        for record in pulled[tenant_id]:
            results.append(_result(record, True, "queued: the next pull run re-reads it from Intacct"))
    return results


def _push_job(record: SyncErrorRecord, fetch_blixo: FetchBlixo, now: datetime) -> PushJob | str:
    event_type = record.retry.get("event_type", f"{record.object_type}.updated")
    resource = event_type.split(".", 1)[0]
    object_id = record.retry.get("object_id") or record.object_id
    current = fetch_blixo(resource, object_id)
    if current is not None:
        return push_record(record.tenant_id, resource, current, reason="retry", now=now)
    stored = record.retry.get("event_json")
    if event_type.endswith(".deleted") and stored:
        # Deleted in Blixo: the deletion itself is what must reach Intacct.
        return PushJob(
            tenant_id=record.tenant_id,
            event_id=f"retry:{record.retry.get('event_id', object_id)}:{now.isoformat()}",
            event_type=event_type,
            customer_id=record.retry.get("customer_id", "none"),
            received_at=now,
            event_json=stored,
        )
    return f"the {resource} {object_id} no longer exists in Blixo; ignore the error with a reason"


def _result(record: SyncErrorRecord, queued: bool, detail: str) -> RetryResult:
    return RetryResult(
        object_type=record.object_type,
        object_id=record.object_id,
        direction=record.direction,
        queued=queued,
        detail=detail,
    )


def matching(records: Iterable[SyncErrorRecord], keys: Iterable[tuple[str, str]]) -> list[SyncErrorRecord]:
    wanted = set(keys)
    return [r for r in records if (r.object_type, r.object_id) in wanted]
