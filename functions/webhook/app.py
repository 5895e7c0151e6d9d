"""Webhook Lambda: POST /webhooks/blixo/{tenantId} -> verify -> PushQueue -> 202."""

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
from bisync.sync.intake import receive_webhook

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=APIGatewayProxyEvent)
def lambda_handler(event: APIGatewayProxyEvent, context: LambdaContext) -> dict[str, Any]:
    config = runtime_config()
    tenant_id = (event.path_parameters or {}).get("tenantId", "")
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    logger.append_keys(tenant_id=tenant_id)
    response = receive_webhook(
        tenant_id,
        body,
        event.headers.get(api.SIGNATURE_HEADER),
        tenants=sync_store(),
        webhook_secrets=lambda t: load_tenant_secrets(t).webhook_secrets,
        queue=SqsQueue(config.push_queue_url),
        max_body_bytes=config.webhook_max_body_bytes,
    )
    metrics.add_metric(name=f"Webhook{response.status_code}", unit=MetricUnit.Count, value=1)
    if response.body.get("status") == "ignored":
        # Event types this integration does not handle: acknowledged so Blixo stops retrying,
        # counted so a new type Blixo starts sending shows up on a dashboard.
        metrics.add_metric(name="WebhookEventsIgnored", unit=MetricUnit.Count, value=1)
    logger.info("webhook answered", extra={"status": response.status_code, "reply": response.body})
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(response.body),
    }
