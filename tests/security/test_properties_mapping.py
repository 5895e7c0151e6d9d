"""Property-based round trips of the pure mappings: every amount kept to the cent.

Documents: a Blixo invoice (or credit note) -> `mapping.invoice.to_intacct` ->
`create_invoice` as it goes on the wire (built XML, parsed back) -> the Order Entry document
Intacct would hold for those lines (a `read` response parsed by the client) ->
`mapping.order_entry.invoice_body` -> a Blixo invoice -> `to_intacct` again. Every item's
amount, the tax and discount totals, the total and the Intacct lines come back equal.

Payments: a Blixo payment (invoice applications, credit-note applications, a convenience fee,
an unapplied remainder) -> `mapping.payment.plan` (+ the fee invoice of
`mapping.convenience_fee`) on the wire -> the ARPYMT records and details Intacct reads back ->
`mapping.payment.payment_body` -> the same amount and the same applications, to the cent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import defusedxml.ElementTree as SafeET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bisync.blixo.models import CreditNote, Invoice, Payment
from bisync.intacct import functions as fn
from bisync.intacct.models import SoDocument
from bisync.intacct.xml import ControlBlock, SessionAuth, build_request, element_to_value, parse_response
from bisync.mapping import convenience_fee, credit_note, invoice, order_entry, payment
from bisync.mapping.common import cents
from bisync.settings import AccountMappings, TenantSettings
from tests.unit.intacct.fakes import records_xml, response_xml, result_xml

SETTINGS = TenantSettings(
    tenant_id="prop",
    entity_id="E100",
    accounts=AccountMappings(
        revenue_account="4000",
        tax_account="2100",
        discount_account="4950",
        convenience_fee_account="4900",
        undeposited_funds_account="1500",
        location_id="E100",
    ),
)
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CENT = Decimal("0.01")


def on_the_wire(function: fn.Function) -> Any:
    """The function's payload as Intacct receives it: our request XML, parsed back."""
    body = build_request(
        ControlBlock("s", SecretStr("p"), "c"), SessionAuth(SecretStr("x")), [function.call()]
    )
    root = SafeET.fromstring(body)
    element = root.find(f"operation/content/function/{function.name}")
    assert element is not None
    return element_to_value(element)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------ strategies


def money(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(low), Decimal(high), places=2)


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    quantity = draw(st.decimals(Decimal("0.0001"), Decimal("5000"), places=4))
    price = draw(
        st.one_of(money("0.01", "99999.99"), st.decimals(Decimal("0.0001"), Decimal("999"), places=4))
    )
    amount = cents(quantity * price)
    item: dict[str, Any] = {
        "name": draw(st.sampled_from(["Widget", "Setup & <fee>", "Støtte"])),
        "quantity": quantity,
    }
    item["unitPrice"] = price
    # Blixo sends the line amount; the mapping also computes it when it is absent.
    if draw(st.booleans()):
        item["amount"] = amount
    return item


@dataclass(frozen=True)
class Doc:
    body: dict[str, Any]
    item_amounts: list[Decimal]
    tax_total: Decimal
    discount_total: Decimal
    total: Decimal


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    # At least one line worth a cent: a document of zero lines is refused (tested elsewhere).
    lines = draw(
        st.lists(items(), min_size=1, max_size=6).filter(
            lambda ls: any(cents(i["quantity"] * i["unitPrice"]) > 0 for i in ls)
        )
    )
    amounts = [cents(i["quantity"] * i["unitPrice"]) for i in lines]
    subtotal = sum(amounts, Decimal("0.00"))
    taxes = draw(st.lists(money("0.00", "5000"), max_size=2))
    # Blixo's flat total may exceed the listed taxes (a remainder line carries the rest).
    tax_total = sum(taxes, Decimal("0.00")) + draw(
        st.sampled_from([Decimal("0.00"), Decimal("0.00"), Decimal("0.01"), Decimal("3.50")])
    )
    discounts = draw(st.lists(money("0.00", "500"), max_size=2))
    discount_total = sum(discounts, Decimal("0.00"))
    total = subtotal + tax_total - discount_total
    if total <= 0 or subtotal <= 0:
        discounts, discount_total, total = [], Decimal("0.00"), subtotal + tax_total
    body = {
        "items": lines,
        "taxes": [{"name": f"Tax {i}", "amount": t} for i, t in enumerate(taxes)],
        "discounts": [{"name": f"Discount {i}", "amount": d} for i, d in enumerate(discounts)],
        "subtotal": subtotal,
        "taxTotal": tax_total,
        "discountTotal": discount_total,
        "total": total,
    }
    return Doc(body, amounts, tax_total, discount_total, total)


