"""Push Lambda: consumes PushQueue (FIFO) and sends each Blixo event on to Intacct.

The whole batch goes through `process_push_batch` at once, so the Intacct writes of different
customers share gateway requests. A message that fails transiently is reported back to SQS
(with every later message of its group, to keep that customer's order); a business failure
is the object's sync error and the message is done.
"""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from bisync.aws import load_tenant_secrets, sync_store
from bisync.blixo import api
from bisync.blixo.webhooks import WebhookError
from bisync.config import runtime_config
from bisync.intacct.client import RequestStats
from bisync.intacct.retry import RetryPolicy
from bisync.settings import TenantSettings
from bisync.sync.jobs import PushJob
from bisync.sync.push import PushContext, PushMessage, PushSession, process_push_batch
from bisync.sync.tenant import BlixoRecords, TenantClients, connect

logger = Logger()
# The shared layer's loggers (the clients' retry warnings) as JSON lines with this function's
# keys: Powertools copies its handler to top-level loggers only, so "bisync" gets it.
logging.getLogger("bisync")
copy_config_to_registered_loggers(source_logger=logger, include={"bisync"})
metrics = Metrics()

# Warm containers keep each tenant's clients, and with them its Intacct session.
_CLIENTS: dict[str, tuple[str, TenantClients]] = {}
_DEADLINE_MARGIN_S = 5.0
# The time an Intacct round may need at most (a request and a quick retry): a quarter of the
# invocation, at least 1.5 s.
_RESERVE_SHARE = 0.25
_MIN_RESERVE_MS = 1500.0
# A request that got its slot still needs its own time, and the batch its bookkeeping.
_SLOT_WAIT_RESERVE_S = 15.0
# The cursor the push records its activity under (bisync.operate.status.PUSH_FLOW): the `flow`
# of every log line, so one query finds the push side of an object's story.
FLOW = "push"


def observe_intacct(request: RequestStats) -> None:
    """Each gateway request as metrics (the Intacct client itself knows nothing of Powertools)."""
    metrics.add_metric(
        name="IntacctRequestLatency", unit=MetricUnit.Milliseconds, value=request.seconds * 1000
    )
    if request.rate_limited:
        metrics.add_metric(name="Intacct429s", unit=MetricUnit.Count, value=1)


def subject(job: PushJob) -> tuple[str, str | None]:
    """The object a job is about, read from its event: what the log line names when no writer
    result does (a transient failure, a sync error)."""
    object_type = job.event_type.split(".", 1)[0]
    try:
        data = job.event().get(api.EVENT_DATA_KEY)
    except (ValueError, WebhookError):
        # WebhookError is no ValueError: a job whose event no longer parses names no object.
        return object_type, None
    obj = data.get(api.EVENT_OBJECT_KEY) if isinstance(data, dict) else None
    object_id = obj.get("id") if isinstance(obj, dict) else None
    return object_type, str(object_id) if object_id else None


# The invocation being served: the cached clients' slot waits are bounded by its time left.
_INVOCATION: dict[str, LambdaContext] = {}


def _slot_wait_left() -> float:
    """How long a request may wait for an Intacct slot now: what the invocation has left,
    less the time the request itself and the batch's bookkeeping need."""
    context = _INVOCATION.get("context")
    if context is None:
        return math.inf
    return context.get_remaining_time_in_millis() / 1000 - _SLOT_WAIT_RESERVE_S


def _clients(settings: TenantSettings, remaining_s: float) -> TenantClients:
    secrets = load_tenant_secrets(settings.tenant_id)
    fingerprint = hashlib.sha256(
        (secrets.model_dump_json() + settings.model_dump_json()).encode()
        + secrets.intacct.user_password.get_secret_value().encode()
        + secrets.intacct.sender_password.get_secret_value().encode()
        + secrets.blixo_api_key.get_secret_value().encode()
    ).hexdigest()
    cached = _CLIENTS.get(settings.tenant_id)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    config = runtime_config()
    clients = connect(
        settings,
        secrets,
        config,
        slots=sync_store().slots,
        intacct_options={
            "deadline_seconds": max(
                5.0, min(config.intacct_request_deadline_seconds, remaining_s - _DEADLINE_MARGIN_S)
            ),
            # Short waits: SQS's redelivery is the patient retry, not a Lambda asleep.
            "retry": RetryPolicy(attempts=4, initial=0.25, maximum=2.0),
            "slot_wait_limit": _slot_wait_left,
        },
    )
    clients.intacct.add_observer(observe_intacct)
    if cached is not None:
        cached[1].close()
    _CLIENTS[settings.tenant_id] = (fingerprint, clients)
    return clients


