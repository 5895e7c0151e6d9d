"""Pull flows in process: Intacct sandbox -> pull Lambda -> Blixo sandbox, balances compared."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from bisync.intacct import functions as fn
from tests.integration.pull.conftest import DAY, Seeder, World

TENANT = "acme"


@pytest.fixture
def seed(world: World) -> Seeder:
    return Seeder(world)


def blixo_by_number(world: World, kind: str) -> dict[str, Any]:
    api: Any = {
        "customers": world.blixo.customers,
        "invoices": world.blixo.invoices,
        "credit_notes": world.blixo.credit_notes,
    }[kind]
    out = {}
    for item in api.list():
        number = getattr(
            item,
            {"customers": "customer_no", "invoices": "invoice_no", "credit_notes": "credit_note_no"}[kind],
        )
        out[number] = item
    return out


def writes(world: World) -> int:
    events = world.blixo_admin("GET", "/_sandbox/events")["data"]
    return len(events)


def test_customers_invoices_returns_and_payments_reach_blixo_with_matching_balances(
    world: World, seed: Seeder
) -> None:
    seed.customer("PC-1", "Pulled One", email="ap@one.test", currency="USD")
    seed.customer("PC-2", "Pulled Two", status="inactive")
    inv1 = seed.order("PC-1", "SO-1", ("WIDGET", 4), ("CONSULT-HR", 1))  # 4*25 + 150 = 250
    inv2 = seed.order("PC-1", "SO-2", ("SUBSCRIPTION", 1))  # 99
    seed.order("PC-1", "SO-3", ("WIDGET", 1), state="Draft")
    seed.order("PC-1", "SR-1", ("WIDGET", 1), kind="Sales Return")  # 25 credit
    seed.pay("PC-1", "300.00", (seed.ar_key(inv1), "250.00"), (seed.ar_key(inv2), "20.00"))  # 30 unapplied

    assert world.pull() == {"batchItemFailures": []}

    customers = blixo_by_number(world, "customers")
    assert customers["PC-1"].name == "Pulled One"
    assert customers["PC-1"].email == "ap@one.test"
    assert customers["PC-2"].status.value == "archived"
    invoices = blixo_by_number(world, "invoices")
    assert set(invoices) == {"SO-1", "SO-2"}  # the draft is not pulled
    so1 = invoices["SO-1"]
    assert so1.total == Decimal("250.00")
    assert [(i.quantity, i.unit_price, i.amount) for i in so1.items] == [
        (Decimal(4), Decimal(25), Decimal("100.00")),
        (Decimal(1), Decimal(150), Decimal("150.00")),
    ]
    assert so1.purchase_order == "PO-SO-1"  # Order Entry's reference number
    assert so1.due_date == DAY + dt.timedelta(days=30)
    assert so1.balance == Decimal("0.00")
    assert invoices["SO-2"].balance == Decimal("79.00")
    credits = blixo_by_number(world, "credit_notes")
    assert credits["SR-1"].total == Decimal("25.00")
    [payment] = world.blixo.payments.list()
    assert payment.amount == Decimal("300.00")
    assert payment.unapplied_amount == Decimal("30.00")
    assert payment.metadata["intacct.source"] == "intacct"
    # Per invoice: Blixo balance == Intacct TOTALDUE.
    for docid, number in ((inv1, "SO-1"), (inv2, "SO-2")):
        ar = world.ar_invoice(seed.ar_key(docid))
        assert Decimal(ar["TOTALDUE"]) == invoices[number].balance
    runs = world.aws.store.list_runs(TENANT)
    assert runs[0].counts["invoices.created"] == 2
    assert runs[0].counts["invoices.skipped"] == 1


def test_a_second_pull_with_nothing_changed_writes_nothing(world: World, seed: Seeder) -> None:
    seed.customer("NC-1", "No Change")
    inv = seed.order("NC-1", "NC-SO-1", ("WIDGET", 2))
    seed.pay("NC-1", "50.00", (seed.ar_key(inv), "50.00"))
    world.pull()
    before = writes(world)
    world.pull()
    assert writes(world) == before
    run = world.aws.store.list_runs(TENANT)[0]
    assert sum(v for k, v in run.counts.items() if k.endswith((".created", ".updated", ".failed"))) == 0


def test_an_existing_blixo_customer_is_linked_by_number_not_duplicated(world: World, seed: Seeder) -> None:
    existing = world.blixo.customers.create(
        {"name": "Already Here", "customerNo": "LINK-1"}, idempotency_key="pre-link-1"
    )
    seed.customer("LINK-1", "Intacct Name")
    world.pull()
    matching = [c for c in world.blixo.customers.list() if c.customer_no == "LINK-1"]
    assert [c.id for c in matching] == [existing.id]
    mapping = world.aws.store.mappings.by_intacct(TENANT, "customer", "LINK-1")
    assert mapping is not None
    assert mapping.blixo_id == existing.id


def test_an_order_entry_edit_updates_the_same_blixo_invoice(world: World, seed: Seeder) -> None:
    seed.customer("OE-1", "Editor")
    docid = seed.order("OE-1", "OE-SO-1", ("WIDGET", 1))
    world.pull()
    [invoice] = world.blixo.invoices.list()
    first_key = seed.ar_key(docid)
    world.intacct.run(
        fn.update_sotransaction(
            fn.SoTransactionUpdateInput(
                docid=docid, lines=(fn.SoLineInput(itemid="WIDGET", quantity=Decimal(3), line_num=1),)
            ),
            controlid="oe-edit-1",
        )
    )
    second_key = seed.ar_key(docid)
    assert second_key != first_key
    world.pull()
    [updated] = world.blixo.invoices.list()
    assert updated.id == invoice.id
    assert updated.total == Decimal("75.00")
    mapping = world.aws.store.mappings.by_blixo(TENANT, "invoice", invoice.id)
    assert mapping is not None
    assert mapping.intacct_key == second_key
    assert world.aws.store.mappings.by_intacct(TENANT, "invoice", first_key) is None
    assert updated.metadata["intacct.recordNo"] == second_key  # the link in Blixo follows


def test_a_reversed_payment_voids_the_blixo_payment_once(world: World, seed: Seeder) -> None:
    seed.customer("RV-1", "Reverser")
    docid = seed.order("RV-1", "RV-SO-1", ("WIDGET", 2))
    pay = seed.pay("RV-1", "50.00", (seed.ar_key(docid), "50.00"))
    world.pull()
    [payment] = world.blixo.payments.list()
    world.intacct.run(fn.reverse_arpayment(pay, DAY + dt.timedelta(days=3), controlid="rv-1"))
    world.pull()
    world.pull()
    [voided] = world.blixo.payments.list()
    assert voided.id == payment.id
    assert voided.status.value == "voided"
    [invoice] = world.blixo.invoices.list()
    assert invoice.balance == Decimal("50.00")
    events = [
        e for e in world.blixo_admin("GET", "/_sandbox/events")["data"] if e["type"] == "payment.updated"
    ]
    assert len([e for e in events if e["data"]["object"]["status"] == "voided"]) == 1
    assert [e for e in world.aws.store.errors.list(TENANT) if e.level.value == "warning"] == []


def test_a_payment_on_a_not_yet_pulled_invoice_waits_and_is_then_written_whole(
    world: World, seed: Seeder
) -> None:
    seed.customer("WT-1", "Waiter")
    docid = seed.order("WT-1", "WT-SO-1", ("WIDGET", 4))
    seed.pay("WT-1", "100.00", (seed.ar_key(docid), "100.00"))
    flows = world.settings.flows.model_copy(update={"pull_invoices": False})
    world.aws.store.put_tenant(world.settings.model_copy(update={"flows": flows}))
    world.pull()
    world.pull()  # still waiting: read again by key, and once more by the look-back
    assert world.blixo.payments.list() == []
    second = world.aws.store.list_runs(TENANT)[0]
    assert (second.counts["payments.read"], second.counts["payments.failed"]) == (1, 1)  # counted once
    [waiting] = world.aws.store.errors.list(TENANT)
    assert waiting.object_type == "payment"
    assert "not in Blixo yet" in waiting.message
    world.aws.store.put_tenant(world.settings)
    world.pull()
    [payment] = world.blixo.payments.list()
    assert payment.amount == Decimal("100.00")
    assert [a.amount for a in payment.invoice_applications] == [Decimal("100.00")]
    assert world.aws.store.errors.list(TENANT) == []


def test_a_waiting_payment_reversed_before_its_invoice_came_waits_no_more(world: World, seed: Seeder) -> None:
    seed.customer("WR-1", "Wait Rev")
    docid = seed.order("WR-1", "WR-SO-1", ("WIDGET", 4))
    paid = seed.pay("WR-1", "100.00", (seed.ar_key(docid), "100.00"))
    flows = world.settings.flows.model_copy(update={"pull_invoices": False})
    world.aws.store.put_tenant(world.settings.model_copy(update={"flows": flows}))
    world.pull()
    assert [e.object_id for e in world.aws.store.errors.list(TENANT)] == [paid]  # waiting
    world.intacct.run(fn.reverse_arpayment(paid, DAY + dt.timedelta(days=3), controlid="wr-rev"))
    world.aws.store.put_tenant(world.settings)
    world.pull()
    # Reversed before it was ever written: nothing to write, nothing left waiting.
    assert world.aws.store.errors.list(TENANT) == []
    assert world.blixo.payments.list() == []


def test_nothing_the_push_created_is_pulled_back(world: World) -> None:
    customer = world.customer("Pushed Co", customerNo="PSH-1")
    invoice = world.invoice(customer.id, "40.00")
    world.pay(customer.id, "40.00", {"type": "invoice", "invoiceId": invoice.id, "amount": "40.00"})
    assert world.pump() == []
    before = writes(world)
    world.pull()
    assert writes(world) == before
    assert len(world.blixo.customers.list()) == 1
    assert len(world.blixo.invoices.list()) == 1
    assert len(world.blixo.payments.list()) == 1


def test_an_intacct_owned_customer_edited_in_intacct_is_updated_in_blixo(world: World, seed: Seeder) -> None:
    seed.customer("ED-1", "Before")
    world.pull()
    [first] = world.blixo.customers.list()
    world.intacct.run(
        fn.update_customer(
            fn.CustomerInput(customer_id="ED-1", name="After", email="new@ed.test"), controlid="ed-1"
        )
    )
    world.pull()
    [after] = world.blixo.customers.list()
    assert after.id == first.id
    assert (after.name, after.email) == ("After", "new@ed.test")


def test_an_intacct_customer_renamed_back_and_forth_ends_as_intacct_has_it(
    world: World, seed: Seeder
) -> None:
    seed.customer("TG-1", "Name A")
    world.pull()
    names = []
    for n, name in enumerate(["Name B", "Name A", "Name C", "Name B"]):
        world.intacct.run(
            fn.update_customer(fn.CustomerInput(customer_id="TG-1", name=name), controlid=f"tg-{n}")
        )
        world.pull()
        [customer] = world.blixo.customers.list()
        names.append(customer.name)
    # A return to an earlier (or the created) state is a change of its own: never a replay of
    # an earlier write's Idempotency-Key (Blixo would answer its first response, or 422).
    assert names == ["Name B", "Name A", "Name C", "Name B"]
    assert world.aws.store.errors.list("acme") == []


def test_a_blixo_owned_customer_is_never_overwritten_by_the_pull(world: World) -> None:
    customer = world.customer("Blixo Owned", customerNo="OWN-1")
    assert world.pump() == []
    world.intacct.run(
        fn.update_customer(
            fn.CustomerInput(customer_id="OWN-1", name="Changed in Intacct"), controlid="own-1"
        )
    )
    world.pull()
    assert world.blixo.customers.get(customer.id).name == "Blixo Owned"


def test_a_record_blixo_cannot_carry_is_its_own_sync_error_and_the_run_goes_on(
    world: World, seed: Seeder
) -> None:
    seed.customer("BIG-1", "Big Spender")
    seed.pay("BIG-1", "999999999999999.99")  # an overpayment no JSON number carries exactly
    docid = seed.order("BIG-1", "BIG-SO-1", ("WIDGET", 1))
    seed.pay("BIG-1", "25.00", (seed.ar_key(docid), "25.00"))
    assert world.pull() == {"batchItemFailures": []}
    [error] = world.aws.store.errors.list(TENANT)
    assert error.object_type == "payment"
    assert "cannot be written to Blixo" in error.message
    [payment] = world.blixo.payments.list()
    assert payment.amount == Decimal("25.00")
    assert world.aws.store.list_runs(TENANT)[0].outcome.value == "partial"
