"""Hostile gateway responses: DTDs, entity expansion (billion laughs, quadratic blow-up),
external entities and DTDs that would fetch a URL or a file, XInclude. The client's parser
refuses each one without expanding or fetching anything (a typed `ResponseFormatError`), and
the request fails cleanly: a typed, retryable error (transient for a read, outcome-unknown for
a write), no session kept from a refused login, the client fine for the next request.

tests/unit/intacct/test_xml.py already checks that `parse_response` refuses one small entity
DTD and one file entity; this module adds the expansion and fetch proofs, the real reference
responses with a DTD slipped in, and the client's handling of the refusal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bisync.intacct import functions as fn
from bisync.intacct.client import RequestStats
from bisync.intacct.errors import OutcomeUnknownError, TransientError
from bisync.intacct.outcome import OutcomeStatus
from bisync.intacct.transport import HttpResponse, Timeouts
from bisync.intacct.xml import ResponseFormatError, parse_response
from tests.conftest import REFERENCE_XML, needs_reference_xml
from tests.unit.intacct.fakes import Call, FakeGateway, make_client, records_xml, response_xml, result_xml

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE response ['
    b'<!ENTITY l0 "lol">'
    + b"".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">'.encode() for i in range(1, 11))
    + b"]><response><control><status>&l10;</status></control></response>"
)  # 3 x 10^10 bytes if expanded
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE response [<!ENTITY a "'
    + b"A" * 100_000
    + b'">]><response><control><status>'
    + b"&a;" * 20_000
    + b"</status></control></response>"
)  # 2 GB if expanded


class Hits:
    """A local HTTP server that counts what an XML parser tries to fetch from it."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        hits = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.paths.append(self.path)
                body = b'<!ENTITY leak "LEAKED">'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hits() -> Iterator[Hits]:
    server = Hits()
    yield server
    server.stop()


def fetching_bodies(url: str) -> dict[str, bytes]:
    control = b"<control><status>success</status></control>"
    return {
        "external general entity (http)": (
            f'<?xml version="1.0"?><!DOCTYPE response [<!ENTITY x SYSTEM "{url}/general">]>'.encode()
            + b"<response>"
            + control
            + b"<operation><result><status>&x;</status></result></operation></response>"
        ),
        "external general entity (file)": (
            b'<?xml version="1.0"?><!DOCTYPE response [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<response>"
            + control
            + b"<operation><result><status>&x;</status></result></operation></response>"
        ),
        "external DTD": (
            f'<?xml version="1.0"?><!DOCTYPE response SYSTEM "{url}/dtd">'.encode()
            + b"<response>"
            + control
            + b"<operation>&leak;</operation></response>"
        ),
        "external parameter entity": (
            f'<?xml version="1.0"?><!DOCTYPE response [<!ENTITY % p SYSTEM "{url}/param"> %p;]>'.encode()
            + b"<response>"
            + control
            + b"<operation>&leak;</operation></response>"
        ),
        "public DTD": (
            f'<?xml version="1.0"?><!DOCTYPE response PUBLIC "-//X//Y" "{url}/public">'.encode()
            + b"<response>"
            + control
            + b"</response>"
        ),
    }


def hostile_bodies(url: str) -> dict[str, bytes]:
    return {
        "billion laughs": LAUGHS,
        "quadratic blow-up": QUADRATIC,
        "an internal DTD without entities": (
            b'<?xml version="1.0"?><!DOCTYPE response [<!ELEMENT response ANY>]>'
            b"<response><control><status>success</status></control></response>"
        ),
        "billion laughs in UTF-16": LAUGHS.decode()
        .replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
        .encode("utf-16"),
        **fetching_bodies(url),
    }


NAMES = list(hostile_bodies("http://x"))


@pytest.mark.parametrize("name", NAMES)
def test_the_parser_refuses_without_expanding_or_fetching(hits: Hits, name: str) -> None:
    body = hostile_bodies(hits.url)[name]
    started = time.perf_counter()
    with pytest.raises(ResponseFormatError) as caught:
        parse_response(body)
    elapsed = time.perf_counter() - started
    # The DTD itself is refused (defusedxml's DTDForbidden), before any entity is declared.
    assert str(caught.value) == "body is not XML (DTDForbidden)"
    # An expansion of the bombs would take minutes and gigabytes.
    assert elapsed < 2.0
    assert hits.paths == []


def test_undeclared_entity_references_are_refused() -> None:
    body = b"<response><control><status>&lol;</status></control></response>"
    with pytest.raises(ResponseFormatError) as caught:
        parse_response(body)
    assert str(caught.value) == "body is not XML (ParseError)"


