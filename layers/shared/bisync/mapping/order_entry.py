"""Order Entry -> Blixo: a Sales Invoice document becomes an invoice, a Sales Return a credit
note. Lines are quantity x price; the difference between TOTAL and SUBTOTAL is the tax (or,
negative, the discount)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bisync.intacct.models import SoDocument, SoDocumentEntry
from bisync.mapping.common import ZERO, MappingError, cents

HEADER_FIELDS = (
    "RECORDNO",
    "DOCID",
    "DOCNO",
    "DOCPARID",
    "STATE",
    "CUSTVENDID",
    "WHENCREATED",
    "WHENDUE",
    "PONUMBER",
    "TERM.NAME",
    "CURRENCY",
    "SUBTOTAL",
    "TOTAL",
    "PRRECORDKEY",
    "WHENMODIFIED",
)
ENTRY_FIELDS = (
    "RECORDNO",
    "DOCHDRNO",
    "LINE_NO",
    "ITEMID",
    "ITEMDESC",
    "QUANTITY",
    "UIPRICE",
    "UIVALUE",
    "MEMO",
)
DRAFT_STATES = frozenset({"Draft"})


def is_draft(doc: SoDocument) -> bool:
    return (doc.state or "") in DRAFT_STATES


def _items(entries: Sequence[SoDocumentEntry]) -> list[dict[str, Any]]:
    items = []
    for entry in sorted(entries, key=lambda e: e.line_no or 0):
        quantity = entry.quantity if entry.quantity is not None else Decimal(1)
        price = entry.uiprice if entry.uiprice is not None else ZERO
        amount = cents(entry.uivalue if entry.uivalue is not None else quantity * price)
        items.append(
            {
                "name": entry.itemid or "Item",
                "description": entry.itemdesc or entry.memo or None,
                "quantity": quantity,
                "unitPrice": price,
                "amount": amount,
            }
        )
    return items


def _adjustments(
    doc: SoDocument, items: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Taxes and discounts: the document's subtotals when it carries them (a `read` does),
    else the difference between TOTAL and the lines (what a `query` of the header gives)."""
    taxes: list[dict[str, Any]] = []
    discounts: list[dict[str, Any]] = []
    if doc.subtotals:
        for sub in doc.subtotals:
            # TOTAL, as a production importer reads it (TRX_TOTAL only when TOTAL is absent).
            amount = cents(sub.total if sub.total is not None else sub.trx_total or ZERO)
            name = sub.description or ("Tax" if amount > 0 else "Discount")
            if amount > 0:
                taxes.append({"name": name, "amount": amount})
            elif amount < 0:
                discounts.append({"name": name, "amount": -amount})
        return taxes, discounts
    subtotal = sum((i["amount"] for i in items), ZERO)
    total = cents(doc.total if doc.total is not None else subtotal)
    difference = total - subtotal
    if difference > 0:
        taxes.append({"name": "Tax", "amount": difference})
    elif difference < 0:
        discounts.append({"name": "Discount", "amount": -difference})
    return taxes, discounts


def document_body(doc: SoDocument, entries: Sequence[SoDocumentEntry], customer_id: str) -> dict[str, Any]:
    """What invoices and credit notes share (Blixo field names)."""
    if not entries:
        raise MappingError(f"Order Entry document {doc.docid} has no lines")
    items = _items(entries)
    taxes, discounts = _adjustments(doc, items)
    body: dict[str, Any] = {
        "customerId": customer_id,
        "issueDate": doc.whencreated.isoformat() if doc.whencreated else None,
        "items": items,
        "taxes": taxes,
        "discounts": discounts,
    }
    if doc.currency:
        body["currency"] = doc.currency
    return body


def invoice_body(doc: SoDocument, entries: Sequence[SoDocumentEntry], customer_id: str) -> dict[str, Any]:
    body = document_body(doc, entries, customer_id)
    body["invoiceNo"] = doc.docno or doc.docid
    if doc.whendue:
        body["dueDate"] = doc.whendue.isoformat()
    if doc.ponumber:
        body["purchaseOrder"] = doc.ponumber
    if doc.term is not None and doc.term.name:
        body["paymentTerms"] = doc.term.name
    return body


def credit_note_body(doc: SoDocument, entries: Sequence[SoDocumentEntry], customer_id: str) -> dict[str, Any]:
    body = document_body(doc, entries, customer_id)
    body["creditNoteNo"] = doc.docno or doc.docid
    return body
