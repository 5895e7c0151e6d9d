"""Business rules of the AR ledger: customers, invoices, credit notes, payments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.blixo import validate as v
from sandbox.blixo.core import JsonObj, bad, money
from sandbox.blixo.repo import Tx

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
PAYMENT_METHODS = ("check", "cash", "ach", "wire", "credit_card", "other")
# Convenience fees are surcharges on online payments.
FEE_METHODS = ("credit_card", "ach")


def _drop_nulls(body: JsonObj, fields: tuple[str, ...]) -> JsonObj:
    """`null` for a field that has a default means "not set": the default on create, unchanged
    on PATCH (clearing a currency or a status would leave the object invalid). Other optional
    fields take `null` as "clear"."""
    return {k: x for k, x in body.items() if not (x is None and k in fields)}


def _required(body: JsonObj, *names: str) -> None:
    for name in names:
        if body.get(name) is None:
            raise bad(f"{name} is required", name)


def _number(tx: Tx, kind: str, field: str, value: Any, own_id: str) -> str | None:
    """An object's number (customerNo, invoiceNo, creditNoteNo): unique per account; `null`
    leaves it unset (generated on create) or clears it (PATCH)."""
    if value is None:
        return None
    number = v.string(value, field, max_len=64)
    if tx.number_taken(kind, number, own_id):
        raise bad(f"{field} {number} is already used", field)
    return number


# ---------------------------------------------------------------------------------------------
# customers

CUSTOMER_FIELDS = frozenset(
    {"customerNo", "name", "email", "phone", "address", "currency", "paymentTerms", "status", "metadata"}
)
ADDRESS_FIELDS = frozenset({"line1", "line2", "city", "state", "postalCode", "country"})


def _address(value: Any) -> JsonObj | None:
    if value is None:
        return None
    body = v.obj(value, "address")
    v.check_keys(body, ADDRESS_FIELDS, prefix="address.")
    return {k: v.opt_string(body.get(k), f"address.{k}") for k in sorted(ADDRESS_FIELDS)}


def _apply_customer_fields(tx: Tx, cust: JsonObj, body: JsonObj) -> None:
    if "customerNo" in body:
        cust["customerNo"] = _number(tx, "customer", "customerNo", body["customerNo"], cust["id"])
    if "name" in body:
        cust["name"] = v.string(body["name"], "name")
    if "email" in body:
        cust["email"] = v.email(body["email"])
    if "phone" in body:
        cust["phone"] = v.opt_string(body["phone"], "phone", max_len=40)
    if "address" in body:
        cust["address"] = _address(body["address"])
    if "currency" in body:
        cust["currency"] = v.currency(body["currency"])
    if "paymentTerms" in body:
        cust["paymentTerms"] = v.opt_string(body["paymentTerms"], "paymentTerms", max_len=64)
    if "status" in body:
        cust["status"] = v.choice(body["status"], "status", ("active", "archived"))
    if "metadata" in body:
        cust["metadata"] = v.metadata(body["metadata"], cust.get("metadata"))


CUSTOMER_DEFAULTED = ("currency", "status")


def create_customer(tx: Tx, body: JsonObj) -> JsonObj:
    v.check_keys(body, CUSTOMER_FIELDS)
    body = _drop_nulls(body, CUSTOMER_DEFAULTED)
    _required(body, "name")
    cust: JsonObj = {
        "id": tx.new_id("customer"),
        "customerNo": None,
        "name": None,
        "email": None,
        "phone": None,
        "address": None,
        "currency": "USD",
        "paymentTerms": None,
        "status": "active",
        "metadata": {},
    }
    _apply_customer_fields(tx, cust, body)
    if cust["customerNo"] is None:
        cust["customerNo"] = _free_number(tx, "customer", "CUST")
    return tx.save("customer", cust)


def update_customer(tx: Tx, cust_id: str, body: JsonObj) -> JsonObj:
    v.check_keys(body, CUSTOMER_FIELDS)
    body = _drop_nulls(body, CUSTOMER_DEFAULTED)
    cust = tx.require("customer", cust_id)
    _apply_customer_fields(tx, cust, body)
    return tx.save("customer", cust)


def delete_customer(tx: Tx, cust_id: str) -> JsonObj:
    tx.require("customer", cust_id)
    if tx.has_documents(cust_id):
        raise bad("This customer has invoices, credit notes or payments; archive it instead", "id")
    tx.delete("customer", cust_id)
    return {"id": cust_id, "deleted": True}


def _free_number(tx: Tx, kind: str, prefix: str) -> str:
    while True:  # skip numbers a client chose explicitly
        number = f"{prefix}-{tx.next_number(kind):05d}"
        if not tx.number_taken(kind, number):
            return number


# ---------------------------------------------------------------------------------------------
# documents (invoices and credit notes share lines, discounts, taxes and totals)

ITEM_FIELDS = frozenset({"name", "description", "quantity", "unitPrice", "amount", "metadata"})
ADJUSTMENT_FIELDS = frozenset({"name", "rate", "amount"})
TOTAL_FIELDS = ("subtotal", "discountTotal", "taxTotal", "total")


def _items(value: Any) -> list[JsonObj]:
    if not isinstance(value, list) or not value:
        raise bad("items must be a non-empty list of line items", "items")
    if len(value) > 500:
        raise bad("items may hold at most 500 lines", "items")
    out = []
    for i, raw in enumerate(value):
        p = f"items[{i}]"
        item = v.obj(raw, p)
        v.check_keys(item, ITEM_FIELDS, prefix=f"{p}.")
        name = None if item.get("name") is None else v.string(item["name"], f"{p}.name")
        description = v.opt_string(item.get("description"), f"{p}.description", max_len=2000)
        if name is None and not (description or "").strip():
            raise bad(f"{p} needs a name or a description", f"{p}.name")
        raw_quantity = item.get("quantity")
        quantity = Decimal(1) if raw_quantity is None else v.snap(v.decimal(raw_quantity, f"{p}.quantity"), 4)
        if quantity <= 0:
            raise bad(f"{p}.quantity must be greater than 0", f"{p}.quantity")
        if v.places(quantity) > 4:
            raise bad(f"{p}.quantity must have at most 4 decimal places", f"{p}.quantity")
        if item.get("unitPrice") is not None:
            unit_price = v.amount(item["unitPrice"], f"{p}.unitPrice", allow_negative=True)
        elif item.get("amount") is not None:
            # A line given by its amount: the unit price follows, if it is a whole number of cents
            # (otherwise the stored line could not reproduce the amount it was sent with).
            given = v.amount(item["amount"], f"{p}.amount", allow_negative=True)
            unit_price = given / quantity
            if v.places(unit_price) > 2:
                raise bad(
                    f"{p}.amount {given} / quantity {quantity} is not a whole number of cents; send unitPrice",
                    f"{p}.amount",
                )
            unit_price = money(unit_price)
        else:
            raise bad(f"{p}.unitPrice is required (or amount)", f"{p}.unitPrice")
        line_amount = money(quantity * unit_price)
        if item.get("amount") is not None:
            given = v.snap(v.decimal(item["amount"], f"{p}.amount"), 2)
            if given != line_amount:
                raise bad(f"{p}.amount must equal quantity x unitPrice ({line_amount})", f"{p}.amount")
        out.append(
            {
                "name": name,
                "description": description,
                "quantity": quantity.normalize() if quantity == quantity.to_integral() else quantity,
                "unitPrice": unit_price,
                "amount": line_amount,
                "metadata": v.metadata(item.get("metadata"), param=f"{p}.metadata"),
            }
        )
    return out


def _adjustments(value: Any, param: str) -> list[JsonObj]:
    """Discounts or taxes: each either a `rate` (percent) or a fixed `amount`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(f"{param} must be a list", param)
    out = []
    for i, raw in enumerate(value):
        p = f"{param}[{i}]"
        adj = v.obj(raw, p)
        v.check_keys(adj, ADJUSTMENT_FIELDS, prefix=f"{p}.")
        rate = adj.get("rate")
        entry: JsonObj = {"name": v.opt_string(adj.get("name"), f"{p}.name"), "rate": None, "amount": ZERO}
        if rate is not None:  # the amount is computed from the rate; an echoed amount is ignored
            number = v.snap(v.decimal(rate, f"{p}.rate"), 4)
            if not 0 <= number <= 100 or v.places(number) > 4:
                raise bad(f"{p}.rate must be a percentage between 0 and 100 (at most 4 places)", f"{p}.rate")
            entry["rate"] = number
        elif adj.get("amount") is not None:
            entry["amount"] = v.amount(adj["amount"], f"{p}.amount")
        else:
            raise bad(f"{p} needs a rate or an amount", p)
        out.append(entry)
    return out


