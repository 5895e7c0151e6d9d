"""One SQS batch of push jobs -> Intacct, with the writes of independent customers sharing
gateway requests. Plain logic over ports: the push Lambda supplies the store, the sessions
and the clock, and turns each message's outcome into SQS's batch-item failures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from pydantic import ValidationError

from bisync.blixo.api import ResourceKind
from bisync.blixo.models import BlixoEvent, parse_event
from bisync.blixo.webhooks import WebhookError
from bisync.settings import TenantSettings
from bisync.store import TenantNotFoundError
from bisync.store.models import ErrorLevel, RunOutcome
from bisync.sync.failures import BusinessSyncError, SyncFailure, TransientSyncError, classify
from bisync.sync.jobs import PushJob
from bisync.sync.ports import ErrorLog, FlowRecorder, TenantLookup
from bisync.sync.push.context import PushContext, PushResult, PushStatus
from bisync.sync.push.current import current_events
from bisync.sync.registry import push_flow
from bisync.sync.rounds import Execute, RoundStats, Task, run_rounds

PUSH_FLOW = "push"
# A deletion's event is kept with its sync error up to this size (far under DynamoDB's item cap).
MAX_STORED_EVENT_CHARS = 32_000
FLOW_OFF = "flow off"


class PushStore(TenantLookup, FlowRecorder, Protocol):
    @property
    def errors(self) -> ErrorLog: ...


@dataclass
class PushSession:
    """A tenant's ready clients for one batch: the Intacct executor and the writers' context."""

    context: PushContext
    execute: Execute
    close: Callable[[], None] = lambda: None


OpenSession = Callable[[TenantSettings], PushSession]


@dataclass(frozen=True)
class PushMessage:
    message_id: str
    job: PushJob


@dataclass
class MessageOutcome:
    message_id: str
    job: PushJob
    result: PushResult | None = None
    error: BusinessSyncError | None = None  # recorded as the object's sync error; message done
    failure: TransientSyncError | None = None  # the message fails and is redelivered

    @property
    def failed(self) -> bool:
        return self.failure is not None


@dataclass
class BatchReport:
    outcomes: list[MessageOutcome] = field(default_factory=list)
    stats: RoundStats = field(default_factory=RoundStats)

    def failed_ids(self) -> list[str]:
        return [o.message_id for o in self.outcomes if o.failed]


def process_push_batch(
    messages: Sequence[PushMessage],
    *,
    store: PushStore,
    open_session: OpenSession,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    out_of_time: Callable[[], bool] = lambda: False,
) -> BatchReport:
    report = BatchReport()
    by_tenant: dict[str, list[PushMessage]] = {}
    for message in messages:
        by_tenant.setdefault(message.job.tenant_id, []).append(message)
    for tenant_id, tenant_messages in by_tenant.items():
        started = now()
        outcomes = _push_tenant(
            tenant_id, tenant_messages, store, open_session, report.stats, out_of_time=out_of_time
        )
        report.outcomes.extend(outcomes)
        known = [o for o in outcomes if not (o.failure and "unknown tenant" in str(o.failure))]
        if known:
            for outcome in known:
                _record(store, outcome, now())
            finished = now()
            # The whole push, and each object type's own line (the status shows one per flow).
            groups: dict[str, list[MessageOutcome]] = {PUSH_FLOW: known}
            for outcome in known:
                kind = outcome.job.event_type.split(".", 1)[0]
                groups.setdefault(f"{PUSH_FLOW}:{kind}", []).append(outcome)
            for flow, members in groups.items():
                store.record_flow_activity(
                    tenant_id,
                    flow,
                    started=started,
                    finished=finished,
                    outcome=_run_outcome(members),
                    processed=sum(1 for o in members if o.result is not None and o.result.wrote),
                )
    order = {m.message_id: i for i, m in enumerate(messages)}
    report.outcomes.sort(key=lambda o: order[o.message_id])
    return report


def _push_tenant(
    tenant_id: str,
    messages: list[PushMessage],
    store: PushStore,
    open_session: OpenSession,
    stats: RoundStats,
    *,
    out_of_time: Callable[[], bool],
) -> list[MessageOutcome]:
    try:
        settings = store.get_tenant(tenant_id)
    except TenantNotFoundError:
        # Not onboarded (or removed): retried, then parked in the DLQ for an operator.
        return [
            MessageOutcome(m.message_id, m.job, failure=TransientSyncError("unknown tenant"))
            for m in messages
        ]
    outcomes: dict[str, MessageOutcome] = {}
    runnable: list[tuple[PushMessage, BlixoEvent]] = []
    for message in messages:
        outcome = MessageOutcome(message.message_id, message.job)
        outcomes[message.message_id] = outcome
        event = _event(message.job, outcome)
        if event is None:
            continue
        flow = push_flow(event.resource)
        if not flow.enabled(settings):
            outcome.result = PushResult(
                PushStatus.SKIPPED, flow.object_type, event.object_id, reason="flow off"
            )
            continue
        runnable.append((message, event))
    if runnable:
        _run(settings, runnable, outcomes, open_session, stats, out_of_time=out_of_time)
    return [outcomes[m.message_id] for m in messages]


def _event(job: PushJob, outcome: MessageOutcome) -> BlixoEvent | None:
    try:
        return parse_event(job.event())
    except WebhookError as exc:
        # Its message names the place and never echoes a value (a lone surrogate, say).
        outcome.error = BusinessSyncError(f"the queued event does not parse: {exc}")
        return None
    except (ValidationError, ValueError) as exc:
        # The intake verified it; a job that no longer parses is a bug to look at, not to retry.
        outcome.error = BusinessSyncError(f"the queued event does not parse: {type(exc).__name__}")
        return None


def _run(
    settings: TenantSettings,
    runnable: list[tuple[PushMessage, BlixoEvent]],
    outcomes: dict[str, MessageOutcome],
    open_session: OpenSession,
    stats: RoundStats,
    *,
    out_of_time: Callable[[], bool],
) -> None:
    try:
        session = open_session(settings)
    except Exception as exc:
        failure = classify(exc)
        if failure is None:
            raise
        for message, _ in runnable:
            _fail(outcomes[message.message_id], failure)
        return
    try:
        groups: dict[str, list[Task[PushResult]]] = {}
        current = current_events([event for _, event in runnable], session.context.blixo)
        fresh: list[tuple[PushMessage, BlixoEvent]] = []
        for (message, _), item in zip(runnable, current, strict=True):
            if isinstance(item, SyncFailure):
                _fail(outcomes[message.message_id], item)
            else:
                fresh.append((message, item))
        for message, event in fresh:
            writer = push_flow(event.resource).run(session.context, event)
            groups.setdefault(message.job.customer_id, []).append(
                Task(
                    message.message_id,
                    message.job.customer_id,
                    writer,
                    parallel_key=_parallel_key(event),
                )
            )
        round_stats = run_rounds(list(groups.values()), session.execute, out_of_time=out_of_time)
        stats.requests += round_stats.requests
        stats.functions += round_stats.functions
        stats.rounds += round_stats.rounds
        for tasks in groups.values():
            for task in tasks:
                outcome = outcomes[task.task_id]
                if task.failure is not None:
                    _fail(outcome, task.failure)
                else:
                    outcome.result = task.result
    finally:
        session.close()


def _parallel_key(event: BlixoEvent) -> str | None:
    """A customer's distinct invoices cannot depend on each other (each needs only the customer,
    which an earlier event of the group, or the first of them, pushes): they run side by side.
    Payments and credit notes apply to invoices and their balances: they keep the group's order."""
    if event.resource is ResourceKind.INVOICE:
        return f"invoice:{event.object_id}"
    return None


