"""AR rules: totals, payments, credit notes, voids, convenience fees, unapplied amounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.blixo_sandbox.conftest import Api, dec


def _inv(api: Api, inv_id: str) -> dict[str, Any]:
    return api.ok("GET", f"/invoices/{inv_id}")


def test_invoice_totals_from_lines_discounts_and_taxes(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.ok(
        "POST",
        "/invoices",
        {
            "customerId": cust,
            "items": [
                {"name": "Consulting", "quantity": 3, "unitPrice": "150.00"},
                {"name": "Hosting", "quantity": "2.5", "unitPrice": "19.99"},
            ],
            "discounts": [{"name": "Promo", "rate": 10}, {"name": "Loyalty", "amount": "5.00"}],
            "taxes": [{"name": "State", "rate": "6.25"}, {"name": "Fee", "amount": "1.00"}],
        },
    )
    # 450.00 + 49.975 -> 49.98 (half up) = 499.98; discounts 50.00 (10 %) + 5.00 = 55.00;
    # taxable 444.98; tax 6.25 % = 27.81125 -> 27.81, + 1.00 = 28.81; total 473.79.
    assert [dec(i["amount"]) for i in inv["items"]] == [Decimal("450.00"), Decimal("49.98")]
    assert dec(inv["subtotal"]) == Decimal("499.98")
    assert dec(inv["discountTotal"]) == Decimal("55.00")
    assert dec(inv["taxTotal"]) == Decimal("28.81")
    assert dec(inv["total"]) == Decimal("473.79")
    assert dec(inv["balance"]) == Decimal("473.79")
    assert dec(inv["amountPaid"]) == 0
    assert inv["status"] == "issued"

    # Changing lines recomputes rate-based discounts and taxes.
    changed = api.ok("PATCH", f"/invoices/{inv['id']}", {"items": [{"name": "One", "unitPrice": "100.00"}]})
    assert dec(changed["discountTotal"]) == Decimal("15.00")
    assert dec(changed["taxTotal"]) == Decimal("6.31")  # 85.00 * 6.25 % = 5.3125 -> 5.31, + 1.00
    assert dec(changed["total"]) == Decimal("91.31")
    # Echoing computed totals is fine when they match.
    echoed = api.patch(f"/invoices/{inv['id']}", {"total": "91.31", "subtotal": 100})
    assert echoed.status_code == 200


def test_payments_move_amount_paid_balance_and_status(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))

    api.payment(cust, "30.00", {"type": "invoice", "invoiceId": inv["id"], "amount": "30.00"})
    partly = _inv(api, inv["id"])
    assert (dec(partly["amountPaid"]), dec(partly["balance"]), partly["status"]) == (
        Decimal("30.00"),
        Decimal("70.00"),
        "partially_paid",
    )

    api.payment(cust, "70.00", {"type": "invoice", "invoiceId": inv["id"], "amount": "70.00"})
    paid = _inv(api, inv["id"])
    assert (dec(paid["amountPaid"]), dec(paid["balance"]), paid["status"]) == (
        Decimal("100.00"),
        Decimal("0.00"),
        "paid",
    )
    assert paid["updatedAt"] > partly["updatedAt"]


def test_one_payment_across_several_invoices_with_unapplied_rest(api: Api) -> None:
    cust = api.customer()["id"]
    a = api.invoice(cust, (1, "40.00"))
    b = api.invoice(cust, (1, "25.00"))
    pay = api.payment(
        cust,
        "100.00",
        {"type": "invoice", "invoiceId": a["id"], "amount": "40.00"},
        {"type": "invoice", "invoiceId": b["id"], "amount": "10.00"},
        method="check",
        reference="CHK-1",
    )
    assert dec(pay["unappliedAmount"]) == Decimal("50.00")
    assert _inv(api, a["id"])["status"] == "paid"
    assert dec(_inv(api, b["id"])["balance"]) == Decimal("15.00")

    # Unapplied cash can be applied later (PATCH replaces appliedTo).
    later = api.ok(
        "PATCH",
        f"/payments/{pay['id']}",
        {
            "appliedTo": [
                {"type": "invoice", "invoiceId": a["id"], "amount": "40.00"},
                {"type": "invoice", "invoiceId": b["id"], "amount": "25.00"},
            ]
        },
    )
    assert dec(later["unappliedAmount"]) == Decimal("35.00")
    assert _inv(api, b["id"])["status"] == "paid"


def test_over_application_is_refused_and_nothing_changes(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "50.00"))
    too_much = api.post(
        "/payments",
        {
            "customerId": cust,
            "amount": "60.00",
            "appliedTo": [{"type": "invoice", "invoiceId": inv["id"], "amount": "50.01"}],
        },
    )
    assert too_much.status_code == 400
    assert too_much.json()["param"] == "appliedTo[0].amount"

    split = api.post(
        "/payments",
        {
            "customerId": cust,
            "amount": "60.00",
            "appliedTo": [
                {"type": "invoice", "invoiceId": inv["id"], "amount": "30.00"},
                {"type": "invoice", "invoiceId": inv["id"], "amount": "30.00"},
            ],
        },
    )
    assert split.status_code == 400
    assert split.json()["param"] == "appliedTo[1].amount"

    more_than_paid = api.post(
        "/payments",
        {
            "customerId": cust,
            "amount": "10.00",
            "appliedTo": [{"type": "invoice", "invoiceId": inv["id"], "amount": "20.00"}],
        },
    )
    assert more_than_paid.status_code == 400
    assert more_than_paid.json()["param"] == "appliedTo"

    assert api.get("/payments").json()["total"] == 0
    assert dec(_inv(api, inv["id"])["balance"]) == Decimal("50.00")


def test_payment_customer_must_match_the_invoice(api: Api) -> None:
    mine, theirs = api.customer()["id"], api.customer()["id"]
    inv = api.invoice(theirs)
    resp = api.post(
        "/payments",
        {
            "customerId": mine,
            "amount": "10.00",
            "appliedTo": [{"type": "invoice", "invoiceId": inv["id"], "amount": "10.00"}],
        },
    )
    assert resp.status_code == 400
    assert resp.json()["param"] == "appliedTo[0].invoiceId"
    assert "another customer" in resp.json()["message"]


def test_nothing_applies_to_drafts_or_unknown_invoices(api: Api) -> None:
    cust = api.customer()["id"]
    draft = api.invoice(cust, status="draft")
    assert draft["status"] == "draft"
    for inv_id in (draft["id"], "inv_missing"):
        resp = api.post(
            "/payments",
            {
                "customerId": cust,
                "amount": "1.00",
                "appliedTo": [{"type": "invoice", "invoiceId": inv_id, "amount": "1.00"}],
            },
        )
        assert resp.status_code == 400
        assert resp.json()["param"] == "appliedTo[0].invoiceId"
    issued = api.ok("PATCH", f"/invoices/{draft['id']}", {"status": "issued"})
    assert issued["status"] == "issued"


def test_convenience_fee_does_not_increase_the_invoice(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    pay = api.payment(
        cust,
        "103.00",
        {"type": "invoice", "invoiceId": inv["id"], "amount": "100.00"},
        {"type": "convenience_fee", "amount": "3.00"},
        method="credit_card",
    )
    assert dec(pay["unappliedAmount"]) == 0
    assert pay["appliedTo"][1] == {"type": "convenience_fee", "amount": 3.0}
    after = _inv(api, inv["id"])
    assert dec(after["total"]) == Decimal("100.00")
    assert dec(after["amountPaid"]) == Decimal("100.00")
    assert after["status"] == "paid"

    by_check = api.post(
        "/payments",
        {
            "customerId": cust,
            "amount": "3.00",
            "method": "check",
            "appliedTo": [{"type": "convenience_fee", "amount": "3.00"}],
        },
    )
    assert by_check.status_code == 400
    assert by_check.json()["param"] == "appliedTo[0].type"


def test_voided_payment_restores_invoice_balances(api: Api) -> None:
    cust = api.customer()["id"]
    a = api.invoice(cust, (1, "60.00"))
    b = api.invoice(cust, (1, "40.00"))
    pay = api.payment(
        cust,
        "80.00",
        {"type": "invoice", "invoiceId": a["id"], "amount": "60.00"},
        {"type": "invoice", "invoiceId": b["id"], "amount": "20.00"},
    )
    voided = api.ok("POST", f"/payments/{pay['id']}/void")
    assert voided["status"] == "voided"
    for inv, total in ((a, "60.00"), (b, "40.00")):
        after = _inv(api, inv["id"])
        assert dec(after["balance"]) == Decimal(total)
        assert dec(after["amountPaid"]) == 0
        assert after["status"] == "issued"
    again = api.post(f"/payments/{pay['id']}/void")
    assert again.status_code == 400
    # A voided payment keeps its record but only metadata may change.
    assert api.patch(f"/payments/{pay['id']}", {"amount": "1.00"}).status_code == 400
    assert api.patch(f"/payments/{pay['id']}", {"metadata": {"intacct.recordNo": "9"}}).status_code == 200


def test_invoice_with_payments_cannot_be_voided_or_deleted(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "10.00"))
    pay = api.payment(cust, "5.00", {"type": "invoice", "invoiceId": inv["id"], "amount": "5.00"})
    void = api.post(f"/invoices/{inv['id']}/void")
    assert void.status_code == 400
    assert "payments" in void.json()["message"]
    assert api.delete(f"/invoices/{inv['id']}").status_code == 400
    # A total below what is paid is refused too.
    shrink = api.patch(f"/invoices/{inv['id']}", {"items": [{"name": "x", "unitPrice": "4.00"}]})
    assert shrink.status_code == 400
    assert shrink.json()["param"] == "items"

    api.ok("POST", f"/payments/{pay['id']}/void")
    voided = api.ok("POST", f"/invoices/{inv['id']}/void")
    assert voided["status"] == "voided"
    assert dec(voided["balance"]) == 0
    assert api.patch(f"/invoices/{inv['id']}", {"purchaseOrder": "PO-1"}).status_code == 400
    assert api.patch(f"/invoices/{inv['id']}", {"metadata": {"k": "v"}}).status_code == 200
    # Echoing unchanged fields with the metadata is fine (a client sending back what it read).
    echo = {"invoiceNo": voided["invoiceNo"], "status": "voided", "metadata": {"k2": "v"}}
    assert api.patch(f"/invoices/{inv['id']}", echo).status_code == 200
    # Nothing can be paid on a voided invoice.
    late = api.post(
        "/payments",
        {
            "customerId": cust,
            "amount": "1.00",
            "appliedTo": [{"type": "invoice", "invoiceId": inv["id"], "amount": "1.00"}],
        },
    )
    assert late.status_code == 400


def test_credit_note_applied_to_an_invoice_reduces_what_is_owed(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    cn = api.ok(
        "POST",
        "/credit-notes",
        {"customerId": cust, "invoiceId": inv["id"], "items": [{"name": "Refund", "unitPrice": "30.00"}]},
    )
    assert cn["status"] == "applied"
    assert dec(cn["total"]) == Decimal("30.00")
    assert dec(cn["balance"]) == 0
    after = _inv(api, inv["id"])
    assert dec(after["amountCredited"]) == Decimal("30.00")
    assert dec(after["amountPaid"]) == 0
    assert dec(after["balance"]) == Decimal("70.00")
    assert after["status"] == "partially_paid"

    # Paying the rest makes it paid; the credit counts towards it.
    api.payment(cust, "70.00", {"type": "invoice", "invoiceId": inv["id"], "amount": "70.00"})
    assert _inv(api, inv["id"])["status"] == "paid"


def test_credit_note_larger_than_the_balance_keeps_the_rest_open(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "20.00"))
    cn = api.ok(
        "POST",
        "/credit-notes",
        {"customerId": cust, "invoiceId": inv["id"], "items": [{"name": "Credit", "unitPrice": "50.00"}]},
    )
    assert cn["status"] == "open"
    assert dec(cn["balance"]) == Decimal("30.00")
    assert _inv(api, inv["id"])["status"] == "paid"


def test_open_credit_applied_through_a_payment(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    cn = api.ok(
        "POST", "/credit-notes", {"customerId": cust, "items": [{"name": "Credit", "unitPrice": "40.00"}]}
    )
    assert cn["status"] == "open"
    pay = api.payment(
        cust,
        "60.00",
        {"type": "credit_note", "creditNoteId": cn["id"], "invoiceId": inv["id"], "amount": "40.00"},
        {"type": "invoice", "invoiceId": inv["id"], "amount": "60.00"},
    )
    assert dec(pay["unappliedAmount"]) == 0  # credit does not use the payment's cash
    after = _inv(api, inv["id"])
    assert (dec(after["amountPaid"]), dec(after["amountCredited"]), after["status"]) == (
        Decimal("60.00"),
        Decimal("40.00"),
        "paid",
    )
    assert api.ok("GET", f"/credit-notes/{cn['id']}")["status"] == "applied"

    # The credit note cannot be voided while a payment applies it; voiding the payment frees both.
    assert api.post(f"/credit-notes/{cn['id']}/void").status_code == 400
    api.ok("POST", f"/payments/{pay['id']}/void")
    freed = api.ok("GET", f"/credit-notes/{cn['id']}")
    assert (freed["status"], dec(freed["balance"])) == ("open", Decimal("40.00"))
    assert dec(_inv(api, inv["id"])["balance"]) == Decimal("100.00")


def test_credit_beyond_its_balance_is_refused(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    cn = api.ok(
        "POST", "/credit-notes", {"customerId": cust, "items": [{"name": "Credit", "unitPrice": "10.00"}]}
    )
    resp = api.post(
        "/payments",
        {
            "customerId": cust,
            "amount": "1.00",
            "appliedTo": [
                {"type": "credit_note", "creditNoteId": cn["id"], "invoiceId": inv["id"], "amount": "10.01"}
            ],
        },
    )
    assert resp.status_code == 400
    assert resp.json()["param"] == "appliedTo[0].amount"


def test_voiding_a_credit_note_restores_the_invoice(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    cn = api.ok(
        "POST",
        "/credit-notes",
        {"customerId": cust, "invoiceId": inv["id"], "items": [{"name": "Refund", "unitPrice": "100.00"}]},
    )
    assert _inv(api, inv["id"])["status"] == "paid"
    assert api.post(f"/invoices/{inv['id']}/void").status_code == 400  # credit applied
    voided = api.ok("POST", f"/credit-notes/{cn['id']}/void")
    assert (voided["status"], dec(voided["balance"])) == ("voided", Decimal("0.00"))
    after = _inv(api, inv["id"])
    assert (dec(after["balance"]), dec(after["amountCredited"]), after["status"]) == (
        Decimal("100.00"),
        Decimal("0.00"),
        "issued",
    )


def test_draft_credit_note_applies_when_opened(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    draft = api.ok(
        "POST",
        "/credit-notes",
        {
            "customerId": cust,
            "invoiceId": inv["id"],
            "status": "draft",
            "items": [{"name": "R", "unitPrice": "25.00"}],
        },
    )
    assert draft["status"] == "draft"
    assert dec(_inv(api, inv["id"])["balance"]) == Decimal("100.00")
    opened = api.ok("PATCH", f"/credit-notes/{draft['id']}", {"status": "open"})
    assert opened["status"] == "applied"
    assert dec(_inv(api, inv["id"])["balance"]) == Decimal("75.00")
    assert (
        api.patch(f"/credit-notes/{draft['id']}", {"items": [{"name": "R", "unitPrice": "1.00"}]}).status_code
        == 400
    )


def test_payment_amount_cannot_drop_below_what_is_applied(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    pay = api.payment(cust, "50.00", {"type": "invoice", "invoiceId": inv["id"], "amount": "50.00"})
    resp = api.patch(f"/payments/{pay['id']}", {"amount": "40.00"})
    assert resp.status_code == 400
    assert resp.json()["param"] == "appliedTo"
    raised = api.ok("PATCH", f"/payments/{pay['id']}", {"amount": "55.00"})
    assert dec(raised["unappliedAmount"]) == Decimal("5.00")
    assert dec(_inv(api, inv["id"])["amountPaid"]) == Decimal("50.00")


def test_negative_lines_reduce_the_total_but_never_below_zero(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (2, "10.00"), (1, "-5.00"))
    assert dec(inv["subtotal"]) == Decimal("15.00")
    assert dec(inv["items"][1]["amount"]) == Decimal("-5.00")
    negative = api.post(
        "/invoices", {"customerId": cust, "items": [{"name": "refund", "unitPrice": "-1.00"}]}
    )
    assert negative.status_code == 400
    assert negative.json()["param"] == "items"


def test_flat_tax_and_discount_totals_without_arrays(api: Api) -> None:
    cust = api.customer()["id"]
    items = [{"name": "Work", "quantity": 2, "unitPrice": "50.00"}]
    inv = api.ok(
        "POST",
        "/invoices",
        {"customerId": cust, "items": items, "discountTotal": "10.00", "taxTotal": "8.25"},
    )
    totals = [dec(inv[k]) for k in ("subtotal", "discountTotal", "taxTotal", "total", "balance")]
    assert totals == [
        Decimal("100.00"),
        Decimal("10.00"),
        Decimal("8.25"),
        Decimal("98.25"),
        Decimal("98.25"),
    ]

    # PATCH sets a new flat amount; it stays flat when the lines change.
    patched = api.ok("PATCH", f"/invoices/{inv['id']}", {"taxTotal": "5.00"})
    assert (dec(patched["taxTotal"]), dec(patched["total"])) == (Decimal("5.00"), Decimal("95.00"))
    relined = api.ok("PATCH", f"/invoices/{inv['id']}", {"items": [{"name": "Work", "unitPrice": "200.00"}]})
    assert (dec(relined["taxTotal"]), dec(relined["discountTotal"])) == (Decimal("5.00"), Decimal("10.00"))
    assert dec(relined["total"]) == Decimal("195.00")
    # The whole object as read can be sent back unchanged.
    echoed = api.patch(f"/invoices/{inv['id']}", relined)
    assert echoed.status_code == 200, echoed.text
    assert echoed.json()["data"]["updatedAt"] == relined["updatedAt"]  # nothing changed

    # An array with a conflicting flat total, or a flat discount above the subtotal: 400.
    cases: list[tuple[dict[str, Any], str]] = [
        ({"taxes": [{"rate": 10}], "taxTotal": "5.00"}, "taxTotal"),
        ({"discounts": [], "discountTotal": "1.00"}, "discountTotal"),
        ({"discountTotal": "100.01"}, "discountTotal"),
        ({"taxTotal": "-1.00"}, "taxTotal"),
        ({"taxTotal": "1.005"}, "taxTotal"),
        ({"taxTotal": "1.00", "total": "100.00"}, "total"),  # computed fields are still checked
    ]
    for fields, param in cases:
        resp = api.post(
            "/invoices", {"customerId": cust, "items": [{"name": "x", "unitPrice": 100}], **fields}
        )
        assert (resp.status_code, resp.json()["param"]) == (400, param), (fields, resp.text)
    agreeing = api.ok(
        "POST",
        "/invoices",
        {
            "customerId": cust,
            "items": [{"name": "x", "unitPrice": 100}],
            "taxes": [{"rate": 10}],
            "taxTotal": 10,
        },
    )
    assert dec(agreeing["total"]) == Decimal("110.00")


def test_echoed_flat_total_keeps_rate_based_taxes(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.ok(
        "POST",
        "/invoices",
        {"customerId": cust, "items": [{"name": "x", "unitPrice": 100}], "taxes": [{"rate": 10}]},
    )
    same = api.ok("PATCH", f"/invoices/{inv['id']}", {"taxTotal": "10.00"})
    assert same["taxes"] == inv["taxes"]
    # Still a rate: it follows the lines.
    relined = api.ok("PATCH", f"/invoices/{inv['id']}", {"items": [{"name": "x", "unitPrice": 200}]})
    assert dec(relined["taxTotal"]) == Decimal("20.00")


def test_credit_notes_take_flat_totals_while_draft(api: Api) -> None:
    cust = api.customer()["id"]
    cn = api.ok(
        "POST",
        "/credit-notes",
        {
            "customerId": cust,
            "items": [{"name": "R", "unitPrice": "40.00"}],
            "taxTotal": "2.00",
            "status": "draft",
        },
    )
    assert (dec(cn["taxTotal"]), dec(cn["total"]), dec(cn["balance"])) == (
        Decimal("2.00"),
        Decimal("42.00"),
        Decimal("42.00"),
    )
    cn = api.ok("PATCH", f"/credit-notes/{cn['id']}", {"discountTotal": "2.00", "status": "open"})
    assert (dec(cn["total"]), cn["status"]) == (Decimal("40.00"), "open")
    # Open: the totals may only be echoed.
    assert api.patch(f"/credit-notes/{cn['id']}", {"taxTotal": "2.00"}).status_code == 200
    refused = api.patch(f"/credit-notes/{cn['id']}", {"taxTotal": "3.00"})
    assert (refused.status_code, refused.json()["param"]) == (400, "taxTotal")
    assert dec(api.ok("GET", f"/credit-notes/{cn['id']}")["total"]) == Decimal("40.00")


def test_line_items_by_description_or_by_amount(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.ok(
        "POST",
        "/invoices",
        {
            "customerId": cust,
            "items": [
                {"description": "Described only", "unitPrice": "5.00"},
                {"name": "By amount", "amount": "10.00", "quantity": 4},
                {"name": "By amount, one", "amount": "-3.10"},
            ],
        },
    )
    assert (inv["items"][0]["name"], inv["items"][0]["description"]) == (None, "Described only")
    assert [dec(i["unitPrice"]) for i in inv["items"]] == [Decimal("5.00"), Decimal("2.50"), Decimal("-3.10")]
    assert [dec(i["amount"]) for i in inv["items"]] == [Decimal("5.00"), Decimal("10.00"), Decimal("-3.10")]
    assert dec(inv["total"]) == Decimal("11.90")

    cases: list[tuple[dict[str, Any], str]] = [
        ({"unitPrice": 1}, "items[0].name"),
        ({"description": " ", "unitPrice": 1}, "items[0].name"),
        ({"name": "x", "amount": "10.00", "quantity": 3}, "items[0].amount"),  # 3.333... a unit
        ({"name": "x"}, "items[0].unitPrice"),
        ({"name": "x", "amount": "1.001"}, "items[0].amount"),
    ]
    for item, param in cases:
        resp = api.post("/invoices", {"customerId": cust, "items": [item]})
        assert (resp.status_code, resp.json()["param"]) == (400, param), (item, resp.text)


def test_zero_amount_payment_that_only_applies_credit(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    cn = api.ok("POST", "/credit-notes", {"customerId": cust, "items": [{"name": "C", "unitPrice": "40.00"}]})
    credit = {"type": "credit_note", "creditNoteId": cn["id"], "invoiceId": inv["id"], "amount": "40.00"}

    # Without only-credit applications, 0 is still refused.
    cash = {"type": "invoice", "invoiceId": inv["id"], "amount": "10.00"}
    for applied, param in (([], "amount"), ([cash], "appliedTo"), ([credit, cash], "appliedTo")):
        resp = api.post("/payments", {"customerId": cust, "amount": "0.00", "appliedTo": applied})
        assert (resp.status_code, resp.json()["param"]) == (400, param), applied

    pay = api.payment(cust, 0, credit)
    assert (dec(pay["amount"]), dec(pay["unappliedAmount"])) == (Decimal("0.00"), Decimal("0.00"))
    after = _inv(api, inv["id"])
    assert (dec(after["amountCredited"]), dec(after["balance"])) == (Decimal("40.00"), Decimal("60.00"))

    negative = api.post("/payments", {"customerId": cust, "amount": "-1.00"})
    assert (negative.status_code, negative.json()["param"]) == (400, "amount")
    # Removing the credit from a zero payment would leave an empty payment.
    emptied = api.patch(f"/payments/{pay['id']}", {"appliedTo": []})
    assert (emptied.status_code, emptied.json()["param"]) == (400, "amount")
    assert api.get("/payments").json()["total"] == 1
