"""Push payments: the invoices, credit notes and customer they depend on first; a convenience
fee as its own A/R invoice CF-<paymentId> (exactly one, however often the event comes); the
cash as one A/R payment applied per invoice (the remainder an overpayment), credit notes as
credits. A void reverses it all; a changed payment is reversed and posted again."""

from __future__ import annotations

from collections.abc import Generator
from datetime import date

from bisync.blixo.api import PaymentStatus
from bisync.blixo.models import Payment
from bisync.intacct import functions as fn
from bisync.intacct.errors import InvalidValueError
from bisync.intacct.outcome import Outcome
from bisync.intacct.xml import XmlValueError, check_payload
from bisync.mapping import convenience_fee
from bisync.mapping import payment as mapping
from bisync.mapping.common import ZERO, controlid
from bisync.store.models import Mapping, Origin
from bisync.sync.push.context import (
    PushContext,
    PushResult,
    PushStatus,
    Step,
    change_version,
    is_stale,
    key_of,
    mark_invoice_paid,
    ok,
    owned_by_intacct,
    run_one,
    version_of,
)
from bisync.sync.push.credit_notes import ensure_credit_note
from bisync.sync.push.customers import ensure_customer
from bisync.sync.push.invoices import ensure_invoice

OBJECT = "payment"
FEE_OBJECT = "convenience_fee"
CREDITS = "credits"
FEE = "fee_invoice"
STATE_REVERSED = "reversed"
FEE_VERSION = "version"  # on the fee mapping: which CF- invoice is the current one


