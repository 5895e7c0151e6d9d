"""`sync push --since`: Blixo records changed since a date, sent through the push path as if
their webhooks had just arrived. Everything already synced is a no-op there (mappings and
hashes), so a backfill can be run again safely, at once after fixing a cause too (each run's
jobs carry their own request id, so SQS's deduplication window never drops a later run)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from bisync.blixo import api
from bisync.blixo.api import ResourceKind
from bisync.operate.jobs import PUSH_TYPES, JobError, push_record
from bisync.sync.jobs import PushJob

# Dependencies first: a customer before its invoices, invoices before credits and payments.
ORDER = ("customer", "invoice", "credit_note", "payment")

# (object type, updated after) -> raw records, page by page.
ListRecords = Callable[[str, datetime], Iterable[dict[str, Any]]]


def raw_records(request: Callable[..., Any]) -> ListRecords:
    """Raw Blixo records (exact decimals) over a BlixoClient's `request`, all pages."""

    def records(object_type: str, since: datetime) -> Iterator[dict[str, Any]]:
        path = api.collection_path(ResourceKind(object_type))
        page = api.FIRST_PAGE
        while True:
            payload = request(
                "GET",
                path,
                params={
                    api.UPDATED_AFTER_PARAM: api.format_timestamp(since),
                    api.PER_PAGE_PARAM: api.MAX_PER_PAGE,
                    api.PAGE_PARAM: page,
                },
            )
            items = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(items, list):
                raise JobError(f"Blixo answered {path} without a list")
            yield from (item for item in items if isinstance(item, dict))
            if len(items) < api.MAX_PER_PAGE:
                return
            page += 1

    return records


def backfill_jobs(
    tenant_id: str,
    since: datetime,
    records: ListRecords,
    *,
    types: Iterable[str] = ORDER,
    now: datetime | None = None,
) -> Iterator[PushJob]:
    wanted = list(types)
    unknown = [t for t in wanted if t not in PUSH_TYPES]
    if unknown:
        raise JobError(f"unknown type {', '.join(unknown)}: use {', '.join(PUSH_TYPES)}")
    # One backfill's jobs share a request id: within it each record version goes once.
    request = uuid.uuid4().hex[:12]
    for object_type in ORDER:
        if object_type not in wanted:
            continue
        for record in records(object_type, since):
            yield push_record(tenant_id, object_type, record, reason="backfill", now=now, request=request)
