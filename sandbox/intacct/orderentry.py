"""Order Entry: create_sotransaction / update_sotransaction and their A/R postings.

A posting `Sales Invoice` creates an ARINVOICE (MODULEKEY 8.SO) and sets PRRECORDKEY. A posting
`Sales Return` creates an ARADJUSTMENT credit memo (negative amounts, MODULEKEY 8.SO): Intacct
posts Order Entry returns that affect A/R as A/R adjustments (record type `ra`), which is also
where a payment's CREDITS application finds them. Editing a posted document deletes its A/R
record and posts a new one with a new RECORDNO, so the old key then gives DL03000005.
"""

from __future__ import annotations

from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement

from sandbox.intacct.ledger import (
    add_days,
    amount_of,
    base_fields,
    check_open_period,
    check_order,
    create_ar,
    customer_for,
    dec,
    delete_ar,
    key_el,
    legacy_date,
    line_location,
    term_days,
)
from sandbox.intacct.reads import text
from sandbox.intacct.records import Ctx
from sandbox.intacct.store import Record
from sandbox.intacct.values import fail, fmt_number, is_int, money

_SO_ORDER = [
    "transactiontype",
    "datecreated",
    "dateposted",
    "createdfrom",
    "customerid",
    "documentno",
    "origdocdate",
    "referenceno",
    "termname",
    "datedue",
    "message",
    "shippingmethod",
    "shipto",
    "billto",
    "supdocid",
    "externalid",
    "basecurr",
    "currency",
    "exchratedate",
    "exchratetype",
    "exchrate",
    "vsoepricelist",
    "customfields",
    "state",
    "projectid",
    "sotransitems",
    "subtotals",
]
_UPDATE_ORDER = [
    "datecreated",
    "dateposted",
    "referenceno",
    "termname",
    "datedue",
    "origdocdate",
    "message",
    "shippingmethod",
    "shipto",
    "billto",
    "supdocid",
    "externalid",
    "basecurr",
    "currency",
    "exchratedate",
    "exchratetype",
    "exchrate",
    "customfields",
    "state",
    "projectid",
    "updatesotransitems",
    "updatesubtotals",
]
_ITEM_ORDER = [
    "bundlenumber",
    "itemid",
    "itemdesc",
    "taxable",
    "warehouseid",
    "quantity",
    "unit",
    "linelevelsimpletaxtype",
    "discountpercent",
    "price",
    "sourcelinekey",
    "discsurchargememo",
    "locationid",
    "departmentid",
    "memo",
    "itemdetails",
    "customfields",
    "revrectemplate",
    "revrecstartdate",
    "revrecenddate",
    "renewalmacro",
    "projectid",
    "customerid",
    "vendorid",
    "employeeid",
    "classid",
    "contractid",
    "fulfillmentstatus",
    "taskno",
    "billingtemplate",
    "dropship",
    "shipto",
    "deliverydate",
]
_PREFIX = {"Sales Invoice": "SI", "Sales Return": "SR"}


def _entry(ctx: Ctx, node: Element, n: int, label: str) -> Record:
    check_order(node, _ITEM_ORDER, ("itemid", "quantity"))
    item_id = text(node, "itemid")
    found = ctx.store.find(ctx.company, "ITEM", "ITEMID", item_id)
    if not found:
        raise fail("BL01001973", f"Invalid item {item_id} on line {n}.", f"Could not create {label} record!")
    item = found[0]
    qty = amount_of(text(node, "quantity"), f"quantity on line {n}")
    price = amount_of(text(node, "price") or item.get("BASEPRICE", "0"), f"price on line {n}")
    value = money(qty * price)
    return {
        "ITEMID": item_id,
        "ITEMNAME": item.get("NAME", ""),
        "ITEMDESC": text(node, "itemdesc") or item.get("NAME", ""),
        "QUANTITY": fmt_number(qty),
        "UNIT": text(node, "unit") or "Each",
        "PRICE": fmt_number(price),
        "UIPRICE": fmt_number(price),
        "TRX_PRICE": fmt_number(price),
        "UIVALUE": fmt_number(value),
        "VALUE": fmt_number(value),
        "TRX_VALUE": fmt_number(value),
        "MULTIPLIER": "1",
        "MEMO": text(node, "memo"),
        "LOCATIONID": line_location(ctx, text(node, "locationid"), label, n),
        "DEPARTMENTID": text(node, "departmentid"),
        "_GL": item.get("INCOMEGLACCOUNTNO", "4000"),
    }


