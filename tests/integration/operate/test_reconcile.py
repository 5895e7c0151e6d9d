"""The reconciliation against both sandboxes: nothing differs after a push and after a pull, and
a change made behind the sync's back shows as the exact difference with the record behind it."""

from __future__ import annotations

from decimal import Decimal

from bisync.operate.reconcile import ExplanationKind, Reconciliation
from tests.integration.foundation.conftest import sqs
from tests.integration.operate.conftest import TENANT, Seeder, World, reconciled

D = Decimal


def push_world(world: World) -> dict[str, str]:
    """Invoices, a credit note applied directly, a card payment with a fee, an overpayment."""
    customer = world.customer("Umbrella", customerNo="UMB-1")
    big = world.invoice(customer.id, "200.00", "50.00")  # 250
    world.blixo.credit_notes.create(
        {
            "customerId": customer.id,
            "invoiceId": big.id,
            "issueDate": "2026-11-21",
            "items": [{"name": "Discount", "quantity": 1, "unitPrice": "30.00"}],
        },
        idempotency_key=world.key("cn"),
    )  # big: 220 open
    card = world.pay(
        customer.id,
        "123.00",
        {"type": "invoice", "invoiceId": big.id, "amount": "120.00"},
        {"type": "convenience_fee", "amount": "3.00"},
        method="credit_card",
    )  # big: 100 open
    small = world.invoice(customer.id, "75.00")
    world.pay(customer.id, "100.00", {"type": "invoice", "invoiceId": small.id, "amount": "75.00"})  # 25 over
    assert world.pump() == []
    return {"customer": customer.id, "big": big.id, "small": small.id, "card": card.id}


def only_row(result: Reconciliation) -> tuple[Decimal, Decimal, Decimal]:
    [row] = result.customers
    assert row.blixo is not None
    assert row.intacct is not None
    return row.blixo.total, row.intacct.total, row.difference


def test_after_a_push_nothing_differs_to_the_cent(world: World) -> None:
    ids = push_world(world)
    world.assert_ledgers_agree()

    result = reconciled(world)

    assert result.balanced, result.explanations
    assert result.explanations == []
    # 100 open on the big invoice, 0 on the small one, 25 unapplied cash: 75.00 on both sides.
    assert only_row(result) == (D("75.00"), D("75.00"), D("0.00"))
    [row] = result.customers
    assert row.blixo is not None
    assert row.intacct is not None
    assert (row.intacct.invoices, row.intacct.unapplied_payments) == (D("100.00"), D("-25.00"))
    assert row.intacct.convenience_fees == D("0.00")  # the fee invoice was paid by its payment
    assert row.blixo_id == ids["customer"]
    assert row.intacct_id == "UMB-1"
    t = result.totals
    # 2 invoices, the credit note, 2 payments and the fee invoice, each linked and found.
    assert (t.customers_compared, t.invoices_compared, t.documents_compared) == (1, 2, 6)
    assert (t.blixo_open, t.intacct_open, t.differences) == (D("75.00"), D("75.00"), 0)


def test_a_payment_whose_webhook_never_came_is_the_difference_until_it_syncs(world: World) -> None:
    ids = push_world(world)
    lost = world.pay(
        ids["customer"], "40.00", {"type": "invoice", "invoiceId": ids["big"], "amount": "40.00"}
    )
    world.blixo_admin("POST", "/_sandbox/webhooks/drain", {"timeoutSeconds": 20})
    sqs().purge_queue(QueueUrl=world.aws.push_queue_url)  # the event is lost on the way

    result = reconciled(world)

    assert only_row(result) == (D("35.00"), D("75.00"), D("-40.00"))
    [doc] = result.documents
    assert (doc.object_type, doc.blixo_id, doc.blixo_open, doc.intacct_open, doc.difference) == (
        "invoice",
        ids["big"],
        D("60.00"),
        D("100.00"),
        D("-40.00"),
    )
    mismatch, payment = result.explanations
    assert (mismatch.kind, mismatch.blixo_id, mismatch.amount) == (
        ExplanationKind.MISMATCH,
        ids["big"],
        D("-40.00"),
    )
    assert (payment.kind, payment.object_type, payment.blixo_id) == (
        ExplanationKind.UNSYNCED,
        "payment",
        lost.id,
    )
    assert "applied 40.00" in payment.message
    assert result.totals.differences == 2

    # Any later change of the payment brings it across; then both ledgers agree again.
    world.blixo.payments.update(lost.id, {"reference": "resent"}, idempotency_key=world.key("r"))
    assert world.pump() == []
    after = reconciled(world)
    assert after.balanced, after.explanations
    assert only_row(after) == (D("35.00"), D("35.00"), D("0.00"))


