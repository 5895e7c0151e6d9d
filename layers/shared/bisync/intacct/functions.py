"""Typed builders of gateway functions.

Each builder returns a `Function` (name, controlid, payload) that the client can send alone
or batched with others. Write builders require the caller's deterministic controlid (the
idempotency key under uniqueid=true) and carry a `Lookup` that finds the record they made
if a retry is refused as already done. Legacy (`create_*`) payloads keep the schema's strict
element order and split dates; generic ones use mm/dd/yyyy.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from bisync.intacct.filters import F, Filter
from bisync.intacct.xml import FunctionCall, Payload, split_date

MAX_QUERY_PAGESIZE = 2000
MAX_READBYQUERY_PAGESIZE = 1000
MAX_READ_KEYS = 100
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Lookup:
    """How to find the record a write made: `object` where every field equals its value."""

    object: str
    equals: tuple[tuple[str, str], ...]

    def to_filter(self) -> Filter:
        return F.and_(*(F.eq(k, v) for k, v in self.equals))


@dataclass(frozen=True)
class Function:
    name: str
    controlid: str
    payload: Payload = field(default_factory=dict)
    is_write: bool = False
    lookup: Lookup | None = None

    def call(self) -> FunctionCall:
        return FunctionCall(self.name, self.controlid, self.payload)


def new_controlid() -> str:
    return str(uuid.uuid4())


def money(value: Decimal | int | str) -> Decimal:
    """Intacct rounds amounts to 2 decimals; round the same way before sending."""
    return Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)


def _write(name: str, controlid: str, payload: Payload, lookup: Lookup | None = None) -> Function:
    if not controlid:
        raise ValueError("writes need the caller's deterministic controlid")
    return Function(name, controlid, payload, is_write=True, lookup=lookup)


# ---------------------------------------------------------------- session and reads


def get_api_session(controlid: str | None = None) -> Function:
    return Function("getAPISession", controlid or new_controlid(), {})


def query(
    object: str,
    fields: Sequence[str],
    *,
    filter: Filter | None = None,
    order_by: Sequence[tuple[str, bool]] = (),
    pagesize: int = MAX_QUERY_PAGESIZE,
    offset: int = 0,
    show_private: bool = False,
    controlid: str | None = None,
) -> Function:
    """`order_by` is a list of (field, ascending)."""
    if not fields:
        raise ValueError("query needs the fields to select (no '*')")
    if not 1 <= pagesize <= MAX_QUERY_PAGESIZE:
        raise ValueError(f"pagesize must be 1..{MAX_QUERY_PAGESIZE}")
    payload: Payload = {
        "object": object,
        "select": {"field": list(fields)},
        "filter": filter.to_payload() if filter is not None else None,
        "orderby": (
            {"order": [{"field": f, "ascending" if asc else "descending": {}} for f, asc in order_by]}
            if order_by
            else None
        ),
        "options": {"showprivate": True} if show_private else None,
        "pagesize": pagesize,
        "offset": offset,
    }
    return Function("query", controlid or new_controlid(), payload)


def read_by_query(
    object: str,
    fields: Sequence[str] = ("*",),
    query: str = "",
    *,
    pagesize: int = MAX_READBYQUERY_PAGESIZE,
    controlid: str | None = None,
) -> Function:
    if not 1 <= pagesize <= MAX_READBYQUERY_PAGESIZE:
        raise ValueError(f"pagesize must be 1..{MAX_READBYQUERY_PAGESIZE}")
    payload: Payload = {
        "object": object,
        "fields": ",".join(fields),
        "query": query,
        "pagesize": pagesize,
    }
    return Function("readByQuery", controlid or new_controlid(), payload)


def read_more(result_id: str, *, controlid: str | None = None) -> Function:
    return Function("readMore", controlid or new_controlid(), {"resultId": result_id})


def read(
    object: str, keys: Sequence[str | int], fields: Sequence[str] = ("*",), *, controlid: str | None = None
) -> Function:
    if not keys or len(keys) > MAX_READ_KEYS:
        raise ValueError(f"read takes 1..{MAX_READ_KEYS} keys")
    payload: Payload = {
        "object": object,
        "keys": ",".join(str(k) for k in keys),
        "fields": ",".join(fields),
    }
    return Function("read", controlid or new_controlid(), payload)


def read_by_name(
    object: str, names: Sequence[str], fields: Sequence[str] = ("*",), *, controlid: str | None = None
) -> Function:
    if not names or len(names) > MAX_READ_KEYS:
        raise ValueError(f"readByName takes 1..{MAX_READ_KEYS} names")
    payload: Payload = {"object": object, "keys": ",".join(names), "fields": ",".join(fields)}
    return Function("readByName", controlid or new_controlid(), payload)


# ---------------------------------------------------------------- generic writes


def create(
    object: str, values: Mapping[str, Any], *, controlid: str, lookup: Lookup | None = None
) -> Function:
    """Generic create: <create><OBJECT>values</OBJECT></create> (values may nest)."""
    return _write("create", controlid, {object: dict(values)}, lookup)


def update(object: str, values: Mapping[str, Any], *, controlid: str) -> Function:
    """Generic update; `values` must hold RECORDNO (or the object's business id)."""
    return _write("update", controlid, {object: dict(values)})


def delete(object: str, keys: Sequence[str | int], *, controlid: str) -> Function:
    return _write("delete", controlid, {"object": object, "keys": ",".join(str(k) for k in keys)})


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(_Input):
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


class CustomerInput(_Input):
    customer_id: str
    name: str
    status: str | None = None  # active / inactive
    email: str | None = None
    phone: str | None = None
    company_name: str | None = None
    print_as: str | None = None
    address: Address | None = None
    term_name: str | None = None
    currency: str | None = None
    parent_id: str | None = None

    def to_values(self, *, include_id: bool = True) -> Payload:
        addr = self.address
        return {
            "CUSTOMERID": self.customer_id if include_id else None,
            "NAME": self.name,
            "STATUS": self.status,
            "DISPLAYCONTACT": {
                "PRINTAS": self.print_as or self.name,
                "COMPANYNAME": self.company_name,
                "EMAIL1": self.email,
                "PHONE1": self.phone,
                "MAILADDRESS": (
                    {
                        "ADDRESS1": addr.address1,
                        "ADDRESS2": addr.address2,
                        "CITY": addr.city,
                        "STATE": addr.state,
                        "ZIP": addr.zip,
                        "COUNTRY": addr.country,
                    }
                    if addr
                    else None
                ),
            },
            "TERMNAME": self.term_name,
            "CURRENCY": self.currency,
            "PARENTID": self.parent_id,
        }


def create_customer(customer: CustomerInput, *, controlid: str) -> Function:
    return create(
        "CUSTOMER",
        customer.to_values(),
        controlid=controlid,
        lookup=Lookup("CUSTOMER", (("CUSTOMERID", customer.customer_id),)),
    )


def update_customer(customer: CustomerInput, *, controlid: str) -> Function:
    return update("CUSTOMER", customer.to_values(), controlid=controlid)


class ArPaymentDetailInput(_Input):
    invoice_key: str  # ARINVOICE RECORDNO
    amount: Decimal | None = None
    adjustment_key: str | None = None
    adjustment_amount: Decimal | None = None


class ArPymtInput(_Input):
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
        lookup = Lookup("ARPYMT", (("CUSTOMERID", payment.customer_id), ("DOCNUMBER", payment.doc_number)))
    return create("ARPYMT", values, controlid=controlid, lookup=lookup)


# ---------------------------------------------------------------- legacy A/R


class InvoiceLineInput(_Input):
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


class InvoiceInput(_Input):
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
        "exchratetype": "Intacct Daily Rate" if invoice.currency else None,
        "invoiceitems": {"lineitem": [line.to_payload() for line in invoice.lines]},
    }
    lookup = None
    if invoice.invoiceno:
        lookup = Lookup("ARINVOICE", (("RECORDID", invoice.invoiceno),))
    return _write("create_invoice", controlid, payload, lookup)


