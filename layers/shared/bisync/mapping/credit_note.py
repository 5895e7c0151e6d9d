"""Credit notes: Blixo credit note -> Intacct A/R adjustment (a credit memo: negative lines)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bisync.blixo.models import CreditNote
from bisync.intacct.functions import AdjustmentInput, AdjustmentLineInput
from bisync.mapping.common import MappingError, canonical_hash, transaction_currency
from bisync.mapping.lines import GlLine, document_lines
from bisync.settings import TenantSettings


def description_of(credit_note: CreditNote) -> str:
    return f"Blixo credit note {credit_note.id}"


def lines_of(settings: TenantSettings, credit_note: CreditNote) -> list[GlLine]:
    return document_lines(settings, credit_note)


def credit_note_date(credit_note: CreditNote) -> date:
    if credit_note.issue_date is not None:
        return credit_note.issue_date
    if credit_note.created_at is not None:
        return credit_note.created_at.date()
    raise MappingError("the credit note has no issue date")


def canonical(settings: TenantSettings, credit_note: CreditNote) -> dict[str, Any]:
    return {
        "lines": [line.canonical() for line in lines_of(settings, credit_note)],
        "total": str(credit_note.total),
        "currency": credit_note.currency,
        "date": credit_note_date(credit_note).isoformat(),
        "customer": credit_note.customer_id,
        "number": credit_note.credit_note_no,
        "invoice": credit_note.invoice_id,
        "voided": credit_note.status.value == "voided",
    }


def credit_note_hash(settings: TenantSettings, credit_note: CreditNote) -> str:
    return canonical_hash(canonical(settings, credit_note))


def to_intacct(settings: TenantSettings, credit_note: CreditNote, customer_id: str) -> AdjustmentInput:
    currency = transaction_currency(settings, credit_note.currency)
    return AdjustmentInput(
        customerid=customer_id,
        datecreated=credit_note_date(credit_note),
        adjustmentno=credit_note.credit_note_no,
        description=description_of(credit_note),
        externalid=credit_note.id[:100],
        currency=currency,
        exchratetype=settings.exchange_rate_type if currency else None,
        # A credit memo: what the customer owes goes down, so every line is negated.
        lines=tuple(
            AdjustmentLineInput(
                glaccountno=line.glaccountno,
                amount=-line.amount,
                memo=line.memo,
                locationid=line.dims.locationid,
                departmentid=line.dims.departmentid,
                projectid=line.dims.projectid,
                classid=line.dims.classid,
            )
            for line in lines_of(settings, credit_note)
        ),
    )
