"""Pull Lambda: consumes PullQueue (FIFO, one group per tenant) and runs that tenant's pull."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bisync.aws import sync_store
from bisync.sync.jobs import PullJob
from bisync.sync.pull import run_pull

logger = Logger()
metrics = Metrics()
processor = SqsFifoPartialProcessor()


def record_handler(record: SQSRecord) -> None:
    job = PullJob.model_validate_json(record.body)
    logger.append_keys(tenant_id=job.tenant_id, trigger=job.trigger)
    run = run_pull(job, sync_store())
    metrics.add_metric(name="PullRuns", unit=MetricUnit.Count, value=1)
    logger.info("pull run finished", extra={"run_id": run.run_id, "outcome": run.outcome.value})


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
