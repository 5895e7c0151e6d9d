"""Every real response in ../shared/reference/intacct-xml parses into the right models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bisync.intacct.models import (
    ArAdjustment,
    ArAdjustmentItem,
    ArInvoice,
    ArInvoiceItem,
    ArPayment,
    Customer,
    IntacctModel,
    SoDocument,
    model_for,
    parse_records,
)
from bisync.intacct.xml import parse_response
from tests.conftest import REFERENCE_XML, needs_reference_xml

# Every test here reads the reference files: without them the whole module skips, with one reason.
pytestmark = needs_reference_xml
FILES = sorted(REFERENCE_XML.rglob("*.xml")) if REFERENCE_XML.is_dir() else []
EXPECTED_MODEL = {
    "customer": Customer,
    "arinvoice": ArInvoice,
    "arinvoiceitem": ArInvoiceItem,
    "aradjustment": ArAdjustment,
    "aradjustmentitem": ArAdjustmentItem,
    "arpayment": ArPayment,
    "sodocument": SoDocument,
}


def load(rel: str) -> list[IntacctModel]:
    parsed = parse_response((REFERENCE_XML / rel).read_bytes())
    data = parsed.results[0].data
    assert data is not None
    assert data.listtype
    model = model_for(data.listtype)
    assert model is not None
    return list(parse_records(model, data.records))


def test_reference_files_are_present() -> None:
    assert len(FILES) >= 29


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REFERENCE_XML)))
def test_every_reference_file_parses(path: Path) -> None:
    parsed = parse_response(path.read_bytes())
    assert parsed.control_status == "success"
    assert parsed.auth_status == "success"
    [result] = parsed.results
    assert result.status == "success"
    data = result.data
    assert data is not None
    assert data.listtype is not None
    model = model_for(data.listtype)
    assert model is EXPECTED_MODEL[data.listtype]
    # lowercase elements from readByQuery/readMore (and these files' read), same model either way
    assert all(name.lower() == data.listtype for name in data.element_names)
    records = parse_records(model, data.records)
    assert len(records) == len(data.records)
    # (the files' count attributes are hand-edited and not always the row count)
    assert (len(records) == 0) == (data.count == 0)
    assert all(type(r) is model for r in records)


def test_customer_values() -> None:
    customers = load("intacct_customer_importer/intacct_customer_importer_customers.xml")
    first = customers[0]
    assert isinstance(first, Customer)
    assert (first.recordno, first.customerid, first.name, first.currency) == ("1", "CUST-0001", "Test", "USD")
    assert first.billto is not None
    assert first.billto.mailaddress is not None
    assert first.billto.email1 == "test@example.com"
    assert first.billto.mailaddress.city == "Austin"
    assert first.billto.mailaddress.countrycode == "US"
    assert first.billto.mailaddress.address2 is None  # empty element
    assert first.displaycontact is not None
    assert first.displaycontact.email1 is None
    second = customers[1]
    assert isinstance(second, Customer)
    assert second.currency is None


def test_ar_invoice_values() -> None:
    invoices = load("intacct_ar_invoice_importer/intacct_ar_invoice_importer_invoices.xml")
    inv = invoices[0]
    assert isinstance(inv, ArInvoice)
    assert inv.recordno == "456"
    assert inv.recordid == "INV-1012"
    assert inv.whenposted == date(2017, 1, 12)
    assert inv.whendue == date(2017, 2, 11)
    assert inv.trx_totalpaid == Decimal("2.51")
    assert inv.shipto is not None
    assert inv.shipto.printas == "Bojangle Jones"
    items = load("intacct_ar_invoice_importer/intacct_ar_invoice_importer_line_items_2.xml")
    assert [(i.entrydescription, i.amount) for i in items if isinstance(i, ArInvoiceItem)] == [
        ("Some Item", Decimal(50)),
        ("Line 2: ", Decimal(35)),  # trailing space kept
        ("Discount: ", Decimal(-35)),
    ]


def test_adjustment_values() -> None:
    adjustments = load("intacct_credit_note_importer/adj_result.xml")
    states = [a.state for a in adjustments if isinstance(a, ArAdjustment)]
    assert states[:4] == ["Paid", "Partially Paid", "Reversed", "Reversal"]
    second = adjustments[1]
    assert isinstance(second, ArAdjustment)
    assert second.recordno == "0001"
    assert second.totalentered == Decimal(-100)
    assert second.totalpaid == Decimal(-25)


def test_order_entry_document_values() -> None:
    docs = load("intacct_order_entry_invoice_importer/standard/intacct_invoices_bill_to.xml")
    doc = docs[0]
    assert isinstance(doc, SoDocument)
    assert (doc.recordno, doc.prrecordkey, doc.docno) == ("456", "4567", "INV-1012")
    assert doc.term is not None
    assert doc.term.name == "NET 30"
    assert doc.billto is not None
    assert doc.billto.printas == "BillTo Customer"
    assert [(e.itemdesc, e.quantity, e.uivalue) for e in doc.entries] == [
        ("Marketing guides: ", Decimal("5.5"), Decimal(396)),
        ("Contract discount test", Decimal("10.1234"), Decimal("721.31")),
    ]
    assert [(s.description, s.total) for s in doc.subtotals] == [("Sales Tax", Decimal(20))]
    plan = load("intacct_order_entry_invoice_importer/payment_plan/intacct_invoices_2.xml")
    assert isinstance(plan[0], SoDocument)
    assert plan[0].entries[0].revrecstartdate == date(2021, 12, 1)
    assert load("intacct_order_entry_invoice_importer/modified/intacct_invoices_1.xml") == []


def test_payment_applications_and_reversal() -> None:
    [pay] = load("intacct_payment_reader/payment_with_credits.xml")
    assert isinstance(pay, ArPayment)
    assert pay.receiptdate == date(2021, 9, 1)
    assert pay.docnumber == "P-0000"
    assert [(i.record, i.appliedamount) for i in pay.invoices] == [
        ("1991", Decimal(50)),
        ("1992", Decimal(150)),
        ("1993", Decimal(50)),
    ]
    assert [(c.recordtype, c.appliedamount) for c in pay.credits] == [
        ("ri", Decimal(100)),
        ("ra", Decimal(100)),
        ("rr", Decimal(10)),
        ("rp", Decimal(20)),
    ]
    [voided] = load("intacct_payment_reader/payment_with_credits_voided.xml")
    assert isinstance(voided, ArPayment)
    assert voided.is_reversed
    [reversal] = load("intacct_void_finder/reversal.xml")
    assert isinstance(reversal, ArPayment)
    assert reversal.invoices[0].appliedamount == Decimal(-100)
    assert reversal.auwhencreated is not None
    assert reversal.auwhencreated.replace(tzinfo=None) == datetime(2021, 8, 26, 16, 46, 42)
    payments = load("intacct_payment_importer/intacct_payments_2.xml")
    assert all(isinstance(p, ArPayment) and p.credits == [] for p in payments)
    results = load("intacct_credit_note_importer/payment_result.xml")
    empty = [p for p in results if isinstance(p, ArPayment) and not p.invoices]
    assert len(empty) >= 1  # <INVOICES>\n</INVOICES> is no application
