"""Push: one queued Blixo event for one tenant, towards Intacct.

Plain logic over the store interface; the push Lambda supplies the adapters. The Intacct
writes per object arrive with the sync-engine issue; until then a job is checked against the
tenant's settings and accounted for in the tenant's push status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from bisync.settings import TenantSettings
from bisync.store.models import RunOutcome
from bisync.sync.jobs import PushJob
from bisync.sync.ports import PushStore

PUSH_FLOW = "push"

# Which setting switches each Blixo object's push on or off.
_FLOW_OF_OBJECT = {
    "customer": "push_customers",
    "invoice": "push_invoices",
    "credit_note": "push_credit_notes",
    "payment": "push_payments",
}


class PushOutcome(StrEnum):
    ACCEPTED = "accepted"
    FLOW_OFF = "flow_off"


def flow_enabled(settings: TenantSettings, event_type: str) -> bool:
    obj = event_type.split(".", 1)[0]
    flag = _FLOW_OF_OBJECT.get(obj)
    return settings.push_enabled and flag is not None and bool(getattr(settings.flows, flag))


def process_push_job(
    job: PushJob, store: PushStore, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> PushOutcome:
    """Handle one job. Raises on anything transient or unknown, so SQS retries it and, after
    MaxReceiveCount receives, parks it in the DLQ where an operator can replay it."""
    started = now()
    settings = store.get_tenant(job.tenant_id)
    outcome = PushOutcome.ACCEPTED if flow_enabled(settings, job.event_type) else PushOutcome.FLOW_OFF
    store.record_flow_activity(
        job.tenant_id,
        PUSH_FLOW,
        started=started,
        finished=now(),
        outcome=RunOutcome.SUCCEEDED,
        processed=1 if outcome is PushOutcome.ACCEPTED else 0,
    )
    return outcome
