"""Webhook intake: a Blixo delivery for one tenant -> verified -> one job on the push queue.

Plain logic, no HTTP: it returns an `IntakeResult` saying what happened and the webhook
handler turns that into a status code. Never loses an event: what this side cannot vouch for
is refused so that Blixo retries (SECRET_UNAVAILABLE, or an exception for a queue failure),
and a delivery that can never be valid is refused for good, with a reason that says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import SecretStr

from bisync.blixo.models import Customer
from bisync.blixo.webhooks import (
    AcceptedEvent,
    InvalidSignature,
    MalformedPayload,
    MissingSignature,
    PayloadTooLarge,
    WebhookError,
    verify,
)
from bisync.secrets import TenantSecretsError
from bisync.settings import TENANT_ID_PATTERN
from bisync.store import TenantNotFoundError
from bisync.sync.jobs import PushJob
from bisync.sync.ports import DeliveryLog, MessageSink, TenantLookup


class IntakeStatus(StrEnum):
    QUEUED = "queued"
    IGNORED = "ignored"  # verified, of a type this integration does not handle
    TOO_LARGE = "too_large"
    UNKNOWN_TENANT = "unknown_tenant"
    UNSIGNED = "unsigned"  # missing or wrong signature
    MALFORMED = "malformed"  # signed, but not a valid event
    SECRET_UNAVAILABLE = "secret_unavailable"  # noqa: S105 - a status name; Blixo must retry
    TENANT_DISABLED = "tenant_disabled"  # verified, but the tenant's sync is off
    REPLAYED = "replayed"  # verified, but this event id was queued before: not queued again


@dataclass(frozen=True)
class IntakeResult:
    status: IntakeStatus
    message: str = ""
    event_id: str | None = None
    event_type: str | None = None


_REFUSALS: dict[type[WebhookError], IntakeStatus] = {
    PayloadTooLarge: IntakeStatus.TOO_LARGE,
    MissingSignature: IntakeStatus.UNSIGNED,
    InvalidSignature: IntakeStatus.UNSIGNED,
    MalformedPayload: IntakeStatus.MALFORMED,
}


def receive_webhook(
    tenant_id: str,
    raw_body: bytes,
    signature: str | None,
    *,
    tenants: TenantLookup,
    webhook_secrets: Callable[[str], Sequence[SecretStr]],
    queue: MessageSink,
    deliveries: DeliveryLog,
    max_body_bytes: int,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> IntakeResult:
    # Size first: an oversize body costs neither a lookup nor a hash.
    if len(raw_body) > max_body_bytes:
        return IntakeResult(IntakeStatus.TOO_LARGE, f"body exceeds {max_body_bytes} bytes")
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        return IntakeResult(IntakeStatus.UNKNOWN_TENANT, "unknown tenant")
    try:
        settings = tenants.get_tenant(tenant_id)
    except TenantNotFoundError:
        return IntakeResult(IntakeStatus.UNKNOWN_TENANT, "unknown tenant")
    try:
        secrets = webhook_secrets(tenant_id)
    except TenantSecretsError as exc:
        return IntakeResult(IntakeStatus.SECRET_UNAVAILABLE, str(exc))

    try:
        outcome = verify(raw_body, signature, secrets, max_body_bytes=max_body_bytes)
    except WebhookError as exc:
        status = next((s for kind, s in _REFUSALS.items() if isinstance(exc, kind)), IntakeStatus.MALFORMED)
        return IntakeResult(status, str(exc))
    if not isinstance(outcome, AcceptedEvent):
        return IntakeResult(
            IntakeStatus.IGNORED, "event type not handled", outcome.event_id, outcome.event_type
        )

    event = outcome.event
    if not settings.enabled:
        # The push would skip it ("flow off") anyway: acknowledged (a 2xx) so Blixo stops
        # retrying, never queued; `sync push --since` catches up once the tenant is enabled.
        return IntakeResult(
            IntakeStatus.TENANT_DISABLED,
            "tenant is disabled: event acknowledged, not synced",
            event.id,
            event.type,
        )
    if deliveries.seen(tenant_id, event.id):
        # Past SQS's five-minute deduplication a genuine body replayed verifies again: the
        # event id says it was queued already. Acknowledged (Blixo stops), never queued twice.
        return IntakeResult(
            IntakeStatus.REPLAYED, "event already received: not queued again", event.id, event.type
        )
    obj = event.object
    customer_id = obj.id if isinstance(obj, Customer) else obj.customer_id
    job = PushJob(
        tenant_id=tenant_id,
        event_id=event.id,
        event_type=event.type,
        customer_id=str(customer_id or "none"),
        received_at=now(),
        # verify() decoded it as strict UTF-8 JSON: the text as Blixo sent it.
        event_json=raw_body.decode("utf-8"),
    )
    queue.send(job.to_message())
    # Only once it is queued: a delivery that failed to queue is Blixo's to retry.
    deliveries.remember(tenant_id, event.id, job.received_at)
    return IntakeResult(IntakeStatus.QUEUED, "queued", event.id, event.type)
