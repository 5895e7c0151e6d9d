"""The legacy A/R document functions: create_invoice, reverse_invoice, create_aradjustment,
delete_aradjustment."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from sandbox.intacct.ledger import (
    add_days,
    ar_lines,
    check_open_period,
    check_order,
    create_ar,
    customer_for,
    dec,
    delete_ar,
    key_el,
    legacy_date,
    refresh_customer,
    set_amounts,
    term_days,
)
from sandbox.intacct.reads import text
from sandbox.intacct.records import Ctx
from sandbox.intacct.store import Record
from sandbox.intacct.values import (
    fail,
    is_int,
)

# -- A/R invoices and adjustments (legacy) -----------------------------------------------------------
_INVOICE_ORDER = [
    "customerid",
    "datecreated",
    "dateposted",
    "datedue",
    "termname",
    "batchkey",
    "action",
    "invoiceno",
    "ponumber",
    "description",
    "externalid",
    "billto",
    "shipto",
    "basecurr",
    "currency",
    "exchratedate",
    "exchratetype",
    "exchrate",
    "nogl",
    "supdocid",
    "customfields",
    "taxsolutionid",
    "invoiceitems",
]
_ADJ_ORDER = [
    "customerid",
    "datecreated",
    "dateposted",
    "batchkey",
    "adjustmentno",
    "action",
    "invoiceno",
    "description",
    "externalid",
    "basecurr",
    "currency",
    "exchratedate",
    "exchratetype",
    "exchrate",
    "nogl",
    "taxsolutionid",
    "aradjustmentitems",
]


def fn_create_invoice(ctx: Ctx, el: Element) -> list[Element]:
    check_order(el, _INVOICE_ORDER, ("customerid", "datecreated", "datedue|termname", "invoiceitems"))
    label = "Invoice"
    created = legacy_date(el, "datecreated", required=True)
    check_open_period(ctx, created, label)
    customer_for(ctx, text(el, "customerid"), label)
    due = legacy_date(el, "datedue")
    term = text(el, "termname")
    if term:
        days = term_days(ctx, term, label)
        due = due or add_days(created, days)
    header: Record = {
        "CUSTOMERID": text(el, "customerid"),
        "WHENCREATED": created,
        "WHENPOSTED": legacy_date(el, "dateposted") or created,
        "WHENDUE": due,
        "TERMNAME": term,
        "RECORDID": text(el, "invoiceno"),
        "DOCNUMBER": text(el, "ponumber"),
        "DESCRIPTION": text(el, "description"),
        "CURRENCY": text(el, "currency"),
        "RECORDTYPE": "ri",
        "_EXTERNALID": text(el, "externalid"),
    }
    rec = create_ar(
        ctx, "ARINVOICE", header, ar_lines(ctx, el.find("invoiceitems"), label, "invoiceitems"), label
    )
    ctx.transactions += 1
    return [key_el(rec["RECORDNO"])]


def _ar_record(ctx: Ctx, obj: str, key: str, what: str) -> Record:
    rec = ctx.store.get(ctx.company, obj, int(key)) if is_int(key) else None
    if rec is None or not ctx.visible(obj, rec, True):
        raise fail(
            "DL03000005",
            f"No record exists for the {what} {key}",
            description="Invalid key",
            correction="Check the key; the record may have been deleted or recreated",
        )
    return rec


def fn_reverse_invoice(ctx: Ctx, el: Element) -> list[Element]:
    key = el.get("key", "")
    rec = _ar_record(ctx, "ARINVOICE", key, "invoicekey")
    when = legacy_date(el, "datereversed", required=True)
    if rec.get("STATE") in ("Reversed", "Reversal"):
        raise fail("BL01001973", f"Invoice {key} is already reversed.", "Could not reverse Invoice record!")
    if dec(rec.get("TOTALPAID", "0")) != 0:
        raise fail(
            "BL01001973",
            f"Invoice {key} has payments applied; reverse the payments first.",
            "Could not reverse Invoice record!",
        )
    check_open_period(ctx, when, "Invoice reversal")
    total = dec(rec.get("TOTALENTERED", "0"))
    rev = {k: v for k, v in rec.items() if k not in ("RECORDNO", "WHENMODIFIED", "AUWHENCREATED")}
    rev.update(
        {
            "WHENCREATED": when,
            "WHENPOSTED": when,
            "DESCRIPTION": text(el, "description") or rec.get("DESCRIPTION", ""),
            "STATE": "Reversal",
        }
    )
    set_amounts(rev, -total, -total)
    rev = ctx.store.insert(ctx.company, "ARINVOICE", rev)
    set_amounts(rec, total, total)
    rec["STATE"] = "Reversed"
    ctx.store.update(ctx.company, "ARINVOICE", rec)
    refresh_customer(ctx, rec["CUSTOMERID"])
    ctx.transactions += 1
    return [key_el(rev["RECORDNO"])]


def fn_create_aradjustment(ctx: Ctx, el: Element) -> list[Element]:
    check_order(el, _ADJ_ORDER, ("customerid", "datecreated", "aradjustmentitems"))
    label = "Adjustment"
    created = legacy_date(el, "datecreated", required=True)
    check_open_period(ctx, created, label)
    customer_for(ctx, text(el, "customerid"), label)
    header: Record = {
        "CUSTOMERID": text(el, "customerid"),
        "WHENCREATED": created,
        "WHENPOSTED": legacy_date(el, "dateposted") or created,
        "RECORDID": text(el, "adjustmentno"),
        "DOCNUMBER": text(el, "invoiceno"),
        "DESCRIPTION": text(el, "description"),
        "CURRENCY": text(el, "currency"),
        "RECORDTYPE": "ra",
        "_EXTERNALID": text(el, "externalid"),
    }
    rec = create_ar(
        ctx,
        "ARADJUSTMENT",
        header,
        ar_lines(ctx, el.find("aradjustmentitems"), label, "aradjustmentitems"),
        label,
    )
    ctx.transactions += 1
    return [key_el(rec["RECORDNO"])]


def fn_delete_aradjustment(ctx: Ctx, el: Element) -> list[Element]:
    key = el.get("key", "")
    rec = _ar_record(ctx, "ARADJUSTMENT", key, "adjustmentkey")
    delete_ar(ctx, "ARADJUSTMENT", rec)
    ctx.transactions += 1
    return []