def _flat_total(body: JsonObj | None, array: str, flat: str) -> Decimal | None:
    """A flat `discountTotal`/`taxTotal` sent without its `discounts`/`taxes` array (the contract
    knows only the totals). With the array, the total is an echo checked by `_check_echoes`."""
    if body is None or body.get(flat) is None or body.get(array) is not None:
        return None
    return v.amount(body[flat], flat)


def _settle(doc: JsonObj, array: str, base: Decimal, wanted: Decimal | None) -> Decimal:
    """Sum the discounts or taxes (rates on `base`); a different flat total replaces them."""
    for entry in doc[array]:
        if entry["rate"] is not None:
            entry["amount"] = money(base * entry["rate"] / HUNDRED)
    total = money(sum((e["amount"] for e in doc[array]), ZERO))
    if wanted is not None and wanted != total:
        # The same value is an echo and keeps rate-based entries (they follow later item edits).
        doc[array] = [{"name": None, "rate": None, "amount": wanted}]
        total = wanted
    return total


def _compute_totals(doc: JsonObj, body: JsonObj | None = None) -> None:
    """Totals from the lines; `body` (None for a locked document) may set flat totals."""
    subtotal = money(sum((i["amount"] for i in doc["items"]), ZERO))
    flat_discount = _flat_total(body, "discounts", "discountTotal")
    flat_tax = _flat_total(body, "taxes", "taxTotal")
    discount_total = _settle(doc, "discounts", subtotal, flat_discount)
    if discount_total > max(subtotal, ZERO):
        param = "discountTotal" if flat_discount is not None else "discounts"
        raise bad(f"{param} must not exceed the subtotal ({subtotal})", param)
    taxable = subtotal - discount_total
    tax_total = _settle(doc, "taxes", taxable, flat_tax)
    total = money(taxable + tax_total)
    if total < 0:
        raise bad("The document total must not be negative", "items")
    doc.update(subtotal=subtotal, discountTotal=discount_total, taxTotal=tax_total, total=total)


