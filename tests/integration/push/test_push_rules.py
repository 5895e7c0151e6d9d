"""The push's rules around the flows: the start date both ways, deletions, a convenience fee
undone with its payment, payments on Order Entry invoices, echoes of pulled documents, and
writes in the tenant's entity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from bisync.intacct import functions as fn
from bisync.store.mappings import MappingStore
from tests.integration.pull.conftest import Seeder
from tests.integration.push.conftest import TENANT, World


def rows_of(world: World, obj: str, customer: str) -> list[dict[str, str]]:
    return [r for r in world.dump(obj) if r.get("CUSTOMERID") == customer]


def test_the_push_skips_documents_dated_before_the_start_date(world: World) -> None:
    world.aws.store.put_tenant(world.settings.model_copy(update={"start_date": dt.date(2026, 6, 1)}))
    customer = world.customer("Starter", customerNo="STA-1")
    old = world.invoice(customer.id, "10.00", issueDate="2026-01-15", dueDate="2026-02-15")
    new = world.invoice(customer.id, "20.00")
    old_payment = world.pay(
        customer.id, "10.00", {"type": "invoice", "invoiceId": old.id, "amount": "10.00"}, date="2026-01-20"
    )
    credit = world.blixo.credit_notes.create(
        {
            "customerId": customer.id,
            "issueDate": "2026-01-16",
            "items": [{"name": "r", "quantity": 1, "unitPrice": "5.00"}],
        },
        idempotency_key=world.key("cn"),
    )
    assert world.pump() == []
    assert [world.mapping(t, i) for t, i in (("invoice", old.id), ("payment", old_payment.id))] == [
        None,
        None,
    ]
    assert world.mapping("credit_note", credit.id) is None
    assert world.mapping("invoice", new.id) is not None
    assert [Decimal(r["TOTALENTERED"]) for r in rows_of(world, "ARINVOICE", "STA-1")] == [Decimal("20")]
    assert rows_of(world, "ARPYMT", "STA-1") == rows_of(world, "ARADJUSTMENT", "STA-1") == []
    assert world.aws.store.errors.list(TENANT) == []


def test_the_pull_skips_documents_dated_before_the_start_date(world: World) -> None:
    world.intacct.run(
        fn.create_customer(fn.CustomerInput(customer_id="PST-1", name="Pull Start"), controlid="s-c")
    )

    def order(number: str, day: dt.date) -> None:
        line = fn.SoLineInput(itemid="WIDGET", quantity=Decimal(1), locationid="E100")
        tx = fn.SoTransactionInput(
            transactiontype="Sales Invoice",
            datecreated=day,
            customerid="PST-1",
            documentno=number,
            datedue=day + dt.timedelta(days=30),
            lines=(line,),
        )
        world.intacct.run(fn.create_sotransaction(tx, controlid=f"s-{number}"))

    order("OLD-1", dt.date(2026, 1, 10))
    order("NEW-1", dt.date(2026, 11, 10))
    world.aws.store.put_tenant(world.settings.model_copy(update={"start_date": dt.date(2026, 6, 1)}))
    assert world.pull() == {"batchItemFailures": []}
    assert sorted(i.invoice_no or "" for i in world.blixo.invoices.list()) == ["NEW-1"]


def test_a_deleted_invoice_is_reversed_and_a_deleted_customer_made_inactive(world: World) -> None:
    customer = world.customer("Deleter", customerNo="DEL-1")
    invoice = world.invoice(customer.id, "70.00")
    assert world.pump() == []
    link = world.mapping("invoice", invoice.id)
    assert link is not None
    world.blixo.request("DELETE", f"invoices/{invoice.id}")
    assert world.pump() == []
    assert Decimal(world.ar_invoice(link.intacct_key)["TOTALDUE"]) == Decimal("0")
    assert {r["STATE"] for r in rows_of(world, "ARINVOICE", "DEL-1")} == {"Reversed", "Reversal"}
    world.blixo.request("DELETE", f"customers/{customer.id}")
    assert world.pump() == []
    [row] = [r for r in world.dump("CUSTOMER") if r["CUSTOMERID"] == "DEL-1"]
    assert row["STATUS"] == "inactive"
    assert world.aws.store.errors.list(TENANT) == []


def test_a_voided_payment_reverses_its_convenience_fee_invoice_too(world: World) -> None:
    customer = world.customer("Fee Void", customerNo="FEV-1")
    invoice = world.invoice(customer.id, "50.00")
    payment = world.pay(
        customer.id,
        "32.00",
        {"type": "invoice", "invoiceId": invoice.id, "amount": "30.00"},
        {"type": "convenience_fee", "amount": "2.00"},
        method="credit_card",
    )
    assert world.pump() == []
    world.blixo.payments.void(payment.id, idempotency_key=world.key("void"))
    assert world.pump() == []
    fees = [r for r in world.dump("ARINVOICE") if str(r.get("RECORDID", "")).startswith("CF-")]
    assert sorted((r["STATE"], Decimal(r["TOTALDUE"])) for r in fees) == [
        ("Reversal", Decimal("0")),
        ("Reversed", Decimal("0")),
    ]
    [row] = [r for r in world.dump("CUSTOMER") if r["CUSTOMERID"] == "FEV-1"]
    assert Decimal(row["TOTALDUE"]) == Decimal("50")
    world.assert_ledgers_agree()


def test_a_blixo_payment_on_an_order_entry_invoice_pays_its_current_ar_record(world: World) -> None:
    seed = Seeder(world)
    seed.customer("OEP-1", "OE Payer")
    docid = seed.order("OEP-1", "OEP-SO-1", ("WIDGET", 2))  # 50.00
    world.pull()
    edit = fn.SoTransactionUpdateInput(
        docid=docid, lines=(fn.SoLineInput(itemid="WIDGET", quantity=Decimal(4), line_num=1),)
    )
    world.intacct.run(fn.update_sotransaction(edit, controlid="oep-edit"))  # 100.00, a new A/R record
    world.pull()
    assert world.pump() == []  # the pull's echoes write nothing
    [invoice] = world.blixo.invoices.list()
    [customer] = world.blixo.customers.list()
    world.pay(customer.id, "30.00", {"type": "invoice", "invoiceId": invoice.id, "amount": "30.00"})
    assert world.pump() == []
    # Applied to the A/R record the edit made (PRRECORDKEY), never to the document.
    assert Decimal(world.ar_invoice(seed.ar_key(docid))["TOTALDUE"]) == Decimal("70")
    assert world.aws.store.errors.list(TENANT) == []
    world.assert_ledgers_agree()


def test_the_webhooks_of_pulled_documents_are_echoes_and_write_nothing(world: World) -> None:
    seed = Seeder(world)
    seed.customer("EC-1", "Echo Co")
    order = seed.order("EC-1", "EC-SO-1", ("WIDGET", 2))
    seed.order("EC-1", "EC-SR-1", ("WIDGET", 1), kind="Sales Return")
    seed.pay("EC-1", "30.00", (seed.ar_key(order), "30.00"))
    assert world.pull() == {"batchItemFailures": []}
    types = {e["type"] for e in world.blixo_admin("GET", "/_sandbox/events")["data"]}
    assert {"invoice.created", "credit_note.created", "payment.created"} <= types
    before = world.counters()
    assert world.pump() == []
    after = world.counters()
    assert after["transactions"] == before["transactions"]  # not one write in Intacct


def test_an_entity_tenant_writes_in_its_entity_with_line_locations(world: World) -> None:
    accounts = world.settings.accounts.model_copy(
        update={"location_id": None, "overpayment_location_id": None}
    )
    world.aws.store.put_tenant(world.settings.model_copy(update={"accounts": accounts, "entity_id": "E200"}))
    customer = world.customer("Entity Co", customerNo="ENT-1")
    invoice = world.invoice(customer.id, "10.00")
    world.pay(customer.id, "15.00", {"type": "invoice", "invoiceId": invoice.id, "amount": "10.00"})
    assert world.pump() == []
    assert world.aws.store.errors.list(TENANT) == []
    [ar] = rows_of(world, "ARINVOICE", "ENT-1")
    [pay] = rows_of(world, "ARPYMT", "ENT-1")
    assert (ar["MEGAENTITYID"], pay["MEGAENTITYID"]) == ("E200", "E200")  # written in the entity
    items = [i for i in world.dump("ARINVOICEITEM") if i.get("RECORDKEY") == ar["RECORDNO"]]
    assert items
    assert {i["LOCATIONID"] for i in items} == {"E200"}  # each line in the entity's location
    # The same balances on both sides (read from the sandbox's store: the test's own top-level
    # session does not see the entity's private records).
    assert (Decimal(ar["TOTALDUE"]), world.blixo.invoices.get(invoice.id).balance) == (
        Decimal("0"),
        Decimal("0"),
    )
    [row] = [r for r in world.dump("CUSTOMER") if r["CUSTOMERID"] == "ENT-1"]
    assert Decimal(row["TOTALDUE"]) == Decimal("0")


def test_a_cash_payment_the_push_announced_is_never_pulled_back_before_its_link_is_stored(
    world: World,
) -> None:
    seed = Seeder(world)
    customer = world.customer("Window Co", customerNo="WIN-1")
    invoice = world.invoice(customer.id, "80.00")
    assert world.pump() == []
    invoice_link = world.mapping("invoice", invoice.id)
    assert invoice_link is not None
    # The push's write committed in Intacct, its reply lost: the payment is there, not linked.
    probe = "WIN-1|CHK-9"
    world.aws.store.mappings.expect(TENANT, "payment", probe, "pay_in_flight")
    seed.pay("WIN-1", "30.00", (invoice_link.intacct_key, "30.00"), refid="CHK-9")
    assert world.pull() == {"batchItemFailures": []}
    assert world.blixo.payments.list() == []  # the push's own: not pulled back as new
    # The announcement was the only thing that kept it: without it, it is Intacct's payment.
    world.aws.store.mappings.unexpect(TENANT, "payment", probe)
    assert world.pull() == {"batchItemFailures": []}
    assert [p.amount for p in world.blixo.payments.list()] == [Decimal("30.00")]


def test_the_push_announces_a_cash_payment_before_writing_it_and_settles_after_linking(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    for name in ("expect", "link", "unexpect"):
        original = getattr(MappingStore, name)

        def spy(
            self: MappingStore, *args: Any, _name: str = name, _original: Any = original, **kw: Any
        ) -> Any:
            if _name != "link" or args[0].object_type == "payment":
                calls.append(_name)
            return _original(self, *args, **kw)

        monkeypatch.setattr(MappingStore, name, spy)
    customer = world.customer("Announce Co", customerNo="ANN-1")
    invoice = world.invoice(customer.id, "20.00")
    world.pay(
        customer.id,
        "20.00",
        {"type": "invoice", "invoiceId": invoice.id, "amount": "20.00"},
        reference="CHK-1",
    )
    assert world.pump() == []
    assert calls == ["expect", "link", "unexpect"]
    assert world.aws.store.mappings.expected(TENANT, "payment", ["ANN-1|CHK-1"]) == set()
