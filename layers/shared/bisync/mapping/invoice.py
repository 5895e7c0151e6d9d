"""Invoices: Blixo invoice -> Intacct A/R invoice (create_invoice / update_invoice)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bisync.blixo.models import Invoice
from bisync.intacct.functions import InvoiceInput, InvoiceLineInput, InvoiceLineUpdate, InvoiceUpdateInput
from bisync.mapping.common import ZERO, MappingError, canonical_hash, transaction_currency
from bisync.mapping.lines import GlLine, document_lines
from bisync.settings import TenantSettings


def description_of(invoice: Invoice) -> str:
    return f"Blixo invoice {invoice.id}"


def lines_of(settings: TenantSettings, invoice: Invoice) -> list[GlLine]:
    return document_lines(settings, invoice)


def invoice_date(invoice: Invoice) -> date:
    if invoice.issue_date is not None:
        return invoice.issue_date
    if invoice.created_at is not None:
        return invoice.created_at.date()
    raise MappingError("the invoice has no issue date")


def amounts_form(settings: TenantSettings, invoice: Invoice) -> dict[str, Any]:
    """The part that touches the GL: once anything is paid in Intacct it cannot change."""
    return {
        "lines": [line.canonical() for line in lines_of(settings, invoice)],
        "total": str(invoice.total),
        "currency": invoice.currency,
        "date": invoice_date(invoice).isoformat(),
        "customer": invoice.customer_id,
    }


def canonical(settings: TenantSettings, invoice: Invoice) -> dict[str, Any]:
    """Balance, amountPaid and status (paid, partially_paid) are left out on purpose: they
    move with payments and credits, which sync as their own objects."""
    return {
        **amounts_form(settings, invoice),
        "number": invoice.invoice_no,
        "po": invoice.purchase_order,
        "terms": invoice.payment_terms,
        "due": invoice.due_date.isoformat() if invoice.due_date else None,
        "voided": invoice.status.value == "voided",
    }


def invoice_hash(settings: TenantSettings, invoice: Invoice) -> str:
    return canonical_hash(canonical(settings, invoice))


def amounts_hash(settings: TenantSettings, invoice: Invoice) -> str:
    return canonical_hash(amounts_form(settings, invoice))


def _line_input(line: GlLine) -> InvoiceLineInput:
    return InvoiceLineInput(
        glaccountno=line.glaccountno,
        amount=line.amount,
        memo=line.memo,
        locationid=line.dims.locationid,
        departmentid=line.dims.departmentid,
        projectid=line.dims.projectid,
        classid=line.dims.classid,
    )


def term_of(settings: TenantSettings, payment_terms: str | None) -> str | None:
    if not payment_terms:
        return None
    return settings.terms.get(payment_terms, payment_terms)


def to_intacct(settings: TenantSettings, invoice: Invoice, customer_id: str) -> InvoiceInput:
    issued = invoice_date(invoice)
    return InvoiceInput(
        customerid=customer_id,
        datecreated=issued,
        # create_invoice needs a due date or a term; with a term and no due date Intacct
        # computes the due date from the term.
        datedue=invoice.due_date or (None if invoice.payment_terms else issued),
        termname=term_of(settings, invoice.payment_terms),
        invoiceno=invoice.invoice_no,
        ponumber=invoice.purchase_order,
        description=description_of(invoice),
        externalid=invoice.id[:100],
        currency=transaction_currency(settings, invoice.currency),
        exchratetype=settings.exchange_rate_type
        if transaction_currency(settings, invoice.currency)
        else None,
        lines=tuple(_line_input(line) for line in lines_of(settings, invoice)),
    )


def to_update(
    settings: TenantSettings,
    invoice: Invoice,
    key: str,
    existing_lines: int,
    *,
    amounts: bool,
    customer_id: str | None = None,
) -> InvoiceUpdateInput:
    """update_invoice for an edit. With `amounts` the lines change too: existing lines are
    rewritten by number, extra ones added, surplus ones set to zero (Intacct's update cannot
    delete a line), and the customer and currency are named (they may have changed); without,
    only fields that do not touch the GL change."""
    lines: tuple[InvoiceLineUpdate, ...] = ()
    if amounts:
        new = lines_of(settings, invoice)
        updates = [
            InvoiceLineUpdate(
                line_num=i + 1 if i < existing_lines else None,
                glaccountno=line.glaccountno,
                amount=line.amount,
                memo=line.memo,
                locationid=line.dims.locationid,
                departmentid=line.dims.departmentid,
                projectid=line.dims.projectid,
                classid=line.dims.classid,
            )
            for i, line in enumerate(new)
        ]
        updates += [
            InvoiceLineUpdate(line_num=n, amount=ZERO, memo="(removed in Blixo)")
            for n in range(len(new) + 1, existing_lines + 1)
        ]
        lines = tuple(updates)
    # The currency is named whenever the amounts are: a return to the base currency too.
    currency = (
        (transaction_currency(settings, invoice.currency) or settings.base_currency) if amounts else None
    )
    return InvoiceUpdateInput(
        key=key,
        customerid=customer_id if amounts else None,
        currency=currency,
        exchratetype=settings.exchange_rate_type if currency else None,
        datecreated=invoice_date(invoice) if amounts else None,
        datedue=invoice.due_date,
        termname=term_of(settings, invoice.payment_terms),
        invoiceno=invoice.invoice_no,
        ponumber=invoice.purchase_order,
        description=description_of(invoice),
        lines=lines,
    )
