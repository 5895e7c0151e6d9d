"""Push credit notes: issued -> create_aradjustment (a credit memo), applied to its invoice in
Intacct as far as Blixo applied it directly; voided -> unapply (reverse the applying
payment record) first, then delete the adjustment."""

from __future__ import annotations

from collections.abc import Generator
from decimal import Decimal

from bisync.blixo.api import CreditNoteStatus
from bisync.blixo.models import CreditNote
from bisync.intacct import functions as fn
from bisync.intacct.outcome import Outcome
from bisync.mapping import credit_note as mapping
from bisync.mapping.common import ZERO, controlid
from bisync.store.models import Mapping, Origin
from bisync.sync.failures import BusinessSyncError
from bisync.sync.push.context import (
    PushContext,
    PushResult,
    PushStatus,
    Step,
    is_stale,
    key_of,
    mark_invoice_paid,
    owned_by_intacct,
    run_one,
    version_of,
)
from bisync.sync.push.customers import ensure_customer
from bisync.sync.push.invoices import ensure_invoice

OBJECT = "credit_note"
APPLICATION = "application"
STATE_DELETED = "deleted"


def push_credit_note(
    ctx: PushContext, credit_note: CreditNote, *, deleted: bool = False, applied_elsewhere: Decimal = ZERO
) -> Generator[Step, list[Outcome], PushResult]:
    """`applied_elsewhere`: what a payment being pushed applies of this credit note (its balance
    already shows it, and that payment applies it in Intacct itself)."""
    linked = ctx.mappings.by_blixo(ctx.tenant_id, OBJECT, credit_note.id)
    if owned_by_intacct(linked, credit_note.metadata):
        return PushResult(PushStatus.SKIPPED, OBJECT, credit_note.id, reason="pulled from Intacct")
    if deleted or credit_note.status is CreditNoteStatus.VOIDED:
        return (yield from _remove(ctx, credit_note, linked))
    if credit_note.status is CreditNoteStatus.DRAFT:
        return PushResult(PushStatus.SKIPPED, OBJECT, credit_note.id, reason="draft")
    if ctx.settings.before_start(credit_note.issue_date):
        return PushResult(PushStatus.SKIPPED, OBJECT, credit_note.id, reason="before the start date")
    if is_stale(linked, version_of(credit_note)):
        return PushResult(PushStatus.SKIPPED, OBJECT, credit_note.id, reason="stale")
    digest = mapping.credit_note_hash(ctx.settings, credit_note)
    if linked is not None:
        if linked.hash != digest and not linked.state.get(STATE_DELETED):
            # Blixo locks an issued credit note's amounts; what can still move is its balance,
            # which payments' applications carry. Say so rather than do nothing silently.
            return PushResult(
                PushStatus.UNCHANGED,
                OBJECT,
                credit_note.id,
                linked.intacct_key,
                warning="the credit note changed after it was synced; Intacct keeps the adjustment as first posted",
            )
        return PushResult(PushStatus.UNCHANGED, OBJECT, credit_note.id, linked.intacct_key)
    customer_id = yield from ensure_customer(ctx, credit_note.customer_id)
    invoice_key = None
    direct = credit_note.total - credit_note.balance - applied_elsewhere if credit_note.invoice_id else ZERO
    if direct > 0 and credit_note.invoice_id:
        invoice_key = yield from ensure_invoice(ctx, credit_note.invoice_id)
    values = mapping.to_intacct(ctx.settings, credit_note, customer_id)
    outcome = yield from run_one(
        fn.create_aradjustment(values, controlid=controlid(ctx.tenant_id, OBJECT, credit_note.id, "create"))
    )
    key = key_of(outcome, "A/R adjustment")
    extra: dict[str, str] = {}
    if invoice_key is not None:
        applied = yield from run_one(
            fn.create_arpymt(
                fn.ArPymtInput(
                    customer_id=customer_id,
                    payment_method="Cash",
                    receipt_date=mapping.credit_note_date(credit_note),
                    undeposited_account_no=ctx.settings.accounts.undeposited_funds_account,
                    description=f"Blixo credit note {credit_note.id} applied",
                    currency=values.currency,
                    details=(
                        fn.ArPaymentDetailInput(
                            invoice_key=invoice_key, adjustment_key=key, adjustment_amount=direct
                        ),
                    ),
                ),
                controlid=controlid(ctx.tenant_id, OBJECT, credit_note.id, "apply"),
            )
        )
        extra[APPLICATION] = key_of(applied, "credit application")
        mark_invoice_paid(ctx, credit_note.invoice_id)
    ctx.mappings.link(
        Mapping(
            tenant_id=ctx.tenant_id,
            object_type=OBJECT,
            blixo_id=credit_note.id,
            intacct_key=key,
            extra_keys=extra,
            origin=Origin.BLIXO,
            hash=digest,
            source_version=version_of(credit_note),
            state={"direct": str(direct)},
        )
    )
    return PushResult(PushStatus.CREATED, OBJECT, credit_note.id, key)


def _remove(
    ctx: PushContext, credit_note: CreditNote, linked: Mapping | None
) -> Generator[Step, list[Outcome], PushResult]:
    if linked is None:
        return PushResult(PushStatus.SKIPPED, OBJECT, credit_note.id, reason="voided before it was synced")
    if linked.state.get(STATE_DELETED):
        return PushResult(PushStatus.UNCHANGED, OBJECT, credit_note.id, linked.intacct_key)
    application = linked.extra_keys.get(APPLICATION)
    if application:
        # An applied adjustment cannot be deleted: reverse the record that applied it first.
        yield from run_one(
            fn.reverse_arpayment(
                application,
                max(ctx.today(), mapping.credit_note_date(credit_note)),
                controlid=controlid(ctx.tenant_id, OBJECT, credit_note.id, "unapply"),
                description=f"Blixo credit note {credit_note.id} voided",
            )
        )
    yield from run_one(
        fn.delete_aradjustment(
            linked.intacct_key, controlid=controlid(ctx.tenant_id, OBJECT, credit_note.id, "delete")
        )
    )
    ctx.mappings.save(linked.model_copy(update={"state": {**linked.state, STATE_DELETED: "1"}}))
    return PushResult(PushStatus.DELETED, OBJECT, credit_note.id, linked.intacct_key)


def ensure_credit_note(
    ctx: PushContext, credit_note_id: str, applied_by_caller: Decimal
) -> Generator[Step, list[Outcome], str]:
    linked = ctx.mappings.by_blixo(ctx.tenant_id, OBJECT, credit_note_id)
    if linked is not None:
        return linked.intacct_key
    result = yield from push_credit_note(
        ctx, ctx.blixo.credit_note(credit_note_id), applied_elsewhere=applied_by_caller
    )
    if result.intacct_key is None:
        raise BusinessSyncError(
            f"credit note {credit_note_id} is not in Intacct ({result.reason or result.status})"
        )
    return result.intacct_key
