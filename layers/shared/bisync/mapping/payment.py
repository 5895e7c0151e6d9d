"""Payments: Blixo payment -> Intacct A/R payment(s).

The cash (invoice applications, the convenience fee, an unapplied remainder) is one legacy
create_arpayment: it takes a payment amount above what it applies and books the remainder
as an overpayment at the tenant's location and department. Credit-note applications use no
cash: they are one generic ARPYMT whose details apply each credit memo to its invoice. A void
reverses both (and the convenience-fee invoice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bisync.blixo.api import PaymentMethod
from bisync.blixo.models import Payment
from bisync.intacct.functions import (
    ArPaymentDetailInput,
    ArPaymentInput,
    ArPymtInput,
    PaymentApplicationInput,
)
from bisync.mapping.common import ZERO, MappingError, canonical_hash, cents, transaction_currency
from bisync.settings import TenantSettings

# Blixo method -> Intacct PAYMENTMETHOD.
METHODS: dict[PaymentMethod, str] = {
    PaymentMethod.CHECK: "Printed Check",
    PaymentMethod.CASH: "Cash",
    PaymentMethod.ACH: "EFT",
    PaymentMethod.WIRE: "EFT",
    PaymentMethod.CREDIT_CARD: "Credit Card",
    PaymentMethod.OTHER: "Cash",
}
_REFID_LIMIT = 30


def payment_date(payment: Payment) -> date:
    if payment.date is not None:
        return payment.date
    if payment.created_at is not None:
        return payment.created_at.date()
    raise MappingError("the payment has no date")


def canonical(payment: Payment) -> dict[str, Any]:
    return {
        "customer": payment.customer_id,
        "date": payment_date(payment).isoformat(),
        "currency": payment.currency,
        "amount": str(payment.amount),
        "method": payment.method.value if payment.method else None,
        "applied": sorted(
            (
                a.type.value,
                getattr(a, "invoice_id", None) or "",
                getattr(a, "credit_note_id", None) or "",
                str(a.amount),
            )
            for a in payment.applied_to
        ),
        "voided": payment.status.value == "voided",
    }


def payment_hash(payment: Payment) -> str:
    return canonical_hash(canonical(payment))


def refid_of(payment: Payment) -> str:
    """DOCNUMBER: the check or reference number, else the Blixo id (also the replay lookup)."""
    return (payment.reference or payment.id)[:_REFID_LIMIT]


def cash_probe(customer_id: str, refid: str) -> str:
    """What a pushed cash payment is known by before its key is: the legacy create_arpayment
    writes no description to recognise it by, only the customer and the reference."""
    return f"{customer_id}|{refid}"


def cash_description(payment: Payment) -> str:
    return f"Blixo payment {payment.id}"


def credits_description(payment: Payment) -> str:
    return f"Blixo payment {payment.id} credits"


@dataclass(frozen=True)
class PaymentPlan:
    cash: ArPaymentInput | None
    credits: ArPymtInput | None


def plan(
    settings: TenantSettings,
    payment: Payment,
    *,
    customer_id: str,
    invoice_keys: dict[str, str],
    credit_keys: dict[str, str],
    fee_invoice_key: str | None,
) -> PaymentPlan:
    """The Intacct writes of a payment, given the Intacct keys of what it applies to (Blixo
    invoice id -> ARINVOICE RECORDNO, credit note id -> ARADJUSTMENT RECORDNO)."""
    accounts = settings.accounts
    method = payment.method or PaymentMethod.OTHER
    currency = transaction_currency(settings, payment.currency)
    bank = accounts.bank_account_for(method.value, payment.currency)
    received = payment_date(payment)
    applications: list[PaymentApplicationInput] = []
    for app in payment.invoice_applications:
        key = invoice_keys.get(app.invoice_id)
        if key is None:
            raise MappingError(f"invoice {app.invoice_id} is not in Intacct")
        applications.append(PaymentApplicationInput(invoicekey=key, amount=app.amount))
    fee = payment.convenience_fee
    # With the fee flow off, the fee is not Intacct's to know: the payment is posted without
    # it, so what it pays on each invoice (and the customer's balance) still matches Blixo.
    amount = payment.amount
    if fee > 0 and not settings.flows.push_convenience_fees:
        amount -= fee
    elif fee > 0:
        if fee_invoice_key is None:
            raise MappingError("the convenience-fee invoice is not in Intacct")
        applications.append(PaymentApplicationInput(invoicekey=fee_invoice_key, amount=fee))
    applied = sum((a.amount for a in applications), ZERO)
    if applied > amount:
        raise MappingError(f"applications ({applied}) exceed the payment amount ({amount})")
    cash = None
    if amount > 0:
        cash = ArPaymentInput(
            customerid=customer_id,
            paymentamount=amount,
            datereceived=received,
            paymentmethod=METHODS[method],
            bankaccountid=bank,
            undepfundsacct=None if bank else accounts.undeposited_funds_account,
            refid=refid_of(payment),
            currency=currency,
            exchratetype=settings.exchange_rate_type if currency else None,
            overpaylocid=(accounts.overpayment_location_id or accounts.location_id or settings.entity_id)
            if amount > applied
            else None,
            overpaydeptid=(accounts.overpayment_department_id or accounts.department_id)
            if amount > applied
            else None,
            applications=tuple(applications),
        )
    credits = None
    credit_apps = payment.credit_note_applications
    if credit_apps:
        details = []
        for credit_app in credit_apps:
            if credit_app.invoice_id is None:
                raise MappingError(f"credit note {credit_app.credit_note_id} is applied to no invoice")
            invoice_key = invoice_keys.get(credit_app.invoice_id)
            credit_key = credit_keys.get(credit_app.credit_note_id)
            if invoice_key is None or credit_key is None:
                raise MappingError(
                    f"credit note {credit_app.credit_note_id} or its invoice is not in Intacct"
                )
            details.append(
                ArPaymentDetailInput(
                    invoice_key=invoice_key, adjustment_key=credit_key, adjustment_amount=credit_app.amount
                )
            )
        credits = ArPymtInput(
            customer_id=customer_id,
            payment_method="Cash",
            receipt_date=received,
            undeposited_account_no=accounts.undeposited_funds_account,
            description=credits_description(payment),
            currency=currency,
            exch_rate_type_id=settings.exchange_rate_type if currency else None,
            details=tuple(details),
        )
    if cash is None and credits is None:
        raise MappingError("the payment moves no money and applies no credit")
    return PaymentPlan(cash, credits)


def credit_amount(payment: Payment) -> Decimal:
    return sum((a.amount for a in payment.credit_note_applications), ZERO)


# ------------------------------------------------------------------ Intacct -> Blixo

# Intacct PAYMENTMETHOD -> Blixo method (EFT is ACH; card kinds are credit_card).
BLIXO_METHODS: dict[str, str] = {
    "Printed Check": "check",
    "Check": "check",
    "Cash": "cash",
    "EFT": "ach",
    "Online ACH Debit": "ach",
    "Credit Card": "credit_card",
    "Online Charge Card": "credit_card",
}
HEADER_FIELDS = (
    "RECORDNO",
    "CUSTOMERID",
    "STATE",
    "DISPLAYSTATE",
    "PAYMENTMETHOD",
    "RECEIPTDATE",
    "DOCNUMBER",
    "DESCRIPTION",
    "CURRENCY",
    "TOTALENTERED",
    "TRX_TOTALENTERED",
    "WHENMODIFIED",
)
DETAIL_FIELDS = (
    "RECORDNO",
    "PAYMENTKEY",
    "RECORDKEY",
    "ADJUSTMENTKEY",
    "TRX_PAYMENTAMOUNT",
    "TRX_ADJUSTMENTAMOUNT",
)
# What the push writes in Intacct carries this in its description: never pulled back.
PUSH_MARKER = "Blixo "


def payment_body(
    record: dict[str, Any],
    details: list[dict[str, Any]],
    *,
    customer_id: str,
    invoices: dict[str, str],
    credit_notes: dict[str, str],
) -> dict[str, Any]:
    """The Blixo payment for an ARPYMT and its details; `invoices` / `credit_notes` map Intacct
    keys to Blixo ids (every detail must be mapped, else MappingError: the payment waits)."""
    amount = cents(record.get("TRX_TOTALENTERED") or record.get("TOTALENTERED") or "0")
    applied: list[dict[str, Any]] = []
    for detail in details:
        key = str(detail.get("RECORDKEY") or "")
        cash = cents(detail.get("TRX_PAYMENTAMOUNT") or "0")
        credit = cents(detail.get("TRX_ADJUSTMENTAMOUNT") or "0")
        credit_key = str(detail.get("ADJUSTMENTKEY") or "")
        invoice_id = invoices.get(key)
        if invoice_id is None:
            raise MappingError(f"A/R invoice {key} is not in Blixo yet")
        if cash:
            applied.append({"type": "invoice", "invoiceId": invoice_id, "amount": cash})
        if credit:
            credit_id = credit_notes.get(credit_key)
            if credit_id is None:
                raise MappingError(f"A/R adjustment {credit_key} is not in Blixo yet")
            applied.append(
                {"type": "credit_note", "creditNoteId": credit_id, "invoiceId": invoice_id, "amount": credit}
            )
    body: dict[str, Any] = {
        "customerId": customer_id,
        "amount": amount,
        "method": BLIXO_METHODS.get(str(record.get("PAYMENTMETHOD") or ""), "other"),
        "appliedTo": applied,
    }
    if record.get("RECEIPTDATE"):
        body["date"] = _iso_date(str(record["RECEIPTDATE"]))
    if record.get("DOCNUMBER"):
        body["reference"] = str(record["DOCNUMBER"])
    if record.get("CURRENCY"):
        body["currency"] = str(record["CURRENCY"])
    return body


def _iso_date(value: str) -> str:
    month, day, year = value.split("/")
    return f"{year}-{int(month):02d}-{int(day):02d}"