def _sessions(context: LambdaContext) -> Any:
    def open_session(settings: TenantSettings) -> PushSession:
        clients = _clients(settings, context.get_remaining_time_in_millis() / 1000)
        store = sync_store()
        return PushSession(
            context=PushContext(
                settings=settings, mappings=store.mappings, blixo=BlixoRecords(clients.blixo)
            ),
            execute=clients.intacct.execute,
        )

    return open_session


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _INVOCATION["context"] = context
    batch = SQSEvent(event)
    messages: list[PushMessage] = []
    failures: list[str] = []
    held_groups: set[str] = set()
    for record in batch.records:
        group = record.attributes.message_group_id or ""
        if group in held_groups:
            # An earlier message of this group failed: later ones wait, to keep its order.
            failures.append(record.message_id)
            continue
        try:
            messages.append(PushMessage(record.message_id, PushJob.model_validate_json(record.body)))
        except ValidationError as exc:
            # Not a push job at all: it stays visible (retried, then the DLQ), never dropped. No
            # traceback: the validation detail could quote the body.
            logger.error(  # noqa: TRY400
                "unreadable push message",
                extra={"message_id": record.message_id, "errors": exc.error_count()},
            )
            failures.append(record.message_id)
            held_groups.add(group)
    # No Intacct round starts once what is left might not see it through: the rest of the batch
    # fails over to SQS instead of the whole invocation being cut off (and all of it retried).
    reserve_ms = max(_MIN_RESERVE_MS, context.get_remaining_time_in_millis() * _RESERVE_SHARE)
    report = process_push_batch(
        messages,
        store=sync_store(),
        open_session=_sessions(context),
        out_of_time=lambda: context.get_remaining_time_in_millis() < reserve_ms,
    )
    for outcome in report.outcomes:
        job, result = outcome.job, outcome.result
        object_type, object_id = subject(job)
        fields: dict[str, str | None] = {
            "tenant_id": job.tenant_id,
            "flow": FLOW,
            "event_id": job.event_id,
            "event_type": job.event_type,
            "object_type": object_type,
            "object_id": object_id,
            "customer_id": job.customer_id,
            "message_id": outcome.message_id,
        }
        if result is not None:
            fields |= {
                "object_type": result.object_type,
                "object_id": result.object_id,
                "intacct_key": result.intacct_key,
                "status": result.status.value,
                "reason": result.reason or None,
                "warning": result.warning,
            }
        if outcome.failure is not None:
            logger.warning("push failed, will retry", extra={**fields, "error": str(outcome.failure)})
        elif outcome.error is not None:
            logger.warning(
                "push refused: sync error recorded",
                extra={**fields, "error": outcome.error.message, "errorno": outcome.error.errorno},
            )
        else:
            logger.info("push done", extra=fields)
    failed = report.failed_ids()
    opened = sum(1 for o in report.outcomes if o.error)
    metrics.add_metric(name="PushJobsProcessed", unit=MetricUnit.Count, value=len(report.outcomes))
    # Done: synced, skipped, or refused as a sync error; failed: back to the queue for a retry.
    metrics.add_metric(name="PushEventsDone", unit=MetricUnit.Count, value=len(report.outcomes) - len(failed))
    metrics.add_metric(name="PushEventsFailed", unit=MetricUnit.Count, value=len(failed) + len(failures))
    metrics.add_metric(name="PushSyncErrors", unit=MetricUnit.Count, value=opened)
    metrics.add_metric(name="SyncErrorsOpened", unit=MetricUnit.Count, value=opened)
    metrics.add_metric(name="PushIntacctRequests", unit=MetricUnit.Count, value=report.stats.requests)
    failed_set = {*failures, *failed}
    ordered = [r.message_id for r in batch.records if r.message_id in failed_set]
    return {"batchItemFailures": [{"itemIdentifier": i} for i in ordered]}
