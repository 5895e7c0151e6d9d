"""Legacy update_invoice and update_aradjustment: change a posted A/R document in place.

Intacct's rules: while nothing is applied every field may change, lines included; once anything
is applied only the fields that do not touch the GL may change. An invoice's lines stay locked
even after its payments are reversed (ledger.EVER_APPLIED); an adjustment is locked only while it
is applied. Documents posted by Order Entry are changed through their Order Entry document.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.ledger import (
    EVER_APPLIED,
    add_days,
    amount_of,
    ar_line,
    ar_state,
    check_item,
    check_open_period,
    check_order,
    customer_for,
    dec,
    gl_account,
    item_record,
    key_el,
    legacy_date,
    line_location,
    refresh_customer,
    set_amounts,
    term_days,
)
from sandbox.intacct.reads import schema_error, text
from sandbox.intacct.records import Ctx
from sandbox.intacct.store import Record
from sandbox.intacct.values import IntacctError, fail, fmt_number, is_int

_ZERO = Decimal(0)

# v3.0 api.xsd sequences (every element optional). The currency group is
# (currency, ((exchratedate?, exchratetype) | exchrate))?, checked by _check_currency.
UPDATE_INVOICE_ORDER = [
    "customerid",
    "datecreated",
    "dateposted",
    "datedue",
    "termname",
    "action",
    "invoiceno",
    "ponumber",
    "description",
    "payto",
    "returnto",
    "currency",
    "exchratedate",
    "exchratetype",
    "exchrate",
    "supdocid",
    "customfields",
    "updateinvoiceitems",
]
UPDATE_ADJUSTMENT_ORDER = [
    "customerid",
    "datecreated",
    "dateposted",
    "adjustmentno",
    "action",
    "invoiceno",
    "description",
    "currency",
    "exchratedate",
    "exchratetype",
    "exchrate",
    "updatearadjustmentitems",
]
# <updatelineitem line_num="n">: (accountlabel | glaccountno)? first, then the rest in order.
UPDATE_LINE_ORDER = [
    "accountlabel",
    "glaccountno",
    "offsetglaccountno",
    "amount",
    "memo",
    "locationid",
    "departmentid",
    "item1099",
    "form1099type",
    "form1099box",
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
    "billable",
    "totaltrxamount",
    "partialexempt",
    "paymenttaxcapture",
    "taxentries",
]
# Text fields of an updatelineitem and the item field each sets.
_LINE_TEXT = (
    ("memo", "ENTRYDESCRIPTION"),
    ("departmentid", "DEPARTMENTID"),
    ("projectid", "PROJECTID"),
    ("classid", "CLASSID"),
)


@dataclass(frozen=True)
class _Kind:
    """What differs between the two functions."""

    obj: str  # ARINVOICE / ARADJUSTMENT
    label: str  # "Invoice" / "Adjustment" (as in "Could not update Invoice record!")
    keyname: str  # invoicekey / adjustmentkey (as in the DL03000005 text)
    order: list[str]
    items: str  # updateinvoiceitems / updatearadjustmentitems
    # header element -> record field, for the text fields that never touch the GL
    texts: tuple[tuple[str, str], ...]


_INVOICE = _Kind(
    "ARINVOICE",
    "Invoice",
    "invoicekey",
    UPDATE_INVOICE_ORDER,
    "updateinvoiceitems",
    (("invoiceno", "RECORDID"), ("ponumber", "DOCNUMBER"), ("description", "DESCRIPTION")),
)
_ADJUSTMENT = _Kind(
    "ARADJUSTMENT",
    "Adjustment",
    "adjustmentkey",
    UPDATE_ADJUSTMENT_ORDER,
    "updatearadjustmentitems",
    (("adjustmentno", "RECORDID"), ("invoiceno", "DOCNUMBER"), ("description", "DESCRIPTION")),
)


def fn_update_invoice(ctx: Ctx, el: Element) -> list[Element]:
    return _update(ctx, el, _INVOICE)


def fn_update_aradjustment(ctx: Ctx, el: Element) -> list[Element]:
    return _update(ctx, el, _ADJUSTMENT)


# -- schema --------------------------------------------------------------------------------------
def _bool_attr(el: Element, name: str) -> bool:
    value = el.get(name, "false")
    if value not in ("true", "false"):
        raise schema_error(
            f"Error 1824: Element '{el.tag}', attribute '{name}': [facet 'enumeration'] The value "
            f"'{value}' is not an element of the set {{'true', 'false'}}."
        )
    return value == "true"


def _check_schema(el: Element, kind: _Kind) -> tuple[bool, bool]:
    """Validate like the xsd; returns the (externalkey, set_nulls) attributes."""
    if el.get("key") is None:
        raise schema_error(f"Error 1868: Element '{el.tag}': The attribute 'key' is required but missing.")
    flags = _bool_attr(el, "externalkey"), _bool_attr(el, "set_nulls")
    check_order(el, kind.order)
    _check_currency(el)
    box = el.find(kind.items)
    if box is None:
        return flags
    if not len(box):
        raise schema_error(
            f"Error 1871: Element '{kind.items}': Missing child element(s). "
            "Expected is one of ( lineitem, updatelineitem )."
        )
    for node in box:
        # The xsd's choice: lineitem and updatelineitem may come in any order, mixed.
        if node.tag not in ("lineitem", "updatelineitem"):
            raise schema_error(f"Error 1871: Element '{node.tag}': This element is not expected.")
        if node.tag == "updatelineitem":
            if node.get("line_num") is None:
                raise schema_error(
                    "Error 1868: Element 'updatelineitem': The attribute 'line_num' is required but missing."
                )
            check_order(node, UPDATE_LINE_ORDER)
            _check_update_line(node)
    return flags


def _check_currency(el: Element) -> None:
    """(currency, ((exchratedate?, exchratetype) | exchrate))? — all or nothing, in that shape."""
    has = {tag: el.find(tag) is not None for tag in ("currency", "exchratedate", "exchratetype", "exchrate")}
    if not any(has.values()):
        return
    if not has["currency"]:
        first = next(tag for tag, present in has.items() if present)
        raise schema_error(
            f"Error 1871: Element '{first}': This element is not expected. Expected is ( currency )."
        )
    if has["exchrate"] and (has["exchratetype"] or has["exchratedate"]):
        raise schema_error("Error 1871: Element 'exchrate': This element is not expected.")
    if not (has["exchrate"] or has["exchratetype"]):
        raise schema_error(
            f"Error 1871: Element '{el.tag}': Missing child element(s). "
            "Expected is one of ( exchratedate, exchratetype, exchrate )."
        )


def _check_update_line(node: Element) -> None:
    if node.find("accountlabel") is not None and node.find("glaccountno") is not None:
        raise schema_error("Error 1871: Element 'glaccountno': This element is not expected.")
    # (projectid, (taskid, costtypeid?)?)?
    if node.find("taskid") is not None and node.find("projectid") is None:
        raise schema_error("Error 1871: Element 'taskid': This element is not expected.")
    if node.find("costtypeid") is not None and node.find("taskid") is None:
        raise schema_error("Error 1871: Element 'costtypeid': This element is not expected.")


# -- the update ----------------------------------------------------------------------------------
@dataclass
class _Update:
    """One update_* call: the record, what the request holds, and how to refuse."""

    ctx: Ctx
    el: Element
    kind: _Kind
    rec: Record
    set_nulls: bool

    def refuse(self, message: str, correction: str = "") -> IntacctError:
        return fail(
            "BL01001973",
            message,
            f"Could not update {self.kind.label} record!",
            correction=correction,
        )

    def given(self, tag: str, node: Element | None = None) -> str | None:
        """The new value of an element: None when it changes nothing (absent, or empty without
        set_nulls="true"); "" clears the field."""
        src = self.el if node is None else node
        child = src.find(tag)
        if child is None:
            return None
        value = (child.text or "").strip()
        if not value and not self.set_nulls:
            return None
        return value


def _record(ctx: Ctx, el: Element, kind: _Kind, externalkey: bool) -> Record:
    key = el.get("key", "")
    rec: Record | None = None
    if externalkey:
        found = [r for r in ctx.store.find(ctx.company, kind.obj, "_EXTERNALID", key) if key]
        rec = found[0] if found else None
    elif is_int(key):
        rec = ctx.store.get(ctx.company, kind.obj, int(key))
    if rec is None or not ctx.visible(kind.obj, rec, True):
        raise fail(
            "DL03000005",
            f"No record exists for the {kind.keyname} {key}",
            f"Could not update {kind.label} record!",
            description="Invalid key",
            correction="Check the key; the record may have been deleted or recreated",
        )
    return rec


def _update(ctx: Ctx, el: Element, kind: _Kind) -> list[Element]:
    externalkey, set_nulls = _check_schema(el, kind)
    up = _Update(ctx, el, kind, _record(ctx, el, kind, externalkey), set_nulls)
    rec, key, label = up.rec, up.rec["RECORDNO"], kind.label
    if rec.get("STATE") in ("Reversed", "Reversal"):
        raise up.refuse(
            f"{label} {key} is {'reversed' if rec['STATE'] == 'Reversed' else 'a reversal'} and cannot be "
            "updated.",
            "Create a new invoice instead",
        )
    if rec.get("MODULEKEY") == "8.SO":
        docs = ctx.store.find(ctx.company, "SODOCUMENT", "PRRECORDKEY", key)
        doc = docs[0]["DOCID"] if docs else "its Order Entry document"
        raise up.refuse(
            f"{label} {key} was posted by Order Entry ({doc}); it cannot be updated in Accounts Receivable.",
            "Change the Order Entry document (update_sotransaction) instead",
        )
    action = text(el, "action")
    if action == "Draft":
        raise up.refuse(f"{label} {key} is posted and cannot go back to Draft.")
    if action not in ("", "Submit", "Posted"):
        raise up.refuse(f"Invalid action {action}: use Draft or Submit.")
    _check_locks(up)
    old_customer = rec["CUSTOMERID"]
    _header(up)
    lines = _lines(up)
    if el.find(kind.items) is not None:
        # Only a line change moves the totals (seeded records may have no lines at all).
        total = sum((dec(line["AMOUNT"]) for line in lines), _ZERO)
        if kind.obj == "ARADJUSTMENT":
            _check_sign(up, total)
        set_amounts(rec, total, dec(rec.get("TOTALPAID", "0")))
        rec["STATE"] = ar_state(rec)
    ctx.store.update(ctx.company, kind.obj, rec)  # WHENMODIFIED moves
    item_obj = f"{kind.obj}ITEM"
    for line in lines:
        # Lines carry header values (date, customer, currency, state): rewrite those that differ.
        item = {**line, **item_record(kind.obj, rec, line)}
        if not line.get("RECORDNO"):
            ctx.store.insert(ctx.company, item_obj, item)
        elif item != ctx.store.get(ctx.company, item_obj, int(line["RECORDNO"])):
            ctx.store.update(ctx.company, item_obj, item)
    refresh_customer(ctx, rec["CUSTOMERID"])
    if old_customer != rec["CUSTOMERID"]:
        refresh_customer(ctx, old_customer)
    ctx.transactions += 1
    return [key_el(key)]


def _locked(up: _Update) -> str:
    """Why the GL side of the record cannot change ("" when it can)."""
    rec, key = up.rec, up.rec["RECORDNO"]
    paid = dec(rec.get("TOTALPAID", "0"))
    if up.kind.obj == "ARADJUSTMENT":
        return f"Adjustment {key} is applied" if paid != 0 else ""
    if paid != 0:
        return f"Invoice {key} has payments applied"
    if rec.get(EVER_APPLIED):
        return f"Invoice {key} has had payments applied (line items stay locked after a reversal)"
    return ""


def _check_locks(up: _Update) -> None:
    """Once anything is applied only the fields that do not touch the GL may change: the number,
    reference, description, terms and due date (and contacts, attachments, custom fields)."""
    why = _locked(up)
    if not why:
        return
    rec, el = up.rec, up.el
    fix = (
        "Reverse the payments and the invoice, then create a new invoice"
        if up.kind.obj == "ARINVOICE"
        else "Reverse the payment that applied the adjustment first"
    )
    if el.find(up.kind.items) is not None:
        raise up.refuse(f"{why}; its line items cannot be changed.", fix)
    for tag, field, what in (
        ("datecreated", "WHENCREATED", "date"),
        ("dateposted", "WHENPOSTED", "GL posting date"),
    ):
        if el.find(tag) is not None and legacy_date(el, tag) != rec.get(field, ""):
            raise up.refuse(f"{why}; its {what} cannot be changed.", fix)
    customer = up.given("customerid")
    if customer is not None and customer != rec["CUSTOMERID"]:
        raise up.refuse(f"{why}; its customer cannot be changed.", fix)
    currency = up.given("currency")
    if currency is not None and currency != rec.get("CURRENCY", ""):
        raise up.refuse(f"{why}; its currency cannot be changed.", fix)
    if any(el.find(tag) is not None for tag in ("exchratedate", "exchratetype", "exchrate")):
        raise up.refuse(f"{why}; its exchange rate cannot be changed.", fix)


def _header(up: _Update) -> None:
    ctx, el, rec, label = up.ctx, up.el, up.rec, up.kind.label
    if rec.get("WHENPOSTED", "") and (
        el.find(up.kind.items) is not None
        or el.find("datecreated") is not None
        or el.find("dateposted") is not None
    ):
        # A posted document in a closed period keeps its GL side.
        check_open_period(ctx, rec["WHENPOSTED"], label, action="update")
    created = legacy_date(el, "datecreated")
    if created == rec["WHENCREATED"]:
        created = ""  # the current date again: no change (and no new due date)
    if created:
        check_open_period(ctx, created, label, action="update")
        if rec.get("WHENPOSTED") == rec["WHENCREATED"] and el.find("dateposted") is None:
            rec["WHENPOSTED"] = created  # posted on its date, as create does by default
        rec["WHENCREATED"] = created
    posted = legacy_date(el, "dateposted")
    if posted:
        check_open_period(ctx, posted, label, action="update")
        rec["WHENPOSTED"] = posted
    customer = up.given("customerid")
    if customer is not None and customer != rec["CUSTOMERID"]:
        cust = customer_for(ctx, customer, label, action="update")
        rec["CUSTOMERID"], rec["CUSTOMERNAME"] = customer, cust.get("NAME", "")
    for tag, field in up.kind.texts:
        value = up.given(tag)
        if value is not None:
            rec[field] = value
    currency = up.given("currency")
    if currency is not None:
        rec["CURRENCY"] = currency or rec.get("BASECURR", "")
    if up.kind.obj == "ARINVOICE":
        _due(up, created)
    for tag, field in (("payto", "BILLTOPAYTOCONTACTNAME"), ("returnto", "SHIPTORETURNTOCONTACTNAME")):
        node = el.find(tag)
        if node is not None:
            name = up.given("contactname", node)
            if name is not None:
                rec[field] = name


def _due(up: _Update, created: str) -> None:
    """termname / datedue: an explicit due date wins; otherwise a new term or a new invoice date
    moves the due date by the term's days, as create_invoice computes it."""
    ctx, el, rec = up.ctx, up.el, up.rec
    term = up.given("termname")
    if term:
        term_days(ctx, term, up.kind.label, action="update")
    if term is not None:
        rec["TERMNAME"] = term
    due = legacy_date(el, "datedue")
    if due:
        rec["WHENDUE"] = due
    elif rec.get("TERMNAME") and (term or created):
        days = term_days(ctx, rec["TERMNAME"], up.kind.label, action="update")
        rec["WHENDUE"] = add_days(rec["WHENCREATED"], days)


