"""Edits that reach Intacct as changes of what was posted: an object returning to an earlier
state (A -> B -> A -> B) is a new change each time, and a payment's edit reverses what was
posted and posts it anew, its convenience fee included."""

from __future__ import annotations

from decimal import Decimal

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
