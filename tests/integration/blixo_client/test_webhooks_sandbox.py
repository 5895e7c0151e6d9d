"""Webhook verification against what the Blixo sandbox really sends to a local receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bisync.blixo.api import EventAction, PaymentMethod, ResourceKind
from bisync.blixo.client import BlixoClient
from bisync.blixo.models import (
    ConvenienceFeeApplicationWrite,
    CustomerWrite,
    Invoice,
    InvoiceApplicationWrite,
    InvoiceWrite,
    LineItemWrite,
    Payment,
    PaymentWrite,
)
from bisync.blixo.webhooks import AcceptedEvent, InvalidSignature, signature_from_headers, verify
from tests.integration.blixo_client.conftest import Sandbox

SECRET = "whsec_integration_test_secret"


class Receiver:
    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append((dict(self.headers.items()), self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def test_sandbox_deliveries_verify_and_parse(
    client: BlixoClient, sandbox: Sandbox, receiver: Receiver
) -> None:
    client.request(
        "POST",
        "webhooks",
        body={"url": receiver.url, "events": ["*"], "secret": SECRET},
        idempotency_key="test:webhook:subscribe",
    )
    customer = client.customers.create(CustomerWrite(name="Hooked Ltd"), idempotency_key="test:hook:cus")
    invoice = client.invoices.create(
        InvoiceWrite(
            customer_id=customer.id,
            items=[LineItemWrite(name="Work", quantity=Decimal(1), unit_price=Decimal("80.00"))],
        ),
        idempotency_key="test:hook:inv",
    )
    client.payments.create(
        PaymentWrite(
            customer_id=customer.id,
            amount=Decimal("82.00"),
            method=PaymentMethod.CREDIT_CARD,
            applied_to=[
                InvoiceApplicationWrite(invoice_id=invoice.id, amount=Decimal("80.00")),
                ConvenienceFeeApplicationWrite(amount=Decimal("2.00")),
            ],
        ),
        idempotency_key="test:hook:pay",
    )
    other = client.invoices.create(
        InvoiceWrite(customer_id=customer.id, items=[LineItemWrite(name="X", unit_price=Decimal("5.00"))]),
        idempotency_key="test:hook:inv2",
    )
    client.invoices.void(other.id, idempotency_key="test:hook:inv2:void")
    assert sandbox.handle.drain(10.0)

    assert receiver.deliveries
    events = []
    for headers, raw in receiver.deliveries:
        signature = signature_from_headers(headers)
        outcome = verify(raw, signature, [SECRET])
        assert isinstance(outcome, AcceptedEvent)
        events.append(outcome.event)
        # During a rotation, the old secret listed second still verifies.
        rotated = verify(raw, signature, ["whsec_new_secret_not_yet_used", SECRET])
        assert isinstance(rotated, AcceptedEvent)
        assert rotated.secret_index == 1
        with pytest.raises(InvalidSignature):
            verify(raw, signature, ["whsec_someone_else"])

    types = {e.type for e in events}
    assert {"customer.created", "invoice.created", "payment.created", "invoice.updated"} <= types
    payment_event = next(e for e in events if e.type == "payment.created")
    assert isinstance(payment_event.object, Payment)
    assert payment_event.object.convenience_fee == Decimal("2.00")
    voids = [e for e in events if e.is_void]
    assert [(e.resource, e.action, e.object_id) for e in voids] == [
        (ResourceKind.INVOICE, EventAction.UPDATED, other.id)
    ]
    assert voids[0].previous is not None
    assert voids[0].previous.get("status") == "issued"
    paid = [e for e in events if e.object_id == invoice.id and e.type == "invoice.updated"]
    assert paid
    assert isinstance(paid[-1].object, Invoice)
    assert paid[-1].object.balance == Decimal("0.00")
