"""The pure Blixo -> Intacct mappings: amounts to the cent, dates, lines, tax and discount
lines, GL and dimension overrides, currencies, XML-special text, stable idempotency keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import SecretStr

from bisync.blixo.models import CreditNote, Customer, Invoice, Payment
from bisync.intacct.functions import create_arpayment, create_arpymt, create_invoice
from bisync.intacct.xml import ControlBlock, SessionAuth, build_request, parse_response
from bisync.mapping import convenience_fee, credit_note, customer, invoice, payment
from bisync.mapping.common import MappingError, controlid, idempotency_key, intacct_id
from bisync.settings import AccountMappings, BankAccountRule, TenantSettings
from tests.unit.blixo import samples

SETTINGS = TenantSettings(
    tenant_id="acme",
    accounts=AccountMappings(
        revenue_account="4000",
        tax_account="2100",
        discount_account="4950",
        convenience_fee_account="4900",
        location_id="E100",
        department_id="D10",
        bank_accounts=[
            BankAccountRule(method="credit_card", currency="EUR", bank_account_id="EUR-CARD"),
            BankAccountRule(method="credit_card", bank_account_id="CARD"),
            BankAccountRule(method="*", currency="USD", bank_account_id="BOA-CHK"),
        ],
        overpayment_location_id="E200",
    ),
)


def inv(**over: object) -> Invoice:
    return Invoice.model_validate(samples.invoice(**over))


def test_invoice_lines_items_tax_and_discount_to_the_cent() -> None:
    doc = inv(
        items=[
            {"name": "Widget", "quantity": 3, "unitPrice": 10.125, "amount": 30.38},
            {"name": "Setup", "quantity": 1, "unitPrice": 19.62, "amount": 19.62},
        ],
        taxes=[{"name": "State tax", "amount": 4.5}],
        discounts=[{"name": "Loyalty", "amount": 5.0}],
        subtotal=50.0,
        taxTotal=4.5,
        discountTotal=5.0,
        total=49.5,
        balance=49.5,
    )
    values = invoice.to_intacct(SETTINGS, doc, "C-100")
    assert [(line.glaccountno, line.amount) for line in values.lines] == [
        ("4000", Decimal("30.38")),
        ("4000", Decimal("19.62")),
        ("2100", Decimal("4.50")),
        ("4950", Decimal("-5.00")),
    ]
    assert sum(line.amount for line in values.lines) == Decimal("49.50")
    assert values.datecreated == dt.date(2024, 3, 1)
    assert values.datedue == dt.date(2024, 3, 31)
    assert values.invoiceno == "INV-0001"
    assert values.currency is None  # the base currency is not named
    assert all(line.locationid == "E100" and line.departmentid == "D10" for line in values.lines)


def test_a_tax_total_without_listed_taxes_is_one_tax_line() -> None:
    doc = inv(taxes=[], discounts=[], taxTotal=4.5, discountTotal=0, total=54.5, balance=54.5)
    lines = invoice.to_intacct(SETTINGS, doc, "C").lines
    assert [(line.glaccountno, line.amount, line.memo) for line in lines][-1] == (
        "2100",
        Decimal("4.50"),
        "Tax",
    )


def test_line_metadata_routes_gl_and_dimensions() -> None:
    doc = inv(
        items=[
            {
                "name": "Project work",
                "quantity": 1,
                "unitPrice": 50.0,
                "amount": 50.0,
                "metadata": {
                    "intacct.glAccount": "4100",
                    "intacct.location": "E200",
                    "intacct.department": "D20",
                    "intacct.class": "CL1",
                    "intacct.project": "P9",
                },
            }
        ],
        taxes=[],
        discounts=[],
        taxTotal=0,
        discountTotal=0,
        total=50.0,
        balance=50.0,
    )
    [line] = invoice.to_intacct(SETTINGS, doc, "C").lines
    assert (line.glaccountno, line.locationid, line.departmentid, line.classid, line.projectid) == (
        "4100",
        "E200",
        "D20",
        "CL1",
        "P9",
    )


def test_lines_that_do_not_add_up_are_refused() -> None:
    doc = inv(taxes=[], discounts=[], taxTotal=0, discountTotal=0, total=51.0, balance=51.0)
    with pytest.raises(MappingError, match=r"add up to 50\.00, not to the total 51\.00"):
        invoice.to_intacct(SETTINGS, doc, "C")


def test_a_foreign_currency_document_names_its_currency_and_rate_type() -> None:
    doc = inv(currency="EUR", taxes=[], discounts=[], taxTotal=0, discountTotal=0, total=50.0, balance=50.0)
    values = invoice.to_intacct(SETTINGS.model_copy(update={"exchange_rate_type": "Spot"}), doc, "C")
    assert (values.currency, values.exchratetype) == ("EUR", "Spot")
    payload = create_invoice(values, controlid="x").payload
    assert payload["currency"] == "EUR"
    assert payload["exchratetype"] == "Spot"


def test_xml_special_text_reaches_the_request_exactly() -> None:
    name = 'Tom & Jerry\'s <Widgets> ]]> "quoted" \r\n done \U0001f600'
    doc = inv(
        invoiceNo="INV-<&>",
        items=[{"name": name, "quantity": 1, "unitPrice": 50.0, "amount": 50.0}],
        taxes=[],
        discounts=[],
        taxTotal=0,
        discountTotal=0,
        total=50.0,
        balance=50.0,
    )
    function = create_invoice(invoice.to_intacct(SETTINGS, doc, "C"), controlid="x")
    body = build_request(
        ControlBlock("s", SecretStr("p"), "c"), SessionAuth(SecretStr("x")), [function.call()]
    )
    # Parse our own request back with the safe parser, as the gateway would.
    echoed = body.replace(b"<request>", b"<response>").replace(b"</request>", b"</response>")
    from defusedxml.ElementTree import fromstring

    root = fromstring(echoed)
    assert root.findtext(".//lineitem/memo") == name
    assert root.findtext(".//invoiceno") == "INV-<&>"
    assert parse_response is not None


def test_invoice_hash_ignores_balances_and_paid_status() -> None:
    open_doc = inv()
    paid = inv(amountPaid=54.5, balance=0, status="paid")
    assert invoice.invoice_hash(SETTINGS, open_doc) == invoice.invoice_hash(SETTINGS, paid)
    assert invoice.invoice_hash(SETTINGS, open_doc) != invoice.invoice_hash(
        SETTINGS, inv(purchaseOrder="PO-2")
    )
    assert invoice.amounts_hash(SETTINGS, open_doc) == invoice.amounts_hash(
        SETTINGS, inv(purchaseOrder="PO-2")
    )


def test_an_update_rewrites_lines_and_zeroes_the_surplus() -> None:
    doc = inv(
        items=[{"name": "One", "quantity": 1, "unitPrice": 20.0, "amount": 20.0}],
        taxes=[],
        discounts=[],
        taxTotal=0,
        discountTotal=0,
        total=20.0,
        balance=20.0,
    )
    update = invoice.to_update(SETTINGS, doc, "77", existing_lines=3, amounts=True)
    assert [(line.line_num, line.amount) for line in update.lines] == [
        (1, Decimal("20.00")),
        (2, Decimal("0.00")),
        (3, Decimal("0.00")),
    ]
    header_only = invoice.to_update(SETTINGS, doc, "77", existing_lines=3, amounts=False)
    assert header_only.lines == ()
    assert header_only.datecreated is None


def test_credit_note_is_a_credit_memo_with_negative_lines() -> None:
    doc = CreditNote.model_validate(
        {
            "id": "cn_1",
            "creditNoteNo": "CN-1",
            "customerId": "cus_1",
            "currency": "USD",
            "issueDate": "2024-03-05",
            "items": [{"name": "Refund", "quantity": 1, "unitPrice": 20.0, "amount": 20.0}],
            "taxes": [{"name": "Tax", "amount": 1.65}],
            "taxTotal": 1.65,
            "subtotal": 20.0,
            "total": 21.65,
            "balance": 21.65,
            "status": "open",
        }
    )
    values = credit_note.to_intacct(SETTINGS, doc, "C-100")
    assert [(line.glaccountno, line.amount) for line in values.lines] == [
        ("4000", Decimal("-20.00")),
        ("2100", Decimal("-1.65")),
    ]
    assert values.adjustmentno == "CN-1"
    assert values.datecreated == dt.date(2024, 3, 5)


def test_credit_note_lines_carry_every_dimension_an_invoice_line_does() -> None:
    doc = CreditNote.model_validate(
        {
            "id": "cn_2",
            "creditNoteNo": "CN-2",
            "customerId": "cus_1",
            "currency": "USD",
            "issueDate": "2024-03-05",
            "items": [
                {
                    "name": "Refund",
                    "quantity": 1,
                    "unitPrice": 20.0,
                    "amount": 20.0,
                    "metadata": {"intacct.class": "CL-9", "intacct.project": "PRJ-1"},
                }
            ],
            "subtotal": 20.0,
            "total": 20.0,
            "balance": 20.0,
            "status": "open",
        }
    )
    [line] = credit_note.to_intacct(SETTINGS, doc, "C-100").lines
    assert (line.classid, line.projectid) == ("CL-9", "PRJ-1")
    payload = line.to_payload()
    assert list(payload)[-2:] == ["projectid", "classid"]  # the lineitem's schema order


def pay(**over: object) -> Payment:
    body = {
        "id": "pay_1",
        "customerId": "cus_1",
        "date": "2024-03-10",
        "currency": "USD",
        "amount": 100.0,
        "method": "credit_card",
        "reference": "ch_123",
        "appliedTo": [
            {"type": "invoice", "invoiceId": "inv_1", "amount": 60.0},
            {"type": "invoice", "invoiceId": "inv_2", "amount": 35.0},
            {"type": "convenience_fee", "amount": 3.0},
            {"type": "credit_note", "creditNoteId": "cn_1", "invoiceId": "inv_1", "amount": 10.0},
        ],
        "status": "succeeded",
    }
    body.update(over)
    return Payment.model_validate(body)


def test_payment_plan_cash_fee_remainder_and_credits() -> None:
    plan = payment.plan(
        SETTINGS,
        pay(),
        customer_id="C-100",
        invoice_keys={"inv_1": "11", "inv_2": "12"},
        credit_keys={"cn_1": "21"},
        fee_invoice_key="13",
    )
    assert plan.cash is not None
    assert plan.cash.paymentamount == Decimal("100.00")
    assert [(a.invoicekey, a.amount) for a in plan.cash.applications] == [
        ("11", Decimal("60.00")),
        ("12", Decimal("35.00")),
        ("13", Decimal("3.00")),
    ]
    assert plan.cash.bankaccountid == "CARD"  # first matching rule: credit_card, any currency
    assert plan.cash.paymentmethod == "Credit Card"
    assert plan.cash.overpaylocid == "E200"  # 2.00 stays unapplied
    assert plan.credits is not None
    [detail] = plan.credits.details
    assert (detail.invoice_key, detail.adjustment_key, detail.adjustment_amount) == (
        "11",
        "21",
        Decimal("10.00"),
    )
    payload = create_arpayment(plan.cash, controlid="x").payload
    assert payload["paymentamount"] == Decimal("100.00")


def test_a_foreign_currency_payment_names_the_rate_type_on_its_cash_and_its_credits() -> None:
    plan = payment.plan(
        SETTINGS,
        pay(currency="EUR"),
        customer_id="C-100",
        invoice_keys={"inv_1": "11", "inv_2": "12"},
        credit_keys={"cn_1": "21"},
        fee_invoice_key="13",
    )
    assert plan.cash is not None
    assert plan.credits is not None
    assert (plan.cash.currency, plan.cash.exchratetype) == ("EUR", "Intacct Daily Rate")
    assert (plan.credits.currency, plan.credits.exch_rate_type_id) == ("EUR", "Intacct Daily Rate")
    values = create_arpymt(plan.credits, controlid="x").payload["ARPYMT"]
    assert (values["CURRENCY"], values["EXCH_RATE_TYPE_ID"]) == ("EUR", "Intacct Daily Rate")


@pytest.mark.parametrize(
    ("method", "currency", "bank"),
    [("credit_card", "EUR", "EUR-CARD"), ("check", "USD", "BOA-CHK"), ("check", "GBP", None)],
)
def test_bank_account_rules_with_wildcards_first_match_wins(
    method: str, currency: str, bank: str | None
) -> None:
    doc = pay(
        method=method,
        currency=currency,
        appliedTo=[{"type": "invoice", "invoiceId": "inv_1", "amount": 100.0}],
    )
    plan = payment.plan(
        SETTINGS, doc, customer_id="C", invoice_keys={"inv_1": "1"}, credit_keys={}, fee_invoice_key=None
    )
    assert plan.cash is not None
    assert plan.cash.bankaccountid == bank
    assert plan.cash.undepfundsacct == (None if bank else "1500")


def test_a_payment_whose_invoice_is_not_in_intacct_is_refused() -> None:
    with pytest.raises(MappingError, match="inv_2 is not in Intacct"):
        payment.plan(
            SETTINGS,
            pay(),
            customer_id="C",
            invoice_keys={"inv_1": "1"},
            credit_keys={"cn_1": "2"},
            fee_invoice_key="3",
        )


def test_the_fee_invoice_is_named_after_the_payment() -> None:
    values = convenience_fee.to_intacct(SETTINGS, pay(), "C-100")
    assert values.invoiceno == "CF-pay_1"
    [line] = values.lines
    assert (line.glaccountno, line.amount) == ("4900", Decimal("3.00"))
    assert convenience_fee.is_fee_invoice_number("CF-pay_1")
    assert not convenience_fee.is_fee_invoice_number("INV-1")


def test_customer_mapping_and_ids() -> None:
    doc = Customer.model_validate(samples.customer(status="archived"))
    values = customer.to_intacct(doc)
    assert (values.customer_id, values.name, values.status, values.email) == (
        "C-100",
        "Acme Ltd",
        "inactive",
        "ap@acme.test",
    )
    assert values.address is not None
    assert values.address.zip == "12345"
    long_id = Customer.model_validate(samples.customer(customerNo=None, id="cus_" + "x" * 40))
    derived = customer.customer_id_for(long_id)
    assert len(derived) == 20
    assert derived == customer.customer_id_for(long_id)  # stable
    assert intacct_id("ok-1") == "ok-1"


def test_controlids_and_idempotency_keys_are_stable_and_distinct() -> None:
    a = controlid("acme", "invoice", "inv_1", "create")
    assert a == controlid("acme", "invoice", "inv_1", "create")
    assert a != controlid("acme", "invoice", "inv_1", "update", "abc")
    assert controlid("acme", "invoice", "inv_1", "update", "abc") != controlid(
        "acme", "invoice", "inv_1", "update", "abd"
    )
    long = controlid("t" * 64, "invoice", "x" * 200, "create")
    assert len(long) <= 100
    key = idempotency_key("acme", "invoice", "inv_1", "create", "v1")
    assert key == idempotency_key("acme", "invoice", "inv_1", "create", "v1")
    assert 6 <= len(key) <= 64
    assert key != idempotency_key("acme", "invoice", "inv_1", "create", "v2")