def test_after_a_pull_nothing_differs_to_the_cent(world: World, seed: Seeder) -> None:
    seed.customer("PC-1", "Pulled One")
    inv1 = seed.order("PC-1", "SO-1", ("WIDGET", 4), ("CONSULT-HR", 1))  # 250
    inv2 = seed.order("PC-1", "SO-2", ("SUBSCRIPTION", 1))  # 99
    seed.order("PC-1", "SR-1", ("WIDGET", 1), kind="Sales Return")  # 25 credit
    seed.pay("PC-1", "300.00", (seed.ar_key(inv1), "250.00"), (seed.ar_key(inv2), "20.00"))  # 30 over
    assert world.pull() == {"batchItemFailures": []}

    result = reconciled(world)

    assert result.balanced, result.explanations
    # 79 open on SO-2, less the 25 return and 30 unapplied: 24.00.
    assert only_row(result) == (D("24.00"), D("24.00"), D("0.00"))
    [row] = result.customers
    assert row.blixo == row.intacct
    assert row.blixo is not None
    assert (row.blixo.invoices, row.blixo.credit_notes, row.blixo.unapplied_payments) == (
        D("79.00"),
        D("-25.00"),
        D("-30.00"),
    )
    t = result.totals
    assert (t.customers_compared, t.invoices_compared, t.documents_compared) == (1, 2, 4)


def test_an_intacct_invoice_not_pulled_yet_shows_with_its_amount(world: World, seed: Seeder) -> None:
    seed.customer("PC-1", "Pulled One")
    seed.order("PC-1", "SO-1", ("WIDGET", 2))  # 50
    world.pull()
    later = seed.order("PC-1", "SO-2", ("SUBSCRIPTION", 1), ("WIDGET", 1))  # 124, not pulled yet
    ar_key = seed.ar_key(later)

    result = reconciled(world)

    assert only_row(result) == (D("50.00"), D("174.00"), D("-124.00"))
    [why] = result.explanations
    assert (why.kind, why.object_type, why.intacct_key, why.amount) == (
        ExplanationKind.UNSYNCED,
        "invoice",
        ar_key,
        D("-124.00"),
    )
    assert why.intacct_customer_id == "PC-1"
    assert "not pulled into Blixo" in why.message

    world.pull()
    assert reconciled(world).balanced


def test_an_invoice_intacct_refused_is_an_errored_explanation(world: World) -> None:
    customer = world.customer("Closed Books", customerNo="CLB-1")
    world.invoice(customer.id, "100.00")
    bad = world.invoice(customer.id, "60.00", issueDate="2019-06-01", dueDate="2019-07-01")  # a closed period
    assert world.pump() == []
    [error] = world.aws.store.errors.list(TENANT)

    result = reconciled(world)

    assert only_row(result) == (D("160.00"), D("100.00"), D("60.00"))
    [why] = result.explanations
    assert (why.kind, why.object_type, why.blixo_id, why.amount) == (
        ExplanationKind.ERRORED,
        "invoice",
        bad.id,
        D("60.00"),
    )
    assert why.error_level is not None
    assert error.message in why.message
    assert result.totals.open_errors == 1


def test_pull_errors_point_at_the_intacct_records(world: World, seed: Seeder) -> None:
    # Blixo refuses the customer (its email), so its Sales Invoice cannot be written either:
    # the pull names that error by the Order Entry document, shown here on its A/R record.
    seed.customer("BAD-1", "Bad Email", email="not-an-email")
    doc = seed.order("BAD-1", "BAD-SO-1", ("WIDGET", 3))  # 75
    seed.customer("OK-1", "Fine")
    assert world.pull() == {"batchItemFailures": []}
    assert {e.object_type for e in world.aws.store.errors.list(TENANT)} == {"customer", "invoice"}

    result = reconciled(world)

    bad = next(c for c in result.customers if c.intacct_id == "BAD-1")
    assert (bad.blixo, bad.difference) == (None, D("-75.00"))
    by_type = {e.object_type: e for e in result.explanations}
    assert set(by_type) == {"customer", "invoice"}
    assert all(e.kind is ExplanationKind.ERRORED for e in result.explanations)
    assert (by_type["invoice"].intacct_key, by_type["invoice"].amount) == (seed.ar_key(doc), D("-75.00"))
    assert "pull sync error" in by_type["invoice"].message
    assert by_type["customer"].intacct_key == "BAD-1"
    assert result.totals.customers_compared == 1  # OK-1 was pulled and agrees