def _check_echoes(body: JsonObj, doc: JsonObj, fields: tuple[str, ...]) -> None:
    """Computed fields may be sent back as read, but must equal what the ledger computes."""
    for name in fields:
        if name in body and body[name] is not None and v.snap(v.decimal(body[name], name), 2) != doc[name]:
            raise bad(f"{name} is computed ({doc[name]}); it cannot be set to {body[name]}", name)


def _apply_document_fields(tx: Tx, kind: str, doc: JsonObj, body: JsonObj, number_field: str) -> None:
    if number_field in body:
        doc[number_field] = _number(tx, kind, number_field, body[number_field], doc["id"])
    if "customerId" in body:
        if body["customerId"] is None:
            raise bad("customerId is required; it cannot be cleared", "customerId")
        customer = tx.require("customer", body["customerId"], "customerId")
        doc["customerId"] = customer["id"]
        if "currency" not in body and doc.get("currency") is None:
            doc["currency"] = customer["currency"]
    if "currency" in body:
        doc["currency"] = v.currency(body["currency"])
    if "issueDate" in body:
        doc["issueDate"] = v.date_str(body["issueDate"], "issueDate")
    if "items" in body:
        doc["items"] = _items(body["items"])
    if "discounts" in body:
        doc["discounts"] = _adjustments(body["discounts"], "discounts")
    if "taxes" in body:
        doc["taxes"] = _adjustments(body["taxes"], "taxes")
    if "metadata" in body:
        doc["metadata"] = v.metadata(body["metadata"], doc.get("metadata"))


def _only_metadata(body: JsonObj, reason: str, current: JsonObj) -> None:
    """Locked documents: metadata may change; other fields may only be echoed unchanged."""
    for key, value in body.items():
        if key not in v.ECHO_IGNORED and key != "metadata" and value != current.get(key):
            raise bad(f"{reason}; only metadata can change", key)


# ---------------------------------------------------------------------------------------------
# invoices

