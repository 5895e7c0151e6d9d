"""Sync timing per tenant and flow: what operators (and Blixo's settings page) ask first.

Read-only over the store; the queue depths come from the caller (the CLI and the API read
them from SQS), so this stays free of AWS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pydantic import BaseModel

from bisync.settings import TenantSettings
from bisync.store.models import FlowCursor, RunOutcome, SyncErrorRecord, SyncRun
from bisync.sync.pull.run import FLOWS, PULL_FLOW, cursor_flow

PUSH_FLOW = "push"
# The push flows' switches, the object type their sync errors carry, and the event type whose
# batches they ride in (a convenience fee travels with its payment).
PUSH_SWITCHES = (
    ("customers", "push_customers", "customer", "customer"),
    ("invoices", "push_invoices", "invoice", "invoice"),
    ("credit_notes", "push_credit_notes", "credit_note", "credit_note"),
    ("payments", "push_payments", "payment", "payment"),
    ("convenience_fees", "push_convenience_fees", "convenience_fee", "payment"),
)


class FlowStatus(BaseModel):
    flow: str  # e.g. "pull:invoices", "push:payments"
    direction: str
    enabled: bool
    last_run_started: datetime | None = None
    last_run_finished: datetime | None = None
    last_outcome: RunOutcome | None = None
    last_success: datetime | None = None
    records_last_run: int = 0
    records_total: int = 0
    open_errors: int = 0


class TenantStatus(BaseModel):
    tenant_id: str
    name: str
    enabled: bool
    next_pull: datetime | None  # the hourly schedule's next firing, if any pull is on
    last_pull: SyncRun | None
    open_errors: int
    open_warnings: int
    flows: list[FlowStatus]


class QueueDepths(BaseModel):
    push: int
    push_in_flight: int
    push_dlq: int
    pull: int
    pull_in_flight: int
    pull_dlq: int


class StatusReport(BaseModel):
    generated_at: datetime
    tenants: list[TenantStatus]
    queues: QueueDepths | None = None


class ErrorList(Protocol):
    def list(self, tenant_id: str, *, include_ignored: bool = False) -> list[SyncErrorRecord]: ...


class StatusStore(Protocol):
    @property
    def errors(self) -> ErrorList: ...
    def get_cursor(self, tenant_id: str, flow: str) -> FlowCursor: ...
    def list_runs(self, tenant_id: str, limit: int = 20) -> list[SyncRun]: ...


def next_hour(now: datetime) -> datetime:
    """The schedule fires at the top of every hour (cron(0 * * * ? *) in the template)."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _flow(cursor: FlowCursor, flow: str, direction: str, enabled: bool, errors: int) -> FlowStatus:
    return FlowStatus(
        flow=flow,
        direction=direction,
        enabled=enabled,
        last_run_started=cursor.last_run_started,
        last_run_finished=cursor.last_run_finished,
        last_outcome=cursor.last_outcome,
        last_success=cursor.last_success,
        records_last_run=cursor.last_processed,
        records_total=cursor.processed,
        open_errors=errors,
    )


def tenant_status(settings: TenantSettings, store: StatusStore, now: datetime) -> TenantStatus:
    errors = store.errors.list(settings.tenant_id)
    by_flow = _error_counts(errors)
    flows: list[FlowStatus] = []
    for spec in FLOWS:
        cursor = store.get_cursor(settings.tenant_id, cursor_flow(spec))
        enabled = settings.enabled and bool(getattr(settings.flows, spec.flag))
        flows.append(
            _flow(cursor, f"pull:{spec.name}", PULL_FLOW, enabled, by_flow[(PULL_FLOW, spec.object_type)])
        )
    for name, flag, object_type, event_kind in PUSH_SWITCHES:
        cursor = store.get_cursor(settings.tenant_id, f"{PUSH_FLOW}:{event_kind}")
        enabled = settings.enabled and bool(getattr(settings.flows, flag))
        flows.append(_flow(cursor, f"push:{name}", PUSH_FLOW, enabled, by_flow[(PUSH_FLOW, object_type)]))
    runs = [r for r in store.list_runs(settings.tenant_id, limit=20) if r.kind == PULL_FLOW]
    return TenantStatus(
        tenant_id=settings.tenant_id,
        name=settings.name,
        enabled=settings.enabled,
        next_pull=next_hour(now) if settings.pull_enabled else None,
        last_pull=runs[0] if runs else None,
        open_errors=sum(1 for e in errors if e.level.value == "error"),
        open_warnings=sum(1 for e in errors if e.level.value == "warning"),
        flows=flows,
    )


def _error_counts(errors: Iterable[SyncErrorRecord]) -> Counter[tuple[str, str]]:
    return Counter((e.direction, e.object_type) for e in errors)


def status_report(
    tenants: Iterable[TenantSettings],
    store: StatusStore,
    *,
    now: datetime | None = None,
    queues: QueueDepths | None = None,
) -> StatusReport:
    moment = now or datetime.now(UTC)
    return StatusReport(
        generated_at=moment,
        tenants=[tenant_status(t, store, moment) for t in tenants],
        queues=queues,
    )