def _lines(up: _Update) -> list[Record]:
    """The record's lines after the updatelineitem / lineitem elements, in line order."""
    ctx, kind, rec = up.ctx, up.kind, up.rec
    lines = sorted(
        ctx.store.find(ctx.company, f"{kind.obj}ITEM", "RECORDKEY", rec["RECORDNO"]),
        key=lambda r: int(r.get("LINE_NO") or 0),
    )
    box = up.el.find(kind.items)
    for node in [] if box is None else list(box):
        if node.tag == "lineitem":
            n = len(lines) + 1
            loc = _location(up, (node.findtext("locationid") or "").strip(), n)
            lines.append(ar_line(ctx, node, n, kind.label, "update", location=loc))
            continue
        num = node.get("line_num", "").strip()
        if not is_int(num) or not 1 <= int(num) <= len(lines):
            raise up.refuse(
                f"Line {num} does not exist on {kind.label.lower()} {rec['RECORDNO']} "
                f"(it has {len(lines)} line{'s' if len(lines) != 1 else ''}).",
                "line_num is the 1-based number of an existing line; use lineitem to add one",
            )
        _change_line(up, node, lines[int(num) - 1], int(num))
    return lines


def _change_line(up: _Update, node: Element, line: Record, n: int) -> None:
    ctx, label = up.ctx, up.kind.label
    if node.find("accountlabel") is not None:
        raise up.refuse(
            f"Invalid account label {text(node, 'accountlabel')} on line {n}.",
            "The sandbox has no account labels; use glaccountno",
        )
    acct_no = up.given("glaccountno", node)
    if acct_no is not None:
        acct = gl_account(ctx, acct_no, label, n, action="update")
        line.update(
            {
                "ACCOUNTNO": acct["ACCOUNTNO"],
                "ACCOUNTTITLE": acct.get("TITLE", ""),
                "ACCOUNTKEY": acct["RECORDNO"],
            }
        )
    offset = up.given("offsetglaccountno", node)
    if offset is not None:
        acct = gl_account(ctx, offset, label, n, action="update")
        line["OFFSETGLACCOUNTNO"] = acct["ACCOUNTNO"]
        line["OFFSETGLACCOUNTTITLE"] = acct.get("TITLE", "")
    raw = text(node, "amount")
    if raw:
        amount = amount_of(raw, f"line {n}")
        line["AMOUNT"] = line["TRX_AMOUNT"] = fmt_number(amount)
    loc = up.given("locationid", node)
    if loc is not None:
        line["LOCATIONID"] = _location(up, loc, n)
    item_id = up.given("itemid", node)
    if item_id is not None:
        check_item(ctx, item_id, label, n, action="update")
        line["ITEMID"] = item_id
    for tag, field in _LINE_TEXT:
        value = up.given(tag, node)
        if value is not None:
            line[field] = value