def blixo_invoice(body: dict[str, Any]) -> Invoice:
    return Invoice.model_validate(
        {
            "id": "inv_p",
            "customerId": "cus_p",
            "currency": "USD",
            "issueDate": "2026-11-20",
            "dueDate": "2026-12-20",
            "status": "issued",
            "balance": body["total"],
            **body,
        }
    )


def blixo_credit_note(body: dict[str, Any]) -> CreditNote:
    return CreditNote.model_validate(
        {
            "id": "cn_p",
            "customerId": "cus_p",
            "currency": "USD",
            "issueDate": "2026-11-20",
            "status": "open",
            "balance": body["total"],
            **body,
        }
    )


# ------------------------------------------------------------------ the Intacct side, read back


def order_entry_read(
    quantities: list[Decimal],
    prices: list[Decimal],
    lines: list[dict[str, Any]],
    n_items: int,
    total: Decimal,
) -> SoDocument:
    """The Order Entry document Intacct holds for these GL lines, as a `read` answers it (the
    revenue lines as entries, taxes and discounts as subtotals), parsed by the client."""
    entries = [
        {
            "LINE_NO": str(i),
            "ITEMID": "ITEM",
            "QUANTITY": str(quantities[i]),
            "UIPRICE": str(prices[i]),
            "UIVALUE": line["amount"],
        }
        for i, line in enumerate(lines[:n_items])
    ]
    subtotals = [{"DESCRIPTION": line.get("memo") or "", "TOTAL": line["amount"]} for line in lines[n_items:]]
    record: dict[str, Any] = {
        "RECORDNO": "77",
        "DOCID": "Sales Invoice-SI-1",
        "DOCNO": "SI-1",
        "STATE": "Pending",
        "WHENCREATED": "11/20/2026",
        "TOTAL": str(total),
        "SODOCUMENTENTRIES": {"sodocumententry": entries},
    }
    if subtotals:
        record["SUBTOTALS"] = {"sodocumentsubtotals": subtotals}
    parsed = parse_response(response_xml([result_xml("read", "r", data=records_xml("SODOCUMENT", [record]))]))
    assert parsed.results[0].data is not None
    [doc] = parsed.results[0].data.records
    return SoDocument.model_validate(doc)


def blixo_totals(body: dict[str, Any]) -> dict[str, Any]:
    """What Blixo computes for a document created from `body`."""
    subtotal = sum((Decimal(i["amount"]) for i in body["items"]), Decimal("0.00"))
    tax = sum((Decimal(t["amount"]) for t in body["taxes"]), Decimal("0.00"))
    discount = sum((Decimal(d["amount"]) for d in body["discounts"]), Decimal("0.00"))
    return {
        "subtotal": subtotal,
        "taxTotal": tax,
        "discountTotal": discount,
        "total": subtotal + tax - discount,
    }


# ------------------------------------------------------------------ documents