INVOICE_FIELDS = frozenset(
    {
        "invoiceNo",
        "customerId",
        "currency",
        "issueDate",
        "dueDate",
        "paymentTerms",
        "purchaseOrder",
        "items",
        "discounts",
        "taxes",
        "status",
        "metadata",
    }
)
INVOICE_COMPUTED = (*TOTAL_FIELDS, "amountPaid", "amountCredited", "balance")
DOCUMENT_DEFAULTED = ("currency", "issueDate", "status")


def refresh_invoice(tx: Tx, inv: JsonObj) -> JsonObj:
    """Derive amountPaid, amountCredited, balance and status from the active applications."""
    paid, credited = tx.applied_to_invoice(inv["id"])
    inv["amountPaid"] = money(paid)
    inv["amountCredited"] = money(credited)
    if inv["status"] == "voided":
        inv["balance"] = ZERO
        return inv
    balance = money(inv["total"] - paid - credited)
    if balance < 0:
        raise bad(
            f"The invoice total ({inv['total']}) cannot be less than what is paid and credited "
            f"({money(paid + credited)})",
            "items",
        )
    inv["balance"] = balance
    if inv["status"] != "draft":
        if balance == 0:
            inv["status"] = "paid"
        elif paid + credited > 0:
            inv["status"] = "partially_paid"
        else:
            inv["status"] = "issued"
    return inv


def _invoice_dates_and_text(inv: JsonObj, body: JsonObj) -> None:
    if "dueDate" in body:
        inv["dueDate"] = None if body["dueDate"] is None else v.date_str(body["dueDate"], "dueDate")
    if "paymentTerms" in body:
        inv["paymentTerms"] = v.opt_string(body["paymentTerms"], "paymentTerms", max_len=64)
    if "purchaseOrder" in body:
        inv["purchaseOrder"] = v.opt_string(body["purchaseOrder"], "purchaseOrder", max_len=64)
    if inv["dueDate"] is not None and inv["dueDate"] < inv["issueDate"]:
        raise bad("dueDate must not be before issueDate", "dueDate")


def create_invoice(tx: Tx, body: JsonObj) -> JsonObj:
    v.check_keys(body, INVOICE_FIELDS | set(INVOICE_COMPUTED))
    body = _drop_nulls(body, (*DOCUMENT_DEFAULTED, "paymentTerms"))  # null terms: the customer's
    _required(body, "customerId", "items")
    status = v.choice(body.get("status", "issued"), "status", ("draft", "issued"))
    inv: JsonObj = {
        "id": tx.new_id("invoice"),
        "invoiceNo": None,
        "customerId": None,
        "currency": None,
        "issueDate": tx.now.date().isoformat(),
        "dueDate": None,
        "paymentTerms": None,
        "purchaseOrder": None,
        "items": [],
        "discounts": [],
        "taxes": [],
        "subtotal": ZERO,
        "discountTotal": ZERO,
        "taxTotal": ZERO,
        "total": ZERO,
        "amountPaid": ZERO,
        "amountCredited": ZERO,
        "balance": ZERO,
        "status": status,
        "metadata": {},
    }
    _apply_document_fields(tx, "invoice", inv, body, "invoiceNo")
    if "paymentTerms" not in body:
        inv["paymentTerms"] = tx.require("customer", inv["customerId"])["paymentTerms"]
    _invoice_dates_and_text(inv, body)
    _compute_totals(inv, body)
    refresh_invoice(tx, inv)
    _check_echoes(body, inv, INVOICE_COMPUTED)
    if inv["invoiceNo"] is None:
        inv["invoiceNo"] = _free_number(tx, "invoice", "INV")
    return tx.save("invoice", inv)


def update_invoice(tx: Tx, inv_id: str, body: JsonObj) -> JsonObj:
    v.check_keys(body, INVOICE_FIELDS | set(INVOICE_COMPUTED))
    body = _drop_nulls(body, DOCUMENT_DEFAULTED)
    inv = tx.require("invoice", inv_id)
    if inv["status"] == "voided":
        _only_metadata(body, "This invoice is voided", inv)
    applied = tx.has_applications_on_invoice(inv_id)
    for locked in ("customerId", "currency"):
        if applied and locked in body and body[locked] != inv[locked]:
            raise bad(f"{locked} cannot change once payments or credits are applied", locked)
    if "status" in body and body["status"] != inv["status"]:
        wanted = v.choice(body["status"], "status", ("draft", "issued"))
        if wanted == "draft" and applied:
            raise bad("An invoice with payments or credits applied cannot go back to draft", "status")
        inv["status"] = wanted
    _apply_document_fields(tx, "invoice", inv, body, "invoiceNo")
    _invoice_dates_and_text(inv, body)
    _compute_totals(inv, body)
    refresh_invoice(tx, inv)
    _check_echoes(body, inv, INVOICE_COMPUTED)
    return tx.save("invoice", inv)


