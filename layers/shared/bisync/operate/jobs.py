"""Jobs an operator starts: a pull now (optionally a backfill, a flow, or chosen records) and a
push of a Blixo record as it is now, through the same queue and writers as a webhook event."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from bisync.blixo.api import (
    EVENT_CREATED_AT_KEY,
    EVENT_DATA_KEY,
    EVENT_ID_KEY,
    EVENT_OBJECT_KEY,
    EVENT_TYPE_KEY,
)
from bisync.sync.jobs import PullJob, PushJob
from bisync.sync.pull.run import FLOWS

PULL_FLOW_NAMES = tuple(spec.name for spec in FLOWS)
PUSH_TYPES = ("customer", "invoice", "credit_note", "payment")


class JobError(ValueError):
    """An operator's request that cannot become a job (unknown flow, bad date ...)."""


def pull_now(
    tenant_id: str,
    *,
    flows: Iterable[str] = (),
    since: date | datetime | None = None,
    keys: dict[str, list[str]] | None = None,
    now: datetime | None = None,
) -> PullJob:
    """A pull run queued by an operator. `since` re-reads from that moment (a backfill) instead
    of the cursor; `keys` reads only those Intacct records of their flows (a retry)."""
    wanted = list(dict.fromkeys(flows))
    unknown = [f for f in [*wanted, *(keys or {})] if f not in PULL_FLOW_NAMES]
    if unknown:
        raise JobError(f"unknown pull flow {', '.join(unknown)}: use {', '.join(PULL_FLOW_NAMES)}")
    resume: dict[str, Any] = {}
    if wanted:
        resume["flows"] = wanted
    if since is not None:
        moment = since if isinstance(since, datetime) else datetime.combine(since, time.min, UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        resume["since"] = moment.astimezone(UTC).isoformat()
    if keys:
        resume["keys"] = {flow: sorted(set(values)) for flow, values in keys.items()}
        resume.setdefault("flows", list(keys))
    # A nonce: two operator requests in the same second are two runs, not one deduplicated.
    resume["request"] = uuid.uuid4().hex[:12]
    return PullJob(
        tenant_id=tenant_id, trigger="operator", scheduled_for=now or datetime.now(UTC), resume=resume
    )


_NONCE = uuid.uuid4().hex


def exact_json(value: Any) -> str:
    """JSON text with every Decimal written as the number it is (json.dumps has no such mode,
    and a float would round money)."""
    numbers: list[str] = []

    def convert(item: Any) -> Any:
        if isinstance(item, Decimal):
            numbers.append(format(item, "f"))
            return f"\x00{_NONCE}:{len(numbers) - 1}\x00"
        if isinstance(item, dict):
            return {k: convert(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [convert(v) for v in item]
        return item

    text = json.dumps(convert(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return re.sub(rf'"\\u0000{_NONCE}:(\d+)\\u0000"', lambda m: numbers[int(m.group(1))], text)


def push_record(
    tenant_id: str,
    object_type: str,
    record: dict[str, Any],
    *,
    reason: str,
    now: datetime | None = None,
    action: str = "updated",
    request: str | None = None,
) -> PushJob:
    """A push job for a Blixo record as it is now, shaped like its webhook event. The writers
    decide create or update from the mapping, so a record already synced is a no-op."""
    if object_type not in PUSH_TYPES:
        raise JobError(f"unknown object type {object_type}: use {', '.join(PUSH_TYPES)}")
    object_id = str(record.get("id") or "")
    if not object_id:
        raise JobError(f"the {object_type} has no id")
    moment = now or datetime.now(UTC)
    version = str(record.get("updatedAt") or moment.isoformat())
    # One id per request: an operator who fixed a cause (a mapping, an account) and asks again
    # within SQS's 5-minute deduplication window must not be dropped as a duplicate. A repeat
    # is harmless: the writers skip what is already synced.
    event_id = f"{reason}:{object_type}:{object_id}:{version}:{request or uuid.uuid4().hex[:12]}"
    event = {
        EVENT_ID_KEY: event_id,
        EVENT_TYPE_KEY: f"{object_type}.{action}",
        EVENT_CREATED_AT_KEY: moment.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        EVENT_DATA_KEY: {EVENT_OBJECT_KEY: record},
    }
    customer = object_id if object_type == "customer" else record.get("customerId")
    return PushJob(
        tenant_id=tenant_id,
        event_id=event_id,
        event_type=f"{object_type}.{action}",
        customer_id=str(customer or "none"),
        received_at=moment,
        event_json=exact_json(event),
    )