def reverse_invoice(
    key: str, datereversed: date, *, controlid: str, description: str | None = None
) -> Function:
    payload: Payload = {"@key": key, "datereversed": split_date(datereversed), "description": description}
    return _write("reverse_invoice", controlid, payload)


class AdjustmentLineInput(_Input):
    glaccountno: str
    amount: Decimal  # negative = credit memo
    memo: str | None = None
    locationid: str | None = None
    departmentid: str | None = None

    def to_payload(self) -> Payload:
        return {
            "glaccountno": self.glaccountno,
            "amount": money(self.amount),
            "memo": self.memo,
            "locationid": self.locationid,
            "departmentid": self.departmentid,
        }


class AdjustmentInput(_Input):
    customerid: str
    datecreated: date
    lines: tuple[AdjustmentLineInput, ...]
    adjustmentno: str | None = None
    invoiceno: str | None = None
    description: str | None = None
    externalid: str | None = None
    basecurr: str | None = None
    currency: str | None = None


def create_aradjustment(adjustment: AdjustmentInput, *, controlid: str) -> Function:
    if not adjustment.lines:
        raise ValueError("an adjustment needs at least one line")
    payload: Payload = {
        "customerid": adjustment.customerid,
        "datecreated": split_date(adjustment.datecreated),
        "adjustmentno": adjustment.adjustmentno,
        "invoiceno": adjustment.invoiceno,
        "description": adjustment.description,
        "externalid": adjustment.externalid,
        "basecurr": adjustment.basecurr,
        "currency": adjustment.currency,
        "exchratetype": "Intacct Daily Rate" if adjustment.currency else None,
        "aradjustmentitems": {"lineitem": [line.to_payload() for line in adjustment.lines]},
    }
    lookup = None
    if adjustment.adjustmentno:
        lookup = Lookup("ARADJUSTMENT", (("RECORDID", adjustment.adjustmentno),))
    return _write("create_aradjustment", controlid, payload, lookup)


def delete_aradjustment(key: str, *, controlid: str) -> Function:
    return _write("delete_aradjustment", controlid, {"@key": key})


