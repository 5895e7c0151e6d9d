"""Hostile input gets Intacct's own failure shapes, never a dropped connection or a hung thread."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

import pytest
import requests
from defusedxml.ElementTree import fromstring

from sandbox.intacct import SandboxHandle, start_server
from sandbox.intacct.filters import MAX_QUERY_NESTING
from sandbox.intacct.gateway import MAX_XML_DEPTH
from tests.integration.intacct_sandbox.conftest import Gateway, Response, errors_of

READ_TIMEOUT = 0.2  # the framing tests' server read timeout
BOUND = 3.0  # an answer or a close must arrive well within this


_serving = itertools.count(1)


def assert_still_serving(gw: Gateway) -> None:
    cid = f"C-STILL-SERVING-{next(_serving)}"
    key = gw.customer(cid, "Still Serving Ltd")
    assert gw.read("CUSTOMER", key, "CUSTOMERID").findtext("CUSTOMERID") == cid


def control_failure(resp: Response) -> dict[str, str]:
    """The one control-level error of a response that ran nothing."""
    assert resp.status_code == 200, resp.http.text[:300]
    assert resp.control_status == "failure"
    assert resp.root.find("operation") is None
    [error] = errors_of(resp.root)
    return error


def function_failure(resp: Response) -> dict[str, str]:
    assert resp.status_code == 200, resp.http.text[:300]
    assert resp.control_status == "success"
    result = resp.result()
    assert result.findtext("status") == "failure", resp.http.text[:500]
    return resp.errors()[0]


# -- XML nesting --------------------------------------------------------------------------------------
def nest(depth: int, tag: str = "a") -> str:
    return f"<{tag}>" * depth + f"</{tag}>" * depth


# request/operation/content/function/create/CUSTOMER/NAME: NAME is at depth 7
def deep_name(depth_inside: int) -> str:
    return (
        f"<create><CUSTOMER><CUSTOMERID>C1</CUSTOMERID><NAME>{nest(depth_inside)}</NAME></CUSTOMER></create>"
    )


@pytest.mark.parametrize("encoding", ["x-nope", "rot13", "hex", "base64"])
def test_an_encoding_without_a_codec_is_a_control_level_xl03000003(gw: Gateway, encoding: str) -> None:
    body = gw.body(["<getAPISession/>"], auth=gw.login_xml())
    declared = body.replace('encoding="UTF-8"', f'encoding="{encoding}"', 1)
    assert declared != body
    reply = gw.raw(declared)
    assert reply.status_code == 200
    assert control_failure(Response(reply))["errorno"] == "XL03000003"
    assert_still_serving(gw)


@pytest.mark.parametrize(
    "build",
    [
        lambda gw: gw.body([], auth=gw.login_xml()).replace("<content>", "<content>" + nest(100_000)),
        lambda gw: gw.body([deep_name(100_000)], auth=gw.login_xml()),
        lambda gw: gw.body([deep_name(MAX_XML_DEPTH - 7 + 1)], auth=gw.login_xml()),  # one over the limit
        lambda gw: gw.body([], auth=gw.login_xml()).replace("<content>", "<content>" + "<a>" * 100_000),
    ],
    ids=["in-content-100k", "in-a-field-100k", "limit+1", "never-closed-100k"],
)
def test_xml_nested_too_deep_is_a_control_level_xl03000003(gw: Gateway, build: Any) -> None:
    error = control_failure(Response(gw.raw(build(gw))))
    assert error["errorno"] == "XL03000003"
    assert error["description"] == "XML Parse error"
    assert error["description2"].startswith(
        f"XML parse error: Excessive depth in document: {MAX_XML_DEPTH} use XML_PARSE_HUGE option [Support ID: "
    )
    # The same shape as any malformed XML gets (mismatched tag here).
    malformed = Response(gw.raw("<request><control><x></request>"))
    assert [el.tag for el in malformed.root.iter()] == [
        el.tag for el in Response(gw.raw(build(gw))).root.iter()
    ]
    assert control_failure(malformed)["errorno"] == "XL03000003"
    # At the limit the document parses, and the function answers for itself.
    at_limit = function_failure(gw.call(deep_name(MAX_XML_DEPTH - 7), auth=gw.login_xml()))
    assert at_limit["errorno"] == "DL02000001"
    assert_still_serving(gw)


# -- readByQuery nesting ------------------------------------------------------------------------------------
def read_by_query(gw: Gateway, query: str) -> Response:
    return gw.call(
        f"<readByQuery><object>CUSTOMER</object><fields>CUSTOMERID</fields><query>{query}</query>"
        "<pagesize>10</pagesize></readByQuery>"
    )


@pytest.mark.parametrize(
    "query",
    [
        "(" * 100_000 + "CUSTOMERID = 'C1'" + ")" * 100_000,
        "NOT " * 100_000 + "CUSTOMERID = 'C1'",
        "(" * (MAX_QUERY_NESTING + 1) + "CUSTOMERID = 'C1'" + ")" * (MAX_QUERY_NESTING + 1),
    ],
    ids=["parentheses-100k", "not-100k", "limit+1"],
)
def test_read_by_query_nested_too_deep_is_dl02000001(gw: Gateway, query: str) -> None:
    gw.customer("C1")
    error = function_failure(read_by_query(gw, query))
    assert error["errorno"] == "DL02000001"
    assert f"nest deeper than {MAX_QUERY_NESTING} levels" in error["description2"]
    at_limit = "(" * MAX_QUERY_NESTING + "CUSTOMERID = 'C1'" + ")" * MAX_QUERY_NESTING
    assert read_by_query(gw, at_limit).data().findtext("customer/CUSTOMERID") == "C1"
    assert_still_serving(gw)


# -- digits ---------------------------------------------------------------------------------------------
BAD_INTEGERS = ["١", "٣", "9" * 5000, "²", "9" * 20]  # noqa: RUF001 - Arabic-Indic, 5000 digits, superscript, > int64


def test_record_keys_with_non_ascii_or_too_many_digits_are_dl02000001(gw: Gateway) -> None:
    gw.customer("C1")
    for key in BAD_INTEGERS:
        error = function_failure(
            gw.call(f"<read><object>CUSTOMER</object><keys>{key}</keys><fields>*</fields></read>")
        )
        assert (error["errorno"], error["description"]) == ("DL02000001", "Invalid key"), key
    assert_still_serving(gw)


def test_page_sizes_with_non_ascii_or_too_many_digits_are_refused(gw: Gateway) -> None:
    for size in [*BAD_INTEGERS, "١٠"]:  # noqa: RUF001
        query = gw.call(
            f"<query><object>CUSTOMER</object><select><field>NAME</field></select><pagesize>{size}</pagesize></query>"
        )
        assert function_failure(query)["errorno"] == "XL03000003", size
        offset = gw.call(
            f"<query><object>CUSTOMER</object><select><field>NAME</field></select><offset>{size}</offset></query>"
        )
        assert function_failure(offset)["errorno"] == "XL03000003", size
        by_query = gw.call(
            f"<readByQuery><object>CUSTOMER</object><fields>*</fields><query></query><pagesize>{size}</pagesize></readByQuery>"
        )
        assert function_failure(by_query)["errorno"] == "DL02000001", size
    assert_still_serving(gw)


@pytest.mark.parametrize(
    "amount",
    [
        "١٠٠",  # noqa: RUF001 - Arabic-Indic 100
        "1_000",
        "1e999999",
        "-1e999999",
        "9" * 5000,
        "1e-999999",
    ],
    ids=[
        "arabic-indic",
        "underscore",
        "huge-exponent",
        "huge-negative",
        "5000-digits",
        "tiny-exponent",
    ],
)
def test_amounts_with_non_ascii_digits_or_out_of_range_are_dl02000001(gw: Gateway, amount: str) -> None:
    gw.customer("C1")
    error = function_failure(gw.call(gw.invoice_xml("C1", amount)))
    assert (error["errorno"], error["description"]) == ("DL02000001", "Invalid number")
    # A generic create's number field is held to the same rule.
    generic = gw.call(
        f"<create><CUSTOMER><CUSTOMERID>C2</CUSTOMERID><NAME>N</NAME><CREDITLIMIT>{amount}</CREDITLIMIT></CUSTOMER></create>"
    )
    assert function_failure(generic)["errorno"] == "DL02000001"
    assert gw.admin("dump?object=ARINVOICE") == {}  # nothing was written
    assert_still_serving(gw)


@pytest.mark.parametrize(
    ("part", "value"),
    [
        ("year", "٢٠٢٤"),  # Arabic-Indic 2024: int() reads it
        ("month", "٠٧"),  # noqa: RUF001
        ("day", "٠١"),  # noqa: RUF001
        ("year", "9" * 20),  # int() takes it, date() overflows
    ],
    ids=["arabic-indic-year", "arabic-indic-month", "arabic-indic-day", "20-digit-year"],
)
def test_legacy_date_parts_with_non_ascii_or_too_many_digits_are_dl02000001(
    gw: Gateway, part: str, value: str
) -> None:
    gw.customer("C1")
    parts = {"year": "2024", "month": "07", "day": "01"} | {part: value}
    date = (
        f"<datecreated><year>{parts['year']}</year><month>{parts['month']}</month>"
        f"<day>{parts['day']}</day></datecreated>"
    )
    xml = gw.invoice_xml("C1").replace(
        "<datecreated><year>2024</year><month>07</month><day>01</day></datecreated>", date
    )
    assert date in xml
    error = function_failure(gw.call(xml))
    assert (error["errorno"], error["description"]) == ("DL02000001", "Invalid date")
    assert gw.admin("dump?object=ARINVOICE") == {}
    assert_still_serving(gw)


def test_a_decimal_record_number_on_update_is_not_found(gw: Gateway) -> None:
    gw.customer("C1")
    resp = gw.call("<update><CUSTOMER><RECORDNO>1.5</RECORDNO><NAME>X</NAME></CUSTOMER></update>")
    assert function_failure(resp)["errorno"] == "BL01001973"
    assert_still_serving(gw)


# -- framing: Content-Length and the read timeout ---------------------------------------------------------
@pytest.fixture(scope="module")
def quick() -> Iterator[SandboxHandle]:
    """A sandbox whose read timeout is short enough to wait out in a test."""
    handle = start_server(port=0, read_timeout_seconds=READ_TIMEOUT)
    yield handle
    handle.stop()


@pytest.fixture
def quick_gw(quick: SandboxHandle) -> Gateway:
    quick.sandbox.reset()
    return Gateway(quick)


def exchange(handle: SandboxHandle, data: bytes) -> tuple[bytes, float]:
    """Send raw bytes, read until the server closes; (everything received, seconds taken)."""
    host, port = handle.server.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=BOUND) as sock:
        started = time.monotonic()
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):  # a hung server raises TimeoutError here
            received += chunk
        return received, time.monotonic() - started


def head(*lines: str) -> bytes:
    # Latin-1, the encoding http.server reads headers with, so '²' arrives as '²'.
    return "\r\n".join(["POST /ia/xml/xmlgw.phtml HTTP/1.1", "Host: sandbox", *lines, "", ""]).encode(
        "latin-1"
    )


def split(response: bytes) -> tuple[str, bytes, Element]:
    status_line, _, rest = response.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    return status_line.decode(), headers, fromstring(body)


def gateway_error(root: Element) -> dict[str, str]:
    assert root.findtext("control/status") == "failure"
    [error] = errors_of(root)
    return error


def test_a_body_shorter_than_its_content_length_is_400_after_the_read_timeout(
    quick: SandboxHandle, quick_gw: Gateway
) -> None:
    received, took = exchange(quick, head("Content-Length: 100") + b"<request>")
    status, headers, root = split(received)
    assert status == "HTTP/1.1 400 Bad Request"
    assert b"Connection: close" in headers
    error = gateway_error(root)
    assert error["errorno"] == "GW-0011"
    assert error["description2"].startswith(
        "Invalid request: the request body is shorter than its Content-Length (9 of 100 bytes)."
    )
    assert READ_TIMEOUT * 0.9 <= took < BOUND
    assert_still_serving(quick_gw)
    # Idle time between requests on a keep-alive connection is not a read timeout.
    time.sleep(READ_TIMEOUT * 3)
    assert_still_serving(quick_gw)


@pytest.mark.parametrize(
    "partial",
    [b"POST /ia/xml/xml", b"POST /ia/xml/xmlgw.phtml HTTP/1.1\r\nHost: sandbox\r\nContent-Le"],
    ids=["request-line", "headers"],
)
def test_a_request_cut_off_in_its_head_is_closed_after_the_read_timeout(
    quick: SandboxHandle, quick_gw: Gateway, partial: bytes
) -> None:
    received, took = exchange(quick, partial)
    assert received == b""  # a clean close: nothing can be answered to half a request line
    assert READ_TIMEOUT * 0.9 <= took < BOUND
    assert_still_serving(quick_gw)


@pytest.mark.parametrize(
    ("header", "status", "errno_text"),
    [
        ("Content-Length: ²", "400 Bad Request", "invalid Content-Length"),
        ("Content-Length: -1", "400 Bad Request", "invalid Content-Length"),
        ("Content-Length: abc", "400 Bad Request", "invalid Content-Length"),
        ("Content-Length: " + "0" * 5000 + "1", "400 Bad Request", "invalid Content-Length"),
        ("Content-Length: 1000000000000000", "413 Request Entity Too Large", "is over"),
        ("Transfer-Encoding: chunked", "411 Length Required", "Content-Length"),
    ],
    ids=["superscript", "negative", "letters", "5000-digits", "petabyte", "chunked"],
)
def test_bad_framing_is_refused_from_the_headers(
    quick: SandboxHandle, quick_gw: Gateway, header: str, status: str, errno_text: str
) -> None:
    received, took = exchange(quick, head(header) + b"<request/>")
    got, headers, root = split(received)
    assert got == f"HTTP/1.1 {status}"
    assert b"Connection: close" in headers
    error = gateway_error(root)
    assert error["errorno"] == "GW-0011"
    assert errno_text in error["description2"]
    assert took < READ_TIMEOUT  # refused from the headers, no waiting for a body
    assert_still_serving(quick_gw)


def test_admin_json_nested_too_deep_is_400(quick: SandboxHandle, quick_gw: Gateway) -> None:
    resp = requests.post(f"{quick.url}/_sandbox/seed", data="[" * 100_000, timeout=BOUND)
    assert (resp.status_code, resp.json()) == (400, {"error": "body must be JSON"})
    resp = requests.post(f"{quick.url}/_sandbox/seed", data='{"customers": 1e400}', timeout=BOUND)
    assert resp.status_code == 400
    assert_still_serving(quick_gw)


def test_an_unexpected_error_is_answered_not_dropped(
    quick: SandboxHandle, quick_gw: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(quick.sandbox.gateway, "execute", broken)
        resp = quick_gw.raw(quick_gw.body(["<getAPISession/>"], auth=quick_gw.login_xml()))
    assert resp.status_code == 500
    error = gateway_error(fromstring(resp.content))
    assert error["errorno"] == "GW-0500"
    assert error["description2"].startswith("Sandbox bug: RuntimeError: boom")
    assert_still_serving(quick_gw)
