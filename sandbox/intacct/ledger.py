"""What the sandbox's write functions share: element order and value checks, the company's
periods, customers, accounts and locations, A/R lines and records, and their state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.catalog import FIELDS
from sandbox.intacct.reads import schema_error, text
from sandbox.intacct.records import Ctx
from sandbox.intacct.store import Record
from sandbox.intacct.values import (
    IntacctError,
    fail,
    fmt_number,
    is_int,
    money,
    parse_decimal,
    render,
)

PAYMENT_METHODS = (
    "Printed Check",
    "Cash",
    "EFT",
    "Credit Card",
    "Online Charge Card",
    "Online ACH Debit",
    "Online",
)
ZERO = Decimal(0)
# Internal flag (never a read field): set once anything was applied to an A/R record.
EVER_APPLIED = "_EVERAPPLIED"


# -- helpers -------------------------------------------------------------------------------------
def dec(value: str) -> Decimal:
    return parse_decimal(value or "0") or ZERO


def key_el(value: str) -> Element:
    el = Element("key")
    el.text = value
    return el


def check_order(el: Element, order: list[str], required: tuple[str, ...] = ()) -> None:
    """Legacy functions follow the DTD: known elements, in order, required ones present."""
    last = -1
    for child in el:
        if child.tag not in order:
            raise schema_error(f"Error 1871: Element '{child.tag}': This element is not expected.")
        idx = order.index(child.tag)
        if idx < last:
            raise schema_error(
                f"Error 1871: Element '{child.tag}': This element is not expected "
                f"(out of order in '{el.tag}')."
            )
        last = idx
    for req in required:
        if "|" in req:
            if not any(el.find(r) is not None for r in req.split("|")):
                raise schema_error(
                    f"Error 1871: Element '{el.tag}': Missing child element(s). Expected is one of ( {req} )."
                )
        elif el.find(req) is None:
            raise schema_error(
                f"Error 1871: Element '{el.tag}': Missing child element(s). Expected is ( {req} )."
            )


def legacy_date(el: Element, tag: str, required: bool = False) -> str:
    """<tag><year/><month/><day/></tag> -> yyyy-mm-dd."""
    node = el.find(tag)
    if node is None:
        if required:
            raise schema_error(
                f"Error 1871: Element '{el.tag}': Missing child element(s). Expected is ( {tag} )."
            )
        return ""
    parts = [text(node, "year"), text(node, "month"), text(node, "day")]
    try:
        # is_int first: int() would read '٢٠٢٤' as 2024
        return dt.date(*(int(p) if is_int(p) else 0 for p in parts)).isoformat()
    except (ValueError, OverflowError):
        raise fail(
            "DL02000001",
            f"Invalid date in {tag}: year/month/day must form a valid date",
            description="Invalid date",
            correction="Use <year>yyyy</year><month>mm</month><day>dd</day>",
        ) from None


def amount_of(raw: str, what: str) -> Decimal:
    value = parse_decimal(raw)
    if value is None:
        raise fail("DL02000001", f"Invalid amount {raw!r} for {what}", description="Invalid number")
    return money(value)


def check_open_period(ctx: Ctx, date: str, label: str, *, action: str = "create") -> None:
    closed = str(ctx.settings.get("closed_through", ""))
    if closed and date and date <= closed:
        shown = render("ARINVOICE", "WHENCREATED", date)
        raise fail(
            "BL01001973",
            f"The date {shown} is in a closed period. A/R is closed through "
            f"{render('ARINVOICE', 'WHENCREATED', closed)}.",
            f"Could not {action} {label} record!",
            correction="Use a date in an open period or reopen the period",
        )


def customer_for(ctx: Ctx, customer_id: str, label: str, *, action: str = "create") -> Record:
    found = [
        r
        for r in ctx.store.find(ctx.company, "CUSTOMER", "CUSTOMERID", customer_id)
        if ctx.visible("CUSTOMER", r, False)
    ]
    if not customer_id or not found:
        raise fail(
            "BL01001973",
            f"Invalid Customer {customer_id} specified.",
            f"Could not {action} {label} record!",
            correction="Specify an existing customer",
        )
    cust = found[0]
    if cust.get("STATUS") == "inactive":
        raise fail(
            "BL01001973", f"Customer {customer_id} is inactive.", f"Could not {action} {label} record!"
        )
    return cust


def gl_account(ctx: Ctx, acct: str, label: str, line: int, *, action: str = "create") -> Record:
    found = ctx.store.find(ctx.company, "GLACCOUNT", "ACCOUNTNO", acct)
    if not acct or not found or found[0].get("STATUS") != "active":
        raise fail(
            "BL01001973",
            f"Invalid GL account {acct} on line {line}.",
            f"Could not {action} {label} record!",
            correction="Use an active GL account number",
        )
    return found[0]


def line_location(ctx: Ctx, loc: str, label: str, line: int, *, action: str = "create") -> str:
    """Multi-entity: a top-level transaction needs a location on each line; an entity session
    defaults to (and is limited to) its entity."""
    if not loc:
        if ctx.entity:
            return ctx.entity
        raise fail(
            "BL01001973",
            f"Location is required on line {line} for a multi-entity company.",
            f"Could not {action} {label} record!",
            correction="Give each line a locationid",
        )
    if not ctx.store.find(ctx.company, "LOCATION", "LOCATIONID", loc):
        raise fail(
            "BL01001973", f"Invalid location {loc} on line {line}.", f"Could not {action} {label} record!"
        )
    if ctx.entity and loc != ctx.entity:
        raise fail(
            "BL01001973",
            f"Location {loc} is not in entity {ctx.entity}.",
            f"Could not {action} {label} record!",
        )
    return loc


def term_days(ctx: Ctx, name: str, label: str, *, action: str = "create") -> int:
    found = ctx.store.find(ctx.company, "ARTERM", "NAME", name)
    if not found:
        raise fail("BL01001973", f"Invalid term {name}.", f"Could not {action} {label} record!")
    return int(found[0].get("DUEDATE") or 0)


def add_days(date: str, days: int) -> str:
    return (dt.date.fromisoformat(date) + dt.timedelta(days=days)).isoformat()


def ar_state(rec: Record) -> str:
    if rec.get("STATE") in ("Reversed", "Reversal"):
        return rec["STATE"]
    total, due = dec(rec.get("TOTALENTERED", "0")), dec(rec.get("TOTALDUE", "0"))
    if total != 0 and due == 0:
        return "Paid"
    if due != total:
        return "Partially Paid"
    return "Posted"


def set_amounts(rec: Record, total: Decimal, paid: Decimal) -> None:
    due = total - paid
    for prefix in ("", "TRX_"):
        rec[f"{prefix}TOTALENTERED"] = fmt_number(total)
        rec[f"{prefix}TOTALPAID"] = fmt_number(paid)
        rec[f"{prefix}TOTALDUE"] = fmt_number(due)


def refresh_customer(ctx: Ctx, customer_id: str) -> None:
    """CUSTOMER.TOTALDUE follows the open A/R of the customer."""
    due = ZERO
    for obj in ("ARINVOICE", "ARADJUSTMENT"):
        for r in ctx.store.find(ctx.company, obj, "CUSTOMERID", customer_id):
            due += dec(r.get("TOTALDUE", "0"))
    for cust in ctx.store.find(ctx.company, "CUSTOMER", "CUSTOMERID", customer_id):
        cust["TOTALDUE"] = fmt_number(due)
        ctx.store.update(ctx.company, "CUSTOMER", cust, stamp=False)


def sync_document(ctx: Ctx, ar: Record) -> None:
    """An Order Entry document mirrors what was paid on the A/R record it posted."""
    if ar.get("MODULEKEY") != "8.SO":
        return
    for doc in ctx.store.find(ctx.company, "SODOCUMENT", "PRRECORDKEY", ar["RECORDNO"]):
        doc["TOTALPAID"] = doc["TRX_TOTALPAID"] = fmt_number(abs(dec(ar.get("TOTALPAID", "0"))))
        doc["TOTALDUE"] = doc["TRX_TOTALDUE"] = fmt_number(abs(dec(ar.get("TOTALDUE", "0"))))
        ctx.store.update(ctx.company, "SODOCUMENT", doc)


def base_fields(ctx: Ctx) -> Record:
    return {"CREATEDBY": "1", "MODIFIEDBY": "1", **ctx.entity_fields()}


def flatten(el: Element, prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for child in el:
        name = f"{prefix}{child.tag}"
        if len(child):
            out.extend(flatten(child, f"{name}."))
        else:
            out.append((name, (child.text or "").strip()))
    return out


_LINE_ORDER = [
    "glaccountno",
    "accountlabel",
    "offsetglaccountno",
    "amount",
    "allocationid",
    "memo",
    "locationid",
    "departmentid",
    "key",
    "totalpaid",
    "totaldue",
    "customfields",
    "revrectemplate",
    "defrevaccount",
    "revrecstartdate",
    "revrecenddate",
    "projectid",
    "taskid",
    "costtypeid",
    "customerid",
    "vendorid",
    "employeeid",
    "itemid",
    "classid",
    "contractid",
    "warehouseid",
]


def ar_lines(ctx: Ctx, box: Element | None, label: str, container: str) -> list[Record]:
    lines = [] if box is None else box.findall("lineitem")
    if not lines:
        # Name the element the schema complains about (invoiceitems / aradjustmentitems).
        raise schema_error(
            f"Error 1871: Element '{container}': Missing child element(s). Expected is ( lineitem )."
        )
    return [ar_line(ctx, line, n, label) for n, line in enumerate(lines, start=1)]


def check_item(ctx: Ctx, item_id: str, label: str, n: int, *, action: str = "create") -> None:
    if item_id and not ctx.store.find(ctx.company, "ITEM", "ITEMID", item_id):
        raise fail(
            "BL01001973", f"Invalid item {item_id} on line {n}.", f"Could not {action} {label} record!"
        )


def ar_line(  # noqa: PLR0917 - internal helper
    ctx: Ctx, line: Element, n: int, label: str, action: str = "create", location: str | None = None
) -> Record:
    """One <lineitem> (create_invoice, create_aradjustment, or a line added by an update) as an
    item record; `location` overrides the location check (an update checks against the record's
    own entity)."""
    check_order(line, _LINE_ORDER, ("glaccountno|accountlabel", "amount"))
    acct = gl_account(ctx, text(line, "glaccountno"), label, n, action=action)
    item_id = text(line, "itemid")
    check_item(ctx, item_id, label, n, action=action)
    amount = amount_of(text(line, "amount"), f"line {n}")
    if location is None:
        location = line_location(ctx, text(line, "locationid"), label, n, action=action)
    return {
        "ACCOUNTNO": acct["ACCOUNTNO"],
        "ACCOUNTTITLE": acct.get("TITLE", ""),
        "ACCOUNTKEY": acct["RECORDNO"],
        "OFFSETGLACCOUNTNO": "1200",
        "AMOUNT": fmt_number(amount),
        "TRX_AMOUNT": fmt_number(amount),
        "ENTRYDESCRIPTION": text(line, "memo"),
        "LOCATIONID": location,
        "DEPARTMENTID": text(line, "departmentid"),
        "LINE_NO": str(n),
        "ITEMID": item_id,
        "CLASSID": text(line, "classid"),
        "PROJECTID": text(line, "projectid"),
        "TOTALPAID": "0",
        "TRX_TOTALPAID": "0",
    }


def item_record(obj: str, rec: Record, line: Record) -> Record:
    """An owned line (ARINVOICEITEM / ARADJUSTMENTITEM) of `rec`, carrying its header's values."""
    item = {
        **line,
        "RECORDKEY": rec["RECORDNO"],
        "CURRENCY": rec["CURRENCY"],
        "BASECURR": rec["BASECURR"],
        "ENTRY_DATE": rec["WHENCREATED"],
        "CUSTOMERID": rec["CUSTOMERID"],
        "CUSTOMERNAME": rec.get("CUSTOMERNAME", ""),
        "RECORDTYPE": rec.get("RECORDTYPE", ""),
        "WHENCREATED": rec["WHENCREATED"],
        "STATE": rec["STATE"],
    }
    return {k: v for k, v in item.items() if k in FIELDS[f"{obj}ITEM"]}


