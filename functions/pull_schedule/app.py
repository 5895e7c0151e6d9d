"""Pull-schedule Lambda: fired hourly by EventBridge; enqueues one pull job per tenant."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from bisync.aws import SqsQueue, sync_store
from bisync.config import runtime_config
from bisync.sync.schedule import enqueue_pull_jobs

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    queued = enqueue_pull_jobs(
        sync_store().iter_tenants(), event.time, SqsQueue(runtime_config().pull_queue_url)
    )
    metrics.add_metric(name="PullJobsQueued", unit=MetricUnit.Count, value=len(queued))
    logger.info("pull jobs queued", extra={"tenants": queued})
    return {"queued": len(queued), "tenants": queued}
