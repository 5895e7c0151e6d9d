"""ARADJUSTMENT: legacy create_aradjustment, update_aradjustment and delete_aradjustment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bisync.intacct.functions.base import DEFAULT_RATE_TYPE, Function, Input, Lookup, money, write
from bisync.intacct.xml import Payload, split_date


class AdjustmentLineInput(Input):
    glaccountno: str
    amount: Decimal  # negative = credit memo
    memo: str | None = None
    locationid: str | None = None
    departmentid: str | None = None
    projectid: str | None = None
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
            "classid": self.classid,
        }


class AdjustmentInput(Input):
    customerid: str
    datecreated: date
    lines: tuple[AdjustmentLineInput, ...]
    adjustmentno: str | None = None
    invoiceno: str | None = None
    description: str | None = None
    externalid: str | None = None
    basecurr: str | None = None
    currency: str | None = None
    exchratetype: str | None = None  # default: Intacct Daily Rate


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
        "exchratetype": (adjustment.exchratetype or DEFAULT_RATE_TYPE) if adjustment.currency else None,
        "aradjustmentitems": {"lineitem": [line.to_payload() for line in adjustment.lines]},
    }
    lookup = None
    if adjustment.adjustmentno:
        lookup = Lookup(
            "ARADJUSTMENT", (("RECORDID", adjustment.adjustmentno), ("CUSTOMERID", adjustment.customerid))
        )
    return write("create_aradjustment", controlid, payload, lookup)


def delete_aradjustment(key: str, *, controlid: str) -> Function:
    return write("delete_aradjustment", controlid, {"@key": key})


class AdjustmentLineUpdate(Input):
    """A line of update_aradjustment: `line_num` (1-based) changes that line, None adds one."""

    line_num: int | None = None
    glaccountno: str | None = None
    amount: Decimal | None = None
    memo: str | None = None
    locationid: str | None = None
    departmentid: str | None = None

    def to_payload(self) -> Payload:
        return {
            "@line_num": self.line_num,
            "glaccountno": self.glaccountno,
            "amount": money(self.amount) if self.amount is not None else None,
            "memo": self.memo,
            "locationid": self.locationid,
            "departmentid": self.departmentid,
        }


class AdjustmentUpdateInput(Input):
    key: str  # ARADJUSTMENT RECORDNO
    datecreated: date | None = None
    adjustmentno: str | None = None
    description: str | None = None
    lines: tuple[AdjustmentLineUpdate, ...] = ()


def update_aradjustment(adjustment: AdjustmentUpdateInput, *, controlid: str) -> Function:
    changes = [line.to_payload() for line in adjustment.lines if line.line_num is not None]
    adds = [
        {k: v for k, v in line.to_payload().items() if k != "@line_num"}
        for line in adjustment.lines
        if line.line_num is None
    ]
    payload: Payload = {
        "@key": adjustment.key,
        "datecreated": split_date(adjustment.datecreated) if adjustment.datecreated else None,
        "adjustmentno": adjustment.adjustmentno,
        "description": adjustment.description,
        "updatearadjustmentitems": (
            {"updatelineitem": changes or None, "lineitem": adds or None} if adjustment.lines else None
        ),
    }
    return write("update_aradjustment", controlid, payload)
