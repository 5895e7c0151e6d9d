"""Webhook Lambda: POST /webhooks/blixo/{tenantId} -> verify -> PushQueue -> 202.

The intake decides what happened; this handler owns HTTP: the status codes, the body, the
metrics and the log line.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from bisync.aws import SqsQueue, load_tenant_secrets, sync_store
from bisync.blixo import api
from bisync.config import runtime_config
from bisync.sync.intake import IntakeResult, IntakeStatus, receive_webhook

logger = Logger()
metrics = Metrics()
# The push's cursor (bisync.operate.status.PUSH_FLOW): every log line of the push path carries it.
FLOW = "push"

# 4xx: Blixo must not retry (the delivery can never be valid). 503: our side is not ready
# (the tenant's secret), so Blixo's retries carry the event until it is.
HTTP_STATUS: dict[IntakeStatus, int] = {
    IntakeStatus.QUEUED: 202,
    IntakeStatus.IGNORED: 200,
    IntakeStatus.TENANT_DISABLED: 200,
    IntakeStatus.REPLAYED: 200,
    IntakeStatus.TOO_LARGE: 413,
    IntakeStatus.UNKNOWN_TENANT: 404,
    IntakeStatus.UNSIGNED: 401,
    IntakeStatus.MALFORMED: 400,
    IntakeStatus.SECRET_UNAVAILABLE: 503,
}
METRIC_NAME: dict[IntakeStatus, str] = {
    IntakeStatus.QUEUED: "WebhookEventsQueued",
    # Event types this integration does not handle: acknowledged so Blixo stops retrying,
    # counted so a new type Blixo starts sending shows up on a dashboard.
    IntakeStatus.IGNORED: "WebhookEventsIgnored",
    # A verified event for a disabled tenant: acknowledged (Blixo stops retrying), not queued.
    IntakeStatus.TENANT_DISABLED: "WebhookIgnoredTenantDisabled",
    # A verified event whose id was queued before (a replay past SQS's deduplication window).
    IntakeStatus.REPLAYED: "WebhookReplaysIgnored",
    IntakeStatus.TOO_LARGE: "WebhookRejectedTooLarge",
    IntakeStatus.UNKNOWN_TENANT: "WebhookRejectedUnknownTenant",
    IntakeStatus.UNSIGNED: "WebhookRejectedSignature",
    IntakeStatus.MALFORMED: "WebhookRejectedMalformed",
    IntakeStatus.SECRET_UNAVAILABLE: "WebhookSecretUnavailable",
}


def event_subject(event_type: str | None, body: bytes) -> dict[str, str | None]:
    """The object a verified event is about, for the log line: the push logs the same ids, so
    one query follows an object from its webhook to Intacct."""
    object_id = None
    try:
        data = json.loads(body).get(api.EVENT_DATA_KEY)
        obj = data.get(api.EVENT_OBJECT_KEY) if isinstance(data, dict) else None
        object_id = str(obj["id"]) if isinstance(obj, dict) and obj.get("id") else None
    except (ValueError, AttributeError):
        pass
    return {"object_type": (event_type or "").split(".", 1)[0] or None, "object_id": object_id}


def http_reply(result: IntakeResult) -> tuple[int, dict[str, Any]]:
    status = HTTP_STATUS[result.status]
    if result.status in (IntakeStatus.QUEUED, IntakeStatus.IGNORED):
        body: dict[str, Any] = {"status": result.status.value, "eventId": result.event_id}
        if result.status is IntakeStatus.IGNORED:
            body["type"] = result.event_type
        return status, body
    if result.status in (IntakeStatus.TENANT_DISABLED, IntakeStatus.REPLAYED):
        return status, {"status": result.status.value, "eventId": result.event_id, "message": result.message}
    if result.status is IntakeStatus.SECRET_UNAVAILABLE:
        # The detail (which secret, why) is for our logs, not for the caller.
        return status, {"message": "the tenant's webhook configuration is unavailable; retry later"}
    return status, {"message": result.message}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_source(data_class=APIGatewayProxyEvent)
def lambda_handler(event: APIGatewayProxyEvent, context: LambdaContext) -> dict[str, Any]:
    config = runtime_config()
    tenant_id = (event.path_parameters or {}).get("tenantId", "")
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8", "surrogatepass")
    logger.append_keys(tenant_id=tenant_id, flow=FLOW)
    store = sync_store()
    result = receive_webhook(
        tenant_id,
        body,
        event.headers.get(api.SIGNATURE_HEADER),
        tenants=store,
        deliveries=store.deliveries,
        webhook_secrets=lambda t: load_tenant_secrets(t).webhook_secrets,
        queue=SqsQueue(config.push_queue_url),
        max_body_bytes=config.webhook_max_body_bytes,
    )
    status, reply = http_reply(result)
    metrics.add_metric(name=f"Webhook{status}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=METRIC_NAME[result.status], unit=MetricUnit.Count, value=1)
    extra: dict[str, Any] = {
        "status": status,
        "outcome": result.status.value,
        "event_id": result.event_id,
        "event_type": result.event_type,
        "reply": reply,
    }
    if result.status in (
        IntakeStatus.QUEUED,
        IntakeStatus.IGNORED,
        IntakeStatus.TENANT_DISABLED,
        IntakeStatus.REPLAYED,
    ):
        # Verified (signed, valid JSON): its ids may be logged; an unverified body never is.
        extra |= event_subject(result.event_type, body)
    if result.status is IntakeStatus.SECRET_UNAVAILABLE:
        logger.error("webhook refused: tenant secret unavailable", extra={**extra, "detail": result.message})
    else:
        logger.info("webhook answered", extra=extra)
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(reply)}
