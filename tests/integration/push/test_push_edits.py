"""Edits that reach Intacct as changes of what was posted: an object returning to an earlier
state (A -> B -> A -> B) is a new change each time, and a payment's edit reverses what was
posted and posts it anew, its convenience fee included."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bisync.intacct import functions as fn
from tests.integration.push.conftest import TENANT, World


def intacct_customer(world: World, number: str) -> dict[str, str]:
    [row] = [r for r in world.dump("CUSTOMER") if r["CUSTOMERID"] == number]
    return row


def test_a_customer_renamed_back_and_forth_ends_as_blixo_has_it(world: World) -> None:
    customer = world.customer("Name A", customerNo="TOG-1")
    assert world.pump() == []
    names = []
    for name in ("Name B", "Name A", "Name B"):
        world.blixo.customers.update(customer.id, {"name": name}, idempotency_key=world.key("rename"))
        assert world.pump() == []
        names.append(intacct_customer(world, "TOG-1")["NAME"])
    # Each return to an earlier name is a write of its own, not a replay Intacct refuses.
    assert names == ["Name B", "Name A", "Name B"]
    assert world.aws.store.errors.list(TENANT) == []


def test_an_unpaid_invoice_edited_back_to_its_first_amount_follows_each_edit(world: World) -> None:
    customer = world.customer("Toggle Inv", customerNo="TOG-2")
    invoice = world.invoice(customer.id, "100.00")
    assert world.pump() == []
    link = world.mapping("invoice", invoice.id)
    assert link is not None
    seen = []
    for amount in ("80.00", "100.00", "80.00"):
        items = [{"name": "L", "quantity": 1, "unitPrice": amount}]
        world.blixo.invoices.update(invoice.id, {"items": items}, idempotency_key=world.key("edit"))
        assert world.pump() == []
        seen.append(Decimal(world.ar_invoice(link.intacct_key)["TOTALDUE"]))
    assert seen == [Decimal("80"), Decimal("100"), Decimal("80")]
    assert world.blixo.invoices.get(invoice.id).balance == Decimal("80.00")
    assert world.aws.store.errors.list(TENANT) == []
    world.assert_ledgers_agree()


def test_a_payment_edited_back_to_its_first_amount_is_posted_anew_each_time(world: World) -> None:
    customer = world.customer("Toggle Pay", customerNo="TOG-3")
    invoice = world.invoice(customer.id, "100.00")
    payment = world.pay(customer.id, "40.00", {"type": "invoice", "invoiceId": invoice.id, "amount": "40.00"})
    assert world.pump() == []
    link = world.mapping("invoice", invoice.id)
    assert link is not None
    due = []
    for amount in ("60.00", "40.00"):
        applied = [{"type": "invoice", "invoiceId": invoice.id, "amount": amount}]
        world.blixo.payments.update(
            payment.id, {"amount": amount, "appliedTo": applied}, idempotency_key=world.key("pay-edit")
        )
        assert world.pump() == []
        due.append(Decimal(world.ar_invoice(link.intacct_key)["TOTALDUE"]))
    assert due == [Decimal("40"), Decimal("60")]
    posted = [p for p in world.dump("ARPYMT") if p["CUSTOMERID"] == "TOG-3" and p["STATE"] != "V"]
    assert [Decimal(p["TOTALENTERED"]) for p in posted] == [Decimal("40")]
    assert world.blixo.invoices.get(invoice.id).balance == Decimal("60.00")
    assert world.aws.store.errors.list(TENANT) == []
    world.assert_ledgers_agree()


def fee_invoices(world: World) -> list[tuple[str, Decimal, Decimal, str]]:
    return [
        (r["RECORDID"], Decimal(r["TOTALENTERED"]), Decimal(r["TOTALDUE"]), r.get("STATE", ""))
        for r in world.dump("ARINVOICE")
        if str(r.get("RECORDID", "")).startswith("CF-")
    ]


def customer_due(world: World, number: str) -> Decimal:
    return Decimal(intacct_customer(world, number)["TOTALDUE"])


def pay_with_fee(world: World, number: str) -> tuple[str, str, str]:
    customer = world.customer(f"Fee {number}", customerNo=number)
    invoice = world.invoice(customer.id, "200.00")
    payment = world.pay(
        customer.id,
        "103.00",
        {"type": "invoice", "invoiceId": invoice.id, "amount": "100.00"},
        {"type": "convenience_fee", "amount": "3.00"},
        method="credit_card",
    )
    assert world.pump() == []
    assert [(n, total, due) for n, total, due, _ in fee_invoices(world)] == [
        (f"CF-{payment.id}", Decimal("3"), Decimal("0"))
    ]
    return customer.id, invoice.id, payment.id


def test_a_fee_removed_by_a_payment_edit_reverses_its_fee_invoice(world: World) -> None:
    _customer, invoice, payment = pay_with_fee(world, "FEE-1")
    applied = [{"type": "invoice", "invoiceId": invoice, "amount": "100.00"}]
    world.blixo.payments.update(
        payment, {"amount": "100.00", "appliedTo": applied}, idempotency_key=world.key("e")
    )
    assert world.pump() == []
    # The fee invoice is reversed (nothing left to owe on it), the invoice is paid 100 as before.
    assert [(n, due, state) for n, _total, due, state in fee_invoices(world)] == [
        (f"CF-{payment}", Decimal("0"), "Reversed"),
        (f"CF-{payment}", Decimal("0"), "Reversal"),
    ]
    assert customer_due(world, "FEE-1") == Decimal("100")
    assert world.aws.store.errors.list(TENANT) == []
    world.assert_ledgers_agree()


def test_a_fee_changed_by_a_payment_edit_is_a_new_fee_invoice(world: World) -> None:
    _customer, invoice, payment = pay_with_fee(world, "FEE-2")
    applied = [
        {"type": "invoice", "invoiceId": invoice, "amount": "100.00"},
        {"type": "convenience_fee", "amount": "5.00"},
    ]
    world.blixo.payments.update(
        payment, {"amount": "105.00", "appliedTo": applied}, idempotency_key=world.key("e")
    )
    assert world.pump() == []
    assert [(n, total, due) for n, total, due, state in fee_invoices(world) if state != "Reversal"] == [
        (f"CF-{payment}", Decimal("3"), Decimal("0")),  # reversed
        (f"CF-{payment}-2", Decimal("5"), Decimal("0")),  # the new fee, paid by the new payment
    ]
    link = world.mapping("invoice", invoice)
    assert link is not None
    assert Decimal(world.ar_invoice(link.intacct_key)["TOTALDUE"]) == Decimal("100")
    assert customer_due(world, "FEE-2") == Decimal("100")
    assert world.aws.store.errors.list(TENANT) == []
    world.assert_ledgers_agree()


def test_with_the_fee_flow_off_a_payment_is_posted_without_its_fee(world: World) -> None:
    flows = world.settings.flows.model_copy(update={"push_convenience_fees": False})
    world.aws.store.put_tenant(world.settings.model_copy(update={"flows": flows}))
    customer = world.customer("No Fee Flow", customerNo="NFF-1")
    invoice = world.invoice(customer.id, "100.00")
    payment = world.pay(
        customer.id,
        "103.00",
        {"type": "invoice", "invoiceId": invoice.id, "amount": "100.00"},
        {"type": "convenience_fee", "amount": "3.00"},
        method="credit_card",
    )
    assert world.pump() == []
    assert fee_invoices(world) == []
    link = world.mapping("payment", payment.id)
    assert link is not None
    [posted] = [p for p in world.dump("ARPYMT") if p["RECORDNO"] == link.intacct_key]
    assert Decimal(posted["TOTALENTERED"]) == Decimal("100")
    assert customer_due(world, "NFF-1") == Decimal("0")
    assert world.aws.store.errors.list(TENANT) == []
    world.assert_ledgers_agree()


def test_an_unpaid_invoice_moved_to_another_customer_moves_in_intacct(world: World) -> None:
    first = world.customer("Cust A", customerNo="MOV-A")
    second = world.customer("Cust B", customerNo="MOV-B")
    invoice = world.invoice(first.id, "55.00")
    assert world.pump() == []
    world.blixo.invoices.update(invoice.id, {"customerId": second.id}, idempotency_key=world.key("move"))
    assert world.pump() == []
    link = world.mapping("invoice", invoice.id)
    assert link is not None
    assert world.ar_invoice(link.intacct_key)["CUSTOMERID"] == "MOV-B"
    assert (customer_due(world, "MOV-A"), customer_due(world, "MOV-B")) == (Decimal("0"), Decimal("55"))
    assert world.aws.store.errors.list(TENANT) == []
    world.assert_ledgers_agree()


def test_an_unpaid_invoice_changed_to_another_currency_and_back_follows(world: World) -> None:
    customer = world.customer("Cur A", customerNo="CUR-A")
    invoice = world.invoice(customer.id, "55.00")
    assert world.pump() == []
    link = world.mapping("invoice", invoice.id)
    assert link is not None
    seen = []
    for currency in ("EUR", "USD"):
        world.blixo.invoices.update(invoice.id, {"currency": currency}, idempotency_key=world.key("cur"))
        assert world.pump() == []
        [row] = [r for r in world.dump("ARINVOICE") if str(r["RECORDNO"]) == link.intacct_key]
        seen.append(row["CURRENCY"])
    assert seen == ["EUR", "USD"]
    assert world.aws.store.errors.list(TENANT) == []


def test_a_lost_response_finds_this_customers_invoice_not_anothers_of_the_same_number(world: World) -> None:
    native = fn.CustomerInput(customer_id="NAT-1", name="Native")
    world.intacct.run(fn.create_customer(native, controlid="nat-c"))
    line = fn.InvoiceLineInput(glaccountno="4000", amount=Decimal("5"), locationid="E100")
    other = fn.InvoiceInput(
        customerid="NAT-1",
        datecreated=dt.date(2026, 5, 1),
        datedue=dt.date(2026, 6, 1),
        invoiceno="INV-00001",
        lines=(line,),
    )
    world.intacct.run(fn.create_invoice(other, controlid="nat-i"))
    customer = world.customer("Collide", customerNo="COL-1")
    assert world.pump() == []
    invoice = world.invoice(customer.id, "40.00")
    assert invoice.invoice_no == "INV-00001"  # the same number, another customer's in Intacct
    world.intacct_admin("faults", {"rate_lost_response": 1, "seed": 7})
    world.pump()
    world.intacct_admin("faults", {"clear": True})
    assert world.pump() == []
    link = world.mapping("invoice", invoice.id)
    assert link is not None
    ours = [r for r in world.dump("ARINVOICE") if r["CUSTOMERID"] == "COL-1"]
    assert [r["RECORDNO"] for r in ours] == [link.intacct_key]  # one, and linked
    assert world.aws.store.errors.list(TENANT) == []
    world.assert_ledgers_agree()


def test_a_lost_response_on_a_re_post_links_the_new_payment_and_a_void_then_clears_it(world: World) -> None:
    customer = world.customer("Repost", customerNo="REP-1")
    invoice = world.invoice(customer.id, "100.00")
    payment = world.pay(
        customer.id,
        "40.00",
        {"type": "invoice", "invoiceId": invoice.id, "amount": "40.00"},
        reference="CHK-77",
    )
    assert world.pump() == []
    applied = [{"type": "invoice", "invoiceId": invoice.id, "amount": "60.00"}]
    world.blixo.payments.update(
        payment.id, {"amount": "60.00", "appliedTo": applied}, idempotency_key=world.key("e")
    )
    world.intacct_admin("faults", {"rate_lost_response": 1, "seed": 7})
    world.pump()
    world.intacct_admin("faults", {"clear": True})
    assert world.pump() == []
    link = world.mapping("payment", payment.id)
    assert link is not None
    live = [p for p in world.dump("ARPYMT") if p.get("DOCNUMBER") == "CHK-77" and p["STATE"] != "V"]
    assert [(p["RECORDNO"], Decimal(p["TOTALENTERED"])) for p in live] == [(link.intacct_key, Decimal("60"))]
    world.assert_ledgers_agree()
    world.blixo.payments.void(payment.id, idempotency_key=world.key("v"))
    assert world.pump() == []
    assert [p for p in world.dump("ARPYMT") if p.get("DOCNUMBER") == "CHK-77" and p["STATE"] != "V"] == []
    invoice_link = world.mapping("invoice", invoice.id)
    assert invoice_link is not None
    assert Decimal(world.ar_invoice(invoice_link.intacct_key)["TOTALDUE"]) == Decimal("100")
    assert world.aws.store.errors.list(TENANT) == []
    world.assert_ledgers_agree()


def test_lost_replies_to_every_write_of_a_fee_payment_still_make_one_fee_invoice(world: World) -> None:
    customer = world.customer("Fee Lossy", customerNo="FEE-3")
    invoice = world.invoice(customer.id, "50.00")
    assert world.pump() == []
    payment = world.pay(
        customer.id,
        "52.00",
        {"type": "invoice", "invoiceId": invoice.id, "amount": "50.00"},
        {"type": "convenience_fee", "amount": "2.00"},
        method="credit_card",
    )
    world.intacct_admin("faults", {"rate_lost_response": 1, "seed": 3})  # every committed write
    world.pump()
    world.intacct_admin("faults", {"clear": True})
    assert world.pump() == []
    assert world.counters()["lost_responses"] >= 2  # the fee invoice's reply and the payment's
    assert [(n, total, due) for n, total, due, _ in fee_invoices(world)] == [
        (f"CF-{payment.id}", Decimal("2"), Decimal("0"))
    ]
    assert len([p for p in world.dump("ARPYMT") if p["CUSTOMERID"] == "FEE-3"]) == 1
    assert world.aws.store.errors.list(TENANT) == []
    world.assert_ledgers_agree()