def _post(ctx: Ctx, doc: Record, entries: list[Record]) -> None:
    """Post the document to A/R and point PRRECORDKEY at the new record."""
    is_return = doc["DOCPARID"] == "Sales Return"
    sign = Decimal(-1) if is_return else Decimal(1)
    lines: list[Record] = []
    for n, e in enumerate(entries, start=1):
        amount = sign * dec(e["UIVALUE"])
        gl = ctx.store.find(ctx.company, "GLACCOUNT", "ACCOUNTNO", e.get("_GL", "4000"))
        lines.append(
            {
                "ACCOUNTNO": e.get("_GL", "4000"),
                "ACCOUNTTITLE": gl[0].get("TITLE", "") if gl else "",
                "OFFSETGLACCOUNTNO": "1200",
                "AMOUNT": fmt_number(amount),
                "TRX_AMOUNT": fmt_number(amount),
                "ENTRYDESCRIPTION": e.get("MEMO") or e.get("ITEMDESC", ""),
                "LOCATIONID": e.get("LOCATIONID", ""),
                "DEPARTMENTID": e.get("DEPARTMENTID", ""),
                "LINE_NO": str(n),
                "ITEMID": e["ITEMID"],
                "TOTALPAID": "0",
                "TRX_TOTALPAID": "0",
            }
        )
    obj = "ARADJUSTMENT" if is_return else "ARINVOICE"
    header: Record = {
        "CUSTOMERID": doc["CUSTVENDID"],
        "WHENCREATED": doc["WHENCREATED"],
        "WHENPOSTED": doc["WHENCREATED"],
        "RECORDID": doc["DOCNO"],
        "DOCNUMBER": doc.get("PONUMBER", ""),
        "DESCRIPTION": doc.get("MESSAGE", ""),
        "CURRENCY": doc.get("CURRENCY", ""),
        "MODULEKEY": "8.SO",
        "RECORDTYPE": "ra" if is_return else "ri",
    }
    if not is_return:
        header.update({"WHENDUE": doc.get("WHENDUE", ""), "TERMNAME": doc.get("TERM.NAME", "")})
    ar = create_ar(ctx, obj, header, lines, doc["DOCPARID"])
    doc["PRRECORDKEY"] = ar["RECORDNO"]
    doc["WHENPOSTED"] = doc["WHENCREATED"]


def _totals(doc: Record, entries: list[Record]) -> None:
    total = sum((dec(e["UIVALUE"]) for e in entries), Decimal(0))
    for f in ("SUBTOTAL", "TOTAL", "TRX_SUBTOTAL", "TRX_TOTAL", "TOTALDUE", "TRX_TOTALDUE"):
        doc[f] = fmt_number(total)
    doc["TOTALPAID"] = doc["TRX_TOTALPAID"] = "0"


def _save_entries(ctx: Ctx, doc: Record, entries: list[Record]) -> None:
    for old in ctx.store.find(ctx.company, "SODOCUMENTENTRY", "DOCHDRNO", doc["RECORDNO"]):
        ctx.store.delete(ctx.company, "SODOCUMENTENTRY", int(old["RECORDNO"]))
    for n, e in enumerate(entries):
        row = {k: v for k, v in e.items() if k != "RECORDNO" and k not in ("WHENMODIFIED", "AUWHENCREATED")}
        row.update(
            {
                "DOCHDRNO": doc["RECORDNO"],
                "DOCHDRID": doc["DOCID"],
                "DOCPARID": doc["DOCPARID"],
                "LINE_NO": str(n),
                "STATE": doc["STATE"],
                "WHENCREATED": doc["WHENCREATED"],
            }
        )
        ctx.store.insert(ctx.company, "SODOCUMENTENTRY", row)


