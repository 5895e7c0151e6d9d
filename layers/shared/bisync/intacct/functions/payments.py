"""ARPYMT: generic create, legacy create_arpayment, apply_arpayment and reverse_arpayment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from bisync.intacct.functions.base import DEFAULT_RATE_TYPE, Function, Input, Lookup, money, write
from bisync.intacct.functions.generic import create
from bisync.intacct.xml import Payload, split_date

# A reversed payment and its Reversal keep the reference: never the record a write just made.
_REVERSED = (("STATE", "V"),)


class ArPaymentDetailInput(Input):
    invoice_key: str  # ARINVOICE RECORDNO
    amount: Decimal | None = None
    adjustment_key: str | None = None
    adjustment_amount: Decimal | None = None


class ArPymtInput(Input):
    """Generic ARPYMT create (one of bank account / undeposited funds account)."""

    customer_id: str
    payment_method: str
    receipt_date: date
    payment_date: date | None = None
    bank_account_id: str | None = None
    undeposited_account_no: str | None = None
    doc_number: str | None = None
    description: str | None = None
    currency: str | None = None
    exch_rate_type_id: str | None = None  # with a currency: how it converts (default "Intacct Daily Rate")
    details: tuple[ArPaymentDetailInput, ...] = ()


def create_arpymt(payment: ArPymtInput, *, controlid: str) -> Function:
    values: Payload = {
        "FINANCIALENTITY": payment.bank_account_id,
        "UNDEPOSITEDACCOUNTNO": payment.undeposited_account_no,
        "PAYMENTMETHOD": payment.payment_method,
        "CUSTOMERID": payment.customer_id,
        "RECEIPTDATE": payment.receipt_date,
        "PAYMENTDATE": payment.payment_date or payment.receipt_date,
        "DOCNUMBER": payment.doc_number,
        "DESCRIPTION": payment.description,
        "CURRENCY": payment.currency,
        "EXCH_RATE_TYPE_ID": (payment.exch_rate_type_id or DEFAULT_RATE_TYPE) if payment.currency else None,
        "ARPYMTDETAILS": (
            {
                "ARPYMTDETAIL": [
                    {
                        "RECORDKEY": d.invoice_key,
                        "TRX_PAYMENTAMOUNT": money(d.amount) if d.amount is not None else None,
                        "ADJUSTMENTKEY": d.adjustment_key,
                        "TRX_ADJUSTMENTAMOUNT": (
                            money(d.adjustment_amount) if d.adjustment_amount is not None else None
                        ),
                    }
                    for d in payment.details
                ]
            }
            if payment.details
            else None
        ),
    }
    lookup = None
    if payment.doc_number:
        lookup = Lookup(
            "ARPYMT",
            (("CUSTOMERID", payment.customer_id), ("DOCNUMBER", payment.doc_number)),
            excluding=_REVERSED,
        )
    elif payment.description:
        lookup = Lookup(
            "ARPYMT",
            (("CUSTOMERID", payment.customer_id), ("DESCRIPTION", payment.description)),
            excluding=_REVERSED,
        )
    return create("ARPYMT", values, controlid=controlid, lookup=lookup)


class PaymentApplicationInput(Input):
    invoicekey: str
    amount: Decimal

    def to_payload(self) -> Payload:
        return {"invoicekey": self.invoicekey, "amount": money(self.amount)}


class ArPaymentInput(Input):
    """Legacy create_arpayment."""

    customerid: str
    paymentamount: Decimal
    datereceived: date
    paymentmethod: str
    bankaccountid: str | None = None
    undepfundsacct: str | None = None
    refid: str | None = None
    # Where an unapplied remainder (overpayment) posts.
    overpaylocid: str | None = None
    overpaydeptid: str | None = None
    basecurr: str | None = None
    currency: str | None = None
    exchratetype: str | None = None  # default: Intacct Daily Rate
    applications: tuple[PaymentApplicationInput, ...] = ()


def create_arpayment(payment: ArPaymentInput, *, controlid: str) -> Function:
    if bool(payment.bankaccountid) == bool(payment.undepfundsacct):
        raise ValueError("give exactly one of bankaccountid / undepfundsacct")
    payload: Payload = {
        "customerid": payment.customerid,
        "paymentamount": money(payment.paymentamount),
        "undepfundsacct": payment.undepfundsacct,
        "bankaccountid": payment.bankaccountid,
        "refid": payment.refid,
        "overpaylocid": payment.overpaylocid,
        "overpaydeptid": payment.overpaydeptid,
        "datereceived": split_date(payment.datereceived),
        "paymentmethod": payment.paymentmethod,
        "basecurr": payment.basecurr,
        "currency": payment.currency,
        "exchratetype": (payment.exchratetype or DEFAULT_RATE_TYPE)
        if (payment.currency or payment.basecurr)
        else None,
        "arpaymentitem": [a.to_payload() for a in payment.applications] or None,
    }
    lookup = None
    if payment.refid:
        lookup = Lookup(
            "ARPYMT", (("CUSTOMERID", payment.customerid), ("DOCNUMBER", payment.refid)), excluding=_REVERSED
        )
    return write("create_arpayment", controlid, payload, lookup)


def apply_arpayment(
    arpaymentkey: str,
    paymentdate: date,
    applications: Iterable[PaymentApplicationInput],
    *,
    controlid: str,
) -> Function:
    items = [a.to_payload() for a in applications]
    if not items:
        raise ValueError("apply_arpayment needs at least one application")
    payload: Payload = {
        "arpaymentkey": arpaymentkey,
        "paymentdate": split_date(paymentdate),
        "arpaymentitems": {"arpaymentitem": items},
    }
    return write("apply_arpayment", controlid, payload)


def reverse_arpayment(
    key: str, datereversed: date, *, controlid: str, description: str | None = None
) -> Function:
    payload: Payload = {"@key": key, "datereversed": split_date(datereversed), "description": description}
    return write("reverse_arpayment", controlid, payload)