def check_document(
    doc: Doc,
    to_intacct: Callable[[dict[str, Any]], fn.Function],
    container: str,
    back: Callable[[SoDocument], dict[str, Any]],
    sign: int,
) -> None:
    wire = on_the_wire(to_intacct(doc.body))
    lines = as_list(wire[container]["lineitem"])
    amounts = [sign * Decimal(line["amount"]) for line in lines]
    nonzero = [a for a in doc.item_amounts if a != 0]
    assert amounts[: len(nonzero)] == nonzero
    assert sum(amounts, Decimal("0.00")) == doc.total
    extra = amounts[len(nonzero) :]
    assert sum((a for a in extra if a > 0), Decimal("0.00")) == doc.tax_total
    assert -sum((a for a in extra if a < 0), Decimal("0.00")) == doc.discount_total
    for a in amounts:
        assert a == a.quantize(CENT)
        assert a != 0

    # Back: the document Intacct holds -> the Blixo body -> what Blixo computes of it.
    kept = [i for i, a in zip(doc.body["items"], doc.item_amounts, strict=True) if a != 0]
    positive = [{**line, "amount": str(sign * Decimal(line["amount"]))} for line in lines]
    so = order_entry_read(
        [i["quantity"] for i in kept], [i["unitPrice"] for i in kept], positive, len(nonzero), doc.total
    )
    body = back(so)
    totals = blixo_totals(body)
    assert [Decimal(i["amount"]) for i in body["items"]] == nonzero
    assert totals["total"] == doc.total
    assert totals["taxTotal"] == doc.tax_total
    assert totals["discountTotal"] == doc.discount_total
    # ... and pushed again, the same Intacct lines.
    body.update(totals)
    again = as_list(on_the_wire(to_intacct(body))[container]["lineitem"])
    assert [Decimal(line["amount"]) for line in again] == [Decimal(line["amount"]) for line in lines]


@PROPERTY
@given(documents())
def test_an_invoice_keeps_every_amount_to_the_cent(doc: Doc) -> None:
    check_document(
        doc,
        lambda body: fn.create_invoice(
            invoice.to_intacct(SETTINGS, blixo_invoice(body), "C-1"), controlid="prop-inv"
        ),
        "invoiceitems",
        lambda so: order_entry.invoice_body(so, so.entries, "cus_p"),
        1,
    )


@PROPERTY
@given(documents())
def test_a_credit_note_keeps_every_amount_to_the_cent(doc: Doc) -> None:
    check_document(
        doc,
        lambda body: fn.create_aradjustment(
            credit_note.to_intacct(SETTINGS, blixo_credit_note(body), "C-1"), controlid="prop-cn"
        ),
        "aradjustmentitems",
        lambda so: order_entry.credit_note_body(so, so.entries, "cus_p"),
        -1,
    )


# ------------------------------------------------------------------ payments


@dataclass(frozen=True)
class Pay:
    payment: Payment
    invoice_keys: dict[str, str]
    credit_keys: dict[str, str]


