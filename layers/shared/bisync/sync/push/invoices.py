"""Push invoices: issued -> create_invoice (customer first); edited -> update_invoice while
nothing is paid in Intacct, else only the fields that do not touch the GL and a warning;
voided or deleted -> reverse_invoice dated the void date."""

from __future__ import annotations

from collections.abc import Generator
from datetime import date
from decimal import Decimal

from bisync.blixo.api import InvoiceStatus
from bisync.blixo.models import Invoice
from bisync.intacct import functions as fn
from bisync.intacct.filters import F
from bisync.intacct.outcome import Outcome
from bisync.mapping import invoice as mapping
from bisync.mapping.common import ZERO, controlid
from bisync.store.models import Mapping, Origin
from bisync.sync.failures import BusinessSyncError
from bisync.sync.push.context import (
    STATE_EVER_PAID,
    PushContext,
    PushResult,
    PushStatus,
    Step,
    change_version,
    is_stale,
    key_of,
    ok,
    owned_by_intacct,
    run_one,
    version_of,
)
from bisync.sync.push.customers import ensure_customer

OBJECT = "invoice"
STATE_LINES = "lines"
STATE_AMOUNTS = "amounts"
STATE_REVERSED = "reversed"


def void_date(ctx: PushContext, invoice: Invoice, on: date | None) -> date:
    """The reversal date: the void's own date, never before the document's date."""
    day = on or ctx.today()
    return max(day, mapping.invoice_date(invoice))


def push_invoice(
    ctx: PushContext, invoice: Invoice, *, deleted: bool = False, event_date: date | None = None
) -> Generator[Step, list[Outcome], PushResult]:
    linked = ctx.mappings.by_blixo(ctx.tenant_id, OBJECT, invoice.id)
    if owned_by_intacct(linked, invoice.metadata):
        return PushResult(
            PushStatus.SKIPPED,
            OBJECT,
            invoice.id,
            linked.intacct_key if linked else None,
            "pulled from Intacct",
        )
    if deleted or invoice.status is InvoiceStatus.VOIDED:
        return (yield from _reverse(ctx, invoice, linked, event_date))
    if invoice.status is InvoiceStatus.DRAFT:
        return PushResult(PushStatus.SKIPPED, OBJECT, invoice.id, reason="draft")
    if ctx.settings.before_start(invoice.issue_date):
        return PushResult(PushStatus.SKIPPED, OBJECT, invoice.id, reason="before the start date")
    if invoice.total == ZERO and linked is None:
        return PushResult(
            PushStatus.SKIPPED, OBJECT, invoice.id, reason="a zero invoice: nothing to post in Intacct"
        )
    if is_stale(linked, version_of(invoice)):
        return PushResult(
            PushStatus.SKIPPED, OBJECT, invoice.id, linked.intacct_key if linked else None, "stale"
        )
    digest = mapping.invoice_hash(ctx.settings, invoice)
    if linked is not None and linked.hash == digest:
        return PushResult(PushStatus.UNCHANGED, OBJECT, invoice.id, linked.intacct_key)
    if linked is not None and linked.state.get(STATE_REVERSED):
        return PushResult(PushStatus.SKIPPED, OBJECT, invoice.id, linked.intacct_key, "reversed in Intacct")
    customer_id = yield from ensure_customer(ctx, invoice.customer_id)
    if linked is None:
        values = mapping.to_intacct(ctx.settings, invoice, customer_id)
        outcome = yield from run_one(
            fn.create_invoice(values, controlid=controlid(ctx.tenant_id, OBJECT, invoice.id, "create"))
        )
        key = key_of(outcome, "invoice")
        ctx.mappings.link(
            Mapping(
                tenant_id=ctx.tenant_id,
                object_type=OBJECT,
                blixo_id=invoice.id,
                intacct_key=key,
                origin=Origin.BLIXO,
                hash=digest,
                source_version=version_of(invoice),
                state={
                    STATE_LINES: str(len(values.lines)),
                    STATE_AMOUNTS: mapping.amounts_hash(ctx.settings, invoice),
                },
            )
        )
        return PushResult(PushStatus.CREATED, OBJECT, invoice.id, key)
    return (yield from _edit(ctx, invoice, linked, digest, customer_id))