def test_xinclude_is_never_processed(hits: Hits) -> None:
    """XInclude is an ordinary element to the parser: the file is never read into a value."""
    data = (
        '<data listtype="CUSTOMER" count="1"><CUSTOMER xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<NAME><xi:include href="{hits.url}/xinclude" parse="text"/></NAME>'
        '<ADDR><xi:include href="file:///etc/passwd" parse="text"/></ADDR></CUSTOMER></data>'
    )
    parsed = parse_response(response_xml([result_xml("query", "q", data=data)]))
    [record] = parsed.results[0].data.records if parsed.results[0].data else ()
    include = "{http://www.w3.org/2001/XInclude}include"
    assert record == {"NAME": {include: ""}, "ADDR": {include: ""}}
    assert hits.paths == []


REFERENCE_FILES = sorted(REFERENCE_XML.rglob("*.xml")) if REFERENCE_XML.is_dir() else []


@needs_reference_xml
@pytest.mark.parametrize(
    "path", REFERENCE_FILES, ids=[str(p.relative_to(REFERENCE_XML)) for p in REFERENCE_FILES]
)
def test_a_real_response_with_a_dtd_slipped_in_is_refused(path: Path) -> None:
    real = path.read_bytes()
    assert parse_response(real).control_status == "success"
    head, sep, rest = real.partition(b"<response")
    assert sep
    doctype = b'<!DOCTYPE response [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    # The entity is also referenced inside the first text value, as an attacker would.
    poisoned = head + doctype + sep + rest.replace(b"<status>success", b"<status>&b;success", 1)
    with pytest.raises(ResponseFormatError, match=r"^body is not XML \(DTDForbidden\)$"):
        parse_response(poisoned)


# ------------------------------------------------------------------ the client's handling


READ = fn.query("CUSTOMER", ["CUSTOMERID"])


def write() -> fn.Function:
    return fn.create_customer(fn.CustomerInput(customer_id="SEC-1", name="Sec"), controlid="sec-create-1")


def good_read(call: Call) -> bytes:
    [(name, cid, _)] = call.functions
    data = records_xml("CUSTOMER", [{"RECORDNO": "7", "CUSTOMERID": "OK-1"}], numremaining=0)
    return response_xml([result_xml(name, cid, data=data)])


@pytest.mark.parametrize("name", ["billion laughs", "quadratic blow-up", "external general entity (file)"])
def test_a_hostile_response_fails_the_request_cleanly(name: str) -> None:
    body = hostile_bodies("http://127.0.0.1:9")[name]
    answers = {"hostile": True}

    def handler(call: Call) -> bytes:
        return body if answers["hostile"] else good_read(call)

    gateway = FakeGateway(handler)
    client = make_client(gateway, attempts=3)
    seen: list[RequestStats] = []
    client.add_observer(seen.append)
    started = time.perf_counter()
    with pytest.raises(TransientError) as read_error:
        client.execute([READ])
    assert not isinstance(read_error.value, OutcomeUnknownError)
    assert read_error.value.message.startswith("Intacct answered with an unusable body: body is not XML (")
    assert read_error.value.http_status == 200
    with pytest.raises(OutcomeUnknownError) as write_error:
        client.execute([write()])
    assert write_error.value.message.startswith(
        "Intacct answered a write with an unusable body: body is not XML ("
    )
    assert time.perf_counter() - started < 10.0
    # Three attempts each (retryable), one login for all of them: the session stays good.
    assert len(gateway.content_calls) == 6
    assert gateway.logins == 1
    assert [(s.http_status, s.writes, s.rate_limited) for s in seen if not s.login] == [
        (200, False, False)
    ] * 3 + [(200, True, False)] * 3
    # The next honest answer is read normally.
    answers["hostile"] = False
    [outcome] = client.execute([READ])
    assert outcome.status is OutcomeStatus.SUCCESS
    assert outcome.records == ({"RECORDNO": "7", "CUSTOMERID": "OK-1"},)


def test_a_hostile_login_answer_keeps_no_session() -> None:
    class Gateway(FakeGateway):
        hostile_logins = 2

        def __call__(self, url: str, body: bytes, timeouts: Timeouts) -> HttpResponse:
            if b"getAPISession" in body and self.hostile_logins:
                self.hostile_logins -= 1
                self.logins += 1
                return HttpResponse(200, LAUGHS)
            return super().__call__(url, body, timeouts)

    gateway = Gateway(good_read)
    client = make_client(gateway, attempts=2)
    with pytest.raises(
        TransientError, match=r"^Intacct answered with an unusable body: body is not XML \(\w+\)$"
    ):
        client.execute([READ])
    assert gateway.content_calls == []  # nothing sent without a session
    # The next call logs in again (no half-made session was kept) and works.
    [outcome] = client.execute([READ])
    assert outcome.records == ({"RECORDNO": "7", "CUSTOMERID": "OK-1"},)
    assert gateway.logins == 3
