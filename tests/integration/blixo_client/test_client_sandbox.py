"""BlixoClient against the Blixo sandbox over HTTP: paging, increments, idempotency, 429."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bisync.blixo.api import InvoiceStatus, PaymentMethod, PaymentStatus
from bisync.blixo.client import Backoff, BlixoClient
from bisync.blixo.errors import AuthenticationError, NotFoundError, RateLimitError, ValidationError
from bisync.blixo.models import (
    ConvenienceFeeApplication,
    ConvenienceFeeApplicationWrite,
    CustomerWrite,
    InvoiceApplication,
    InvoiceApplicationWrite,
    InvoiceWrite,
    LineItemWrite,
    PaymentWrite,
)
from tests.integration.blixo_client.conftest import SANDBOX_KEY, Sandbox, Sleeps


def _customer(client: BlixoClient, n: int) -> str:
    created = client.customers.create(
        CustomerWrite(name=f"Customer {n}", customer_no=f"C-{n:03d}"),
        idempotency_key=f"test:customer:{n}:create",
    )
    return created.id


def _list_requests(seen: list[requests.PreparedRequest], path: str) -> list[dict[str, list[str]]]:
    out = []
    for r in seen:
        parts = urlsplit(str(r.url))
        if r.method == "GET" and parts.path.endswith(path):
            out.append(parse_qs(parts.query))
    return out


def test_paging_across_several_pages(
    client: BlixoClient, requests_seen: list[requests.PreparedRequest]
) -> None:
    ids = [_customer(client, n) for n in range(7)]
    requests_seen.clear()

    pages = list(client.customers.iter_pages(per_page=3))

    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert [c.id for p in pages for c in p.items] == ids
    assert pages[0].total == 7
    queries = _list_requests(requests_seen, "/customers")
    assert [q["page"] for q in queries] == [["1"], ["2"], ["3"]]
    assert all(q["perPage"] == ["3"] for q in queries)


def test_exact_multiple_of_per_page_ends_with_an_empty_page(client: BlixoClient) -> None:
    ids = [_customer(client, n) for n in range(4)]
    pages = list(client.customers.iter_pages(per_page=2))
    assert [len(p.items) for p in pages] == [2, 2, 0]
    assert [c.id for c in client.customers.list(per_page=2)] == ids


def test_incremental_reads_with_updated_after(client: BlixoClient) -> None:
    first = client.customers.get(_customer(client, 1))
    second = client.customers.get(_customer(client, 2))
    assert second.updated_at is not None
    cursor = second.updated_at

    third_id = _customer(client, 3)
    client.customers.update(
        first.id, CustomerWrite(email="ap@first.test"), idempotency_key="test:customer:1:update:1"
    )

    changed = client.customers.list(updated_after=cursor)

    # The cursor's own record is not re-read (strictly after); both later changes are.
    assert {c.id for c in changed} == {first.id, third_id}
    assert next(c for c in changed if c.id == first.id).email == "ap@first.test"
    latest = max(c.updated_at for c in changed if c.updated_at is not None)
    assert client.customers.list(updated_after=latest) == []


def test_create_under_a_5xx_after_the_write_creates_once(
    client: BlixoClient, sandbox: Sandbox, sleeps: Sleeps
) -> None:
    sandbox.faults(errorAfterWriteNext=1, methods=["POST"])

    created = client.customers.create(CustomerWrite(name="Once Ltd"), idempotency_key="test:once:create:v1")

    # The first attempt was written, then answered 500; the retry with the same key replays.
    assert len(sleeps) == 1
    named = [c for c in client.customers.list() if c.name == "Once Ltd"]
    assert [c.id for c in named] == [created.id]

    # A later retry of the whole job (same derived key) still does not create twice ...
    again = client.customers.create(CustomerWrite(name="Once Ltd"), idempotency_key="test:once:create:v1")
    assert again.id == created.id
    # ... while a different key is a different write.
    other = client.customers.create(CustomerWrite(name="Once Ltd"), idempotency_key="test:once:create:v2")
    assert other.id != created.id
    assert len([c for c in client.customers.list() if c.name == "Once Ltd"]) == 2


def test_payment_create_under_a_5xx_after_the_write_applies_once(
    client: BlixoClient, sandbox: Sandbox
) -> None:
    customer_id = _customer(client, 1)
    invoice = client.invoices.create(
        InvoiceWrite(
            customer_id=customer_id,
            items=[LineItemWrite(name="Work", quantity=Decimal(2), unit_price=Decimal("50.00"))],
        ),
        idempotency_key="test:invoice:1:create",
    )
    sandbox.faults(errorAfterWriteNext=1, methods=["POST"], pathPrefix="/v1/payments")

    payment = client.payments.create(
        PaymentWrite(
            customer_id=customer_id,
            amount=Decimal("60.00"),
            method=PaymentMethod.CREDIT_CARD,
            applied_to=[
                InvoiceApplicationWrite(invoice_id=invoice.id, amount=Decimal("40.00")),
                ConvenienceFeeApplicationWrite(amount=Decimal("1.50")),
            ],
        ),
        idempotency_key="test:payment:1:create",
    )

    after = client.invoices.get(invoice.id)
    # Paid once, not twice, despite the retried POST.
    assert after.amount_paid == Decimal("40.00")
    assert after.balance == Decimal("60.00")
    assert after.status is InvoiceStatus.PARTIALLY_PAID
    assert [type(a) for a in payment.applied_to] == [InvoiceApplication, ConvenienceFeeApplication]
    assert payment.convenience_fee == Decimal("1.50")
    assert payment.unapplied_amount == Decimal("18.50")
    assert len(client.payments.list()) == 1

    voided = client.payments.void(payment.id, idempotency_key="test:payment:1:void")
    assert voided.status is PaymentStatus.VOIDED
    assert client.invoices.get(invoice.id).balance == Decimal("100.00")


def test_429_with_retry_after_is_retried(client: BlixoClient, sandbox: Sandbox, sleeps: Sleeps) -> None:
    customer_id = _customer(client, 1)
    sandbox.faults(rateLimitNext=2, retryAfterSeconds=0)

    assert client.customers.get(customer_id).id == customer_id
    assert sleeps == [0.0, 0.0]  # Retry-After honoured (0 s here) instead of the backoff


def test_429_that_outlasts_the_retries_is_a_rate_limit_error(sandbox: Sandbox, sleeps: Sleeps) -> None:
    sandbox.faults(rateLimitNext=5, retryAfterSeconds=1)
    c = BlixoClient(SANDBOX_KEY, sandbox.api_url, max_retries=2, backoff=Backoff.none(), sleep=sleeps)
    with c, pytest.raises(RateLimitError) as info:
        c.customers.list()
    assert info.value.retry_after == 1.0
    assert sleeps == [1.0, 1.0]


def test_5xx_before_the_request_is_retried(client: BlixoClient, sandbox: Sandbox, sleeps: Sleeps) -> None:
    sandbox.faults(failNext=2, errorStatus=503)
    assert client.customers.list() == []
    assert len(sleeps) == 2


def test_typed_errors_from_the_sandbox(client: BlixoClient, sandbox: Sandbox) -> None:
    with pytest.raises(NotFoundError):
        client.invoices.get("inv_does_not_exist")
    with pytest.raises(ValidationError) as info:
        client.invoices.create(
            InvoiceWrite(customer_id="cus_nope", items=[LineItemWrite(name="x", unit_price=Decimal(1))]),
            idempotency_key="test:invoice:bad:create",
        )
    assert info.value.param == "customerId"
    assert info.value.message
    bad_client = BlixoClient("wrong-key", sandbox.api_url, max_retries=0)
    with bad_client, pytest.raises(AuthenticationError) as auth:
        bad_client.customers.list()
    assert auth.value.status_code == 401
    assert "wrong-key" not in str(auth.value)


def test_the_per_key_concurrency_cap_is_absorbed_by_retries(sandbox: Sandbox) -> None:
    # One request at a time, each held 40 ms: parallel callers meet real 429s with Retry-After.
    sandbox.admin("POST", "/_sandbox/settings", {"concurrencyLimit": 1, "retryAfterSeconds": 0})
    sandbox.faults(latencyMs=40)
    waits: list[float] = []
    lock = threading.Lock()

    def short_sleep(seconds: float) -> None:
        with lock:
            waits.append(seconds)
        time.sleep(0.02)  # Retry-After is 0 here; a real pause lets the slot free up

    c = BlixoClient(SANDBOX_KEY, sandbox.api_url, max_retries=30, backoff=Backoff.none(), sleep=short_sleep)
    with c, ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: c.customers.list(), range(4)))

    assert results == [[], [], [], []]
    assert waits  # some calls were refused with 429 and retried ...
    assert all(w == 0.0 for w in waits)  # ... after the server's Retry-After, not the backoff
    assert sandbox.admin("GET", "/_sandbox/faults")["injected"]["rateLimit"] == 0  # the cap, not a fault
