"""ARINVOICE: legacy create_invoice, update_invoice and reverse_invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bisync.intacct.functions.base import DEFAULT_RATE_TYPE, Function, Input, Lookup, money, write
from bisync.intacct.xml import Payload, split_date


class InvoiceLineInput(Input):
    glaccountno: str
    amount: Decimal
    memo: str | None = None
    locationid: str | None = None
    departmentid: str | None = None
    projectid: str | None = None
    itemid: str | None = None
    classid: str | None = None

    def to_payload(self) -> Payload:
        # Schema order of <lineitem>.
        return {
            "glaccountno": self.glaccountno,
            "amount": money(self.amount),
            "memo": self.memo,
            "locationid": self.locationid,
            "departmentid": self.departmentid,
            "projectid": self.projectid,
            "itemid": self.itemid,
            "classid": self.classid,
        }


class InvoiceInput(Input):
    customerid: str
    datecreated: date
    lines: tuple[InvoiceLineInput, ...]
    datedue: date | None = None
    termname: str | None = None
    invoiceno: str | None = None
    ponumber: str | None = None
    description: str | None = None
    externalid: str | None = None
    basecurr: str | None = None
    currency: str | None = None
    exchratetype: str | None = None  # default: Intacct Daily Rate


def create_invoice(invoice: InvoiceInput, *, controlid: str) -> Function:
    if not invoice.lines:
        raise ValueError("an invoice needs at least one line")
    if invoice.datedue is None and not invoice.termname:
        raise ValueError("create_invoice needs datedue or termname")
    payload: Payload = {
        "customerid": invoice.customerid,
        "datecreated": split_date(invoice.datecreated),
        "datedue": split_date(invoice.datedue) if invoice.datedue else None,
        "termname": invoice.termname,
        "invoiceno": invoice.invoiceno,
        "ponumber": invoice.ponumber,
        "description": invoice.description,
        "externalid": invoice.externalid,
        "basecurr": invoice.basecurr,
        "currency": invoice.currency,
        "exchratetype": (invoice.exchratetype or DEFAULT_RATE_TYPE) if invoice.currency else None,
        "invoiceitems": {"lineitem": [line.to_payload() for line in invoice.lines]},
    }
    lookup = None
    if invoice.invoiceno:
        # The number alone may be another customer's invoice (numbers are unique per customer).
        lookup = Lookup("ARINVOICE", (("RECORDID", invoice.invoiceno), ("CUSTOMERID", invoice.customerid)))
    return write("create_invoice", controlid, payload, lookup)


def reverse_invoice(
    key: str, datereversed: date, *, controlid: str, description: str | None = None
) -> Function:
    payload: Payload = {"@key": key, "datereversed": split_date(datereversed), "description": description}
    return write("reverse_invoice", controlid, payload)


class InvoiceLineUpdate(Input):
    """A line of update_invoice: `line_num` (1-based) changes that line, None adds one."""

    line_num: int | None = None
    glaccountno: str | None = None
    amount: Decimal | None = None
    memo: str | None = None
    locationid: str | None = None
    departmentid: str | None = None
    projectid: str | None = None
    classid: str | None = None

    def to_payload(self) -> Payload:
        return {
            "@line_num": self.line_num,
            "glaccountno": self.glaccountno,
            "amount": money(self.amount) if self.amount is not None else None,
            "memo": self.memo,
            "locationid": self.locationid,
            "departmentid": self.departmentid,
            "projectid": self.projectid,
            "classid": self.classid,
        }


class InvoiceUpdateInput(Input):
    key: str  # ARINVOICE RECORDNO
    # The customer and currency may change only while nothing is applied (with the lines).
    customerid: str | None = None
    datecreated: date | None = None
    datedue: date | None = None
    termname: str | None = None
    invoiceno: str | None = None
    ponumber: str | None = None
    description: str | None = None
    currency: str | None = None
    exchratetype: str | None = None
    lines: tuple[InvoiceLineUpdate, ...] = ()


def update_invoice(invoice: InvoiceUpdateInput, *, controlid: str) -> Function:
    """Legacy update_invoice. Intacct allows line changes only while nothing is applied; on a
    paid invoice only the fields that do not touch the GL (number, term, memo) may change."""
    changes = [line.to_payload() for line in invoice.lines if line.line_num is not None]
    adds = [
        {k: v for k, v in line.to_payload().items() if k != "@line_num"}
        for line in invoice.lines
        if line.line_num is None
    ]
    payload: Payload = {
        "@key": invoice.key,
        "customerid": invoice.customerid,
        "datecreated": split_date(invoice.datecreated) if invoice.datecreated else None,
        "datedue": split_date(invoice.datedue) if invoice.datedue else None,
        "termname": invoice.termname,
        "invoiceno": invoice.invoiceno,
        "ponumber": invoice.ponumber,
        "description": invoice.description,
        "currency": invoice.currency,
        "exchratetype": invoice.exchratetype if invoice.currency else None,
        "updateinvoiceitems": (
            {"updatelineitem": changes or None, "lineitem": adds or None} if invoice.lines else None
        ),
    }
    return write("update_invoice", controlid, payload)
