"""Intacct records -> Blixo writes (the pull's mappings), on real reference responses where
they apply and on fixtures of our own."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bisync.intacct.models import Customer as IntacctCustomer
from bisync.intacct.models import IntacctModel, SoDocument, SoDocumentEntry, model_for, parse_records
from bisync.intacct.xml import parse_response
from bisync.mapping import customer, order_entry, payment
from bisync.mapping.common import MappingError
from tests.conftest import REFERENCE_XML, needs_reference_xml


def load(rel: str) -> list[IntacctModel]:
    parsed = parse_response((REFERENCE_XML / rel).read_bytes())
    data = parsed.results[0].data
    assert data is not None
    model = model_for(data.listtype or "")
    assert model is not None
    return list(parse_records(model, data.records))


@needs_reference_xml
def test_reference_customer_becomes_a_blixo_customer() -> None:
    record = load("intacct_customer_importer/intacct_customer_importer_customers.xml")[0]
    assert isinstance(record, IntacctCustomer)
    body = customer.from_intacct(record)
    assert body["customerNo"] == "CUST-0001"
    assert body["name"] == "Test"
    assert body["email"] == "test@example.com"
    assert body["address"]["line1"] == "1234 Main St"
    assert body["address"]["city"] == "Austin"
    assert body["currency"] == "USD"
    assert body["status"] == "active"


@needs_reference_xml
def test_reference_order_entry_invoice_with_a_tax_subtotal() -> None:
    [doc] = load("intacct_order_entry_invoice_importer/standard/intacct_invoices_bill_to.xml")[:1]
    assert isinstance(doc, SoDocument)
    body = order_entry.invoice_body(doc, doc.entries, "cus_1")
    assert body["invoiceNo"] == "INV-1012"
    assert body["paymentTerms"] == "NET 30"
    assert [(i["quantity"], i["amount"]) for i in body["items"]] == [
        (Decimal("5.5"), Decimal("396.00")),
        (Decimal("10.1234"), Decimal("721.31")),
    ]
    assert body["taxes"] == [{"name": "Sales Tax", "amount": Decimal("20.00")}]
    assert body["discounts"] == []


def so_doc(**over: object) -> SoDocument:
    fields = {
        "RECORDNO": "10",
        "DOCID": "Sales Invoice-SI-1",
        "DOCNO": "SI-1",
        "DOCPARID": "Sales Invoice",
        "STATE": "Pending",
        "CUSTVENDID": "C1",
        "WHENCREATED": "11/20/2026",
        "WHENDUE": "12/20/2026",
        "PONUMBER": "PO-9",
        "CURRENCY": "USD",
        "SUBTOTAL": "125",
        "TOTAL": "125",
        "PRRECORDKEY": "77",
    }
    fields.update({k: str(v) for k, v in over.items()})
    return SoDocument.model_validate(fields)


def entry(line: int, qty: str, price: str, value: str) -> SoDocumentEntry:
    return SoDocumentEntry.model_validate(
        {
            "RECORDNO": str(100 + line),
            "DOCHDRNO": "10",
            "LINE_NO": str(line),
            "ITEMID": "WIDGET",
            "QUANTITY": qty,
            "UIPRICE": price,
            "UIVALUE": value,
        }
    )


def test_header_totals_give_taxes_or_discounts_when_no_subtotals_are_read() -> None:
    lines = [entry(1, "1", "25", "25"), entry(0, "4", "25", "100")]
    body = order_entry.invoice_body(so_doc(TOTAL="135.31"), lines, "cus_1")
    assert [i["amount"] for i in body["items"]] == [Decimal("100.00"), Decimal("25.00")]  # by LINE_NO
    assert body["taxes"] == [{"name": "Tax", "amount": Decimal("10.31")}]
    assert body["issueDate"] == "2026-11-20"
    assert body["dueDate"] == "2026-12-20"
    assert body["purchaseOrder"] == "PO-9"
    discounted = order_entry.invoice_body(so_doc(TOTAL="120"), lines, "cus_1")
    assert discounted["discounts"] == [{"name": "Discount", "amount": Decimal("5.00")}]
    assert discounted["taxes"] == []


def test_a_document_without_lines_is_refused() -> None:
    with pytest.raises(MappingError, match="no lines"):
        order_entry.invoice_body(so_doc(), [], "cus_1")


def test_a_return_becomes_a_credit_note_body() -> None:
    doc = so_doc(DOCPARID="Sales Return", DOCNO="SR-1", TOTAL="25")
    body = order_entry.credit_note_body(doc, [entry(0, "1", "25", "25")], "cus_1")
    assert body["creditNoteNo"] == "SR-1"
    assert "invoiceNo" not in body
    assert order_entry.is_draft(so_doc(STATE="Draft"))


def test_payment_body_applications_credits_and_remainder() -> None:
    record = {
        "RECORDNO": "500",
        "CUSTOMERID": "C1",
        "PAYMENTMETHOD": "EFT",
        "RECEIPTDATE": "11/22/2026",
        "DOCNUMBER": "CHK-1",
        "CURRENCY": "USD",
        "TOTALENTERED": "300",
    }
    details = [
        {"RECORDKEY": "77", "TRX_PAYMENTAMOUNT": "250"},
        {"RECORDKEY": "78", "TRX_PAYMENTAMOUNT": "20", "ADJUSTMENTKEY": "90", "TRX_ADJUSTMENTAMOUNT": "5.5"},
    ]
    body = payment.payment_body(
        record,
        details,
        customer_id="cus_1",
        invoices={"77": "inv_a", "78": "inv_b"},
        credit_notes={"90": "cn_1"},
    )
    assert body["amount"] == Decimal("300.00")
    assert body["method"] == "ach"
    assert body["date"] == "2026-11-22"
    assert body["reference"] == "CHK-1"
    assert body["appliedTo"] == [
        {"type": "invoice", "invoiceId": "inv_a", "amount": Decimal("250.00")},
        {"type": "invoice", "invoiceId": "inv_b", "amount": Decimal("20.00")},
        {"type": "credit_note", "creditNoteId": "cn_1", "invoiceId": "inv_b", "amount": Decimal("5.50")},
    ]
    # 30.00 of cash stays unapplied: Blixo computes it from amount - applied cash.
    with pytest.raises(MappingError, match="78 is not in Blixo yet"):
        payment.payment_body(record, details, customer_id="cus_1", invoices={"77": "inv_a"}, credit_notes={})


def test_customer_statuses_and_missing_contact() -> None:
    inactive = IntacctCustomer.model_validate({"CUSTOMERID": "C9", "NAME": "", "STATUS": "inactive"})
    body = customer.from_intacct(inactive)
    assert body == {"customerNo": "C9", "name": "C9", "status": "archived"}
