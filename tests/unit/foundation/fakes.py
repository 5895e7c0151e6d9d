"""Fakes and wire-shaped payloads for the foundation tests (no AWS, no network)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from bisync.blixo.webhooks import sign
from bisync.settings import Flows, TenantSettings
from bisync.store import RunOutcome, SyncRun, TenantNotFoundError
from bisync.sync.jobs import QueueMessage

SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"
T0 = datetime(2026, 11, 26, 15, 4, 6, tzinfo=UTC)


def tenant(tenant_id: str = "acme", **over: Any) -> TenantSettings:
    return TenantSettings(tenant_id=tenant_id, **over)


def pulls_off() -> Flows:
    return Flows(pull_customers=False, pull_invoices=False, pull_credit_notes=False, pull_payments=False)


def pushes_off() -> Flows:
    return Flows(
        push_customers=False,
        push_invoices=False,
        push_credit_notes=False,
        push_payments=False,
        push_convenience_fees=False,
    )


# --------------------------------------------------------------------------- Blixo events
def invoice_object(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "inv_1",
        "invoiceNo": "INV-1001",
        "customerId": "cus_1",
        "currency": "USD",
        "issueDate": "2026-11-26",
        "dueDate": "2026-12-26",
        "items": [{"name": "Consulting", "quantity": 10, "unitPrice": 150.0, "amount": 1500.0}],
        "subtotal": 1500.0,
        "taxTotal": 0,
        "discountTotal": 0,
        "total": 1500.0,
        "amountPaid": 0,
        "balance": 1500.0,
        "status": "issued",
        "metadata": {},
        "createdAt": "2026-11-26T15:04:05Z",
        "updatedAt": "2026-11-26T15:04:05Z",
    }
    body.update(over)
    return body


def customer_object(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": "cus_7", "name": "Acme Ltd", "status": "active", "metadata": {}}
    body.update(over)
    return body


def payment_object(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "pay_1",
        "customerId": "cus_9",
        "date": "2026-11-26",
        "currency": "USD",
        "amount": 60.0,
        "method": "check",
        "appliedTo": [{"type": "invoice", "invoiceId": "inv_1", "amount": 60.0}],
        "status": "succeeded",
        "metadata": {},
    }
    body.update(over)
    return body


def event_payload(
    event_type: str = "invoice.created", obj: dict[str, Any] | None = None, event_id: str = "evt_1"
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "createdAt": "2026-11-26T15:04:05Z",
        "data": {"object": invoice_object() if obj is None else obj},
    }


def raw(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def signed(payload: dict[str, Any], secret: str = SECRET) -> tuple[bytes, str]:
    body = raw(payload)
    return body, sign(body, secret)


# --------------------------------------------------------------------------- fakes
@dataclass
class Activity:
    tenant_id: str
    flow: str
    started: datetime
    finished: datetime
    outcome: RunOutcome
    processed: int


@dataclass
class FakeStore:
    """In-memory stand-in for SyncStore's tenant, run and flow-status methods."""

    tenants: dict[str, TenantSettings] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    runs: list[SyncRun] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)

    def add(self, *settings: TenantSettings) -> FakeStore:
        for s in settings:
            self.tenants[s.tenant_id] = s
        return self

    def get_tenant(self, tenant_id: str) -> TenantSettings:
        self.lookups.append(tenant_id)
        try:
            return self.tenants[tenant_id]
        except KeyError:
            raise TenantNotFoundError(tenant_id) from None

    def put_run(self, run: SyncRun) -> None:
        self.runs.append(run.model_copy(deep=True))

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
        self.activity.append(Activity(tenant_id, flow, started, finished, outcome, processed))


@dataclass
class FakeQueue:
    sent: list[QueueMessage] = field(default_factory=list)
    fail_with: Exception | None = None

    def send(self, message: QueueMessage) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)
        return f"msg-{len(self.sent)}"


@dataclass
class FakeDeliveries:
    """The replay guard's store: (tenant, event id) -> when it was queued."""

    queued: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def seen(self, tenant_id: str, event_id: str) -> bool:
        return (tenant_id, event_id) in self.queued

    def remember(self, tenant_id: str, event_id: str, now: datetime) -> None:
        self.queued[(tenant_id, event_id)] = now


@dataclass
class FakeSecrets:
    secrets: dict[str, list[str]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def __call__(self, tenant_id: str) -> list[SecretStr]:
        self.calls.append(tenant_id)
        return [SecretStr(s) for s in self.secrets[tenant_id]]


class Clock:
    """now() that moves forward one second per call, so started < finished is observable."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start
        self.calls = 0

    def __call__(self) -> datetime:
        value = self.current
        self.current += timedelta(seconds=1)
        self.calls += 1
        return value
