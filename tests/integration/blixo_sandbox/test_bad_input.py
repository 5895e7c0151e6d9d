"""Hostile input gets Blixo's 400 {"message", "param"}, never a 500 or a hung connection."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.blixo import SandboxHandle, start_server
from sandbox.blixo.core import MAX_JSON_DEPTH
from tests.integration.blixo_sandbox.conftest import KEY, Api

READ_TIMEOUT = 0.2  # the short-body tests' server read timeout
BOUND = 3.0  # an answer or a close must arrive well within this


def assert_400(resp: requests.Response, param: str | None, *words: str) -> dict[str, Any]:
    assert resp.status_code == 400, (resp.status_code, resp.text[:300])
    body: dict[str, Any] = resp.json()
    assert set(body) == {"message", "param"}
    assert body["param"] == param, body
    for word in words:
        assert word in body["message"], body
    return body


def assert_still_serving(api: Api) -> None:
    created = api.customer(name="Still Serving Ltd")
    assert api.ok("GET", f"/customers/{created['id']}")["name"] == "Still Serving Ltd"


# -- numeric query parameters ---------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/customers", "/invoices", "/webhooks"])
@pytest.mark.parametrize("name", ["page", "perPage"])
@pytest.mark.parametrize(
    "value",
    [
        "9" * 5000,  # int() refuses more than 4300 digits (was a 500)
        "0" * 4999 + "1",  # in range once parsed, but still 5000 digits
        "١٢",  # Arabic-Indic 12: int() reads it (was accepted)
        "１２",  # fullwidth 12  # noqa: RUF001
        "٣",
    ],
    ids=["5000-nines", "5000-digit-one", "arabic-indic", "fullwidth", "arabic-indic-3"],
)
def test_numeric_query_params_with_too_many_or_non_ascii_digits_are_400(
    api: Api, path: str, name: str, value: str
) -> None:
    assert_400(api.get(path, params={name: value}), name, name, "ASCII digits")
    assert_still_serving(api)


# -- JSON bodies ----------------------------------------------------------------------------------
def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/customers", nested(100_000)),
        ("POST", "/customers", '{"name": ' + nested(100_000) + "}"),
        ("POST", "/invoices", '{"items": [{"metadata": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}]}"),
        ("POST", "/customers", '{"name": ' + nested(MAX_JSON_DEPTH) + "}"),  # one level over the limit
        ("PATCH", "/customers/cus_x", '{"name": ' + nested(100_000) + "}"),
        ("POST", "/webhooks", "{" * 100_000),  # unterminated too
    ],
    ids=["array-100k", "field-100k", "object-100k", "limit+1", "patch-100k", "unterminated-100k"],
)
def test_json_nested_too_deep_is_400(api: Api, method: str, path: str, body: str) -> None:
    resp = api.call(method, path, data=body, headers={"Content-Type": "application/json"})
    assert_400(resp, None, f"nests deeper than {MAX_JSON_DEPTH} levels")
    # At the limit the body parses and the field's own check answers, naming it.
    at_limit = '{"name": ' + nested(MAX_JSON_DEPTH - 1) + "}"
    assert_400(api.call("POST", "/customers", data=at_limit), "name", "must be a string")
    assert_still_serving(api)


def test_deep_brackets_inside_strings_do_not_count(api: Api) -> None:
    # Only structure counts: brackets (and escaped quotes) inside a string are text.
    name = "[" * 100 + '\\"' + "{" * 100
    resp = api.call(
        "POST", "/customers", data='{"name": "' + name + '", "email": ' + nested(MAX_JSON_DEPTH) + "}"
    )
    assert_400(resp, None, "nests deeper")
    created = api.call("POST", "/customers", data=json.dumps({"name": "[" * 100 + '"' + "{" * 100}))
    assert created.status_code == 201, created.text
    assert created.json()["data"]["name"] == "[" * 100 + '"' + "{" * 100


HUGE = ["1e400", "9" * 5000, "1e999999999", '"1E+999999999"', '"' + "9" * 5000 + '"', "-1e999999999"]
NOT_ASCII = ['"١٢"', '"１２"', '"1_000"']  # noqa: RUF001


@pytest.mark.parametrize(
    ("path", "template", "param"),
    [
        (
            "/invoices",
            '{"customerId": "%s", "items": [{"name": "x", "unitPrice": %s}]}',
            "items[0].unitPrice",
        ),
        (
            "/invoices",
            '{"customerId": "%s", "items": [{"name": "x", "unitPrice": 1, "quantity": %s}]}',
            "items[0].quantity",
        ),
        ("/payments", '{"customerId": "%s", "amount": %s}', "amount"),
        (
            "/invoices",
            '{"customerId": "%s", "items": [{"name": "x", "unitPrice": 1}], "taxes": [{"name": "t", "rate": %s}]}',
            "taxes[0].rate",
        ),
    ],
    ids=["unitPrice", "quantity", "payment-amount", "tax-rate"],
)
def test_huge_or_non_ascii_numbers_in_money_fields_are_400_naming_the_field(
    api: Api, path: str, template: str, param: str
) -> None:
    customer = api.customer()["id"]
    for raw in HUGE:
        resp = api.call("POST", path, data=template % (customer, raw))
        assert_400(resp, param, "too large")
    for raw in NOT_ASCII:
        resp = api.call("POST", path, data=template % (customer, raw))
        assert_400(resp, param, "must be a number")
    assert api.get(path).json()["total"] == 0  # nothing was written
    assert_still_serving(api)


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/customers", '{"name": "x\\ud800"}', "name"),
        ("/invoices", '{"customerId": "\\ud800", "items": []}', "customerId"),
        ("/customers", '{"name": "x", "metadata": {"k": "\\udfff"}}', "metadata.k"),
        ("/customers", '{"name": "x", "address": {"city": "\\udbff"}}', "address.city"),
        ("/invoices", '{"customerId": "c", "items": [{"name": "\\ud800"}]}', "items[0].name"),
    ],
    ids=["name", "customerId", "metadata", "address", "item-name"],
)
def test_lone_surrogates_are_400_naming_the_field(api: Api, path: str, body: str, param: str) -> None:
    assert_400(api.call("POST", path, data=body), param, "lone surrogates")
    # A proper pair (U+1F4A5 written as two escapes) is text and is kept.
    created = api.call("POST", "/customers", data='{"name": "boom \\ud83d\\udca5"}')
    assert created.status_code == 201, created.text
    assert created.json()["data"]["name"] == "boom \U0001f4a5"
    assert_still_serving(api)


def test_updated_after_past_the_last_utc_moment_is_400(api: Api) -> None:
    resp = api.get("/customers", params={"updatedAfter": "9999-12-31T23:59:59-23:59"})
    assert_400(resp, "updatedAfter", "out of range")
    assert_still_serving(api)


def test_admin_seed_with_a_bad_seed_is_400(api: Api) -> None:
    seeds: list[Any] = [[], {}, 1.5]
    for seed in seeds:
        resp = requests.post(f"{api.handle.admin_url}/seed", json={"customers": 1, "seed": seed}, timeout=10)
        assert_400(resp, "seed", "seed must be")
    deep = requests.post(f"{api.handle.admin_url}/seed", data=nested(100_000), timeout=10)
    assert_400(deep, None, "nests deeper")
    assert_still_serving(api)


# -- framing: Content-Length and the read timeout -------------------------------------------------
@pytest.fixture
def quick() -> Iterator[SandboxHandle]:
    """A sandbox whose read timeout is short enough to wait out in a test."""
    handle = start_server(port=0, api_key=KEY, read_timeout_seconds=READ_TIMEOUT)
    try:
        yield handle
    finally:
        handle.stop()


def exchange(handle: SandboxHandle, data: bytes) -> tuple[bytes, float]:
    """Send raw bytes, read until the server closes; (everything received, seconds taken)."""
    with socket.create_connection((handle.host, handle.port), timeout=BOUND) as sock:
        started = time.monotonic()
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):  # a hung server raises TimeoutError here
            received += chunk
        return received, time.monotonic() - started


def head(handle: SandboxHandle, *lines: str) -> bytes:
    auth = base64.b64encode(f"{handle.api_key}:".encode()).decode()
    lines = ("POST /v1/customers HTTP/1.1", "Host: sandbox", f"Authorization: Basic {auth}", *lines, "", "")
    # Latin-1, the encoding http.server reads headers with, so '²' arrives as '²'.
    return "\r\n".join(lines).encode("latin-1")


def json_of(response: bytes) -> tuple[str, dict[str, Any]]:
    status_line, _, rest = response.partition(b"\r\n")
    _, _, body = rest.partition(b"\r\n\r\n")
    return status_line.decode(), json.loads(body)


def test_a_body_shorter_than_its_content_length_is_400_after_the_read_timeout(quick: SandboxHandle) -> None:
    received, took = exchange(quick, head(quick, "Content-Length: 100") + b'{"name": "Half')
    status, body = json_of(received)
    assert status == "HTTP/1.1 400 Bad Request"
    assert body == {
        "message": "The request body is shorter than its Content-Length (14 of 100 bytes)",
        "param": None,
    }
    assert b"Connection: close" in received
    assert READ_TIMEOUT * 0.9 <= took < BOUND
    # The same for a client that closes its side early.
    with socket.create_connection((quick.host, quick.port), timeout=BOUND) as sock:
        sock.sendall(head(quick, "Content-Length: 50") + b"{")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(65536).startswith(b"HTTP/1.1 400 ")
    api = Api(quick)
    assert_still_serving(api)
    # Idle time between requests on a keep-alive connection is not a read timeout.
    api.get("/customers")
    time.sleep(READ_TIMEOUT * 3)
    assert api.get("/customers").status_code == 200


@pytest.mark.parametrize(
    "partial",
    [b"POST /v1/cust", b"POST /v1/customers HTTP/1.1\r\nHost: sandbox\r\nContent-Le"],
    ids=["request-line", "headers"],
)
def test_a_request_cut_off_in_its_head_is_closed_after_the_read_timeout(
    quick: SandboxHandle, partial: bytes
) -> None:
    received, took = exchange(quick, partial)
    assert received == b""  # a clean close: nothing can be answered to half a request line
    assert READ_TIMEOUT * 0.9 <= took < BOUND
    assert_still_serving(Api(quick))


@pytest.mark.parametrize("length", ["²", "0" * 5000 + "1"], ids=["superscript-two", "5000-digits"])
def test_an_invalid_content_length_is_400(quick: SandboxHandle, length: str) -> None:
    # Both pass str.isdigit(), and int() refuses both (it was a dropped connection).
    received, took = exchange(quick, head(quick, f"Content-Length: {length}") + b"{}")
    status, body = json_of(received)
    assert status == "HTTP/1.1 400 Bad Request"
    assert body == {"message": "Invalid Content-Length", "param": None}
    assert took < READ_TIMEOUT  # refused from the header alone, no waiting for the body
    assert_still_serving(Api(quick))