def delete_invoice(tx: Tx, inv_id: str) -> JsonObj:
    tx.require("invoice", inv_id)
    if tx.has_applications_on_invoice(inv_id):
        raise bad("This invoice has payments or credits applied; void or unapply them first", "id")
    tx.delete("invoice", inv_id)
    return {"id": inv_id, "deleted": True}


def void_invoice(tx: Tx, inv_id: str) -> JsonObj:
    inv = tx.require("invoice", inv_id)
    if inv["status"] == "voided":
        raise bad("This invoice is already voided", "status")
    if tx.has_applications_on_invoice(inv_id):
        raise bad("This invoice has payments or credits applied; void those first", "id")
    inv["status"] = "voided"
    refresh_invoice(tx, inv)
    return tx.save("invoice", inv)


# ---------------------------------------------------------------------------------------------
# credit notes

CREDIT_NOTE_FIELDS = frozenset(
    {"creditNoteNo", "customerId", "invoiceId", "currency", "issueDate", "items", "discounts", "taxes"}
    | {"status", "metadata"}
)
CREDIT_NOTE_COMPUTED = (*TOTAL_FIELDS, "balance")


def refresh_credit_note(tx: Tx, cn: JsonObj) -> JsonObj:
    applied = tx.applied_from_credit_note(cn["id"])
    if cn["status"] == "voided":
        cn["balance"] = ZERO
        return cn
    cn["balance"] = money(cn["total"] - applied)
    if cn["balance"] < 0:
        raise bad(f"The credit note total cannot be less than what is applied ({money(applied)})", "items")
    if cn["status"] != "draft":
        cn["status"] = "applied" if cn["balance"] == 0 else "open"
    return cn


def _invoice_for_application(tx: Tx, invoice_id: Any, param: str, customer_id: str, cur: str) -> JsonObj:
    inv = tx.require("invoice", invoice_id, param)
    if inv["customerId"] != customer_id:
        raise bad(f"Invoice {inv['id']} belongs to another customer", param)
    if inv["status"] in ("draft", "voided"):
        raise bad(f"Invoice {inv['id']} is {inv['status']}; nothing can be applied to it", param)
    if inv["currency"] != cur:
        raise bad(f"Invoice {inv['id']} is in {inv['currency']}, not {cur}", param)
    return inv


def _apply_credit_note_to_invoice(tx: Tx, cn: JsonObj) -> None:
    """An open credit note naming an invoice credits it, up to the invoice's balance."""
    if cn["status"] != "open" or cn.get("invoiceId") is None:
        return
    inv = _invoice_for_application(tx, cn["invoiceId"], "invoiceId", cn["customerId"], cn["currency"])
    portion = min(cn["total"], inv["balance"])
    if portion > 0:
        tx.add_application("credit_note", cn["id"], "direct", portion, inv["id"], cn["id"])
        tx.save("invoice", refresh_invoice(tx, inv))
    refresh_credit_note(tx, cn)


def create_credit_note(tx: Tx, body: JsonObj) -> JsonObj:
    v.check_keys(body, CREDIT_NOTE_FIELDS | set(CREDIT_NOTE_COMPUTED))
    body = _drop_nulls(body, DOCUMENT_DEFAULTED)
    _required(body, "customerId", "items")
    status = v.choice(body.get("status", "open"), "status", ("draft", "open"))
    cn: JsonObj = {
        "id": tx.new_id("credit_note"),
        "creditNoteNo": None,
        "customerId": None,
        "invoiceId": None,
        "currency": None,
        "issueDate": tx.now.date().isoformat(),
        "items": [],
        "discounts": [],
        "taxes": [],
        "subtotal": ZERO,
        "discountTotal": ZERO,
        "taxTotal": ZERO,
        "total": ZERO,
        "balance": ZERO,
        "status": status,
        "metadata": {},
    }
    _apply_document_fields(tx, "credit_note", cn, body, "creditNoteNo")
    if body.get("invoiceId") is not None:
        cn["invoiceId"] = tx.require("invoice", body["invoiceId"], "invoiceId")["id"]
    _compute_totals(cn, body)
    refresh_credit_note(tx, cn)
    if cn["creditNoteNo"] is None:
        cn["creditNoteNo"] = _free_number(tx, "credit_note", "CN")
    tx.touch("credit_note", cn["id"])  # its event comes before the invoice's
    _apply_credit_note_to_invoice(tx, cn)
    _check_echoes(body, cn, CREDIT_NOTE_COMPUTED)
    return tx.save("credit_note", cn)