def _location(up: _Update, loc: str, n: int) -> str:
    """A line's location: the session's rules (line_location), and on a record that belongs to an
    entity, that entity (a top-level session may reach entity records by key)."""
    owner = up.rec.get("MEGAENTITYID", "")
    if not loc and owner:
        return owner
    loc = line_location(up.ctx, loc, up.kind.label, n, action="update")
    if owner and loc != owner:
        raise up.refuse(f"Location {loc} is not in entity {owner}.")
    return loc


def _check_sign(up: _Update, total: Decimal) -> None:
    """A credit memo (negative) stays a credit memo, a debit memo stays a debit memo."""
    rec = up.rec
    kind = rec.get("_MEMOKIND") or ("credit" if dec(rec.get("TOTALENTERED", "0")) < 0 else "debit")
    rec["_MEMOKIND"] = kind
    if kind == "credit" and total > 0:
        raise up.refuse(
            f"Adjustment {rec['RECORDNO']} is a credit memo; its total cannot become positive "
            f"({fmt_number(total)}).",
            "Create a separate debit memo",
        )
    if kind == "debit" and total < 0:
        raise up.refuse(
            f"Adjustment {rec['RECORDNO']} is a debit memo; its total cannot become negative "
            f"({fmt_number(total)}).",
            "Create a separate credit memo",
        )