def fn_create_sotransaction(ctx: Ctx, el: Element) -> list[Element]:
    check_order(el, _SO_ORDER, ("transactiontype", "datecreated", "customerid", "sotransitems"))
    docpar = text(el, "transactiontype")
    params = ctx.store.find(ctx.company, "SODOCUMENTPARAMS", "DOCID", docpar)
    if not params:
        raise fail(
            "BL01001973", f"Invalid transaction definition {docpar}.", "Could not create Document record!"
        )
    label = docpar
    created = legacy_date(el, "datecreated", required=True)
    state = text(el, "state") or "Pending"
    if state not in ("Draft", "Pending", "Closed"):
        raise fail("BL01001973", f"Invalid state {state}.", f"Could not create {label} record!")
    if state != "Draft":
        check_open_period(ctx, created, label)
    cust = customer_for(ctx, text(el, "customerid"), label)
    docno = text(el, "documentno")
    if not docno:
        existing = ctx.store.find(ctx.company, "SODOCUMENT", "DOCPARID", docpar)
        docno = f"{_PREFIX.get(docpar, 'SO')}-{len(existing) + 1:05d}"
    docid = f"{docpar}-{docno}"
    if ctx.store.find(ctx.company, "SODOCUMENT", "DOCID", docid):
        raise fail(
            "BL01001973",
            f"Another record with the value {docid} already exists.",
            f"Could not create {label} record!",
            correction="Use a unique document number",
        )
    term = text(el, "termname")
    due = legacy_date(el, "datedue")
    if term:
        due = due or add_days(created, term_days(ctx, term, label))
    box = el.find("sotransitems")
    nodes = [] if box is None else box.findall("sotransitem")
    if not nodes:
        raise fail(
            "BL01001973", "A transaction needs at least one line.", f"Could not create {label} record!"
        )
    entries = [_entry(ctx, node, n, label) for n, node in enumerate(nodes, start=1)]
    doc: Record = {
        "DOCNO": docno,
        "DOCID": docid,
        "DOCPARID": docpar,
        "DOCPARKEY": params[0]["RECORDNO"],
        "DOCPARCLASS": params[0].get("DOCCLASS", ""),
        "STATE": state,
        "WHENCREATED": created,
        "WHENDUE": due,
        "CUSTVENDID": cust["CUSTOMERID"],
        "CUSTVENDNAME": cust.get("NAME", ""),
        "CUSTREC": cust["RECORDNO"],
        "PONUMBER": text(el, "referenceno"),
        "MESSAGE": text(el, "message"),
        "TERM.NAME": term,
        "BASECURR": str(ctx.settings.get("base_currency", "USD")),
        "CURRENCY": text(el, "currency") or "USD",
        "_EXTERNALID": text(el, "externalid"),
        **base_fields(ctx),
    }
    _totals(doc, entries)
    doc = ctx.store.insert(ctx.company, "SODOCUMENT", doc)
    if state != "Draft":
        _post(ctx, doc, entries)
        ctx.store.update(ctx.company, "SODOCUMENT", doc)
    _save_entries(ctx, doc, entries)
    ctx.transactions += 1
    return [key_el(docid)]


