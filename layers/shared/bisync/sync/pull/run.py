"""One tenant's pull run: customers -> invoices -> credit notes -> payments, incremental on
WHENMODIFIED with a look-back, checkpointed per page, continued in a new job near the time
limit. Plain logic over ports (the pull Lambda supplies the store, the session, the queue)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

from bisync.blixo.client import BlixoClient
from bisync.intacct.filters import F
from bisync.intacct.functions import Function
from bisync.intacct.outcome import Outcome
from bisync.settings import TenantSettings
from bisync.store.models import FlowCursor, RunOutcome, SyncRun
from bisync.sync.jobs import PullJob
from bisync.sync.ports import PullStore as BasePullStore
from bisync.sync.pull.context import Errors, Mappings, PullContext
from bisync.sync.pull.flows import (
    CREDIT_NOTES,
    CUSTOMERS,
    INVOICES,
    PAYMENTS,
    FlowSpec,
    base_filter,
    pending_payment_keys,
    pull_customers,
    pull_documents,
    pull_payments,
    tie_reversals,
)
from bisync.sync.pull.known_errors import KnownErrors
from bisync.sync.pull.reader import Page, Reader, intacct_timestamp, parse_timestamp

PULL_FLOW = "pull"
FLOWS: tuple[FlowSpec, ...] = (CUSTOMERS, INVOICES, CREDIT_NOTES, PAYMENTS)
# Stop starting new pages when less than this is left of the Lambda's time (a fifth of the
# time the run had, at most two minutes: a page takes seconds).
CONTINUE_MARGIN_SECONDS = 120.0
CONTINUE_MARGIN_SHARE = 0.2
# Records written (and checkpointed) between two looks at the clock.
WRITE_CHUNK = 200
# The field a flow's sync errors name their record by (the others use RECORDNO).
KEY_FIELDS = {"customers": "CUSTOMERID"}


class PullStore(BasePullStore, Protocol):
    @property
    def mappings(self) -> Mappings: ...

    @property
    def errors(self) -> Errors: ...

    def get_cursor(self, tenant_id: str, flow: str) -> FlowCursor: ...

    def advance_high_water(self, tenant_id: str, flow: str, high_water: str) -> bool: ...


@dataclass
class PullSession:
    execute: Callable[[Sequence[Function]], list[Outcome]]
    blixo: BlixoClient
    close: Callable[[], None] = lambda: None
    # Rows per query page (Intacct's maximum; smaller only to exercise paging in tests).
    pagesize: int = 2000


@dataclass
class PullReport:
    run: SyncRun
    requests: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    continued: bool = False


def cursor_flow(spec: FlowSpec) -> str:
    return f"{PULL_FLOW}:{spec.name}"


def _since(cursor: FlowCursor, settings: TenantSettings, override: str | None) -> str | None:
    if override:
        return intacct_timestamp(datetime.fromisoformat(override))
    if not cursor.high_water:
        return None
    mark = datetime.fromisoformat(cursor.high_water) - timedelta(minutes=settings.lookback_minutes)
    return intacct_timestamp(mark)


def run_pull(
    job: PullJob,
    store: PullStore,
    *,
    open_session: Callable[[TenantSettings], PullSession] | None = None,
    time_left: Callable[[], float] = lambda: math.inf,
    continue_later: Callable[[PullJob], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SyncRun:
    return pull_report(
        job, store, open_session=open_session, time_left=time_left, continue_later=continue_later, now=now
    ).run


def pull_report(
    job: PullJob,
    store: PullStore,
    *,
    open_session: Callable[[TenantSettings], PullSession] | None,
    time_left: Callable[[], float] = lambda: math.inf,
    continue_later: Callable[[PullJob], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> PullReport:
    started = now()
    settings = store.get_tenant(job.tenant_id)
    run = SyncRun(
        tenant_id=settings.tenant_id,
        run_id=uuid.uuid4().hex,
        kind=PULL_FLOW,
        started_at=started,
        trigger=f"{job.trigger}:{job.scheduled_for.isoformat()}",
    )
    report = PullReport(run)
    flows = [s for s in FLOWS if settings.pull_enabled and getattr(settings.flows, s.flag)]
    wanted = job.resume.get("flows")
    if isinstance(wanted, list):
        flows = [s for s in flows if s.name in wanted]
    if not flows or open_session is None:
        # Queued before an operator switched pulls off, or replayed from the DLQ: nothing is
        # read or written, and the run says so.
        run.finished_at = now()
        run.outcome = RunOutcome.SKIPPED
        store.put_run(run)
        return report
    session = open_session(settings)
    reader = Reader(session.execute, show_private=not settings.entity_id, pagesize=session.pagesize)
    ctx = PullContext(
        settings,
        store.mappings,
        KnownErrors(store.errors, settings.tenant_id),
        session.blixo,
        reader,
        now=now,
    )
    try:
        report.continued = _run_flows(
            job, store, ctx, flows, time_left=time_left, continue_later=continue_later
        )
    except BaseException:
        run.finished_at = now()
        run.outcome = RunOutcome.FAILED
        run.counts = _counts(ctx, reader)
        store.put_run(run)
        # The status shows the failure on every flow of the run (their last success stays).
        for flow in (PULL_FLOW, *(cursor_flow(spec) for spec in flows)):
            counts = ctx.counts.get(flow.removeprefix(f"{PULL_FLOW}:"))
            store.record_flow_activity(
                settings.tenant_id,
                flow,
                started=started,
                finished=run.finished_at,
                outcome=RunOutcome.FAILED,
                processed=counts.written if counts is not None else 0,
            )
        raise
    finally:
        ctx.close()
        session.close()
    run.finished_at = now()
    run.counts = _counts(ctx, reader)
    failed = sum(c.failed for c in ctx.counts.values())
    run.outcome = RunOutcome.PARTIAL if failed or report.continued else RunOutcome.SUCCEEDED
    store.put_run(run)
    store.record_flow_activity(
        settings.tenant_id,
        PULL_FLOW,
        started=started,
        finished=run.finished_at,
        outcome=run.outcome,
        processed=sum(c.written for c in ctx.counts.values()),
    )
    for spec in flows:
        counts = ctx.counts.get(spec.name)
        if counts is None and report.continued:
            continue  # not reached before the run handed over to its continuation
        # A flow that found nothing new ran too: its "last synced" moves (the settings page shows it).
        store.record_flow_activity(
            settings.tenant_id,
            cursor_flow(spec),
            started=started,
            finished=run.finished_at,
            outcome=RunOutcome.PARTIAL if counts is not None and counts.failed else RunOutcome.SUCCEEDED,
            processed=counts.written if counts is not None else 0,
        )
    report.requests = reader.stats.requests
    report.rows = dict(reader.stats.rows)
    return report


def _run_flows(
    job: PullJob,
    store: PullStore,
    ctx: PullContext,
    flows: list[FlowSpec],
    *,
    time_left: Callable[[], float],
    continue_later: Callable[[PullJob], None] | None,
) -> bool:
    """Run the flows in dependency order; True if the run stopped early and continues in a
    new job (its checkpoints say where)."""
    indexes: dict[str, Any] = {}
    override = job.resume.get("since") if isinstance(job.resume.get("since"), str) else None
    raw_keys, raw_checkpoint = job.resume.get("keys"), job.resume.get("checkpoint")
    chosen: dict[str, Any] = raw_keys if isinstance(raw_keys, dict) else {}
    # Where an interrupted backfill of one flow had got to (its own cursor does not move back).
    checkpoint: dict[str, Any] = raw_checkpoint if isinstance(raw_checkpoint, dict) else {}
    pages_done = 0
    margin = min(CONTINUE_MARGIN_SECONDS, time_left() * CONTINUE_MARGIN_SHARE)

    def open_flow(spec: FlowSpec) -> tuple[Any, str | None, Iterator[Page]]:
        """The flow's chosen keys, window override and pages (whose first read starts now)."""
        cursor = store.get_cursor(ctx.tenant_id, cursor_flow(spec))
        flow_override = checkpoint.get("since") if checkpoint.get("flow") == spec.name else override
        since = _since(cursor, ctx.settings, flow_override)
        keys = chosen.get(spec.name)
        base = base_filter(spec, ctx, since)
        if isinstance(keys, list):
            # An operator's retry of chosen records: those, whatever their WHENMODIFIED.
            only = F.in_(KEY_FIELDS.get(spec.name, "RECORDNO"), [str(k) for k in keys])
            plain = base_filter(spec, ctx, None)
            base = F.and_(only, plain) if plain is not None else only
        pages = ctx.reader.pages(spec.intacct_object, spec.fields, base=base, children=spec.children)
        return keys, flow_override, pages

    opened = open_flow(flows[0]) if flows else None
    for position, spec in enumerate(flows):
        assert opened is not None
        keys, flow_override, pages = opened
        # The next flow's first page is read while this one is written: Intacct's reads do not
        # depend on what this flow writes to Blixo (the next flow's writes wait for them).
        opened = open_flow(flows[position + 1]) if position + 1 < len(flows) else None
        reversals: list[dict[str, Any]] = []
        # Payments already handled in this run (a waiting one is read again by key and may come
        # again through the look-back): each is handled and counted once.
        seen_payments: set[str] = set()
        voided: dict[str, dict[str, Any]] = {}
        if spec is PAYMENTS:
            pending = pending_payment_keys(ctx)
            if pending:
                # Payments that waited for their invoices: read again whatever their WHENMODIFIED.
                rows = ctx.reader.by_keys(spec.intacct_object, spec.fields, "RECORDNO", pending)
                details = ctx.reader.by_keys("ARPYMTDETAIL", PAYMENTS.children.fields, "PAYMENTKEY", pending)  # type: ignore[union-attr]
                page = Page(rows)
                for d in details:
                    page.children.setdefault(str(d.get("PAYMENTKEY")), []).append(d)
                if rows:
                    pull_payments(ctx, page, indexes, reversals, seen=seen_payments)
        for whole in pages:
            if whole.revisits:
                # A record edited mid-scan comes again: its first link must be stored before
                # it is written again (the bookkeeping otherwise runs behind the writes).
                ctx.settle()
            for page in _chunks(whole, WRITE_CHUNK):
                if spec is CUSTOMERS:
                    pull_customers(ctx, page, indexes)
                elif spec is PAYMENTS:
                    for r in page.records:
                        if r.get("STATE") == "V" and r.get("DISPLAYSTATE") != "Reversal":
                            voided[str(r["RECORDNO"])] = r
                    pull_payments(ctx, page, indexes, reversals, seen=seen_payments)
                else:
                    pull_documents(ctx, spec, page, indexes)
                # Checkpoint: every record up to this one (in WHENMODIFIED, RECORDNO order) is
                # written, so the cursor may pass it.
                mark = page.last.get("WHENMODIFIED")
                # Chosen records say nothing about the ones between them: the cursor stays.
                if mark and not isinstance(keys, list):
                    ctx.record_later(
                        partial(
                            store.advance_high_water,
                            ctx.tenant_id,
                            cursor_flow(spec),
                            parse_timestamp(str(mark)).isoformat(),
                        )
                    )
                pages_done += 1
                if time_left() < margin and continue_later is not None:
                    ctx.settle()  # the continuation starts from the checkpoint just recorded
                    resume: dict[str, Any] = {
                        "after": f"{spec.name}:{pages_done}",
                        "run": uuid.uuid4().hex[:12],
                        # The flows still to do; a backfill or a retry keeps its own window.
                        "flows": [f.name for f in flows[position:]],
                    }
                    if override is not None or flow_override is not None:
                        resume["since"] = override or flow_override
                        if mark:
                            resume["checkpoint"] = {
                                "flow": spec.name,
                                "since": parse_timestamp(str(mark)).isoformat(),
                            }
                    if chosen:
                        resume["keys"] = chosen
                    continue_later(
                        PullJob(
                            tenant_id=ctx.tenant_id,
                            trigger="continuation",
                            scheduled_for=job.scheduled_for,
                            resume=resume,
                        )
                    )
                    return True
        ctx.settle()  # the next flow, and the reversals below, read this one's links
        if spec is PAYMENTS and reversals:
            tie_reversals(ctx, reversals, voided)
    return False


def _chunks(page: Page, size: int) -> list[Page]:
    """A page in slices of `size` records with their children, so the time limit is checked
    (and the cursor checkpointed) between slices, not only after 2000 records' writes."""
    out = []
    for start in range(0, len(page.records), size):
        records = page.records[start : start + size]
        keys = {str(r.get("RECORDNO")) for r in records}
        out.append(Page(records, {k: v for k, v in page.children.items() if k in keys}))
    return out


def _counts(ctx: PullContext, reader: Reader) -> dict[str, int]:
    counts: dict[str, int] = {"intacct_requests": reader.stats.requests}
    for name, c in ctx.counts.items():
        for key in ("read", "created", "updated", "unchanged", "skipped", "failed"):
            counts[f"{name}.{key}"] = getattr(c, key)
    return counts
