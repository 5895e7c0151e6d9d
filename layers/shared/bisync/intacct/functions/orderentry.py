"""Order Entry (SODOCUMENT): legacy create_sotransaction and update_sotransaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bisync.intacct.functions.base import Function, Input, Lookup, write
from bisync.intacct.xml import Payload, split_date


class SoLineInput(Input):
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


class SoTransactionInput(Input):
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
    return write("create_sotransaction", controlid, payload, lookup)


class SoTransactionUpdateInput(Input):
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
    return write("update_sotransaction", controlid, payload)
