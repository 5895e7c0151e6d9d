"""Push Lambda: consumes PushQueue (FIFO) and sends each Blixo event on towards Intacct."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from bisync.aws import sync_store
from bisync.config import runtime_config
from bisync.sync.jobs import PushJob
from bisync.sync.push import process_push_job

logger = Logger()
metrics = Metrics()
# A failure holds back only the rest of its own group (one customer), keeping that customer's
# events in order while other customers' events go on.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# SQS drops duplicates for five minutes; Blixo may redeliver an event hours later. The
# idempotency record (tenant, event id) makes such a redelivery a no-op for a week.
idempotency = IdempotencyConfig(
    event_key_jmespath="[tenant_id, event_id]", expires_after_seconds=7 * 24 * 3600
)
persistence = DynamoDBPersistenceLayer(table_name=runtime_config().idempotency_table)


@idempotent_function(  # type: ignore[untyped-decorator]  # Powertools ships it untyped
    data_keyword_argument="job", config=idempotency, persistence_store=persistence
)
def push_once(job: PushJob) -> dict[str, Any]:
    outcome = process_push_job(job, sync_store())
    return {"outcome": outcome.value}


def record_handler(record: SQSRecord) -> None:
    job = PushJob.model_validate_json(record.body)
    logger.append_keys(tenant_id=job.tenant_id, event_id=job.event_id, event_type=job.event_type)
    result = push_once(job=job)
    metrics.add_metric(name="PushJobsProcessed", unit=MetricUnit.Count, value=1)
    logger.info("push job processed", extra=result)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
