"""Push flows end to end in process: Blixo sandbox -> webhook Lambda -> queue -> push Lambda ->
Intacct sandbox, with the ledgers compared to the cent after each flow."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.push.conftest import TENANT, World


def test_customer_create_update_and_archive(world: World) -> None:
    customer = world.customer("Globex", customerNo="GLX-1", email="ap@globex.test")
    assert world.pump() == []
    linked = world.mapping("customer", customer.id)
    assert linked.intacct_key == "GLX-1"
    [row] = [c for c in world.dump("CUSTOMER") if c["CUSTOMERID"] == "GLX-1"]
    assert row["NAME"] == "Globex"
    assert row["STATUS"] == "active"

    world.blixo.customers.update(customer.id, {"name": "Globex Intl"}, idempotency_key=world.key("u"))
    assert world.pump() == []
    [row] = [c for c in world.dump("CUSTOMER") if c["CUSTOMERID"] == "GLX-1"]
    assert row["NAME"] == "Globex Intl"

    world.blixo.customers.update(customer.id, {"status": "archived"}, idempotency_key=world.key("a"))
    assert world.pump() == []
    [row] = [c for c in world.dump("CUSTOMER") if c["CUSTOMERID"] == "GLX-1"]
    assert row["STATUS"] == "inactive"


def test_an_existing_intacct_customer_is_linked_not_duplicated(world: World) -> None:
    from bisync.intacct import functions as fn

    world.intacct.run(
        fn.create_customer(fn.CustomerInput(customer_id="EXIST-1", name="Old name"), controlid="seed-exist")
    )
    customer = world.customer("New name", customerNo="EXIST-1")
    assert world.pump() == []
    rows = [c for c in world.dump("CUSTOMER") if c["CUSTOMERID"] == "EXIST-1"]
    assert len(rows) == 1
    assert rows[0]["NAME"] == "New name"
    assert world.mapping("customer", customer.id).intacct_key == "EXIST-1"


def test_invoice_create_edit_and_void(world: World) -> None:
    customer = world.customer("Initech", customerNo="INI-1")
    invoice = world.invoice(
        customer.id, "100.00", "50.25", taxes=[{"name": "VAT", "amount": "15.05"}], purchaseOrder="PO-7"
    )
    assert world.pump() == []
    linked = world.mapping("invoice", invoice.id)
    ar = world.ar_invoice(linked.intacct_key)
    assert Decimal(ar["TOTALENTERED"]) == Decimal("165.30")
    assert ar["CUSTOMERID"] == "INI-1"
    world.assert_ledgers_agree()

    # An edit of an unpaid invoice changes the Intacct amounts.
    world.blixo.invoices.update(
        invoice.id,
        {"items": [{"name": "Only line", "quantity": 2, "unitPrice": "40.00"}], "taxes": []},
        idempotency_key=world.key("e"),
    )
    assert world.pump() == []
    ar = world.ar_invoice(linked.intacct_key)
    assert Decimal(ar["TOTALENTERED"]) == Decimal("80.00")
    assert Decimal(ar["TOTALDUE"]) == Decimal("80.00")
    world.assert_ledgers_agree()

    world.blixo.invoices.void(invoice.id, idempotency_key=world.key("v"))
    assert world.pump() == []
    ar = world.ar_invoice(linked.intacct_key)
    assert Decimal(ar["TOTALDUE"]) == Decimal("0")
    assert world.mapping("invoice", invoice.id).state.get("reversed")
    world.assert_ledgers_agree()


def test_a_draft_is_never_pushed(world: World) -> None:
    customer = world.customer("Drafty")
    draft = world.invoice(customer.id, "10.00", status="draft")
    assert world.pump() == []
    assert world.mapping("invoice", draft.id) is None
    assert world.dump("ARINVOICE") == []


def test_partial_payment_with_a_convenience_fee(world: World) -> None:
    customer = world.customer("Umbrella", customerNo="UMB-1")
    invoice = world.invoice(customer.id, "200.00")
    payment = world.pay(
        customer.id,
        "123.00",
        {"type": "invoice", "invoiceId": invoice.id, "amount": "120.00"},
        {"type": "convenience_fee", "amount": "3.00"},
        method="credit_card",
    )
    assert world.pump() == []
    fee = world.mapping("convenience_fee", payment.id)
    fee_invoice = world.ar_invoice(fee.intacct_key)
    assert fee_invoice["RECORDID"] == f"CF-{payment.id}"
    assert Decimal(fee_invoice["TOTALENTERED"]) == Decimal("3.00")
    assert Decimal(fee_invoice["TOTALDUE"]) == Decimal("0")
    ar = world.ar_invoice(world.mapping("invoice", invoice.id).intacct_key)
    assert Decimal(ar["TOTALDUE"]) == Decimal("80.00")
    world.assert_ledgers_agree()
    # However often the event comes again, exactly one fee invoice.
    world.blixo.payments.update(payment.id, {"reference": "card-1"}, idempotency_key=world.key("r"))
    assert world.pump() == []
    fee_invoices = [r for r in world.dump("ARINVOICE") if str(r.get("RECORDID", "")).startswith("CF-")]
    assert len(fee_invoices) == 1
    world.assert_ledgers_agree()


def test_overpayment_keeps_the_remainder_unapplied(world: World) -> None:
    customer = world.customer("Hooli", customerNo="HOO-1")
    invoice = world.invoice(customer.id, "75.00")
    payment = world.pay(
        customer.id, "100.00", {"type": "invoice", "invoiceId": invoice.id, "amount": "75.00"}
    )
    assert world.pump() == []
    linked = world.mapping("payment", payment.id)
    [row] = [p for p in world.dump("ARPYMT") if str(p["RECORDNO"]) == linked.intacct_key]
    assert Decimal(row["TOTALENTERED"]) == Decimal("100.00")
    assert Decimal(row["TOTALDUE"]) == Decimal("25.00")
    world.assert_ledgers_agree()


def test_payment_with_a_credit_note_and_its_void(world: World) -> None:
    customer = world.customer("Stark", customerNo="STK-1")
    invoice = world.invoice(customer.id, "300.00")
    credit = world.blixo.credit_notes.create(
        {
            "customerId": customer.id,
            "issueDate": "2026-11-21",
            "items": [{"name": "Refund", "quantity": 1, "unitPrice": "50.00"}],
        },
        idempotency_key=world.key("cn"),
    )
    payment = world.pay(
        customer.id,
        "100.00",
        {"type": "invoice", "invoiceId": invoice.id, "amount": "100.00"},
        {"type": "credit_note", "creditNoteId": credit.id, "invoiceId": invoice.id, "amount": "50.00"},
    )
    assert world.pump() == []
    ar = world.ar_invoice(world.mapping("invoice", invoice.id).intacct_key)
    assert Decimal(ar["TOTALDUE"]) == Decimal("150.00")
    world.assert_ledgers_agree()

    world.blixo.payments.void(payment.id, idempotency_key=world.key("pv"))
    assert world.pump() == []
    ar = world.ar_invoice(world.mapping("invoice", invoice.id).intacct_key)
    assert Decimal(ar["TOTALDUE"]) == Decimal("300.00")
    world.assert_ledgers_agree()


def test_a_credit_note_on_an_invoice_and_its_void(world: World) -> None:
    customer = world.customer("Wayne", customerNo="WAY-1")
    invoice = world.invoice(customer.id, "120.00")
    credit = world.blixo.credit_notes.create(
        {
            "customerId": customer.id,
            "invoiceId": invoice.id,
            "issueDate": "2026-11-21",
            "items": [{"name": "Discount", "quantity": 1, "unitPrice": "20.00"}],
        },
        idempotency_key=world.key("cn"),
    )
    assert world.pump() == []
    assert world.mapping("credit_note", credit.id).extra_keys.get("application")
    ar = world.ar_invoice(world.mapping("invoice", invoice.id).intacct_key)
    assert Decimal(ar["TOTALDUE"]) == Decimal("100.00")
    world.assert_ledgers_agree()

    world.blixo.credit_notes.void(credit.id, idempotency_key=world.key("cv"))
    assert world.pump() == []
    ar = world.ar_invoice(world.mapping("invoice", invoice.id).intacct_key)
    assert Decimal(ar["TOTALDUE"]) == Decimal("120.00")
    assert [a for a in world.dump("ARADJUSTMENT") if a.get("CUSTOMERID") == "WAY-1"] == []
    world.assert_ledgers_agree()


def test_tenant_state_after_a_run(world: World) -> None:
    customer = world.customer("Counted")
    world.invoice(customer.id, "10.00")
    assert world.pump() == []
    cursor = world.aws.store.get_cursor(TENANT, "push")
    assert cursor.processed >= 2
    assert world.aws.store.errors.list(TENANT) == []