def update_credit_note(tx: Tx, cn_id: str, body: JsonObj) -> JsonObj:
    v.check_keys(body, CREDIT_NOTE_FIELDS | set(CREDIT_NOTE_COMPUTED))
    body = _drop_nulls(body, DOCUMENT_DEFAULTED)
    cn = tx.require("credit_note", cn_id)
    editable = cn["status"] == "draft"  # after draft, flat totals may only be echoed
    if cn["status"] == "voided":
        _only_metadata(body, "This credit note is voided", cn)
    if cn["status"] != "draft":
        locked = {k: x for k, x in body.items() if k not in ("status", *CREDIT_NOTE_COMPUTED)}
        _only_metadata(locked, f"This credit note is {cn['status']}", cn)
        if "status" in body and body["status"] != cn["status"]:
            raise bad("Only a draft credit note can change status (to open); use void to cancel", "status")
    opening = "status" in body and cn["status"] == "draft" and body["status"] != "draft"
    if "status" in body and cn["status"] == "draft":
        cn["status"] = v.choice(body["status"], "status", ("draft", "open"))
    _apply_document_fields(tx, "credit_note", cn, body, "creditNoteNo")
    if "invoiceId" in body:
        cn["invoiceId"] = (
            None if body["invoiceId"] is None else tx.require("invoice", body["invoiceId"], "invoiceId")["id"]
        )
    _compute_totals(cn, body if editable else None)
    refresh_credit_note(tx, cn)
    tx.touch("credit_note", cn["id"])
    if opening:
        _apply_credit_note_to_invoice(tx, cn)
    _check_echoes(body, cn, CREDIT_NOTE_COMPUTED)
    return tx.save("credit_note", cn)


def delete_credit_note(tx: Tx, cn_id: str) -> JsonObj:
    tx.require("credit_note", cn_id)
    if tx.applied_from_credit_note(cn_id) > 0:
        raise bad("This credit note has been applied; void it instead", "id")
    tx.delete("credit_note", cn_id)
    return {"id": cn_id, "deleted": True}


def void_credit_note(tx: Tx, cn_id: str) -> JsonObj:
    cn = tx.require("credit_note", cn_id)
    if cn["status"] == "voided":
        raise bad("This credit note is already voided", "status")
    payments = tx.payments_using_credit_note(cn_id)
    if payments:
        raise bad(f"This credit note is applied by payment(s) {', '.join(payments)}; void those first", "id")
    tx.touch("credit_note", cn_id)
    invoices = [i for _, i, _ in tx.applications_of("credit_note", cn_id) if i is not None]
    tx.deactivate_applications("credit_note", cn_id)
    cn["status"] = "voided"
    tx.save("credit_note", refresh_credit_note(tx, cn))
    for inv_id in invoices:  # the credit no longer reduces what is owed
        inv = tx.get("invoice", inv_id)
        if inv is not None:
            tx.save("invoice", refresh_invoice(tx, inv))
    return cn


# ---------------------------------------------------------------------------------------------
# payments

PAYMENT_FIELDS = frozenset(
    {"customerId", "date", "currency", "amount", "method", "reference", "appliedTo", "metadata"}
)
APPLIED_FIELDS = {
    "invoice": frozenset({"type", "invoiceId", "amount"}),
    "credit_note": frozenset({"type", "creditNoteId", "invoiceId", "amount"}),
    "convenience_fee": frozenset({"type", "amount"}),
}