def _edit(
    ctx: PushContext, invoice: Invoice, linked: Mapping, digest: str, customer_id: str
) -> Generator[Step, list[Outcome], PushResult]:
    amounts = mapping.amounts_hash(ctx.settings, invoice)
    amounts_changed = linked.state.get(STATE_AMOUNTS) != amounts
    warning = None
    if amounts_changed:
        current = yield from run_one(
            fn.query(
                "ARINVOICE",
                ["RECORDNO", "TOTALPAID", "STATE"],
                filter=F.eq("RECORDNO", linked.intacct_key),
                pagesize=1,
            )
        )
        if not current.records:
            raise BusinessSyncError(f"A/R invoice {linked.intacct_key} is no longer in Intacct")
        paid = Decimal(str(current.records[0].get("TOTALPAID") or "0"))
        if paid != 0 or linked.state.get(STATE_EVER_PAID):
            # Intacct's rule: once anything is applied, line items are locked.
            warning = (
                f"Intacct has {paid} applied to A/R invoice {linked.intacct_key}: its amounts cannot "
                "change there; reverse the payments and the invoice in Intacct, or void and reissue it "
                "in Blixo. Only the number, terms, memo and due date were updated."
            )
    with_lines = amounts_changed and warning is None
    existing = int(linked.state.get(STATE_LINES, "0") or 0)
    update = mapping.to_update(
        ctx.settings, invoice, linked.intacct_key, existing, amounts=with_lines, customer_id=customer_id
    )
    outcomes = yield [
        fn.update_invoice(
            update,
            controlid=controlid(ctx.tenant_id, OBJECT, invoice.id, "update", change_version(invoice, digest)),
        )
    ]
    if with_lines and not outcomes[0].done:
        # Paid at some point inside Intacct (then reversed): its lines stay locked there.
        refusal = outcomes[0].error.message if outcomes[0].error else "refused"
        warning = f"Intacct refused to change the amounts of A/R invoice {linked.intacct_key} ({refusal}); only the number, terms, memo and due date were updated."
        with_lines = False
        update = mapping.to_update(ctx.settings, invoice, linked.intacct_key, existing, amounts=False)
        yield from run_one(
            fn.update_invoice(
                update,
                controlid=controlid(
                    ctx.tenant_id, OBJECT, invoice.id, "update-header", change_version(invoice, digest)
                ),
            )
        )
    else:
        ok(outcomes[0])
    state = dict(linked.state)
    if with_lines:
        state[STATE_LINES] = str(existing + sum(1 for line in update.lines if line.line_num is None))
        state[STATE_AMOUNTS] = amounts
    ctx.mappings.save(
        linked.model_copy(
            update={
                # With a warning the amounts stay unsynced: a later edit is compared with them again.
                "hash": digest if warning is None else linked.hash,
                "source_version": version_of(invoice),
                "state": state,
            }
        )
    )
    return PushResult(PushStatus.UPDATED, OBJECT, invoice.id, linked.intacct_key, warning=warning)


def _reverse(
    ctx: PushContext, invoice: Invoice, linked: Mapping | None, on: date | None
) -> Generator[Step, list[Outcome], PushResult]:
    if linked is None:
        return PushResult(PushStatus.SKIPPED, OBJECT, invoice.id, reason="voided before it was synced")
    if linked.state.get(STATE_REVERSED):
        return PushResult(PushStatus.UNCHANGED, OBJECT, invoice.id, linked.intacct_key)
    day = void_date(ctx, invoice, on)
    yield from run_one(
        fn.reverse_invoice(
            linked.intacct_key,
            day,
            controlid=controlid(ctx.tenant_id, OBJECT, invoice.id, "reverse"),
            description=f"Voided in Blixo ({invoice.id})",
        )
    )
    ctx.mappings.save(linked.model_copy(update={"state": {**linked.state, STATE_REVERSED: day.isoformat()}}))
    return PushResult(PushStatus.REVERSED, OBJECT, invoice.id, linked.intacct_key)


def ensure_invoice(ctx: PushContext, invoice_id: str) -> Generator[Step, list[Outcome], str]:
    """The ARINVOICE RECORDNO of a Blixo invoice, pushing it first if it is not in Intacct."""
    linked = ctx.mappings.by_blixo(ctx.tenant_id, OBJECT, invoice_id)
    if linked is not None:
        return linked.intacct_key
    result = yield from push_invoice(ctx, ctx.blixo.invoice(invoice_id))
    if result.intacct_key is None:
        raise BusinessSyncError(f"invoice {invoice_id} is not in Intacct ({result.reason or result.status})")
    return result.intacct_key
