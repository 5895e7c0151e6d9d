"""Wire-shaped Blixo records and events for the unit tests (camelCase, as Blixo sends them)."""

from __future__ import annotations

import json
from typing import Any


def customer(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "cus_1",
        "customerNo": "C-100",
        "name": "Acme Ltd",
        "email": "ap@acme.test",
        "address": {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"},
        "currency": "USD",
        "paymentTerms": "NET 30",
        "status": "active",
        "metadata": {"intacct.recordNo": "42"},
        "createdAt": "2024-03-01T10:00:00Z",
        "updatedAt": "2024-03-02T11:30:00Z",
    }
    body.update(over)
    return body


def invoice(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "inv_1",
        "invoiceNo": "INV-0001",
        "customerId": "cus_1",
        "currency": "USD",
        "issueDate": "2024-03-01",
        "dueDate": "2024-03-31",
        "items": [
            {"name": "Widget", "quantity": 3, "unitPrice": 10.125, "amount": 30.38},
            {"name": "Setup", "quantity": 1, "unitPrice": 19.62, "amount": 19.62},
        ],
        "subtotal": 50.00,
        "taxTotal": 4.5,
        "discountTotal": 0,
        "total": 54.50,
        "amountPaid": 20,
        "balance": 34.5,
        "status": "partially_paid",
        "metadata": {},
        "createdAt": "2024-03-01T10:00:00Z",
        "updatedAt": "2024-03-02T11:30:00+00:00",
    }
    body.update(over)
    return body


def credit_note(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "cn_1",
        "creditNoteNo": "CN-0001",
        "customerId": "cus_1",
        "invoiceId": "inv_1",
        "currency": "USD",
        "issueDate": "2024-03-05",
        "items": [{"name": "Refund", "quantity": 1, "unitPrice": 10, "amount": 10}],
        "total": 10,
        "balance": 10,
        "status": "open",
        "metadata": {},
        "createdAt": "2024-03-05T10:00:00Z",
        "updatedAt": "2024-03-05T10:00:00Z",
    }
    body.update(over)
    return body


def payment(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "pay_1",
        "customerId": "cus_1",
        "date": "2024-03-10",
        "currency": "USD",
        "amount": 60.00,
        "method": "credit_card",
        "reference": "ch_123",
        "appliedTo": [
            {"type": "invoice", "invoiceId": "inv_1", "amount": 34.50},
            {"type": "credit_note", "creditNoteId": "cn_1", "invoiceId": "inv_1", "amount": 10},
            {"type": "convenience_fee", "amount": 1.5},
        ],
        "unappliedAmount": 14.00,
        "status": "succeeded",
        "metadata": {},
        "createdAt": "2024-03-10T10:00:00Z",
        "updatedAt": "2024-03-10T10:00:00Z",
    }
    body.update(over)
    return body


def event(
    type_: str = "invoice.created",
    obj: dict[str, Any] | None = None,
    *,
    previous: dict[str, Any] | None = None,
    event_id: str = "evt_1",
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj if obj is not None else invoice()}
    if previous is not None:
        data["previous"] = previous
    return {"id": event_id, "type": type_, "createdAt": "2024-03-02T11:30:01Z", "data": data}


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode("utf-8")