def _fail(outcome: MessageOutcome, failure: SyncFailure) -> None:
    if isinstance(failure, TransientSyncError):
        outcome.failure = failure
    elif isinstance(failure, BusinessSyncError):
        outcome.error = failure
    else:
        outcome.error = BusinessSyncError(str(failure))


def _record(store: PushStore, outcome: MessageOutcome, moment: datetime) -> None:
    """One sync error per object: written on failure, cleared when it next syncs."""
    job = outcome.job
    object_type = job.event_type.split(".", 1)[0]
    object_id = _object_id(job) or job.event_id
    retry = {
        "event_type": job.event_type,
        "event_id": job.event_id,
        "object_id": object_id,
        "customer_id": job.customer_id,
    }
    if job.event_type.endswith(".deleted") and len(job.event_json) <= MAX_STORED_EVENT_CHARS:
        # A deleted record cannot be read again from Blixo: its retry re-sends this event.
        retry["event_json"] = job.event_json
    if outcome.error is not None:
        store.errors.record(
            job.tenant_id,
            object_type,
            object_id,
            direction=PUSH_FLOW,
            message=outcome.error.message,
            level=outcome.error.level,
            intacct_errorno=outcome.error.errorno,
            retry=retry,
            now=moment,
        )
    elif outcome.result is not None and outcome.result.warning:
        store.errors.record(
            job.tenant_id,
            object_type,
            object_id,
            direction=PUSH_FLOW,
            message=outcome.result.warning,
            level=ErrorLevel.WARNING,
            retry=retry,
            now=moment,
        )
    elif outcome.result is not None and outcome.result.reason != FLOW_OFF:
        # Synced, unchanged, or resolved another way (voided before it was synced, a draft
        # again): its error, if any, no longer stands.
        store.errors.clear(job.tenant_id, object_type, object_id)


def _object_id(job: PushJob) -> str | None:
    try:
        data = job.event().get("data", {})
        obj = data.get("object", {}) if isinstance(data, dict) else {}
        value = obj.get("id") if isinstance(obj, dict) else None
        return str(value) if value else None
    except (ValueError, WebhookError):
        # WebhookError is no ValueError: a job that no longer parses must not fail the batch.
        return None


def _run_outcome(outcomes: Sequence[MessageOutcome]) -> RunOutcome:
    if any(o.failed for o in outcomes):
        return RunOutcome.PARTIAL if any(not o.failed for o in outcomes) else RunOutcome.FAILED
    if any(o.error for o in outcomes):
        return RunOutcome.PARTIAL
    return RunOutcome.SUCCEEDED
