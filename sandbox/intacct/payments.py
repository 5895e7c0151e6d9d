"""A/R payments: create_arpayment and the generic ARPYMT create, with their applications to
invoices, adjustments and credits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.ledger import (
    EVER_APPLIED,
    PAYMENT_METHODS,
    ZERO,
    amount_of,
    ar_state,
    base_fields,
    check_open_period,
    check_order,
    customer_for,
    dec,
    gl_account,
    key_el,
    legacy_date,
    refresh_customer,
    set_amounts,
    sync_document,
)
from sandbox.intacct.reads import text
from sandbox.intacct.records import Ctx, check_field
from sandbox.intacct.store import Record
from sandbox.intacct.values import (
    coerce_input,
    fail,
    fmt_number,
    is_int,
)


# -- payments ------------------------------------------------------------------------------------
def payment_by_key(ctx: Ctx, key: str) -> Record | None:
    rec = ctx.store.get(ctx.company, "ARPYMT", int(key)) if is_int(key) else None
    return rec if rec is not None and ctx.visible("ARPYMT", rec, True) else None


def apply_amount(ctx: Ctx, target: Record, obj: str, amount: Decimal) -> None:
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


def apply_line(ctx: Ctx, obj: str, entry_key: str, amount: Decimal) -> None:
    item_obj = f"{obj}ITEM"
    line = ctx.store.get(ctx.company, item_obj, int(entry_key))
    if line is None:
        return
    paid = fmt_number(dec(line.get("TOTALPAID", "0")) + amount)
    line["TOTALPAID"] = line["TRX_TOTALPAID"] = paid
    ctx.store.update(ctx.company, item_obj, line)


def invoice_for_payment(
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
    credit_amount: Decimal = ZERO
    entry_key: str = ""


def new_payment(
    ctx: Ctx, values: Record, cash: Decimal, apps: list[Application], label: str, *, draft: bool = False
) -> Record:
    """Insert ARPYMT + ARPYMTDETAIL rows and move the invoices (and credits) they touch; a draft
    (STATE D) records its details but moves nothing until it is posted."""
    cust = customer_for(ctx, values["CUSTOMERID"], label)
    applied = sum((a.amount for a in apps), ZERO)
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
            apply_amount(ctx, credit, "ARADJUSTMENT", -credit_amount)
        if app.entry_key:
            apply_line(ctx, obj, app.entry_key, amount + credit_amount)
        target["_LASTPAID"] = rec["RECEIPTDATE"]
        apply_amount(ctx, target, obj, amount + credit_amount)
    if not draft:
        refresh_customer(ctx, rec["CUSTOMERID"])
    return rec


def create_payment_generic(ctx: Ctx, node: Element) -> Record:
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
    cash = ZERO
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
            on_credit[credit_key] = on_credit.get(credit_key, ZERO) + credit_amount
            credit = _credit_for(ctx, credit_key, values["CUSTOMERID"], on_credit[credit_key], label)
        on_invoice[key] = on_invoice.get(key, ZERO) + amount + credit_amount
        obj, target = invoice_for_payment(ctx, key, values["CUSTOMERID"], on_invoice[key], label)
        if amount + credit_amount <= 0:
            raise fail(
                "BL01001973",
                f"The amount {fmt_number(amount + credit_amount)} applied to invoice {key} must be positive.",
                f"Could not create {label} record!",
            )
        if entry_key:
            on_line[entry_key] = on_line.get(entry_key, ZERO) + amount + credit_amount
            _line_for_payment(ctx, obj, target, entry_key, on_line[entry_key], label)
        apps.append(Application(obj, target, amount, credit, credit_amount, entry_key))
        cash += amount
    values.update(fin)
    return new_payment(ctx, values, cash, apps, label, draft=action == "Draft")


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
        seen[key] = seen.get(key, ZERO) + amount
        obj, target = invoice_for_payment(ctx, key, customer_id, seen[key], label)
        apps.append(Application(obj, target, amount))
    values: Record = {
        "CUSTOMERID": customer_id,
        "RECEIPTDATE": received,
        "PAYMENTMETHOD": method,
        "DOCNUMBER": text(el, "refid"),
        "CURRENCY": text(el, "currency"),
        **_financial_entity(ctx, text(el, "bankaccountid"), text(el, "undepfundsacct"), label),
    }
    rec = new_payment(ctx, values, cash, apps, label)
    ctx.transactions += 1
    return [key_el(rec["RECORDNO"])]