class PaymentApplicationInput(_Input):
    invoicekey: str
    amount: Decimal

    def to_payload(self) -> Payload:
        return {"invoicekey": self.invoicekey, "amount": money(self.amount)}


class ArPaymentInput(_Input):
    """Legacy create_arpayment."""

    customerid: str
    paymentamount: Decimal
    datereceived: date
    paymentmethod: str
    bankaccountid: str | None = None
    undepfundsacct: str | None = None
    refid: str | None = None
    basecurr: str | None = None
    currency: str | None = None
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
        "datereceived": split_date(payment.datereceived),
        "paymentmethod": payment.paymentmethod,
        "basecurr": payment.basecurr,
        "currency": payment.currency,
        "exchratetype": "Intacct Daily Rate" if (payment.currency or payment.basecurr) else None,
        "arpaymentitem": [a.to_payload() for a in payment.applications] or None,
    }
    lookup = None
    if payment.refid:
        lookup = Lookup("ARPYMT", (("CUSTOMERID", payment.customerid), ("DOCNUMBER", payment.refid)))
    return _write("create_arpayment", controlid, payload, lookup)


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
    return _write("apply_arpayment", controlid, payload)


def reverse_arpayment(
    key: str, datereversed: date, *, controlid: str, description: str | None = None
) -> Function:
    payload: Payload = {"@key": key, "datereversed": split_date(datereversed), "description": description}
    return _write("reverse_arpayment", controlid, payload)


# ---------------------------------------------------------------- Order Entry


class SoLineInput(_Input):
    itemid: str
    quantity: Decimal
    itemdesc: str | None = None
    unit: str | None = None
    price: Decimal | None = None
    locationid: str | None = None
    departmentid: str | None = None
    memo: str | None = None
    line_num: int | None = None  # update only: the existing line to change (1-based)

    def to_payload(self) -> Payload:
        # Schema order of <sotransitem>.
        return {
            "itemid": self.itemid,
            "itemdesc": self.itemdesc,
            "quantity": self.quantity,
            "unit": self.unit,
            "price": self.price,
            "locationid": self.locationid,
            "departmentid": self.departmentid,
            "memo": self.memo,
        }


class SoTransactionInput(_Input):
    transactiontype: str  # DOCPARID, e.g. "Sales Invoice"
    datecreated: date
    customerid: str
    lines: tuple[SoLineInput, ...]
    documentno: str | None = None
    referenceno: str | None = None
    termname: str | None = None
    datedue: date | None = None
    message: str | None = None
    externalid: str | None = None
    basecurr: str | None = None
    currency: str | None = None
    state: str | None = None  # Pending / Closed / Draft


def create_sotransaction(tx: SoTransactionInput, *, controlid: str) -> Function:
    if not tx.lines:
        raise ValueError("an Order Entry transaction needs at least one line")
    payload: Payload = {
        "transactiontype": tx.transactiontype,
        "datecreated": split_date(tx.datecreated),
        "customerid": tx.customerid,
        "documentno": tx.documentno,
        "referenceno": tx.referenceno,
        "termname": tx.termname,
        "datedue": split_date(tx.datedue) if tx.datedue else None,
        "message": tx.message,
        "externalid": tx.externalid,
        "basecurr": tx.basecurr,
        "currency": tx.currency,
        "exchratetype": "Intacct Daily Rate" if (tx.currency or tx.basecurr) else None,
        "state": tx.state,
        "sotransitems": {"sotransitem": [line.to_payload() for line in tx.lines]},
    }
    lookup = None
    if tx.documentno:
        lookup = Lookup("SODOCUMENT", (("DOCID", f"{tx.transactiontype}-{tx.documentno}"),))
    return _write("create_sotransaction", controlid, payload, lookup)


class SoTransactionUpdateInput(_Input):
    docid: str  # "<DOCPARID>-<DOCNO>"
    datecreated: date | None = None
    referenceno: str | None = None
    termname: str | None = None
    datedue: date | None = None
    message: str | None = None
    state: str | None = None
    lines: tuple[SoLineInput, ...] = ()


def update_sotransaction(tx: SoTransactionUpdateInput, *, controlid: str) -> Function:
    items: list[tuple[str, Payload]] = []
    for line in tx.lines:
        if line.line_num is not None:
            items.append(("updatesotransitem", {"@line_num": line.line_num, **line.to_payload()}))
        else:
            items.append(("sotransitem", line.to_payload()))
    updates = [p for name, p in items if name == "updatesotransitem"]
    adds = [p for name, p in items if name == "sotransitem"]
    payload: Payload = {
        "@key": tx.docid,
        "datecreated": split_date(tx.datecreated) if tx.datecreated else None,
        "referenceno": tx.referenceno,
        "termname": tx.termname,
        "datedue": split_date(tx.datedue) if tx.datedue else None,
        "message": tx.message,
        "state": tx.state,
        "updatesotransitems": (
            {"updatesotransitem": updates or None, "sotransitem": adds or None} if items else None
        ),
    }
    return _write("update_sotransaction", controlid, payload)