def fn_update_sotransaction(ctx: Ctx, el: Element) -> list[Element]:
    check_order(el, _UPDATE_ORDER)
    docid = el.get("key", "")
    found = [
        d
        for d in ctx.store.find(ctx.company, "SODOCUMENT", "DOCID", docid)
        if ctx.visible("SODOCUMENT", d, True)
    ]
    if not found:
        raise fail(
            "BL01001973",
            f"Transaction {docid} not found.",
            "Could not update Document record!",
            correction="Give the DOCID (transaction definition and document number) as key",
        )
    doc = found[0]
    label = doc["DOCPARID"]
    ar_obj = "ARADJUSTMENT" if doc["DOCPARID"] == "Sales Return" else "ARINVOICE"
    old_ar = ctx.store.get(ctx.company, ar_obj, int(doc["PRRECORDKEY"])) if doc.get("PRRECORDKEY") else None
    if old_ar is not None and dec(old_ar.get("TOTALPAID", "0")) != 0:
        raise fail(
            "BL01001973",
            f"{docid} has payments applied and cannot be edited.",
            f"Could not update {label} record!",
            correction="Reverse the payments first",
        )
    created = legacy_date(el, "datecreated") or doc["WHENCREATED"]
    doc["WHENCREATED"] = created
    for tag, field in (("referenceno", "PONUMBER"), ("message", "MESSAGE"), ("termname", "TERM.NAME")):
        if el.find(tag) is not None:
            doc[field] = text(el, tag)
    due = legacy_date(el, "datedue")
    if el.find("termname") is not None and doc.get("TERM.NAME") and not due:
        due = add_days(created, term_days(ctx, doc["TERM.NAME"], label))
    if due:
        doc["WHENDUE"] = due
    state = text(el, "state") or doc["STATE"]
    if doc["STATE"] != "Draft" and state == "Draft":
        raise fail(
            "BL01001973", "A posted transaction cannot go back to Draft.", f"Could not update {label} record!"
        )
    doc["STATE"] = state
    entries = [
        {k: v for k, v in e.items() if k not in ("RECORDNO",)}
        for e in ctx.store.find(ctx.company, "SODOCUMENTENTRY", "DOCHDRNO", doc["RECORDNO"])
    ]
    for e in entries:
        item = ctx.store.find(ctx.company, "ITEM", "ITEMID", e["ITEMID"])
        e["_GL"] = item[0].get("INCOMEGLACCOUNTNO", "4000") if item else "4000"
    box = el.find("updatesotransitems")
    for node in [] if box is None else list(box):
        if node.tag == "sotransitem":
            entries.append(_entry(ctx, node, len(entries) + 1, label))
        elif node.tag == "updatesotransitem":
            line = node.get("line_num", "")
            if not is_int(line) or not 1 <= int(line) <= len(entries):
                raise fail("BL01001973", f"Invalid line_num {line}.", f"Could not update {label} record!")
            e = entries[int(line) - 1]
            base = Element("sotransitem")
            for tag in (
                "itemid",
                "itemdesc",
                "quantity",
                "unit",
                "price",
                "locationid",
                "departmentid",
                "memo",
            ):
                value = (
                    text(node, tag)
                    or {
                        "itemid": e["ITEMID"],
                        "itemdesc": e.get("ITEMDESC", ""),
                        "quantity": e["QUANTITY"],
                        "unit": e.get("UNIT", ""),
                        "price": e["UIPRICE"],
                        "locationid": e.get("LOCATIONID", ""),
                        "departmentid": e.get("DEPARTMENTID", ""),
                        "memo": e.get("MEMO", ""),
                    }[tag]
                )
                if value:
                    SubElement(base, tag).text = value
            entries[int(line) - 1] = _entry(ctx, base, int(line), label)
        else:
            raise fail(
                "XL03000003",
                f"Error 1871: Element '{node.tag}': This element is not expected.",
                description="XML Parse schema error",
            )
    _totals(doc, entries)
    if state != "Draft":
        check_open_period(ctx, created, label)
        if old_ar is not None:
            delete_ar(ctx, ar_obj, old_ar)
        _post(ctx, doc, entries)
    doc.update(base_fields(ctx) | {k: doc[k] for k in ("MEGAENTITYKEY", "MEGAENTITYID", "MEGAENTITYNAME")})
    ctx.store.update(ctx.company, "SODOCUMENT", doc)
    _save_entries(ctx, doc, entries)
    ctx.transactions += 1
    return [key_el(docid)]