def create_ar(ctx: Ctx, obj: str, header: Record, lines: list[Record], label: str) -> Record:
    """Insert an A/R record (ARINVOICE / ARADJUSTMENT) and its items; refresh the customer."""
    total = sum((dec(line["AMOUNT"]) for line in lines), ZERO)
    cust = customer_for(ctx, header["CUSTOMERID"], label)
    rec: Record = {
        "CUSTOMERNAME": cust.get("NAME", ""),
        "BASECURR": str(ctx.settings.get("base_currency", "USD")),
        "MODULEKEY": "4.AR",
        "SYSTEMGENERATED": "F",
        **base_fields(ctx),
        **header,
    }
    rec.setdefault("CURRENCY", rec["BASECURR"])
    rec["CURRENCY"] = rec["CURRENCY"] or rec["BASECURR"]
    rec.setdefault("WHENPOSTED", rec["WHENCREATED"])
    set_amounts(rec, total, ZERO)
    rec["STATE"] = ar_state(rec)
    rec = ctx.store.insert(ctx.company, obj, rec)
    for line in lines:
        ctx.store.insert(ctx.company, f"{obj}ITEM", item_record(obj, rec, line))
    refresh_customer(ctx, rec["CUSTOMERID"])
    return rec


def delete_ar(ctx: Ctx, obj: str, rec: Record) -> None:
    paid = dec(rec.get("TOTALPAID", "0"))
    if obj == "ARADJUSTMENT" and paid != 0:
        # Intacct: an applied adjustment cannot be deleted; reverse what applied it first.
        raise fail(
            "BL01001973",
            f"Adjustment {rec['RECORDNO']} is applied ({fmt_number(abs(paid))} of "
            f"{fmt_number(abs(dec(rec.get('TOTALENTERED', '0'))))}) and cannot be deleted; unapply it "
            "first by reversing the payment that applied it.",
            "Could not delete Adjustment record!",
            correction="Reverse the payment (reverse_arpayment) that applied the adjustment",
        )
    if paid != 0:
        raise fail(
            "BL01001973",
            f"{obj} {rec['RECORDNO']} has payments or credits applied and cannot be deleted.",
            f"Could not delete {obj} record!",
        )
    item_obj = f"{obj}ITEM"
    for item in ctx.store.find(ctx.company, item_obj, "RECORDKEY", rec["RECORDNO"]):
        ctx.store.delete(ctx.company, item_obj, int(item["RECORDNO"]))
    ctx.store.delete(ctx.company, obj, int(rec["RECORDNO"]))
    refresh_customer(ctx, rec.get("CUSTOMERID", ""))


def raise_unsupported(name: str) -> IntacctError:
    return fail(
        "XL03000003",
        f"Error 1871: Element '{name}': This element is not expected.",
        description="XML Parse schema error",
    )
