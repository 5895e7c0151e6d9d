"""Changing a posted payment: apply_arpayment (applying an existing credit) and
reverse_arpayment (voiding it and giving every application back)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from sandbox.intacct.ledger import (
    ZERO,
    amount_of,
    check_open_period,
    check_order,
    dec,
    key_el,
    legacy_date,
    refresh_customer,
    set_amounts,
)
from sandbox.intacct.payments import (
    Application,
    apply_amount,
    apply_line,
    invoice_for_payment,
    new_payment,
    payment_by_key,
)
from sandbox.intacct.reads import schema_error, text
from sandbox.intacct.records import Ctx
from sandbox.intacct.store import Record
from sandbox.intacct.values import (
    fail,
    fmt_number,
    is_int,
)


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
    payment = payment_by_key(ctx, key)
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
    total = ZERO
    for item in items:
        ikey, amount = text(item, "invoicekey"), amount_of(text(item, "amount"), "amount")
        total += amount
        if total > available:
            raise fail(
                "BL01001973",
                f"The amount to apply exceeds the {fmt_number(available)} available.",
                f"Could not create {label} record!",
            )
        obj, target = invoice_for_payment(ctx, ikey, customer_id, amount, label)
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
            new_payment(
                ctx,
                {
                    "CUSTOMERID": customer_id,
                    "RECEIPTDATE": when or credit["WHENCREATED"],
                    "PAYMENTMETHOD": "Cash",
                    "DESCRIPTION": text(el, "memo"),
                    "FINANCIALENTITY": "",
                    "FINANCIALENTITYTYPE": "",
                },
                ZERO,
                [Application(obj, target, ZERO, credit, amount)],
                label,
            )
            credit = ctx.store.get(ctx.company, "ARADJUSTMENT", int(key))
            continue
        apply_amount(ctx, target, obj, amount)
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
                apply_amount(ctx, target, obj, -(amount + credit_amount))
                if det.get("ENTRYKEY"):
                    apply_line(ctx, obj, det["ENTRYKEY"], -(amount + credit_amount))
                break
        if det.get("ADJUSTMENTKEY"):
            credit = ctx.store.get(ctx.company, "ARADJUSTMENT", int(det["ADJUSTMENTKEY"]))
            if credit is not None:
                apply_amount(ctx, credit, "ARADJUSTMENT", credit_amount)
    refresh_customer(ctx, payment.get("CUSTOMERID", ""))


def fn_reverse_arpayment(ctx: Ctx, el: Element) -> list[Element]:
    key = el.get("key", "")
    payment = payment_by_key(ctx, key)
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
