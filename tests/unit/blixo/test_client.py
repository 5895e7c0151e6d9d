"""The REST client against mocked HTTP (responses): retries, errors, paging, idempotency."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from pydantic import SecretStr

from bisync.blixo.client import Backoff, BlixoClient
from bisync.blixo.errors import (
    AuthenticationError,
    BlixoConnectionError,
    ConflictError,
    IdempotencyInProgressError,
    NotFoundError,
    ProtocolError,
    RateLimitError,
    RequestError,
    ServerError,
    TransientError,
    ValidationError,
)
from bisync.blixo.models import Customer, CustomerWrite, Invoice, InvoiceWrite, Payment
from tests.unit.blixo import samples

BASE = "https://blixo.test/v1/"
KEY = "sk_live_very_secret_key_123"
IDEM = "tenant1:invoice:create:v1"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> Iterator[BlixoClient]:
    with BlixoClient(SecretStr(KEY), BASE, max_retries=3, backoff=Backoff.none(), sleep=sleeps) as c:
        yield c


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def _query(call: responses.Call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(call.request.url)).query)


def _json_body(call: responses.Call) -> object:
    body = call.request.body
    assert body is not None
    return json.loads(body)


# --- auth, envelopes, basics -------------------------------------------------------------------
def test_get_sends_basic_auth_with_key_as_username(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "customers/cus_1", json={"data": samples.customer()})

    customer = client.customers.get("cus_1")

    assert isinstance(customer, Customer)
    assert customer.name == "Acme Ltd"
    auth = rsps.calls[0].request.headers["Authorization"]
    assert auth == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()


def test_timeouts_are_passed_as_connect_read(rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "invoices/inv_1", json={"data": samples.invoice()})
    with BlixoClient(KEY, BASE, timeout=(2.0, 9.0)) as c:
        c.invoices.get("inv_1")
    req_kwargs = rsps.calls[0].request.req_kwargs  # type: ignore[attr-defined]
    assert req_kwargs["timeout"] == (2.0, 9.0)


def test_session_uses_a_pooled_adapter_without_urllib3_retries() -> None:
    with BlixoClient(KEY, BASE, pool_maxsize=7) as c:
        adapter = c._session.get_adapter(BASE)
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert adapter.max_retries.total == 0
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == 7


def test_money_in_responses_is_exact(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "invoices/inv_1", body=json.dumps({"data": samples.invoice(total=0.3, balance=0.1)}))
    inv = client.invoices.get("inv_1")
    assert str(inv.total) == "0.30"
    assert inv.balance == Decimal("0.10")


def test_base_url_without_trailing_slash_keeps_the_version(rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "payments/pay_1", json={"data": samples.payment()})
    with BlixoClient(KEY, BASE.rstrip("/")) as c:
        assert isinstance(c.payments.get("pay_1"), Payment)


def test_ids_are_escaped_and_path_changing_ids_refused(
    client: BlixoClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(BASE + "customers/a%20b%3Fc", json={"data": samples.customer(id="a b?c")})
    assert client.customers.get("a b?c").id == "a b?c"
    for bad in ["", "..", "x/y", "..\\x"]:
        with pytest.raises(ValueError, match="invalid Blixo id"):
            client.customers.get(bad)
    assert len(rsps.calls) == 1


def test_response_without_data_envelope_is_a_protocol_error(
    client: BlixoClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(BASE + "customers/cus_1", json=samples.customer())
    with pytest.raises(ProtocolError, match="envelope"):
        client.customers.get("cus_1")


def test_non_json_success_is_a_protocol_error(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "customers/cus_1", body="<html>ok</html>", status=200)
    with pytest.raises(ProtocolError, match="not JSON"):
        client.customers.get("cus_1")


def test_record_not_matching_the_model_is_a_protocol_error(
    client: BlixoClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(BASE + "invoices/inv_1", json={"data": samples.invoice(status="bogus")})
    with pytest.raises(ProtocolError, match=r"invoice does not match the model.*status"):
        client.invoices.get("inv_1")


def test_redirects_are_not_followed(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "customers/cus_1", status=302, headers={"Location": "https://evil.test/steal"})
    with pytest.raises(ProtocolError, match="redirect"):
        client.customers.get("cus_1")
    assert len(rsps.calls) == 1


# --- typed errors and what is not retried ------------------------------------------------------
def test_validation_error_carries_message_and_param_and_is_not_retried(
    client: BlixoClient, rsps: responses.RequestsMock, sleeps: Sleeps
) -> None:
    rsps.post(
        BASE + "invoices", json={"message": "Customer does not exist", "param": "customerId"}, status=400
    )

    with pytest.raises(ValidationError) as info:
        client.invoices.create(InvoiceWrite(customer_id="nope"), idempotency_key=IDEM)

    err = info.value
    assert err.message == "Customer does not exist"
    assert err.param == "customerId"
    assert err.status_code == 400
    assert err.method == "POST"
    assert err.path == "invoices"
    assert "customerId" in str(err)
    assert len(rsps.calls) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ValidationError),
        (418, RequestError),
    ],
)
def test_client_errors_are_typed_and_not_retried(
    client: BlixoClient, rsps: responses.RequestsMock, sleeps: Sleeps, status: int, error: type[Exception]
) -> None:
    rsps.get(BASE + "customers/cus_1", json={"message": f"status {status}"}, status=status)
    with pytest.raises(error) as info:
        client.customers.get("cus_1")
    assert not isinstance(info.value, TransientError)
    assert getattr(info.value, "message", None) == f"status {status}"
    assert len(rsps.calls) == 1
    assert sleeps == []


def test_error_without_json_body_uses_the_text(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "customers/cus_1", body="Bad Gateway from proxy", status=400)
    with pytest.raises(ValidationError, match="Bad Gateway from proxy"):
        client.customers.get("cus_1")


# --- retries -----------------------------------------------------------------------------------
def test_429_honours_retry_after_seconds(
    client: BlixoClient, rsps: responses.RequestsMock, sleeps: Sleeps
) -> None:
    rsps.get(BASE + "customers/cus_1", json={"message": "Too many"}, status=429, headers={"Retry-After": "7"})
    rsps.get(BASE + "customers/cus_1", json={"data": samples.customer()})

    assert client.customers.get("cus_1").id == "cus_1"
    assert sleeps == [7.0]
    assert len(rsps.calls) == 2


def test_429_honours_retry_after_http_date(
    client: BlixoClient, rsps: responses.RequestsMock, sleeps: Sleeps
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    rsps.get(BASE + "customers/cus_1", status=429, headers={"Retry-After": when})
    rsps.get(BASE + "customers/cus_1", json={"data": samples.customer()})

    client.customers.get("cus_1")

    assert len(sleeps) == 1
    assert 25 <= sleeps[0] <= 30


def test_429_without_retry_after_uses_backoff(rsps: responses.RequestsMock, sleeps: Sleeps) -> None:
    rsps.get(BASE + "customers/cus_1", status=429)
    rsps.get(BASE + "customers/cus_1", json={"data": samples.customer()})
    backoff = Backoff(initial=0.25, maximum=10, jitter=0)
    with BlixoClient(KEY, BASE, backoff=backoff, sleep=sleeps) as c:
        c.customers.get("cus_1")
    assert sleeps == [0.25]


def test_429_with_a_long_retry_after_is_raised_not_slept(
    client: BlixoClient, rsps: responses.RequestsMock, sleeps: Sleeps
) -> None:
    rsps.get(BASE + "customers/cus_1", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitError) as info:
        client.customers.get("cus_1")
    assert info.value.retry_after == 3600.0
    assert sleeps == []
    assert len(rsps.calls) == 1


def test_429_that_persists_raises_rate_limit_error_after_max_retries(
    client: BlixoClient, rsps: responses.RequestsMock, sleeps: Sleeps
) -> None:
    rsps.get(
        BASE + "customers/cus_1", json={"message": "slow down"}, status=429, headers={"Retry-After": "1"}
    )
    with pytest.raises(RateLimitError) as info:
        client.customers.get("cus_1")
    assert isinstance(info.value, TransientError)
    assert info.value.retry_after == 1.0
    assert len(rsps.calls) == 4  # 1 + max_retries
    assert sleeps == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_then_succeeds(
    client: BlixoClient, rsps: responses.RequestsMock, sleeps: Sleeps, status: int
) -> None:
    rsps.get(BASE + "invoices/inv_1", json={"message": "oops"}, status=status)
    rsps.get(BASE + "invoices/inv_1", json={"data": samples.invoice()})
    assert isinstance(client.invoices.get("inv_1"), Invoice)
    assert len(rsps.calls) == 2
    assert len(sleeps) == 1


def test_5xx_that_persists_raises_server_error(
    client: BlixoClient, rsps: responses.RequestsMock, sleeps: Sleeps
) -> None:
    rsps.get(BASE + "invoices/inv_1", json={"message": "down"}, status=503)
    with pytest.raises(ServerError, match="down") as info:
        client.invoices.get("inv_1")
    assert info.value.status_code == 503
    assert len(rsps.calls) == 4


def test_backoff_grows_exponentially_and_is_capped(rsps: responses.RequestsMock, sleeps: Sleeps) -> None:
    rsps.get(BASE + "invoices/inv_1", status=500)
    backoff = Backoff(initial=0.1, maximum=0.3, jitter=0)
    with (
        BlixoClient(KEY, BASE, max_retries=4, backoff=backoff, sleep=sleeps) as c,
        pytest.raises(ServerError),
    ):
        c.invoices.get("inv_1")
    assert sleeps == pytest.approx([0.1, 0.2, 0.3, 0.3])


def test_zero_retries_means_one_attempt(rsps: responses.RequestsMock, sleeps: Sleeps) -> None:
    rsps.get(BASE + "invoices/inv_1", status=500)
    with BlixoClient(KEY, BASE, max_retries=0, sleep=sleeps) as c, pytest.raises(ServerError):
        c.invoices.get("inv_1")
    assert len(rsps.calls) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError("refused"), requests.ReadTimeout("slow"), requests.ConnectTimeout("x")],
)
def test_connection_errors_and_timeouts_are_retried(
    client: BlixoClient, rsps: responses.RequestsMock, sleeps: Sleeps, failure: Exception
) -> None:
    rsps.get(BASE + "customers/cus_1", body=failure)
    rsps.get(BASE + "customers/cus_1", json={"data": samples.customer()})
    assert client.customers.get("cus_1").id == "cus_1"
    assert len(rsps.calls) == 2
    assert len(sleeps) == 1


def test_persistent_connection_error_is_typed(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "customers/cus_1", body=requests.ConnectionError("refused"))
    with pytest.raises(BlixoConnectionError) as info:
        client.customers.get("cus_1")
    assert isinstance(info.value, TransientError)
    assert len(rsps.calls) == 4


def test_max_elapsed_stops_retrying(rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "invoices/inv_1", status=500)
    backoff = Backoff(initial=0, maximum=0, jitter=0, max_elapsed=0)
    client = BlixoClient(KEY, BASE, max_retries=10, backoff=backoff, sleep=lambda s: None)
    with client, pytest.raises(ServerError):
        client.invoices.get("inv_1")
    assert len(rsps.calls) == 1


# --- writes and idempotency --------------------------------------------------------------------
def test_create_sends_idempotency_key_and_camel_case_body(
    client: BlixoClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(BASE + "customers", json={"data": samples.customer()}, status=201)

    created = client.customers.create(
        CustomerWrite(name="Acme Ltd", customer_no="C-100", metadata={"intacct.recordNo": "42"}),
        idempotency_key="t1:customer:C-100:create:1",
    )

    assert created.id == "cus_1"
    req = rsps.calls[0].request
    assert req.headers["Idempotency-Key"] == "t1:customer:C-100:create:1"
    assert req.headers["Content-Type"] == "application/json"
    assert _json_body(rsps.calls[0]) == {
        "name": "Acme Ltd",
        "customerNo": "C-100",
        "metadata": {"intacct.recordNo": "42"},
    }


def test_create_accepts_a_mapping_validated_by_the_write_model(
    client: BlixoClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(BASE + "invoices", json={"data": samples.invoice()})
    client.invoices.create(
        {"customer_id": "cus_1", "items": [{"name": "W", "quantity": 2, "unitPrice": "10.00"}]},
        idempotency_key=IDEM,
    )
    assert _json_body(rsps.calls[0]) == {
        "customerId": "cus_1",
        "items": [{"name": "W", "quantity": 2.0, "unitPrice": 10.0}],
    }
    with pytest.raises(ValueError, match="typo"):
        client.invoices.create({"typo": 1}, idempotency_key=IDEM)
    assert len(rsps.calls) == 1


def test_create_retried_after_5xx_resends_the_same_key_and_body(
    client: BlixoClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(BASE + "invoices", json={"message": "boom"}, status=500)
    rsps.post(BASE + "invoices", body=requests.ReadTimeout("lost"))
    rsps.post(BASE + "invoices", json={"data": samples.invoice()}, status=201)

    client.invoices.create(InvoiceWrite(customer_id="cus_1"), idempotency_key=IDEM)

    assert len(rsps.calls) == 3
    keys = {c.request.headers["Idempotency-Key"] for c in rsps.calls}
    bodies = {c.request.body for c in rsps.calls}
    assert keys == {IDEM}
    assert len(bodies) == 1


def test_409_for_a_key_still_in_flight_is_retried(
    client: BlixoClient, rsps: responses.RequestsMock, sleeps: Sleeps
) -> None:
    in_flight = {
        "message": "A request with this Idempotency-Key is still in progress",
        "param": "Idempotency-Key",
    }
    rsps.post(BASE + "invoices", body=requests.ReadTimeout("slow write"))
    rsps.post(BASE + "invoices", json=in_flight, status=409)
    rsps.post(BASE + "invoices", json={"data": samples.invoice()}, status=201)

    assert client.invoices.create(InvoiceWrite(customer_id="cus_1"), idempotency_key=IDEM).id == "inv_1"
    assert len(rsps.calls) == 3
    assert len(sleeps) == 2


def test_409_about_state_is_not_retried(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.post(BASE + "invoices", json={"message": "conflict", "param": "status"}, status=409)
    with pytest.raises(ConflictError):
        client.invoices.create(InvoiceWrite(customer_id="cus_1"), idempotency_key=IDEM)
    assert len(rsps.calls) == 1


def test_409_in_flight_that_persists_is_transient(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.post(BASE + "invoices", json={"message": "in progress", "param": "Idempotency-Key"}, status=409)
    with pytest.raises(IdempotencyInProgressError) as info:
        client.invoices.create(InvoiceWrite(customer_id="cus_1"), idempotency_key=IDEM)
    assert isinstance(info.value, TransientError)
    assert len(rsps.calls) == 4


def test_update_patches_with_idempotency_key(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.patch(BASE + "invoices/inv_1", json={"data": samples.invoice(dueDate="2024-04-30")})
    inv = client.invoices.update("inv_1", InvoiceWrite(due_date=None), idempotency_key=IDEM)
    assert str(inv.due_date) == "2024-04-30"
    req = rsps.calls[0].request
    assert req.method == "PATCH"
    assert req.headers["Idempotency-Key"] == IDEM
    assert _json_body(rsps.calls[0]) == {"dueDate": None}


@pytest.mark.parametrize(
    ("resource", "path", "sample"),
    [
        ("invoices", "invoices/inv_1/void", samples.invoice),
        ("credit_notes", "credit-notes/inv_1/void", samples.credit_note),
        ("payments", "payments/inv_1/void", samples.payment),
    ],
)
def test_void_posts_with_idempotency_key(
    client: BlixoClient, rsps: responses.RequestsMock, resource: str, path: str, sample: object
) -> None:
    assert callable(sample)
    rsps.post(BASE + path, json={"data": sample(status="voided")})
    voided = getattr(client, resource).void("inv_1", idempotency_key=IDEM)
    assert voided.status.value == "voided"
    assert rsps.calls[0].request.headers["Idempotency-Key"] == IDEM


@pytest.mark.parametrize("key", ["short", "x" * 65, "has space", "tab\tkey", "ünïcode-key"])
def test_invalid_idempotency_key_is_refused_before_sending(
    client: BlixoClient, rsps: responses.RequestsMock, key: str
) -> None:
    with pytest.raises(ValueError, match="Idempotency-Key"):
        client.customers.create(CustomerWrite(name="x"), idempotency_key=key)
    assert len(rsps.calls) == 0


def test_writes_without_a_key_are_refused_at_the_transport(client: BlixoClient) -> None:
    with pytest.raises(ValueError, match="idempotency_key"):
        client.request("POST", "customers", body={"name": "x"})


def test_get_sends_no_idempotency_key(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "customers/cus_1", json={"data": samples.customer()})
    client.customers.get("cus_1")
    assert "Idempotency-Key" not in rsps.calls[0].request.headers


def test_delete_then_404_after_a_lost_response_counts_as_deleted(
    client: BlixoClient, rsps: responses.RequestsMock
) -> None:
    rsps.delete(BASE + "customers/cus_1", body=requests.ReadTimeout("lost"))
    rsps.delete(BASE + "customers/cus_1", json={"message": "not found"}, status=404)
    client.customers.delete("cus_1")
    assert len(rsps.calls) == 2


def test_delete_of_an_unknown_id_is_not_found(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.delete(BASE + "invoices/nope", json={"message": "not found"}, status=404)
    with pytest.raises(NotFoundError):
        client.invoices.delete("nope")


def test_delete_accepts_204_and_data(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.delete(BASE + "credit-notes/cn_1", status=204)
    rsps.delete(BASE + "credit-notes/cn_2", json={"data": {"id": "cn_2", "deleted": True}})
    client.credit_notes.delete("cn_1")
    client.credit_notes.delete("cn_2")
    assert len(rsps.calls) == 2


def test_payments_cannot_be_deleted(client: BlixoClient) -> None:
    assert not hasattr(client.payments, "delete")


# --- paging ------------------------------------------------------------------------------------
def _page(ids: list[str], page: int, per_page: int, total: int) -> dict[str, object]:
    return {"data": [samples.customer(id=i) for i in ids], "page": page, "perPage": per_page, "total": total}


def test_paging_stops_at_the_first_short_page_whatever_total_says(
    client: BlixoClient, rsps: responses.RequestsMock
) -> None:
    # total claims 100, but page 3 is short: stop there.
    rsps.get(BASE + "customers", json=_page(["a", "b"], 1, 2, 100))
    rsps.get(BASE + "customers", json=_page(["c", "d"], 2, 2, 100))
    rsps.get(BASE + "customers", json=_page(["e"], 3, 2, 100))

    ids = [c.id for c in client.customers.iter(per_page=2)]

    assert ids == ["a", "b", "c", "d", "e"]
    assert [_query(c)["page"] for c in rsps.calls] == [["1"], ["2"], ["3"]]
    assert all(_query(c)["perPage"] == ["2"] for c in rsps.calls)


def test_paging_continues_past_a_total_that_is_too_small(
    client: BlixoClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(BASE + "customers", json=_page(["a", "b"], 1, 2, 2))
    rsps.get(BASE + "customers", json=_page(["c", "d"], 2, 2, 2))
    rsps.get(BASE + "customers", json=_page([], 3, 2, 2))

    pages = list(client.customers.iter_pages(per_page=2))

    assert [len(p.items) for p in pages] == [2, 2, 0]
    assert [p.page for p in pages] == [1, 2, 3]
    assert pages[0].total == 2
    assert [p.has_more for p in pages] == [True, True, False]


def test_empty_list_makes_one_request(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "payments", json={"data": [], "page": 1, "perPage": 100, "total": 0})
    assert client.payments.list() == []
    assert len(rsps.calls) == 1
    assert _query(rsps.calls[0])["perPage"] == ["100"]


def test_a_server_ignoring_page_is_detected(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "customers", json=_page(["a", "b"], 1, 2, 10))
    with pytest.raises(ProtocolError, match="repeats"):
        client.customers.list(per_page=2)
    assert len(rsps.calls) == 2


def test_updated_after_is_sent_as_utc_iso(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "invoices", json={"data": [samples.invoice()], "page": 1, "perPage": 100, "total": 1})
    since = datetime(2024, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))

    invoices = client.invoices.list(updated_after=since)

    assert [i.id for i in invoices] == ["inv_1"]
    assert _query(rsps.calls[0])["updatedAfter"] == ["2024-03-01T10:00:00Z"]


def test_updated_after_must_be_aware(client: BlixoClient) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        client.invoices.list(updated_after=datetime(2024, 3, 1))


@pytest.mark.parametrize("per_page", [0, 101])
def test_per_page_is_bounded(client: BlixoClient, per_page: int) -> None:
    with pytest.raises(ValueError, match="per_page"):
        client.customers.list(per_page=per_page)


def test_list_data_that_is_not_an_array_is_a_protocol_error(
    client: BlixoClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(BASE + "customers", json={"data": {"id": "x"}})
    with pytest.raises(ProtocolError, match="not an array"):
        client.customers.list()


def test_a_page_is_retried_on_its_own(client: BlixoClient, rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "customers", json=_page(["a", "b"], 1, 2, 3))
    rsps.get(BASE + "customers", status=502)
    rsps.get(BASE + "customers", json=_page(["c"], 2, 2, 3))
    assert [c.id for c in client.customers.list(per_page=2)] == ["a", "b", "c"]
    assert [_query(c)["page"] for c in rsps.calls] == [["1"], ["2"], ["2"]]


# --- secrets -----------------------------------------------------------------------------------
def test_api_key_never_appears_in_repr_errors_or_logs(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    b64 = base64.b64encode(f"{KEY}:".encode()).decode()
    rsps.get(BASE + "customers/cus_1", json={"message": "server sad"}, status=500)
    rsps.get(BASE + "customers/cus_2", json={"message": "Invalid API key"}, status=401)
    caplog.set_level(logging.DEBUG)

    with BlixoClient(KEY, BASE, max_retries=2, sleep=lambda s: None) as c:
        texts = [repr(c), str(c), repr(c._auth), repr(vars(c))]
        with pytest.raises(ServerError) as server:
            c.customers.get("cus_1")
        with pytest.raises(AuthenticationError) as auth:
            c.customers.get("cus_2")

    texts += [str(server.value), repr(server.value), str(auth.value), repr(auth.value), caplog.text]
    assert any("retrying" in r.getMessage() for r in caplog.records)
    for text in texts:
        assert KEY not in text
        assert b64 not in text


def test_empty_api_key_and_bad_base_url_are_refused() -> None:
    with pytest.raises(ValueError, match="API key"):
        BlixoClient("", BASE)
    with pytest.raises(ValueError, match="base_url"):
        BlixoClient(KEY, "ftp://blixo.test/")