def _applied_to(tx: Tx, value: Any, pay: JsonObj) -> tuple[list[JsonObj], Decimal]:
    """Validate `appliedTo` against current balances; return the entries and the cash they use."""
    if value is None:
        value = []
    if not isinstance(value, list):
        raise bad("appliedTo must be a list", "appliedTo")
    invoice_use: dict[str, Decimal] = {}
    credit_use: dict[str, Decimal] = {}
    cash = ZERO
    entries: list[JsonObj] = []
    for i, raw in enumerate(value):
        p = f"appliedTo[{i}]"
        entry = v.obj(raw, p)
        kind = v.choice(entry.get("type"), f"{p}.type", tuple(APPLIED_FIELDS))
        # One client model for every entry type sends the others' ids as null: nothing is lost.
        entry = {k: x for k, x in entry.items() if x is not None or k in APPLIED_FIELDS[kind]}
        v.check_keys(entry, APPLIED_FIELDS[kind], prefix=f"{p}.")
        if "amount" not in entry:
            raise bad(f"{p}.amount is required", f"{p}.amount")
        amt = v.amount(entry["amount"], f"{p}.amount", positive=True)
        out: JsonObj = {"type": kind}
        if kind == "credit_note":
            cn = tx.require("credit_note", entry.get("creditNoteId"), f"{p}.creditNoteId")
            if cn["customerId"] != pay["customerId"]:
                raise bad(f"Credit note {cn['id']} belongs to another customer", f"{p}.creditNoteId")
            if cn["status"] != "open":
                raise bad(
                    f"Credit note {cn['id']} is {cn['status']}; only open credit can be applied",
                    f"{p}.creditNoteId",
                )
            if cn["currency"] != pay["currency"]:
                raise bad(f"Credit note {cn['id']} is in {cn['currency']}", f"{p}.creditNoteId")
            credit_use[cn["id"]] = credit_use.get(cn["id"], ZERO) + amt
            if credit_use[cn["id"]] > cn["balance"]:
                raise bad(f"Exceeds the credit note's balance ({cn['balance']})", f"{p}.amount")
            out["creditNoteId"] = cn["id"]
        if kind in ("invoice", "credit_note"):
            inv = _invoice_for_application(
                tx, entry.get("invoiceId"), f"{p}.invoiceId", pay["customerId"], pay["currency"]
            )
            invoice_use[inv["id"]] = invoice_use.get(inv["id"], ZERO) + amt
            if invoice_use[inv["id"]] > inv["balance"]:
                raise bad(
                    f"Applying {invoice_use[inv['id']]} exceeds the balance of invoice {inv['id']} "
                    f"({inv['balance']})",
                    f"{p}.amount",
                )
            out["invoiceId"] = inv["id"]
        if kind == "convenience_fee" and pay["method"] not in FEE_METHODS:
            raise bad("A convenience fee applies only to credit_card or ach payments", f"{p}.type")
        if kind != "credit_note":  # credit is not cash: it does not use the payment's amount
            cash += amt
        out["amount"] = amt
        entries.append(out)
    if cash > pay["amount"]:
        raise bad(f"Applied amounts ({cash}) exceed the payment amount ({pay['amount']})", "appliedTo")
    return entries, cash


def _record_applications(tx: Tx, pay: JsonObj) -> set[tuple[str, str]]:
    touched: set[tuple[str, str]] = set()
    for e in pay["appliedTo"]:
        if e["type"] == "invoice":
            tx.add_application("payment", pay["id"], "payment", e["amount"], e["invoiceId"])
            touched.add(("invoice", e["invoiceId"]))
        elif e["type"] == "credit_note":
            tx.add_application("payment", pay["id"], "credit", e["amount"], e["invoiceId"], e["creditNoteId"])
            touched |= {("invoice", e["invoiceId"]), ("credit_note", e["creditNoteId"])}
    return touched


def _touched_by(tx: Tx, pay_id: str) -> set[tuple[str, str]]:
    touched: set[tuple[str, str]] = set()
    for _, inv_id, cn_id in tx.applications_of("payment", pay_id):
        if inv_id:
            touched.add(("invoice", inv_id))
        if cn_id:
            touched.add(("credit_note", cn_id))
    return touched


def _refresh(tx: Tx, touched: set[tuple[str, str]]) -> None:
    for kind, obj_id in sorted(touched):  # invoices before credit notes; stable event order
        doc = tx.get(kind, obj_id)
        if doc is None:
            continue
        tx.save(kind, refresh_invoice(tx, doc) if kind == "invoice" else refresh_credit_note(tx, doc))


PAYMENT_DEFAULTED = ("date", "currency", "method", "status")


