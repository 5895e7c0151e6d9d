"""Push Lambda: consumes PushQueue (FIFO) and sends each Blixo event on towards Intacct."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bisync.aws import sync_store
from bisync.sync.jobs import PushJob
from bisync.sync.push import process_push_job

logger = Logger()
metrics = Metrics()
# A failure holds back only the rest of its own group (one customer), keeping that customer's
# events in order while other customers' events go on.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)


def record_handler(record: SQSRecord) -> None:
    job = PushJob.model_validate_json(record.body)
    logger.append_keys(tenant_id=job.tenant_id, event_id=job.event_id, event_type=job.event_type)
    outcome = process_push_job(job, sync_store())
    metrics.add_metric(name=f"Push{outcome.value.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    logger.info("push job processed", extra={"outcome": outcome.value})


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
