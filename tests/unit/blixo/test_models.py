"""Record and event models: wire names, money, dates, tolerance, write bodies."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from bisync.blixo.api import (
    AppliedToType,
    CustomerStatus,
    EventAction,
    InvoiceStatus,
    PaymentMethod,
    ResourceKind,
)
from bisync.blixo.models import (
    AdjustmentWrite,
    ConvenienceFeeApplication,
    ConvenienceFeeApplicationWrite,
    CreditNote,
    CreditNoteApplication,
    Customer,
    CustomerWrite,
    Invoice,
    InvoiceApplication,
    InvoiceApplicationWrite,
    InvoiceWrite,
    LineItemWrite,
    Payment,
    PaymentWrite,
    UnknownEventType,
    parse_event,
)
from tests.unit.blixo import samples


def _wire(payload: dict[str, object]) -> dict[str, object]:
    """What the client hands the models: JSON decoded with exact decimals."""
    result: dict[str, object] = json.loads(json.dumps(payload), parse_float=Decimal)
    return result


def test_customer_parses_camel_case_and_nested_address() -> None:
    c = Customer.model_validate(_wire(samples.customer()))
    assert c.customer_no == "C-100"
    assert c.payment_terms == "NET 30"
    assert c.address is not None
    assert c.address.postal_code == "12345"
    assert c.status is CustomerStatus.ACTIVE
    assert c.metadata == {"intacct.recordNo": "42"}
    assert c.updated_at == datetime(2024, 3, 2, 11, 30, tzinfo=UTC)


def test_invoice_money_is_two_place_decimal_and_dates_are_dates() -> None:
    inv = Invoice.model_validate(_wire(samples.invoice()))
    assert inv.total == Decimal("54.50")
    assert str(inv.total) == "54.50"
    assert str(inv.discount_total) == "0.00"
    assert str(inv.amount_paid) == "20.00"
    assert inv.issue_date == date(2024, 3, 1)
    assert inv.status is InvoiceStatus.PARTIALLY_PAID
    # Unit prices and quantities keep their precision: they are not money.
    assert inv.items[0].unit_price == Decimal("10.125")
    assert inv.items[0].quantity == Decimal(3)
    assert str(inv.items[0].amount) == "30.38"


def test_extra_fields_blixo_adds_are_tolerated_and_kept() -> None:
    inv = Invoice.model_validate(_wire(samples.invoice(newField={"x": 1}, shippingTotal=3)))
    assert inv.model_extra == {"newField": {"x": 1}, "shippingTotal": 3}


@pytest.mark.parametrize("bad", ["12.345", "NaN", "Infinity", "abc"])
def test_money_with_more_than_two_places_or_not_finite_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        Invoice.model_validate(_wire(samples.invoice(total=bad)))


def test_float_noise_is_refused_rather_than_rounded() -> None:
    # A float that is not exactly two places (0.1 + 0.2) must not be silently rounded.
    with pytest.raises(ValidationError, match="2 decimal places"):
        Invoice.model_validate(samples.invoice(total=0.1 + 0.2))


def test_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValidationError):
        Customer.model_validate(samples.customer(updatedAt="2024-03-02T11:30:00"))


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValidationError):
        Invoice.model_validate(samples.invoice(status="pending"))


def test_missing_required_field_is_refused() -> None:
    body = samples.invoice()
    del body["customerId"]
    with pytest.raises(ValidationError, match="customerId"):
        Invoice.model_validate(body)


def test_invoice_discounts_and_taxes_parse() -> None:
    inv = Invoice.model_validate(
        _wire(
            samples.invoice(
                discounts=[{"name": "Loyalty", "rate": 10, "amount": 5}],
                taxes=[{"name": "VAT", "rate": None, "amount": 4.5}],
                amountCredited=10,
            )
        )
    )
    assert inv.discounts[0].rate == Decimal(10)
    assert str(inv.taxes[0].amount) == "4.50"
    assert str(inv.amount_credited) == "10.00"


def test_credit_note_parses() -> None:
    cn = CreditNote.model_validate(_wire(samples.credit_note()))
    assert cn.invoice_id == "inv_1"
    assert str(cn.balance) == "10.00"


def test_payment_applied_to_entries_are_typed_by_discriminator() -> None:
    p = Payment.model_validate(_wire(samples.payment()))
    kinds = [type(a) for a in p.applied_to]
    assert kinds == [InvoiceApplication, CreditNoteApplication, ConvenienceFeeApplication]
    assert p.method is PaymentMethod.CREDIT_CARD
    assert p.convenience_fee == Decimal("1.50")
    assert [a.invoice_id for a in p.invoice_applications] == ["inv_1"]
    assert p.credit_note_applications[0].credit_note_id == "cn_1"
    assert p.unapplied_amount == Decimal("14.00")


def test_payment_with_unknown_applied_to_type_is_refused() -> None:
    body = samples.payment(appliedTo=[{"type": "gift_card", "amount": 5}])
    with pytest.raises(ValidationError):
        Payment.model_validate(body)


def test_read_models_are_immutable() -> None:
    c = Customer.model_validate(samples.customer())
    with pytest.raises(ValidationError):
        c.name = "Other"  # type: ignore[misc]


# --- write models ------------------------------------------------------------------------------
def test_write_body_uses_wire_names_and_only_set_fields() -> None:
    body = CustomerWrite(name="Acme", customer_no="C-1", metadata={"intacct.recordNo": "7"}).to_wire()
    assert body == {"name": "Acme", "customerNo": "C-1", "metadata": {"intacct.recordNo": "7"}}


def test_write_body_sends_explicit_none_to_clear_a_field() -> None:
    assert CustomerWrite(email=None).to_wire() == {"email": None}


def test_write_body_money_is_a_json_number_and_dates_iso() -> None:
    body = InvoiceWrite(
        customer_id="cus_1",
        issue_date=date(2024, 3, 1),
        items=[LineItemWrite(name="W", quantity=Decimal("1.5"), unit_price=Decimal("0.125"))],
        taxes=[AdjustmentWrite(name="VAT", amount=Decimal("4.5"))],
        discounts=[AdjustmentWrite(rate=Decimal("12.5"))],
    ).to_wire()
    text = json.dumps(body)
    assert '"taxes": [{"name": "VAT", "amount": 4.5}]' in text
    assert '"discounts": [{"rate": 12.5}]' in text
    assert '"issueDate": "2024-03-01"' in text
    assert body["items"] == [{"name": "W", "quantity": 1.5, "unitPrice": 0.125}]
    # Round trip back through exact parsing gives the same decimals.
    back = json.loads(text, parse_float=Decimal)
    assert back["taxes"][0]["amount"] == Decimal("4.5")


def test_payment_write_keeps_the_applied_to_discriminator() -> None:
    body = PaymentWrite(
        customer_id="cus_1",
        amount=Decimal("101.50"),
        applied_to=[
            InvoiceApplicationWrite(invoice_id="inv_1", amount=Decimal("100")),
            ConvenienceFeeApplicationWrite(amount=Decimal("1.50")),
        ],
    ).to_wire()
    assert body["appliedTo"] == [
        {"type": "invoice", "invoiceId": "inv_1", "amount": 100.0},
        {"type": "convenience_fee", "amount": 1.5},
    ]


def test_payment_write_accepts_dicts_for_applied_to() -> None:
    w = PaymentWrite.model_validate(
        {"customerId": "cus_1", "appliedTo": [{"type": "credit_note", "creditNoteId": "cn_1", "amount": "5"}]}
    )
    assert w.to_wire()["appliedTo"] == [{"type": "credit_note", "creditNoteId": "cn_1", "amount": 5.0}]
    assert w.applied_to is not None
    assert w.applied_to[0].type is AppliedToType.CREDIT_NOTE


def test_write_models_refuse_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        CustomerWrite.model_validate({"name": "Acme", "nmae": "typo"})


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": "v" for i in range(21)},
        {"k" * 41: "v"},
        {"k": "v" * 256},
        {"": "v"},
    ],
)
def test_write_metadata_limits(metadata: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="metadata"):
        CustomerWrite(metadata=metadata)


def test_write_metadata_at_the_limits_is_fine() -> None:
    metadata = {f"{i:02d}" + "k" * 38: "v" * 255 for i in range(20)}
    assert CustomerWrite(metadata=metadata).to_wire()["metadata"] == metadata


def test_write_money_with_three_places_is_refused() -> None:
    with pytest.raises(ValidationError):
        PaymentWrite(amount=Decimal("1.005"))


def test_write_money_too_large_for_a_json_number_is_refused() -> None:
    with pytest.raises(ValueError, match="too many digits"):
        PaymentWrite(amount=Decimal("12345678901234.56")).to_wire()


# --- events ------------------------------------------------------------------------------------
def test_parse_event_picks_the_model_by_type() -> None:
    ev = parse_event(_wire(samples.event("credit_note.deleted", samples.credit_note())))
    assert ev.resource is ResourceKind.CREDIT_NOTE
    assert ev.action is EventAction.DELETED
    assert isinstance(ev.object, CreditNote)
    assert ev.created_at.tzinfo is not None


def test_parse_event_unknown_type_raises_after_envelope_validates() -> None:
    with pytest.raises(UnknownEventType) as info:
        parse_event(samples.event("invoice.finalized", {}))
    assert info.value.envelope.id == "evt_1"


def test_event_tolerates_extra_envelope_fields() -> None:
    payload = samples.event("customer.updated", samples.customer())
    payload["livemode"] = True
    payload["data"]["extra"] = 1
    assert parse_event(payload).object.id == "cus_1"