def push_payment(
    ctx: PushContext, payment: Payment, *, deleted: bool = False, event_date: date | None = None
) -> Generator[Step, list[Outcome], PushResult]:
    linked = ctx.mappings.by_blixo(ctx.tenant_id, OBJECT, payment.id)
    if owned_by_intacct(linked, payment.metadata):
        return PushResult(PushStatus.SKIPPED, OBJECT, payment.id, reason="pulled from Intacct")
    if deleted or payment.status is PaymentStatus.VOIDED:
        if linked is None or linked.state.get(STATE_REVERSED):
            return PushResult(PushStatus.UNCHANGED if linked else PushStatus.SKIPPED, OBJECT, payment.id)
        yield from _reverse(ctx, payment, linked, event_date, "void")
        ctx.mappings.save(linked.model_copy(update={"state": {**linked.state, STATE_REVERSED: "1"}}))
        return PushResult(PushStatus.REVERSED, OBJECT, payment.id, linked.intacct_key)
    if ctx.settings.before_start(payment.date):
        return PushResult(PushStatus.SKIPPED, OBJECT, payment.id, reason="before the start date")
    if is_stale(linked, version_of(payment)):
        return PushResult(PushStatus.SKIPPED, OBJECT, payment.id, reason="stale")
    digest = mapping.payment_hash(payment)
    if linked is not None and linked.hash == digest:
        return PushResult(PushStatus.UNCHANGED, OBJECT, payment.id, linked.intacct_key)
    if linked is not None and not linked.state.get(STATE_REVERSED):
        # Posted payments cannot change in Intacct: reverse what was posted, then post anew.
        # The fee invoice goes too when the fee changed (it is posted anew, or not at all).
        fee_link = ctx.mappings.by_blixo(ctx.tenant_id, FEE_OBJECT, payment.id)
        fee_changed = fee_link is not None and fee_link.hash != str(payment.convenience_fee)
        yield from _reverse(ctx, payment, linked, event_date, f"change-{linked.hash[:12]}", fee=fee_changed)

    customer_id = yield from ensure_customer(ctx, payment.customer_id)
    invoice_keys: dict[str, str] = {}
    for app in payment.invoice_applications:
        invoice_keys[app.invoice_id] = yield from ensure_invoice(ctx, app.invoice_id)
    credit_keys: dict[str, str] = {}
    for credit in payment.credit_note_applications:
        if credit.invoice_id:
            invoice_keys[credit.invoice_id] = yield from ensure_invoice(ctx, credit.invoice_id)
        applied = sum(
            (c.amount for c in payment.credit_note_applications if c.credit_note_id == credit.credit_note_id),
            ZERO,
        )
        credit_keys[credit.credit_note_id] = yield from ensure_credit_note(
            ctx, credit.credit_note_id, applied
        )
    fee_key = None
    if payment.convenience_fee > 0 and ctx.settings.flows.push_convenience_fees:
        # The payment's own writes are checked before the fee invoice is posted: a payment
        # refused afterwards (a value XML cannot carry, applications over the amount) would
        # leave an unpaid CF- invoice the customer does not owe.
        preview = _plan(
            ctx,
            payment,
            customer_id=customer_id,
            invoice_keys=invoice_keys,
            credit_keys=credit_keys,
            fee_key=_FEE_KEY_PLACEHOLDER,
        )
        _refuse_unsendable(_writes(ctx, payment, preview, change_version(payment, digest)))
        fee_key = yield from _fee_invoice(ctx, payment, customer_id)
    plan = _plan(
        ctx,
        payment,
        customer_id=customer_id,
        invoice_keys=invoice_keys,
        credit_keys=credit_keys,
        fee_key=fee_key,
    )
    probe = (
        mapping.cash_probe(plan.cash.customerid, plan.cash.refid) if plan.cash and plan.cash.refid else None
    )
    if probe is not None:
        # Announced first: a pull reading the payment before its link is stored knows it.
        ctx.mappings.expect(ctx.tenant_id, OBJECT, probe, payment.id)
    outcomes = yield _writes(ctx, payment, plan, change_version(payment, digest))
    keys = [key_of(ok(o), "A/R payment") for o in outcomes]
    cash_key = keys[0] if plan.cash is not None else None
    credits_key = keys[-1] if plan.credits is not None else None
    extra = {k: v for k, v in ((CREDITS, credits_key), (FEE, fee_key)) if v}
    primary = cash_key or credits_key
    assert primary is not None
    for invoice_id in invoice_keys:
        mark_invoice_paid(ctx, invoice_id)
    if linked is None:
        ctx.mappings.link(
            Mapping(
                tenant_id=ctx.tenant_id,
                object_type=OBJECT,
                blixo_id=payment.id,
                intacct_key=primary,
                extra_keys=extra,
                origin=Origin.BLIXO,
                hash=digest,
                source_version=version_of(payment),
            )
        )
        _settled(ctx, probe)
        return PushResult(PushStatus.CREATED, OBJECT, payment.id, primary)
    ctx.mappings.save(
        linked.model_copy(
            update={
                "intacct_key": primary,
                "extra_keys": extra,
                "hash": digest,
                "source_version": version_of(payment),
                "state": {},
            }
        ),
        previous_intacct_key=linked.intacct_key,
    )
    _settled(ctx, probe)
    return PushResult(PushStatus.UPDATED, OBJECT, payment.id, primary)


def _settled(ctx: PushContext, probe: str | None) -> None:
    """The link is stored: the announcement has done its part."""
    if probe is not None:
        ctx.mappings.unexpect(ctx.tenant_id, OBJECT, probe)


_FEE_KEY_PLACEHOLDER = "0"


def _plan(
    ctx: PushContext,
    payment: Payment,
    *,
    customer_id: str,
    invoice_keys: dict[str, str],
    credit_keys: dict[str, str],
    fee_key: str | None,
) -> mapping.PaymentPlan:
    return mapping.plan(
        ctx.settings,
        payment,
        customer_id=customer_id,
        invoice_keys=invoice_keys,
        credit_keys=credit_keys,
        fee_invoice_key=fee_key,
    )


