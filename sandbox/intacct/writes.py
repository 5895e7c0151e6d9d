"""Write functions: generic create/update/delete (CUSTOMER, ARPYMT) and the legacy A/R and
Order Entry functions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement

from sandbox.intacct.catalog import FIELDS, canonical
from sandbox.intacct.reads import schema_error, text
from sandbox.intacct.records import Ctx, check_field
from sandbox.intacct.store import Record
from sandbox.intacct.values import (
    IntacctError,
    coerce_input,
    fail,
    fmt_number,
    is_int,
    money,
    now_ts,
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
_ZERO = Decimal(0)
# Internal flag (never a read field): set once anything was applied to an A/R record.
EVER_APPLIED = "_EVERAPPLIED"


# -- helpers -------------------------------------------------------------------------------------
def dec(value: str) -> Decimal:
    return parse_decimal(value or "0") or _ZERO


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
    due = _ZERO
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


# -- generic create / update / delete ------------------------------------------------------------
_READONLY = {
    "RECORDNO",
    "WHENCREATED",
    "WHENMODIFIED",
    "AUWHENCREATED",
    "CREATEDBY",
    "MODIFIEDBY",
    "TOTALDUE",
    "MEGAENTITYKEY",
    "MEGAENTITYID",
    "MEGAENTITYNAME",
    "RECORD_URL",
    "ENTITY",
    "PARENTKEY",
    "TERMKEY",
}


def fn_create(ctx: Ctx, el: Element) -> list[Element]:
    objs = list(el)
    if not objs:
        raise schema_error("Error 1871: Element 'create': Missing child element(s).")
    data = Element("data", {"listtype": "objects", "count": str(len(objs))})
    for node in objs:
        obj = canonical(node.tag)
        if obj == "CUSTOMER":
            rec = _create_customer(ctx, node)
            out = SubElement(data, "customer")
            SubElement(out, "RECORDNO").text = rec["RECORDNO"]
            SubElement(out, "CUSTOMERID").text = rec["CUSTOMERID"]
        elif obj == "ARPYMT":
            rec = _create_payment_generic(ctx, node)
            SubElement(SubElement(data, "arpymt"), "RECORDNO").text = rec["RECORDNO"]
        else:
            raise fail(
                "BL01001973",
                f"The create function is not supported for object {node.tag} in this sandbox",
                description="Unsupported object",
            )
        ctx.transactions += 1
    return [data]


def _customer_values(node: Element) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in flatten(node):
        field = check_field("CUSTOMER", name, relations=False)
        values[field] = coerce_input("CUSTOMER", field, value)
    return values


def _check_customer(ctx: Ctx, rec: Record, action: str) -> None:
    label = f"Could not {action} Customer record!"
    if not rec.get("CUSTOMERID"):
        raise fail("BL01001973", "Required field Customer ID (CUSTOMERID) is missing.", label)
    if not rec.get("NAME"):
        raise fail("BL01001973", "Required field Name (NAME) is missing.", label)
    if rec.get("STATUS", "active") not in ("active", "inactive"):
        raise fail("DL02000001", f"Invalid STATUS {rec['STATUS']}: use active or inactive", label)
    if rec.get("TERMNAME") and not ctx.store.find(ctx.company, "ARTERM", "NAME", rec["TERMNAME"]):
        raise fail("BL01001973", f"Invalid term {rec['TERMNAME']}.", label)
    if rec.get("PARENTID") and not ctx.store.find(ctx.company, "CUSTOMER", "CUSTOMERID", rec["PARENTID"]):
        raise fail("BL01001973", f"Invalid parent customer {rec['PARENTID']}.", label)


def _create_customer(ctx: Ctx, node: Element) -> Record:
    values = {k: v for k, v in _customer_values(node).items() if k not in _READONLY}
    rec: Record = {
        "STATUS": "active",
        "ONETIME": "false",
        "ONHOLD": "false",
        "TOTALDUE": "0",
        "WHENCREATED": now_ts(),
        **base_fields(ctx),
        **values,
    }
    _check_customer(ctx, rec, "create")
    if ctx.store.find(ctx.company, "CUSTOMER", "CUSTOMERID", rec["CUSTOMERID"]):
        raise fail(
            "BL01001973",
            f"Another record with the value {rec['CUSTOMERID']} already exists.",
            "Could not create Customer record!",
            description="Duplicate customer",
            correction="Use a unique value for CUSTOMERID",
        )
    rec.setdefault("DISPLAYCONTACT.PRINTAS", rec["NAME"])
    rec.setdefault("DISPLAYCONTACT.COMPANYNAME", rec["NAME"])
    rec.setdefault("DISPLAYCONTACT.CONTACTNAME", f"{rec['NAME']}({rec['CUSTOMERID']})")
    rec["ENTITY"] = f"C{rec['CUSTOMERID']}"
    return ctx.store.insert(ctx.company, "CUSTOMER", rec)


def fn_update(ctx: Ctx, el: Element) -> list[Element]:
    objs = list(el)
    if not objs:
        raise schema_error("Error 1871: Element 'update': Missing child element(s).")
    data = Element("data", {"listtype": "objects", "count": str(len(objs))})
    for node in objs:
        obj = canonical(node.tag)
        if obj == "CUSTOMER":
            rec = _update_customer(ctx, node)
            out = SubElement(data, "customer")
            SubElement(out, "RECORDNO").text = rec["RECORDNO"]
            SubElement(out, "CUSTOMERID").text = rec["CUSTOMERID"]
        elif obj == "ARPYMT":
            key = text(node, "RECORDNO")
            current = _payment(ctx, key) if key else None
            if current is None:
                raise fail(
                    "BL01001973", f"No ARPYMT record found for key {key}.", "Could not update ARPYMT record!"
                )
            if current.get("STATE") == "D":
                raise fail(
                    "BL01001973",
                    "Updating or submitting a draft payment is not supported by the sandbox.",
                    "Could not update ARPYMT record!",
                    correction="Delete the draft and create the payment again",
                )
            raise fail(
                "BL01001973",
                "Only draft payments can be updated; this payment is posted.",
                "Could not update ARPYMT record!",
                correction="Reverse the payment and create a new one",
            )
        else:
            raise fail(
                "BL01001973", f"The update function is not supported for object {node.tag} in this sandbox"
            )
        ctx.transactions += 1
    return [data]


def _update_customer(ctx: Ctx, node: Element) -> Record:
    values = _customer_values(node)
    rec: Record | None = None
    if values.get("RECORDNO"):
        recordno = values["RECORDNO"]  # a number field: "12.5" passes its check, int() refuses it
        rec = ctx.store.get(ctx.company, "CUSTOMER", int(recordno)) if is_int(recordno) else None
    elif values.get("CUSTOMERID"):
        found = ctx.store.find(ctx.company, "CUSTOMER", "CUSTOMERID", values["CUSTOMERID"])
        rec = found[0] if found else None
    if rec is None or not ctx.visible("CUSTOMER", rec, True):
        key = values.get("RECORDNO") or values.get("CUSTOMERID", "")
        raise fail(
            "BL01001973",
            f"No Customer record found for {key}.",
            "Could not update Customer record!",
            correction="Give an existing RECORDNO or CUSTOMERID",
        )
    if values.get("CUSTOMERID") and values.get("RECORDNO") and values["CUSTOMERID"] != rec["CUSTOMERID"]:
        raise fail(
            "BL01001973", "CUSTOMERID cannot be changed through update.", "Could not update Customer record!"
        )
    rec.update({k: v for k, v in values.items() if k not in _READONLY})
    _check_customer(ctx, rec, "update")
    return ctx.store.update(ctx.company, "CUSTOMER", rec)


def fn_delete(ctx: Ctx, el: Element) -> list[Element]:
    obj = canonical(text(el, "object"))
    keys = [k.strip() for k in text(el, "keys").split(",") if k.strip()]
    if obj is None or not keys:
        raise schema_error(
            "Error 1871: Element 'delete': Missing child element(s). Expected is ( object, keys )."
        )
    data = Element("data", {"listtype": "objects", "count": str(len(keys))})
    for key in keys:
        if not is_int(key):
            raise fail("DL02000001", f"Invalid key {key}", description="Invalid key")
        rec = ctx.store.get(ctx.company, obj, int(key))
        if rec is None or not ctx.visible(obj, rec, True):
            raise fail(
                "BL01001973", f"No {obj} record found for key {key}.", f"Could not delete {obj} record!"
            )
        if obj == "CUSTOMER":
            if any(
                ctx.store.find(ctx.company, o, "CUSTOMERID", rec["CUSTOMERID"])
                for o in ("ARINVOICE", "ARADJUSTMENT", "ARPYMT")
            ):
                raise fail(
                    "BL01001973",
                    f"Customer {rec['CUSTOMERID']} has transactions and cannot be deleted.",
                    "Could not delete Customer record!",
                    correction="Make the customer inactive instead",
                )
            ctx.store.delete(ctx.company, obj, int(key))
        elif obj == "ARPYMT":
            if rec.get("STATE") != "D":
                # Intacct deletes draft payments only; a posted payment is voided with reverse_arpayment.
                raise fail(
                    "BL01001973",
                    f"Payment {key} is not a draft (state {rec.get('DISPLAYSTATE') or rec.get('STATE')}): "
                    "only draft payments can be deleted.",
                    "Could not delete ARPYMT record!",
                    correction="Use reverse_arpayment to void a posted payment",
                )
            for det in ctx.store.find(ctx.company, "ARPYMTDETAIL", "PAYMENTKEY", key):
                ctx.store.delete(ctx.company, "ARPYMTDETAIL", int(det["RECORDNO"]))
            ctx.store.delete(ctx.company, obj, int(key))
        elif obj in ("ARINVOICE", "ARADJUSTMENT"):
            _delete_ar(ctx, obj, rec)
        else:
            raise fail("BL01001973", f"The delete function is not supported for object {obj} in this sandbox")
        SubElement(SubElement(data, obj.lower()), "RECORDNO").text = key
        ctx.transactions += 1
    return [data]


def _delete_ar(ctx: Ctx, obj: str, rec: Record) -> None:
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


def _ar_lines(ctx: Ctx, box: Element | None, label: str, container: str) -> list[Record]:
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
    total = sum((dec(line["AMOUNT"]) for line in lines), _ZERO)
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
    set_amounts(rec, total, _ZERO)
    rec["STATE"] = ar_state(rec)
    rec = ctx.store.insert(ctx.company, obj, rec)
    for line in lines:
        ctx.store.insert(ctx.company, f"{obj}ITEM", item_record(obj, rec, line))
    refresh_customer(ctx, rec["CUSTOMERID"])
    return rec


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
        ctx, "ARINVOICE", header, _ar_lines(ctx, el.find("invoiceitems"), label, "invoiceitems"), label
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
        _ar_lines(ctx, el.find("aradjustmentitems"), label, "aradjustmentitems"),
        label,
    )
    ctx.transactions += 1
    return [key_el(rec["RECORDNO"])]


def fn_delete_aradjustment(ctx: Ctx, el: Element) -> list[Element]:
    key = el.get("key", "")
    rec = _ar_record(ctx, "ARADJUSTMENT", key, "adjustmentkey")
    _delete_ar(ctx, "ARADJUSTMENT", rec)
    ctx.transactions += 1
    return []


# -- payments ------------------------------------------------------------------------------------
def _payment(ctx: Ctx, key: str) -> Record | None:
    rec = ctx.store.get(ctx.company, "ARPYMT", int(key)) if is_int(key) else None
    return rec if rec is not None and ctx.visible("ARPYMT", rec, True) else None


def _apply(ctx: Ctx, target: Record, obj: str, amount: Decimal) -> None:
    """Move paid/due of an invoice (or a credit, with a negative amount toward zero)."""
    total, paid = dec(target.get("TOTALENTERED", "0")), dec(target.get("TOTALPAID", "0"))
    set_amounts(target, total, paid + amount)
    if paid + amount != 0:
        # Intacct keeps an invoice's lines locked once anything was applied, even after the
        # payment is reversed (update_invoice reads this).
        target[EVER_APPLIED] = "1"
    target["STATE"] = ar_state(target)
    target["WHENPAID"] = target.get("_LASTPAID", "") if target["STATE"] == "Paid" else ""
    ctx.store.update(ctx.company, obj, target)
    sync_document(ctx, target)


def _line_for_payment(  # noqa: PLR0917 - internal helper
    ctx: Ctx, obj: str, target: Record, entry_key: str, total: Decimal, label: str
) -> Record:
    """A line-level detail (ENTRYKEY): the line must belong to the invoice and have `total` open."""
    item_obj = f"{obj}ITEM"
    line = ctx.store.get(ctx.company, item_obj, int(entry_key)) if is_int(entry_key) else None
    if line is None or line.get("RECORDKEY") != target["RECORDNO"]:
        raise fail(
            "DL03000005",
            f"No record exists for the entrykey {entry_key} on invoice {target['RECORDNO']}",
            f"Could not create {label} record!",
            description="Invalid entry key",
        )
    open_ = dec(line.get("AMOUNT", "0")) - dec(line.get("TOTALPAID", "0"))
    if total > open_:
        raise fail(
            "BL01001973",
            f"The amount {fmt_number(total)} is more than the amount due {fmt_number(open_)} on line "
            f"{entry_key} of invoice {target['RECORDNO']}.",
            f"Could not create {label} record!",
            correction="Apply at most the amount due",
        )
    return line


def _apply_line(ctx: Ctx, obj: str, entry_key: str, amount: Decimal) -> None:
    item_obj = f"{obj}ITEM"
    line = ctx.store.get(ctx.company, item_obj, int(entry_key))
    if line is None:
        return
    paid = fmt_number(dec(line.get("TOTALPAID", "0")) + amount)
    line["TOTALPAID"] = line["TRX_TOTALPAID"] = paid
    ctx.store.update(ctx.company, item_obj, line)


def _invoice_for_payment(
    ctx: Ctx, key: str, customer_id: str, amount: Decimal, label: str
) -> tuple[str, Record]:
    for obj in ("ARINVOICE", "ARADJUSTMENT"):
        rec = ctx.store.get(ctx.company, obj, int(key)) if is_int(key) else None
        if (
            rec is not None
            and ctx.visible(obj, rec, True)
            and (obj == "ARINVOICE" or dec(rec["TOTALENTERED"]) > 0)
        ):
            break
    else:
        raise fail(
            "DL03000005",
            f"No record exists for the invoicekey {key}",
            f"Could not create {label} record!",
            description="Invalid invoice key",
        )
    if rec.get("CUSTOMERID") != customer_id:
        raise fail(
            "BL01001973",
            f"Invoice {key} belongs to customer {rec.get('CUSTOMERID')}, not {customer_id}.",
            f"Could not create {label} record!",
        )
    if rec.get("STATE") in ("Reversed", "Reversal"):
        raise fail(
            "BL01001973",
            f"Invoice {key} is reversed and cannot be paid.",
            f"Could not create {label} record!",
        )
    if amount <= 0 or amount > dec(rec.get("TOTALDUE", "0")):
        raise fail(
            "BL01001973",
            f"The amount {fmt_number(amount)} is more than the amount due "
            f"{rec.get('TOTALDUE', '0')} on invoice {key}.",
            f"Could not create {label} record!",
            correction="Apply at most the amount due",
        )
    return obj, rec


def _credit_for(ctx: Ctx, key: str, customer_id: str, amount: Decimal, label: str) -> Record:
    rec = ctx.store.get(ctx.company, "ARADJUSTMENT", int(key)) if is_int(key) else None
    if rec is None or not ctx.visible("ARADJUSTMENT", rec, True) or dec(rec.get("TOTALENTERED", "0")) >= 0:
        raise fail(
            "DL03000005", f"No record exists for the adjustmentkey {key}", f"Could not create {label} record!"
        )
    if rec.get("CUSTOMERID") != customer_id:
        raise fail(
            "BL01001973", f"Credit {key} belongs to another customer.", f"Could not create {label} record!"
        )
    if amount <= 0 or amount > -dec(rec.get("TOTALDUE", "0")):
        raise fail(
            "BL01001973",
            f"The credit amount {fmt_number(amount)} is more than the credit available on adjustment {key}.",
            f"Could not create {label} record!",
        )
    return rec


def _financial_entity(ctx: Ctx, bank: str, undep: str, label: str) -> Record:
    if bank:
        found = ctx.store.find(ctx.company, "CHECKINGACCOUNT", "BANKACCOUNTID", bank)
        if not found:
            raise fail("BL01001973", f"Invalid bank account {bank}.", f"Could not create {label} record!")
        return {
            "FINANCIALENTITY": bank,
            "FINANCIALENTITYTYPE": "BA",
            "FINANCIALACCOUNTNAME": found[0].get("BANKNAME", ""),
            "FINANCIALACCOUNTCURRENCY": "USD",
        }
    if undep:
        gl_account(ctx, undep, label, 0)
        return {
            "UNDEPOSITEDACCOUNTNO": undep,
            "FINANCIALENTITY": undep,
            "FINANCIALENTITYTYPE": "UD",
            "FINANCIALACCOUNTNAME": "Undeposited Funds",
            "FINANCIALACCOUNTCURRENCY": "USD",
        }
    raise fail(
        "BL01001973",
        "A bank account or an undeposited funds account is required.",
        f"Could not create {label} record!",
    )


@dataclass
class Application:
    """One payment detail: cash and/or a credit applied to an invoice (optionally one line)."""

    obj: str
    target: Record
    amount: Decimal
    credit: Record | None = None
    credit_amount: Decimal = _ZERO
    entry_key: str = ""


def _new_payment(
    ctx: Ctx, values: Record, cash: Decimal, apps: list[Application], label: str, *, draft: bool = False
) -> Record:
    """Insert ARPYMT + ARPYMTDETAIL rows and move the invoices (and credits) they touch; a draft
    (STATE D) records its details but moves nothing until it is posted."""
    cust = customer_for(ctx, values["CUSTOMERID"], label)
    applied = sum((a.amount for a in apps), _ZERO)
    if applied > cash:
        raise fail(
            "BL01001973",
            f"The applied amount {fmt_number(applied)} exceeds the payment amount {fmt_number(cash)}.",
            f"Could not create {label} record!",
        )
    rec: Record = {
        "RECORDTYPE": "rp",
        "STATE": "D" if draft else "C",
        "DISPLAYSTATE": "Draft" if draft else "Complete",
        "CUSTOMERNAME": cust.get("NAME", ""),
        "BASECURR": str(ctx.settings.get("base_currency", "USD")),
        "BILLTOPAYTONAME": cust.get("NAME", ""),
        **base_fields(ctx),
        **values,
    }
    rec["CURRENCY"] = rec.get("CURRENCY") or rec["BASECURR"]
    rec.setdefault("WHENCREATED", rec["RECEIPTDATE"])
    rec.setdefault("PAYMENTDATE", rec["RECEIPTDATE"])
    rec["WHENPAID"] = rec["RECEIPTDATE"]
    set_amounts(rec, cash, applied)
    rec = ctx.store.insert(ctx.company, "ARPYMT", rec)
    for app in apps:
        obj, amount, credit_amount = app.obj, app.amount, app.credit_amount
        # Re-read: earlier details of this payment may already have moved the same invoice or
        # credit, and every application must accumulate (two details of 30 and 20 pay 50).
        target = ctx.store.get(ctx.company, obj, int(app.target["RECORDNO"])) or app.target
        credit = (
            None
            if app.credit is None
            else ctx.store.get(ctx.company, "ARADJUSTMENT", int(app.credit["RECORDNO"])) or app.credit
        )
        detail: Record = {
            "PAYMENTKEY": rec["RECORDNO"],
            "RECORDKEY": target["RECORDNO"],
            "PAYMENTDATE": rec["RECEIPTDATE"],
            "CURRENCY": rec["CURRENCY"],
            "STATE": rec["STATE"],
            "WHENCREATED": rec["RECEIPTDATE"],
        }
        if app.entry_key:
            detail["ENTRYKEY"] = app.entry_key
        if amount:
            detail["TRX_PAYMENTAMOUNT"] = detail["PAYMENTAMOUNT"] = fmt_number(amount)
        if credit is not None:
            detail["ADJUSTMENTKEY"] = credit["RECORDNO"]
            detail["TRX_ADJUSTMENTAMOUNT"] = detail["ADJUSTMENTAMOUNT"] = fmt_number(credit_amount)
        ctx.store.insert(ctx.company, "ARPYMTDETAIL", detail)
        if draft:
            continue
        if credit is not None:
            _apply(ctx, credit, "ARADJUSTMENT", -credit_amount)
        if app.entry_key:
            _apply_line(ctx, obj, app.entry_key, amount + credit_amount)
        target["_LASTPAID"] = rec["RECEIPTDATE"]
        _apply(ctx, target, obj, amount + credit_amount)
    if not draft:
        refresh_customer(ctx, rec["CUSTOMERID"])
    return rec


def _create_payment_generic(ctx: Ctx, node: Element) -> Record:
    label = "ARPYMT"
    values: Record = {}
    details = node.find("ARPYMTDETAILS")
    action = "Submit"
    for child in node:
        if child.tag == "ARPYMTDETAILS":
            continue
        if child.tag == "ACTION":
            # Write-only: Draft saves the payment without posting it; Submit (default) posts it.
            action = (child.text or "").strip() or "Submit"
            if action not in ("Draft", "Submit"):
                raise fail(
                    "BL01001973",
                    f"Invalid ACTION {action}: use Draft or Submit.",
                    "Could not create ARPYMT record!",
                )
            continue
        name = check_field("ARPYMT", child.tag, relations=False)
        values[name] = coerce_input("ARPYMT", name, child.text or "")
    for req in ("PAYMENTMETHOD", "CUSTOMERID", "RECEIPTDATE"):
        if not values.get(req):
            raise fail("BL01001973", f"Required field {req} is missing.", "Could not create ARPYMT record!")
    if values["PAYMENTMETHOD"] not in PAYMENT_METHODS:
        raise fail(
            "BL01001973",
            f"Invalid payment method {values['PAYMENTMETHOD']}.",
            "Could not create ARPYMT record!",
        )
    check_open_period(ctx, values["RECEIPTDATE"], label)
    customer_for(ctx, values["CUSTOMERID"], label)
    fin = _financial_entity(
        ctx, values.pop("FINANCIALENTITY", ""), values.pop("UNDEPOSITEDACCOUNTNO", ""), label
    )
    rows = [] if details is None else details.findall("ARPYMTDETAIL")
    if not rows:
        raise fail(
            "BL01001973", "A payment needs at least one ARPYMTDETAIL.", "Could not create ARPYMT record!"
        )
    apps: list[Application] = []
    cash = _ZERO
    # Totals per invoice, line and credit across all details: each detail is checked against
    # what is still due after the earlier details of the same payment.
    on_invoice: dict[str, Decimal] = {}
    on_line: dict[str, Decimal] = {}
    on_credit: dict[str, Decimal] = {}
    for row in rows:
        for child in row:
            check_field("ARPYMTDETAIL", child.tag, relations=False)
        amount = amount_of(text(row, "TRX_PAYMENTAMOUNT") or "0", "TRX_PAYMENTAMOUNT")
        credit_amount = amount_of(text(row, "TRX_ADJUSTMENTAMOUNT") or "0", "TRX_ADJUSTMENTAMOUNT")
        key, entry_key = text(row, "RECORDKEY"), text(row, "ENTRYKEY")
        credit = None
        credit_key = text(row, "ADJUSTMENTKEY")
        if credit_key:
            on_credit[credit_key] = on_credit.get(credit_key, _ZERO) + credit_amount
            credit = _credit_for(ctx, credit_key, values["CUSTOMERID"], on_credit[credit_key], label)
        on_invoice[key] = on_invoice.get(key, _ZERO) + amount + credit_amount
        obj, target = _invoice_for_payment(ctx, key, values["CUSTOMERID"], on_invoice[key], label)
        if amount + credit_amount <= 0:
            raise fail(
                "BL01001973",
                f"The amount {fmt_number(amount + credit_amount)} applied to invoice {key} must be positive.",
                f"Could not create {label} record!",
            )
        if entry_key:
            on_line[entry_key] = on_line.get(entry_key, _ZERO) + amount + credit_amount
            _line_for_payment(ctx, obj, target, entry_key, on_line[entry_key], label)
        apps.append(Application(obj, target, amount, credit, credit_amount, entry_key))
        cash += amount
    values.update(fin)
    return _new_payment(ctx, values, cash, apps, label, draft=action == "Draft")


_PAYMENT_ORDER = [
    "customerid",
    "paymentamount",
    "translatedamount",
    "batchkey",
    "bankaccountid",
    "undepfundsacct",
    "refid",
    "overpaylocid",
    "overpaydeptid",
    "datereceived",
    "paymentmethod",
    "basecurr",
    "currency",
    "exchratedate",
    "exchratetype",
    "exchrate",
    "cctype",
    "authcode",
    "arpaymentitem",
    "onlinecardpayment",
    "onlineachpayment",
]


def fn_create_arpayment(ctx: Ctx, el: Element) -> list[Element]:
    check_order(
        el,
        _PAYMENT_ORDER,
        ("customerid", "paymentamount", "bankaccountid|undepfundsacct", "datereceived", "paymentmethod"),
    )
    label = "Payment"
    customer_id = text(el, "customerid")
    received = legacy_date(el, "datereceived", required=True)
    method = text(el, "paymentmethod")
    if method not in PAYMENT_METHODS:
        raise fail("BL01001973", f"Invalid payment method {method}.", "Could not create Payment record!")
    check_open_period(ctx, received, label)
    customer_for(ctx, customer_id, label)
    overpay_loc = text(el, "overpaylocid")  # where an unapplied remainder posts; optional
    if overpay_loc and (
        not ctx.store.find(ctx.company, "LOCATION", "LOCATIONID", overpay_loc)
        or (ctx.entity and overpay_loc != ctx.entity)
    ):
        raise fail(
            "BL01001973", f"Invalid overpayment location {overpay_loc}.", "Could not create Payment record!"
        )
    cash = amount_of(text(el, "paymentamount"), "paymentamount")
    apps: list[Application] = []
    seen: dict[str, Decimal] = {}
    for item in el.findall("arpaymentitem"):
        key, amount = text(item, "invoicekey"), amount_of(text(item, "amount"), "amount")
        if amount <= 0:
            raise fail(
                "BL01001973",
                f"The amount {fmt_number(amount)} applied to invoice {key} must be positive.",
                f"Could not create {label} record!",
            )
        seen[key] = seen.get(key, _ZERO) + amount
        obj, target = _invoice_for_payment(ctx, key, customer_id, seen[key], label)
        apps.append(Application(obj, target, amount))
    values: Record = {
        "CUSTOMERID": customer_id,
        "RECEIPTDATE": received,
        "PAYMENTMETHOD": method,
        "DOCNUMBER": text(el, "refid"),
        "CURRENCY": text(el, "currency"),
        **_financial_entity(ctx, text(el, "bankaccountid"), text(el, "undepfundsacct"), label),
    }
    rec = _new_payment(ctx, values, cash, apps, label)
    ctx.transactions += 1
    return [key_el(rec["RECORDNO"])]


def fn_apply_arpayment(ctx: Ctx, el: Element) -> list[Element]:
    """Apply an existing credit — a payment's unapplied amount (overpayment/advance) or a credit
    memo adjustment — to invoices."""
    check_order(
        el,
        [
            "arpaymentkey",
            "paymentdate",
            "batchkey",
            "memo",
            "overpaylocid",
            "overpaydeptid",
            "arpaymentitems",
        ],
        ("arpaymentkey", "arpaymentitems"),
    )
    label = "Payment application"
    key = text(el, "arpaymentkey")
    box = el.find("arpaymentitems")
    items = [] if box is None else box.findall("arpaymentitem")
    if not items:
        raise schema_error("Error 1871: Element 'arpaymentitems': Missing child element(s).")
    when = legacy_date(el, "paymentdate")
    payment = _payment(ctx, key)
    credit = (
        None
        if payment is not None
        else ctx.store.get(ctx.company, "ARADJUSTMENT", int(key))
        if is_int(key)
        else None
    )
    if payment is None and (credit is None or dec(credit.get("TOTALENTERED", "0")) >= 0):
        raise fail(
            "DL03000005", f"No record exists for the arpaymentkey {key}", f"Could not create {label} record!"
        )
    if payment is not None and payment.get("STATE") in ("V", "D"):
        state = "reversed" if payment["STATE"] == "V" else "a draft"
        raise fail("BL01001973", f"Payment {key} is {state}.", f"Could not create {label} record!")
    source = payment or credit
    assert source is not None
    customer_id = source["CUSTOMERID"]
    available = dec(source["TOTALDUE"]) if payment is not None else -dec(source["TOTALDUE"])
    total = _ZERO
    for item in items:
        ikey, amount = text(item, "invoicekey"), amount_of(text(item, "amount"), "amount")
        total += amount
        if total > available:
            raise fail(
                "BL01001973",
                f"The amount to apply exceeds the {fmt_number(available)} available.",
                f"Could not create {label} record!",
            )
        obj, target = _invoice_for_payment(ctx, ikey, customer_id, amount, label)
        target["_LASTPAID"] = when or source.get("WHENCREATED", "")
        if payment is not None:
            ctx.store.insert(
                ctx.company,
                "ARPYMTDETAIL",
                {
                    "PAYMENTKEY": payment["RECORDNO"],
                    "RECORDKEY": target["RECORDNO"],
                    "OVERPAYMENTKEY": payment["RECORDNO"],
                    "TRX_PAYMENTAMOUNT": fmt_number(amount),
                    "PAYMENTAMOUNT": fmt_number(amount),
                    "PAYMENTDATE": when or payment["RECEIPTDATE"],
                    "CURRENCY": payment["CURRENCY"],
                    "STATE": "C",
                },
            )
            set_amounts(payment, dec(payment["TOTALENTERED"]), dec(payment["TOTALPAID"]) + amount)
            ctx.store.update(ctx.company, "ARPYMT", payment)
        else:
            assert credit is not None
            _new_payment(
                ctx,
                {
                    "CUSTOMERID": customer_id,
                    "RECEIPTDATE": when or credit["WHENCREATED"],
                    "PAYMENTMETHOD": "Cash",
                    "DESCRIPTION": text(el, "memo"),
                    "FINANCIALENTITY": "",
                    "FINANCIALENTITYTYPE": "",
                },
                _ZERO,
                [Application(obj, target, _ZERO, credit, amount)],
                label,
            )
            credit = ctx.store.get(ctx.company, "ARADJUSTMENT", int(key))
            continue
        _apply(ctx, target, obj, amount)
    refresh_customer(ctx, customer_id)
    ctx.transactions += 1
    return [key_el(key)]


def _undo_payment(ctx: Ctx, payment: Record) -> None:
    for det in ctx.store.find(ctx.company, "ARPYMTDETAIL", "PAYMENTKEY", payment["RECORDNO"]):
        amount = dec(det.get("TRX_PAYMENTAMOUNT", "0"))
        credit_amount = dec(det.get("TRX_ADJUSTMENTAMOUNT", "0"))
        for obj in ("ARINVOICE", "ARADJUSTMENT"):
            # Fresh read per detail, so several details on one invoice all come off.
            target = ctx.store.get(ctx.company, obj, int(det["RECORDKEY"]))
            if target is not None:
                _apply(ctx, target, obj, -(amount + credit_amount))
                if det.get("ENTRYKEY"):
                    _apply_line(ctx, obj, det["ENTRYKEY"], -(amount + credit_amount))
                break
        if det.get("ADJUSTMENTKEY"):
            credit = ctx.store.get(ctx.company, "ARADJUSTMENT", int(det["ADJUSTMENTKEY"]))
            if credit is not None:
                _apply(ctx, credit, "ARADJUSTMENT", credit_amount)
    refresh_customer(ctx, payment.get("CUSTOMERID", ""))


def fn_reverse_arpayment(ctx: Ctx, el: Element) -> list[Element]:
    key = el.get("key", "")
    payment = _payment(ctx, key)
    if payment is None:
        raise fail(
            "DL03000005", f"No record exists for the paymentkey {key}", "Could not reverse Payment record!"
        )
    when = legacy_date(el, "datereversed", required=True)
    if payment.get("DISPLAYSTATE") == "Reversal":
        raise fail(
            "BL01001973",
            f"Payment {key} is a reversal and cannot be reversed.",
            "Could not reverse Payment record!",
        )
    if payment.get("STATE") == "V":
        raise fail("BL01001973", f"Payment {key} is already reversed.", "Could not reverse Payment record!")
    if payment.get("STATE") == "D":
        raise fail(
            "BL01001973",
            f"Payment {key} is a draft; delete it instead of reversing it.",
            "Could not reverse Payment record!",
        )
    check_open_period(ctx, when, "Payment reversal")
    _undo_payment(ctx, payment)
    # The reversal is a payment of its own with negative applications; it does not point back.
    rev = {k: v for k, v in payment.items() if k not in ("RECORDNO", "WHENMODIFIED", "AUWHENCREATED")}
    rev.update(
        {
            "RECEIPTDATE": when,
            "WHENCREATED": when,
            "PAYMENTDATE": when,
            "WHENPAID": when,
            # A reversal is voided too: STATE = 'V' finds both the original and its reversal.
            "STATE": "V",
            "DISPLAYSTATE": "Reversal",
            "DESCRIPTION": text(el, "memo") or f"Reversal of payment {key}",
        }
    )
    total, paid = dec(payment["TOTALENTERED"]), dec(payment["TOTALPAID"])
    set_amounts(rev, -total, -paid)
    rev = ctx.store.insert(ctx.company, "ARPYMT", rev)
    for det in ctx.store.find(ctx.company, "ARPYMTDETAIL", "PAYMENTKEY", key):
        neg = {k: v for k, v in det.items() if k not in ("RECORDNO", "WHENMODIFIED", "AUWHENCREATED")}
        neg["PAYMENTKEY"] = rev["RECORDNO"]
        neg["STATE"] = "V"
        for f in ("TRX_PAYMENTAMOUNT", "PAYMENTAMOUNT", "TRX_ADJUSTMENTAMOUNT", "ADJUSTMENTAMOUNT"):
            if neg.get(f):
                neg[f] = fmt_number(-dec(neg[f]))
        ctx.store.insert(ctx.company, "ARPYMTDETAIL", neg)
    payment["STATE"] = "V"
    payment["DISPLAYSTATE"] = "Voided"
    ctx.store.update(ctx.company, "ARPYMT", payment)
    ctx.transactions += 1
    return [key_el(rev["RECORDNO"])]


def raise_unsupported(name: str) -> IntacctError:
    return fail(
        "XL03000003",
        f"Error 1871: Element '{name}': This element is not expected.",
        description="XML Parse schema error",
    )
