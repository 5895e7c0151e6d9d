"""Pull Lambda: consumes PullQueue (FIFO, one group per tenant) and runs that tenant's pull.

A run near the function's time limit queues its own continuation; a transient failure fails
the message (SQS retries it from the last checkpoint, then parks it in the DLQ).
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bisync.aws import SqsQueue, load_tenant_secrets, sync_store
from bisync.config import runtime_config
from bisync.intacct.client import RequestStats
from bisync.intacct.retry import RetryPolicy
from bisync.settings import TenantSettings
from bisync.store import TenantNotFoundError
from bisync.sync.jobs import PullJob
from bisync.sync.pull import PullSession, pull_report
from bisync.sync.pull.run import FLOWS, cursor_flow
from bisync.sync.tenant import connect

logger = Logger()
# The shared layer's loggers (the clients' retry warnings) as JSON lines with this function's
# keys: Powertools copies its handler to top-level loggers only, so "bisync" gets it.
logging.getLogger("bisync")
copy_config_to_registered_loggers(source_logger=logger, include={"bisync"})
metrics = Metrics()
processor = SqsFifoPartialProcessor()
_context: dict[str, LambdaContext] = {}
# Records a run created or updated in Blixo, one metric per flow (the dashboard names each).
PULLED_METRIC = {
    "customers": "PulledCustomers",
    "invoices": "PulledInvoices",
    "credit_notes": "PulledCreditNotes",
    "payments": "PulledPayments",
}


def observe_intacct(request: RequestStats) -> None:
    """Each gateway request as metrics (the Intacct client itself knows nothing of Powertools)."""
    metrics.add_metric(
        name="IntacctRequestLatency", unit=MetricUnit.Milliseconds, value=request.seconds * 1000
    )
    if request.rate_limited:
        metrics.add_metric(name="Intacct429s", unit=MetricUnit.Count, value=1)


def _open_session(settings: TenantSettings) -> PullSession:
    config = runtime_config()
    clients = connect(
        settings,
        load_tenant_secrets(settings.tenant_id),
        config,
        slots=sync_store().slots,
        intacct_options={
            "deadline_seconds": min(config.intacct_request_deadline_seconds, 300.0),
            "retry": RetryPolicy(attempts=4, initial=0.5, maximum=10.0),
        },
    )
    clients.intacct.add_observer(observe_intacct)
    return PullSession(execute=clients.intacct.execute, blixo=clients.blixo, close=clients.close)


def record_handler(record: SQSRecord) -> None:
    job = PullJob.model_validate_json(record.body)
    logger.append_keys(tenant_id=job.tenant_id, trigger=job.trigger, message_id=record.message_id)
    context = _context.get("current")
    queue = SqsQueue(runtime_config().pull_queue_url)

    def continue_later(next_job: PullJob) -> None:
        queue.send(next_job.to_message())

    try:
        report = pull_report(
            job,
            sync_store(),
            open_session=_open_session,
            time_left=(lambda: context.get_remaining_time_in_millis() / 1000) if context else (lambda: 1e9),
            continue_later=continue_later,
        )
    except TenantNotFoundError:
        # Removed after the job was queued (the hourly schedule ran just before): a job carries
        # no data, so nothing is lost, and retrying it into the DLQ would only page an operator
        # about a tenant that is gone.
        logger.warning("pull job for a tenant that no longer exists: dropped")
        metrics.add_metric(name="PullJobsForRemovedTenants", unit=MetricUnit.Count, value=1)
        return
    run = report.run
    counts = run.counts
    metrics.add_metric(name="PullRuns", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="PullIntacctRequests", unit=MetricUnit.Count, value=report.requests)
    # A record that could not be mapped or written is that record's sync error (`<flow>.failed`).
    opened = sum(v for k, v in counts.items() if k.endswith(".failed"))
    metrics.add_metric(name="SyncErrorsOpened", unit=MetricUnit.Count, value=opened)
    for spec in FLOWS:
        pulled = counts.get(f"{spec.name}.created", 0) + counts.get(f"{spec.name}.updated", 0)
        metrics.add_metric(name=PULLED_METRIC[spec.name], unit=MetricUnit.Count, value=pulled)
        if f"{spec.name}.read" in counts:
            logger.info(
                "pull flow finished",
                extra={
                    "flow": cursor_flow(spec),
                    "object_type": spec.object_type,
                    "run_id": run.run_id,
                    "counts": {
                        k.split(".", 1)[1]: v for k, v in counts.items() if k.startswith(f"{spec.name}.")
                    },
                },
            )
    logger.info(
        "pull run finished",
        extra={
            "run_id": run.run_id,
            "outcome": run.outcome.value,
            "counts": counts,
            "continued": report.continued,
        },
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    _context["current"] = context
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