def _writes(ctx: PushContext, payment: Payment, plan: mapping.PaymentPlan, version: str) -> list[fn.Function]:
    step: list[fn.Function] = []
    if plan.cash is not None:
        step.append(
            fn.create_arpayment(
                plan.cash, controlid=controlid(ctx.tenant_id, OBJECT, payment.id, "create", version)
            )
        )
    if plan.credits is not None:
        step.append(
            fn.create_arpymt(
                plan.credits, controlid=controlid(ctx.tenant_id, OBJECT, payment.id, "credits", version)
            )
        )
    return step


def _refuse_unsendable(functions: list[fn.Function]) -> None:
    """Raise what the client would answer for a value XML 1.0 cannot carry, before any write."""
    for function in functions:
        try:
            check_payload(function.call())
        except XmlValueError as exc:
            raise InvalidValueError(
                f"{function.name}: {exc}", field=exc.field, controlid=function.controlid
            ) from None


def _fee_invoice(ctx: PushContext, payment: Payment, customer_id: str) -> Generator[Step, list[Outcome], str]:
    """The CF-<paymentId> invoice: its controlid depends on the payment id (and the fee's
    version) only, so any number of retries and redeliveries post it once. A fee changed by an
    edit reversed the last one: the next version is posted."""
    linked = ctx.mappings.by_blixo(ctx.tenant_id, FEE_OBJECT, payment.id)
    if linked is not None and not linked.state.get(STATE_REVERSED):
        return linked.intacct_key
    version = int(linked.state.get(FEE_VERSION, "1")) + 1 if linked is not None else 1
    values = convenience_fee.to_intacct(ctx.settings, payment, customer_id, version)
    action = "create" if version == 1 else f"create-v{version}"
    outcome = yield from run_one(
        fn.create_invoice(values, controlid=controlid(ctx.tenant_id, FEE_OBJECT, payment.id, action))
    )
    key = key_of(outcome, "convenience-fee invoice")
    fee_mapping = Mapping(
        tenant_id=ctx.tenant_id,
        object_type=FEE_OBJECT,
        blixo_id=payment.id,
        intacct_key=key,
        origin=Origin.BLIXO,
        hash=str(payment.convenience_fee),
        state={FEE_VERSION: str(version)},
    )
    if linked is None:
        ctx.mappings.link(fee_mapping)
    else:
        ctx.mappings.save(fee_mapping, previous_intacct_key=linked.intacct_key)
    return key


def _reverse(
    ctx: PushContext, payment: Payment, linked: Mapping, on: date | None, action: str, *, fee: bool = True
) -> Generator[Step, list[Outcome], None]:
    day = max(on or ctx.today(), mapping.payment_date(payment))
    keys = [linked.intacct_key, *([linked.extra_keys[CREDITS]] if CREDITS in linked.extra_keys else [])]
    keys = list(dict.fromkeys(keys))
    step = [
        fn.reverse_arpayment(
            key,
            day,
            controlid=controlid(ctx.tenant_id, OBJECT, payment.id, f"{action}-reverse-{key}"),
            description=f"Voided in Blixo ({payment.id})",
        )
        for key in keys
    ]
    outcomes = yield step
    for outcome in outcomes:
        ok(outcome)
    fee_key = linked.extra_keys.get(FEE)
    if fee and fee_key:
        # After the payment: the fee invoice is then unpaid again and its reversal clears it.
        yield from run_one(
            fn.reverse_invoice(
                fee_key,
                day,
                # Per fee invoice: a fee changed twice reverses two different invoices.
                controlid=controlid(ctx.tenant_id, FEE_OBJECT, payment.id, f"reverse-{fee_key}"),
                description=f"Convenience fee of voided Blixo payment {payment.id}",
            )
        )
        fee_link = ctx.mappings.by_blixo(ctx.tenant_id, FEE_OBJECT, payment.id)
        if fee_link is not None:
            ctx.mappings.save(fee_link.model_copy(update={"state": {**fee_link.state, STATE_REVERSED: "1"}}))


__all__ = ["FEE_OBJECT", "OBJECT", "push_payment"]