@st.composite
def payments(draw: st.DrawFn) -> Pay:
    invoices = [f"inv_{i}" for i in range(draw(st.integers(1, 4)))]
    credits = [f"cn_{i}" for i in range(draw(st.integers(0, 3)))]
    applied: list[dict[str, Any]] = [
        {
            "type": "invoice",
            "invoiceId": draw(st.sampled_from(invoices)),
            "amount": draw(money("0.01", "50000")),
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    applied += [
        {
            "type": "credit_note",
            "creditNoteId": c,
            "invoiceId": draw(st.sampled_from(invoices)),
            "amount": draw(money("0.01", "5000")),
        }
        for c in credits
    ]
    fee = draw(st.one_of(st.just(Decimal("0.00")), money("0.01", "99.99")))
    if fee:
        applied.append({"type": "convenience_fee", "amount": fee})
    cash_applied = sum((Decimal(a["amount"]) for a in applied if a["type"] != "credit_note"), Decimal("0.00"))
    remainder = draw(st.one_of(st.just(Decimal("0.00")), money("0.01", "10000")))
    amount = cash_applied + remainder
    if amount == 0 and not credits:
        amount = remainder = Decimal("12.34")
    body = {
        "id": "pay_p",
        "customerId": "cus_p",
        "date": "2026-11-25",
        "currency": "USD",
        "amount": amount,
        "method": draw(st.sampled_from(["check", "cash", "ach", "wire", "credit_card", "other"])),
        "reference": "CHK-1",
        "appliedTo": applied,
        "status": "succeeded",
    }
    return Pay(
        Payment.model_validate(body),
        {inv: str(100 + i) for i, inv in enumerate(invoices)},
        {c: str(500 + i) for i, c in enumerate(credits)},
    )


FEE_KEY = "900"
FEE_ID = "(fee invoice)"


def sorted_apps(apps: list[dict[str, Any]]) -> list[tuple[str, str, str, Decimal]]:
    return sorted(
        (a["type"], a.get("invoiceId") or "", a.get("creditNoteId") or "", Decimal(str(a["amount"])))
        for a in apps
    )


@PROPERTY
@given(payments())
def test_a_payment_keeps_its_amount_and_every_application_to_the_cent(pay: Pay) -> None:
    p = pay.payment
    fee_key = FEE_KEY if p.convenience_fee > 0 else None
    plan = payment.plan(
        SETTINGS,
        p,
        customer_id="C-1",
        invoice_keys=pay.invoice_keys,
        credit_keys=pay.credit_keys,
        fee_invoice_key=fee_key,
    )
    by_key = {v: k for k, v in pay.invoice_keys.items()}
    credit_by_key = {v: k for k, v in pay.credit_keys.items()}
    back: list[dict[str, Any]] = []
    amount = Decimal("0.00")
    if fee_key:
        # The fee is an invoice of its own, of exactly the fee, which the cash then pays.
        fee_wire = on_the_wire(
            fn.create_invoice(convenience_fee.to_intacct(SETTINGS, p, "C-1"), controlid="f")
        )
        assert Decimal(fee_wire["invoiceitems"]["lineitem"]["amount"]) == p.convenience_fee
    if plan.cash is not None:
        wire = on_the_wire(fn.create_arpayment(plan.cash, controlid="prop-cash"))
        items = as_list(wire.get("arpaymentitem") or [])
        # The ARPYMT as Intacct reads it back, one detail per application.
        record = {
            "TRX_TOTALENTERED": wire["paymentamount"],
            "PAYMENTMETHOD": wire["paymentmethod"],
            "RECEIPTDATE": "11/25/2026",
            "DOCNUMBER": wire.get("refid", ""),
        }
        details = [{"RECORDKEY": i["invoicekey"], "TRX_PAYMENTAMOUNT": i["amount"]} for i in items]
        body = payment.payment_body(
            record,
            details,
            customer_id="cus_p",
            invoices={**by_key, FEE_KEY: FEE_ID},
            credit_notes=credit_by_key,
        )
        amount = Decimal(str(body["amount"]))
        for app in body["appliedTo"]:
            if app.get("invoiceId") == FEE_ID:
                back.append({"type": "convenience_fee", "amount": app["amount"]})
            else:
                back.append(app)
    if plan.credits is not None:
        wire = on_the_wire(fn.create_arpymt(plan.credits, controlid="prop-credits"))
        details = as_list(wire["ARPYMT"]["ARPYMTDETAILS"]["ARPYMTDETAIL"])
        body = payment.payment_body(
            {"TRX_TOTALENTERED": "0", "PAYMENTMETHOD": "Cash"},
            details,
            customer_id="cus_p",
            invoices=by_key,
            credit_notes=credit_by_key,
        )
        assert Decimal(str(body["amount"])) == 0
        back += body["appliedTo"]
    assert amount == p.amount
    original = [a.model_dump(by_alias=True, mode="python") for a in p.applied_to]
    assert sorted_apps(back) == sorted_apps([{**a, "type": str(a["type"].value)} for a in original])
    # The unapplied remainder is what the cash pays beyond its applications.
    if plan.cash is not None:
        applied = sum((a.amount for a in plan.cash.applications), Decimal("0.00"))
        assert plan.cash.paymentamount - applied == p.amount - sum(
            (a.amount for a in p.applied_to if a.type.value != "credit_note"), Decimal("0.00")
        )


def test_the_wire_parse_sees_what_was_sent() -> None:
    """The helper itself: a known invoice's lines come off the wire as sent (so the properties
    above compare real values, not an echo of the input)."""
    doc = blixo_invoice(
        {
            "items": [{"name": "A", "quantity": 3, "unitPrice": "10.125", "amount": "30.38"}],
            "taxes": [{"name": "VAT", "amount": "4.50"}],
            "subtotal": "30.38",
            "taxTotal": "4.50",
            "total": "34.88",
        }
    )
    wire = on_the_wire(fn.create_invoice(invoice.to_intacct(SETTINGS, doc, "C-1"), controlid="x"))
    assert [(li["amount"], li["memo"]) for li in wire["invoiceitems"]["lineitem"]] == [
        ("30.38", "A"),
        ("4.50", "VAT"),
    ]
    assert wire["datecreated"] == {"year": "2026", "month": "11", "day": "20"}
