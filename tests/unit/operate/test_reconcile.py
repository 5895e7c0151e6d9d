"""The reconciliation over fake ledgers, links and errors: balances to the cent, what counts as a
difference, and which record explains it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bisync.operate.reconcile import Balance, ExplanationKind, Reconciliation
from bisync.store.models import ErrorLevel
from tests.unit.operate.reconcile_fakes import World, error

D = Decimal


@pytest.fixture
def w() -> World:
    return World()


def amounts_add_up(result: Reconciliation) -> None:
    """Each customer's difference is the sum of its records' explanation amounts."""
    for row in result.customers:
        parts = [
            e.amount
            for e in result.explanations
            if e.amount is not None
            and (e.blixo_customer_id, e.intacct_customer_id) == (row.blixo_id, row.intacct_id)
        ]
        assert sum(parts, D("0.00")) == row.difference, (row, parts)


# ------------------------------------------------------------------ tests


def test_ledgers_that_agree_to_the_cent_have_no_difference(w: World) -> None:
    w.linked_customer()
    w.blixo.invoice("inv_1", "cus_1", "250.00", "100.00", status="partially_paid")
    w.blixo.credit("cn_1", "cus_1", "50.00", "30.00")
    w.blixo.payment("pay_1", "cus_1", "153.00", "20.00")  # 130 to the invoice, 3 fee
    w.intacct.ar("ARINVOICE", "10", "C-1", "100", paid="150")
    w.intacct.ar("ARINVOICE", "11", "C-1", "0", paid="3", RECORDID="CF-pay_1")
    w.intacct.ar("ARADJUSTMENT", "20", "C-1", "-30", paid="-20")
    w.intacct.payment("30", "C-1", due="20", paid="133")
    for obj, b, i in (("invoice", "inv_1", "10"), ("credit_note", "cn_1", "20"), ("payment", "pay_1", "30")):
        w.maps.add(obj, b, i)
    w.maps.add("convenience_fee", "pay_1", "11")

    result = w.run()

    assert result.balanced
    assert result.explanations == []
    assert result.documents == []
    [row] = result.customers
    expected = Balance(
        invoices=D("100.00"),
        credit_notes=D("-30.00"),
        unapplied_payments=D("-20.00"),
        convenience_fees=D("0.00"),
    )
    assert row.blixo == expected
    assert row.intacct == expected
    assert row.blixo.total == D("50.00")
    t = result.totals
    assert (t.customers_compared, t.documents_compared, t.invoices_compared) == (1, 4, 1)
    assert (t.blixo_open, t.intacct_open, t.differences) == (D("50.00"), D("50.00"), 0)
    dumped = result.model_dump(mode="json")
    assert dumped["customers"][0]["blixo"]["total"] == "50.00"
    assert dumped["totals"]["differences"] == 0


def test_a_payment_never_pushed_is_named_as_what_moved_the_invoice(w: World) -> None:
    w.linked_customer()
    w.blixo.invoice("inv_1", "cus_1", "100.00", "60.00", status="partially_paid")
    w.blixo.payment("pay_9", "cus_1", "40.00", "0.00")  # its webhook never came
    w.intacct.ar("ARINVOICE", "10", "C-1", "100")
    w.maps.add("invoice", "inv_1", "10")

    result = w.run()

    assert not result.balanced
    assert result.totals.differences == 2  # the customer and the invoice
    [row] = result.customers
    assert row.blixo is not None
    assert row.intacct is not None
    assert (row.blixo.total, row.intacct.total, row.difference) == (D("60.00"), D("100.00"), D("-40.00"))
    [doc] = result.documents
    assert (doc.object_type, doc.blixo_open, doc.intacct_open, doc.difference) == (
        "invoice",
        D("60.00"),
        D("100.00"),
        D("-40.00"),
    )
    mismatch, unsynced = result.explanations
    assert (mismatch.kind, mismatch.blixo_id, mismatch.amount) == (
        ExplanationKind.MISMATCH,
        "inv_1",
        D("-40.00"),
    )
    assert (unsynced.kind, unsynced.object_type, unsynced.blixo_id) == (
        ExplanationKind.UNSYNCED,
        "payment",
        "pay_9",
    )
    assert unsynced.amount is None
    assert "applied 40.00" in unsynced.message
    amounts_add_up(result)


def test_a_payment_that_applied_less_in_intacct_is_a_mismatch(w: World) -> None:
    w.linked_customer()
    w.blixo.invoice("inv_1", "cus_1", "100.00", "0.00", status="paid")
    w.blixo.payment("pay_1", "cus_1", "100.00", "0.00")
    w.intacct.ar("ARINVOICE", "10", "C-1", "40", paid="60")
    w.intacct.payment("30", "C-1", due="40", paid="60")  # 40 left as an overpayment
    w.maps.add("invoice", "inv_1", "10")
    w.maps.add("payment", "pay_1", "30")

    result = w.run()

    kinds = [(e.kind, e.object_type, e.amount) for e in result.explanations]
    assert kinds == [
        (ExplanationKind.MISMATCH, "invoice", D("-40.00")),
        (ExplanationKind.MISMATCH, "payment", D("40.00")),
    ]
    assert result.customers[0].difference == D("0.00")  # they cancel out for the customer...
    assert result.totals.document_differences == 2  # ...but both documents are off
    assert result.totals.customer_differences == 0


def test_an_intacct_invoice_not_pulled_yet_is_unsynced_with_its_amount(w: World) -> None:
    w.linked_customer()
    w.intacct.ar("ARINVOICE", "44", "C-1", "99.5")

    result = w.run()

    [doc] = result.documents
    assert (doc.intacct_key, doc.blixo_open, doc.intacct_open, doc.difference) == (
        "44",
        None,
        D("99.50"),
        D("-99.50"),
    )
    [why] = result.explanations
    assert (why.kind, why.intacct_key, why.number, why.amount) == (
        ExplanationKind.UNSYNCED,
        "44",
        "R-44",
        D("-99.50"),
    )
    assert "not pulled into Blixo" in why.message
    assert result.customers[0].difference == D("-99.50")
    amounts_add_up(result)


def test_customers_on_one_side_only(w: World) -> None:
    w.blixo.customer("cus_new", "New Co")
    w.blixo.invoice("inv_n", "cus_new", "10.00", "10.00")
    w.intacct.customer("OTHER", "Someone else's")  # nothing open: counted, not listed
    w.blixo.customer("cus_idle", "Idle")  # nothing open either

    result = w.run()

    [row] = result.customers
    assert (row.blixo_id, row.intacct_id, row.intacct, row.difference) == ("cus_new", None, None, D("10.00"))
    assert row.blixo is not None
    assert row.blixo.invoices == D("10.00")
    t = result.totals
    assert (t.customers_compared, t.customers_only_in_blixo, t.customers_only_in_intacct) == (0, 2, 1)
    kinds = sorted((e.object_type, e.kind.value, e.amount) for e in result.explanations)
    assert kinds == [("customer", "unsynced", None), ("invoice", "unsynced", D("10.00"))]
    amounts_add_up(result)


def test_an_open_fee_invoice_counts_on_the_intacct_side_only(w: World) -> None:
    w.linked_customer()
    w.intacct.ar("ARINVOICE", "11", "C-1", "3", RECORDID="CF-pay_1")
    w.maps.add("convenience_fee", "pay_1", "11")
    w.intacct.ar("ARINVOICE", "12", "C-1", "2", RECORDID="CF-pay_2")  # no link at all

    result = w.run()

    [row] = result.customers
    assert row.intacct is not None
    assert (row.intacct.convenience_fees, row.intacct.invoices) == (D("5.00"), D("0.00"))
    assert row.blixo is not None
    assert row.blixo.convenience_fees == D("0.00")
    assert [(d.intacct_key, d.blixo_open, d.difference) for d in result.documents] == [
        ("11", D("0.00"), D("-3.00")),
        ("12", None, D("-2.00")),
    ]
    assert [(e.kind, e.blixo_id) for e in result.explanations] == [
        (ExplanationKind.MISMATCH, "pay_1"),
        (ExplanationKind.UNSYNCED, None),
    ]
    amounts_add_up(result)


def test_voided_and_reversed_records_owe_nothing_unless_one_side_missed_the_void(w: World) -> None:
    w.linked_customer()
    w.blixo.invoice("inv_v", "cus_1", "80.00", "80.00", status="voided")
    w.intacct.ar("ARINVOICE", "10", "C-1", "0", paid="80", STATE="Reversed")
    w.intacct.ar("ARINVOICE", "13", "C-1", "0", paid="-80", STATE="Reversal")
    w.maps.add("invoice", "inv_v", "10")
    w.blixo.payment("pay_v", "cus_1", "25.00", "25.00", status="voided")
    w.intacct.payment("30", "C-1", due="25", paid="0", state="V")
    w.maps.add("payment", "pay_v", "30")
    w.blixo.payment("pay_w", "cus_1", "10.00", "10.00", status="voided")
    w.intacct.payment("31", "C-1", due="10", paid="0")  # the void never reached Intacct
    w.maps.add("payment", "pay_w", "31")

    result = w.run()

    [doc] = result.documents
    assert (doc.blixo_id, doc.blixo_open, doc.intacct_open, doc.difference) == (
        "pay_w",
        D("0.00"),
        D("-10.00"),
        D("10.00"),
    )
    assert str(doc.blixo_open) == "0.00"  # not "-0.00"
    assert result.customers[0].difference == D("10.00")
    assert result.totals.documents_compared == 3
    amounts_add_up(result)


def test_linked_records_the_other_side_does_not_show_are_missing(w: World) -> None:
    w.linked_customer()
    w.blixo.invoice("inv_1", "cus_1", "50.00", "50.00")
    w.maps.add("invoice", "inv_1", "77")  # deleted in Intacct, or another entity's

    result = w.run()

    [why] = result.explanations
    assert (why.kind, why.intacct_key, why.amount) == (ExplanationKind.MISSING, "77", D("50.00"))
    assert result.totals.documents_compared == 0


def test_a_document_under_different_customers_is_a_difference_even_when_amounts_match(w: World) -> None:
    w.linked_customer("cus_1", "C-1", "One")
    w.linked_customer("cus_2", "C-2", "Two")
    w.blixo.invoice("inv_1", "cus_1", "30.00", "30.00")
    w.intacct.ar("ARINVOICE", "10", "C-2", "30")
    w.maps.add("invoice", "inv_1", "10")

    result = w.run()

    assert [(c.name, c.difference) for c in result.customers] == [("One", D("30.00")), ("Two", D("-30.00"))]
    [doc] = result.documents
    assert (doc.difference, doc.blixo_customer_id, doc.intacct_customer_id) == (D("0.00"), "cus_1", "C-2")
    [why] = result.explanations
    assert why.kind is ExplanationKind.MISMATCH
    assert "another in Intacct" in why.message
    assert result.totals.differences == 3


def test_sync_errors_explain_their_records(w: World) -> None:
    w.linked_customer()
    w.blixo.invoice("inv_bad", "cus_1", "120.00", "120.00")
    w.errors.append(error("invoice", "inv_bad", message="Invalid account 9999."))
    # The pull names an invoice's error by its Order Entry document, which posted A/R record 40.
    w.intacct.rows["SODOCUMENT"].append({"RECORDNO": "7", "PRRECORDKEY": "40"})
    w.intacct.ar("ARINVOICE", "40", "C-1", "99")
    w.errors.append(error("invoice", "7", direction="pull", message="customer C-1 is not in Blixo"))
    # Errors of records that do not differ are listed all the same.
    w.blixo.invoice("inv_ok", "cus_1", "5.00", "5.00")
    w.intacct.ar("ARINVOICE", "41", "C-1", "5")
    w.maps.add("invoice", "inv_ok", "41")
    w.errors.append(error("invoice", "inv_ok", level=ErrorLevel.WARNING, message="amounts locked"))
    w.errors.append(error("customer", "C-1", direction="pull", message="bad email"))

    result = w.run()

    errored = {(e.blixo_id, e.intacct_key): e for e in result.explanations}
    assert set(errored) == {("inv_bad", None), (None, "40"), ("inv_ok", "41"), ("cus_1", "C-1")}
    assert all(e.kind is ExplanationKind.ERRORED for e in result.explanations)
    push = errored["inv_bad", None]
    assert push.amount == D("120.00")
    assert "push sync error: Invalid account 9999." in push.message
    pull = errored[None, "40"]
    assert (pull.amount, pull.intacct_customer_id) == (D("-99.00"), "C-1")
    assert "customer C-1 is not in Blixo" in pull.message
    warning = errored["inv_ok", "41"]
    assert (warning.amount, warning.error_level, warning.number) == (None, ErrorLevel.WARNING, "N-inv_ok")
    assert errored["cus_1", "C-1"].object_type == "customer"
    assert result.totals.open_errors == 4
    amounts_add_up(result)


def test_each_list_is_read_once_and_links_in_batches(w: World) -> None:
    w.linked_customer()
    for n in range(5):
        w.blixo.invoice(f"inv_{n}", "cus_1", "10.00", "10.00")
        w.intacct.ar("ARINVOICE", str(100 + n), "C-1", "10")
        w.maps.add("invoice", f"inv_{n}", str(100 + n))

    result = w.run()

    assert result.balanced
    assert result.totals.invoices_compared == 5
    lists = (w.blixo.customers, w.blixo.invoices, w.blixo.credit_notes, w.blixo.payments)
    assert [lst.calls for lst in lists] == [1, 1, 1, 1]
    # An entity's session sees its own records: no showprivate; no SODOCUMENT read without errors.
    assert w.intacct.calls == [
        ("CUSTOMER", False),
        ("ARINVOICE", False),
        ("ARADJUSTMENT", False),
        ("ARPYMT", False),
    ]
    assert len(w.maps.calls) == 2 * 5  # customers + four document types, each direction once
    assert ("intacct", "invoice", 0) in w.maps.calls  # every Intacct invoice was claimed by its link


def test_a_top_level_tenant_reads_the_entities_records_too() -> None:
    world = World(entity_id=None)
    world.run()
    assert {private for _, private in world.intacct.calls} == {True}
