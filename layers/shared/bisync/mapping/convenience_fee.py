"""Convenience fees: the fee part of a Blixo card payment -> an Intacct A/R invoice CF-<paymentId>
on the convenience-fee GL account, which the payment then pays."""

from __future__ import annotations

from bisync.blixo.models import Payment
from bisync.intacct.functions import InvoiceInput, InvoiceLineInput
from bisync.mapping.common import MappingError, default_dimensions, transaction_currency
from bisync.mapping.payment import payment_date
from bisync.settings import TenantSettings

FEE_INVOICE_PREFIX = "CF-"


def fee_invoice_number(payment: Payment, version: int = 1) -> str:
    """CF-<paymentId>; a fee changed by an edit is a new invoice, CF-<paymentId>-<version>
    (the first one was reversed and keeps its number)."""
    base = f"{FEE_INVOICE_PREFIX}{payment.id}"
    return base if version <= 1 else f"{base}-{version}"


def is_fee_invoice_number(number: str | None) -> bool:
    """The pull never brings a fee invoice back as a Blixo invoice."""
    return bool(number) and str(number).startswith(FEE_INVOICE_PREFIX)


def to_intacct(
    settings: TenantSettings, payment: Payment, customer_id: str, version: int = 1
) -> InvoiceInput:
    fee = payment.convenience_fee
    if fee <= 0:
        raise MappingError("the payment carries no convenience fee")
    dims = default_dimensions(settings)
    currency = transaction_currency(settings, payment.currency)
    day = payment_date(payment)
    number = fee_invoice_number(payment, version)
    return InvoiceInput(
        customerid=customer_id,
        datecreated=day,
        datedue=day,
        invoiceno=number,
        description=f"Convenience fee of Blixo payment {payment.id}",
        externalid=number[:100],
        currency=currency,
        exchratetype=settings.exchange_rate_type if currency else None,
        lines=(
            InvoiceLineInput(
                glaccountno=settings.accounts.convenience_fee_account,
                amount=fee,
                memo="Convenience fee",
                locationid=dims.locationid,
                departmentid=dims.departmentid,
                classid=dims.classid,
            ),
        ),
    )