def _check_amount(pay: JsonObj) -> None:
    """0 only for a payment that just applies credit notes (no cash moves); otherwise > 0."""
    credit_only = bool(pay["appliedTo"]) and all(e["type"] == "credit_note" for e in pay["appliedTo"])
    if pay["amount"] <= 0 and not credit_only:
        raise bad("amount must be greater than 0 (0 only when appliedTo applies only credit notes)", "amount")


def create_payment(tx: Tx, body: JsonObj) -> JsonObj:
    v.check_keys(body, PAYMENT_FIELDS | {"unappliedAmount", "status"})
    body = _drop_nulls(body, PAYMENT_DEFAULTED)
    _required(body, "customerId", "amount")
    if body.get("status", "succeeded") != "succeeded":
        raise bad("A payment is created succeeded; use void to cancel it", "status")
    customer = tx.require("customer", body["customerId"], "customerId")
    pay: JsonObj = {
        "id": tx.new_id("payment"),
        "customerId": customer["id"],
        "date": v.date_str(body["date"], "date") if "date" in body else tx.now.date().isoformat(),
        "currency": v.currency(body["currency"]) if "currency" in body else customer["currency"],
        "amount": v.amount(body["amount"], "amount"),
        "method": v.choice(body.get("method", "other"), "method", PAYMENT_METHODS),
        "reference": v.opt_string(body.get("reference"), "reference"),
        "appliedTo": [],
        "unappliedAmount": ZERO,
        "status": "succeeded",
        "metadata": v.metadata(body.get("metadata")),
    }
    pay["appliedTo"], cash = _applied_to(tx, body.get("appliedTo"), pay)
    _check_amount(pay)
    pay["unappliedAmount"] = money(pay["amount"] - cash)
    _check_echoes(body, pay, ("unappliedAmount",))
    tx.save("payment", pay)
    _refresh(tx, _record_applications(tx, pay))
    return pay


def update_payment(tx: Tx, pay_id: str, body: JsonObj) -> JsonObj:
    v.check_keys(body, PAYMENT_FIELDS | {"unappliedAmount", "status"})
    body = _drop_nulls(body, PAYMENT_DEFAULTED)
    pay = tx.require("payment", pay_id)
    if pay["status"] == "voided":
        _only_metadata(body, "This payment is voided", pay)
    if "status" in body and body["status"] != pay["status"]:
        raise bad("Use POST /payments/{id}/void to void a payment", "status")
    for locked in ("customerId", "currency"):
        if locked in body and body[locked] != pay[locked]:
            raise bad(f"{locked} of a payment cannot change; void it and create another", locked)
    tx.touch("payment", pay_id)
    if "date" in body:
        pay["date"] = v.date_str(body["date"], "date")
    if "reference" in body:
        pay["reference"] = v.opt_string(body["reference"], "reference")
    if "method" in body:
        pay["method"] = v.choice(body["method"], "method", PAYMENT_METHODS)
    if "amount" in body:
        pay["amount"] = v.amount(body["amount"], "amount")
    if "metadata" in body:
        pay["metadata"] = v.metadata(body["metadata"], pay.get("metadata"))
    if pay["status"] != "voided" and {"amount", "method", "appliedTo"} & set(body):
        # Re-apply from scratch: release the old applications, then validate the new ones
        # against the balances that result (a failure rolls the whole request back).
        touched = _touched_by(tx, pay_id)
        tx.deactivate_applications("payment", pay_id, forget=True)
        _refresh(tx, touched)
        wanted = body["appliedTo"] if "appliedTo" in body else pay["appliedTo"]
        pay["appliedTo"], cash = _applied_to(tx, wanted, pay)
        _check_amount(pay)
        pay["unappliedAmount"] = money(pay["amount"] - cash)
        touched |= _record_applications(tx, pay)
        _refresh(tx, touched)
    _check_echoes(body, pay, ("unappliedAmount",))
    return tx.save("payment", pay)


def void_payment(tx: Tx, pay_id: str) -> JsonObj:
    pay = tx.require("payment", pay_id)
    if pay["status"] == "voided":
        raise bad("This payment is already voided", "status")
    tx.touch("payment", pay_id)
    touched = _touched_by(tx, pay_id)
    tx.deactivate_applications("payment", pay_id)
    pay["status"] = "voided"
    tx.save("payment", pay)
    _refresh(tx, touched)  # balances come back on the invoices and credit notes
    return pay
