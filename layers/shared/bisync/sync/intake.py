"""Webhook intake: a Blixo delivery for one tenant -> verified -> one job on the push queue.

Answers fast (the push Lambda does the Intacct work) and never loses an event: anything
this side cannot vouch for is refused with a status Blixo will retry on (5xx) or a clear
4xx for a delivery that can never be valid.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, SecretStr

from bisync.blixo.models import Customer
from bisync.blixo.webhooks import AcceptedEvent, WebhookError, verify
from bisync.settings import TENANT_ID_PATTERN
from bisync.store import TenantNotFoundError
from bisync.sync.jobs import PushJob
from bisync.sync.ports import MessageSink, TenantLookup


class IntakeResponse(BaseModel):
    status_code: int
    body: dict[str, Any]


def _reply(status_code: int, **body: Any) -> IntakeResponse:
    return IntakeResponse(status_code=status_code, body=body)


def receive_webhook(
    tenant_id: str,
    raw_body: bytes,
    signature: str | None,
    *,
    tenants: TenantLookup,
    webhook_secrets: Callable[[str], Sequence[SecretStr]],
    queue: MessageSink,
    max_body_bytes: int,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> IntakeResponse:
    # Size first: an oversize body costs neither a lookup nor a hash.
    if len(raw_body) > max_body_bytes:
        return _reply(413, message=f"body exceeds {max_body_bytes} bytes")
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        return _reply(404, message="unknown tenant")
    try:
        tenants.get_tenant(tenant_id)
    except TenantNotFoundError:
        return _reply(404, message="unknown tenant")

    try:
        outcome = verify(raw_body, signature, webhook_secrets(tenant_id), max_body_bytes=max_body_bytes)
    except WebhookError as exc:
        return _reply(exc.status_code, message=str(exc))
    if not isinstance(outcome, AcceptedEvent):
        return _reply(200, status="ignored", eventId=outcome.event_id, type=outcome.event_type)

    event = outcome.event
    obj = event.object
    customer_id = obj.id if isinstance(obj, Customer) else obj.customer_id
    job = PushJob(
        tenant_id=tenant_id,
        event_id=event.id,
        event_type=event.type,
        customer_id=str(customer_id or "none"),
        received_at=now(),
        # Plain JSON (verify() already checked it strictly): numbers stay numbers on the queue.
        event=json.loads(raw_body),
    )
    queue.send(job.to_message())
    return _reply(202, status="queued", eventId=event.id)
