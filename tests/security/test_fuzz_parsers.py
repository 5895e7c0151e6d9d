"""Time-boxed fuzz runs (tests/security/fuzz_support.py) of the two parsers that read what
others send us:

- the Intacct response parser (`bisync.intacct.xml.parse_response`) and the client's handling
  of an answer (`IntacctClient.execute` on any body and HTTP status): only
  `ResponseFormatError`, respectively an `IntacctError`, may come out;
- the Blixo webhook verification (`bisync.blixo.webhooks.verify` on validly signed mutated
  bodies, and on garbage signature headers): only a `WebhookError` may come out, and whatever
  it accepts the push's consumer (`PushJob.event` + `parse_event`) reads as the same event.

(The webhook finding had a twin in the Blixo API client's JSON decoding: a regression below.)

Seeds are the real Intacct responses in ../shared/reference/intacct-xml (when present) plus
responses of the shapes the client reads, and the events/ webhook sample plus one body per
resource. FUZZ_SECONDS sets the time per run (default 15 s), FUZZ_SEED replays a run.
Inputs that once crashed are kept below as regression cases.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from bisync.blixo.client import Backoff, BlixoClient
from bisync.blixo.errors import ProtocolError
from bisync.blixo.models import parse_event
from bisync.blixo.webhooks import AcceptedEvent, IgnoredEvent, MalformedPayload, WebhookError, sign, verify
from bisync.intacct import functions as fn
from bisync.intacct.client import IntacctClient
from bisync.intacct.errors import IntacctError, TransientError
from bisync.intacct.limiter import CompanyLimiter
from bisync.intacct.retry import RetryPolicy
from bisync.intacct.transport import HttpResponse, Timeouts
from bisync.intacct.xml import ResponseFormatError, parse_response
from bisync.sync.jobs import PushJob
from tests.conftest import REFERENCE_XML, ROOT
from tests.security.fuzz_support import JSON_TOKENS, XML_TOKENS, fuzz
from tests.unit.blixo import samples
from tests.unit.intacct.fakes import (
    control_failure_xml,
    credentials,
    error_xml,
    records_xml,
    response_xml,
    result_xml,
)

SECRET = "whsec_fuzz"

# ------------------------------------------------------------------ Intacct responses

READ = fn.query("CUSTOMER", ["CUSTOMERID"])
SESSION = response_xml(
    [
        result_xml(
            "getAPISession",
            "login",
            data="<data><api><sessionid>S</sessionid><endpoint></endpoint><locationid></locationid></api></data>",
        )
    ]
)


def intacct_seeds() -> list[bytes]:
    seeds = [
        response_xml(
            [
                result_xml(
                    "query",
                    READ.controlid,
                    data=records_xml(
                        "CUSTOMER",
                        [{"RECORDNO": "1", "CUSTOMERID": "C<&>1", "TOTALDUE": "12.30"}],
                        totalcount=3,
                        numremaining=2,
                    ),
                )
            ]
        ),
        response_xml(
            [
                result_xml(
                    "query",
                    READ.controlid,
                    status="failure",
                    errors=[error_xml("BL01001973", "Another record", "dup [Support ID: x]")],
                )
            ]
        ),
        response_xml([], auth_status="failure", auth_errors=[error_xml("XL03000006", "Sign-in")]),
        control_failure_xml([error_xml("XL03000003", "malformed")]),
        SESSION,
    ]
    if REFERENCE_XML.is_dir():
        seeds += [p.read_bytes() for p in sorted(REFERENCE_XML.rglob("*.xml"))]
    return seeds


def client_answering(status: int, body: bytes) -> IntacctClient:
    def transport(url: str, request: bytes, timeouts: Timeouts) -> HttpResponse:
        if b"getAPISession" in request:
            return HttpResponse(200, SESSION)
        return HttpResponse(status, body)

    return IntacctClient(
        credentials(),
        transport=transport,
        retry=RetryPolicy(attempts=1, sleep=lambda _s: None),
        limiter=CompanyLimiter(2),
    )


STATUSES = [200, 400, 401, 429, 500, 503, 524]


def intacct_target(data: bytes) -> str:
    try:
        parsed = parse_response(data)
    except ResponseFormatError:
        label = "ResponseFormatError"
    else:
        # A parse is all text, dicts and lists (nothing the models could not read).
        assert isinstance(parsed.control_status, str)
        label = "parsed"
    # The client on the same body: mostly HTTP 200, sometimes another status the gateway uses
    # (derived from the input, so a crash replays).
    status = 200 if len(data) % 3 else STATUSES[sum(data[:64]) % len(STATUSES)]
    try:
        client_answering(status, data).execute([READ])
    except IntacctError as exc:
        return f"{label}/{type(exc).__name__}"
    return f"{label}/outcome"


def test_fuzz_the_intacct_response_parser_and_client() -> None:
    report = fuzz(
        intacct_target,
        intacct_seeds(),
        allowed=(),  # the target catches what is allowed itself
        tokens=XML_TOKENS,
        nest=(b"<a>", b"</a>"),
    )
    assert report.crashes == [], report.describe()
    assert report.runs > len(intacct_seeds())
    # The run reached both sides: bodies that parse and bodies that are refused.
    assert report.outcomes.get("parsed/outcome", 0) > 0, report.outcomes
    assert any(k.startswith("ResponseFormatError/") for k in report.outcomes), report.outcomes


# ------------------------------------------------------------------ webhooks


def webhook_seeds() -> list[bytes]:
    sample = json.loads((ROOT / "events" / "webhook_invoice_created.json").read_text(encoding="utf-8"))
    bodies = [sample["body"].encode("utf-8")]
    objects: list[tuple[str, dict[str, Any]]] = [
        ("customer.created", samples.customer()),
        ("invoice.updated", samples.invoice()),
        ("credit_note.created", samples.credit_note()),
        ("payment.created", samples.payment()),
        ("payment.deleted", samples.payment(status="voided")),
        ("subscription.created", {"id": "sub_1"}),
    ]
    bodies += [samples.body(samples.event(t, o, event_id=f"evt_{i}")) for i, (t, o) in enumerate(objects)]
    return bodies


def webhook_target(data: bytes) -> str:
    header = sign(data, SECRET) if data[:1] != b"x" else data[:80].decode("latin-1")
    outcome = verify(data, header, [SECRET])
    if isinstance(outcome, IgnoredEvent):
        return "ignored"
    assert isinstance(outcome, AcceptedEvent)
    # What the intake accepted, the push consumer must read as the same event.
    job = PushJob(
        tenant_id="t",
        event_id=outcome.event.id,
        event_type=outcome.event.type,
        customer_id="c",
        received_at=datetime.now(UTC),
        event_json=data.decode("utf-8"),
    )
    again = parse_event(job.event())
    assert again == outcome.event
    return "accepted"


def test_fuzz_the_webhook_verification() -> None:
    seeds = webhook_seeds()
    # A few seeds whose signature header is garbage (the target signs the rest).
    seeds += [b"x" + s for s in seeds[:2]]
    report = fuzz(
        webhook_target,
        seeds,
        allowed=(WebhookError,),
        tokens=JSON_TOKENS,
        nest=(b"[", b"]"),
    )
    assert report.crashes == [], report.describe()
    assert report.outcomes.get("accepted", 0) >= len(seeds) - 3, report.outcomes
    assert report.outcomes.get("MalformedPayload", 0) > 0, report.outcomes


# ------------------------------------------------------------------ regression cases

# Found by this fuzz run, fixed, kept. An XML declaration naming an encoding Python does not
# know raised LookupError out of parse_response (and so out of the client, a crash of the
# Lambda instead of a typed error).
UNKNOWN_ENCODING = b'<?xml version="1.0" encoding="UTF-999"?><response><control/></response>'
# A JSON number whose exponent Decimal cannot hold raised decimal.InvalidOperation out of the
# webhook's JSON parser (a 500 that Blixo would retry for days, instead of a 400).
HUGE_EXPONENT = (
    b'{"id":"evt_1","type":"invoice.created","createdAt":"2024-03-02T11:30:01Z",'
    b'"data":{"object":{"id":"inv_1","total":1.5e9999999999999999999}}}'
)


def test_an_unknown_encoding_is_a_response_format_error() -> None:
    with pytest.raises(ResponseFormatError) as caught:
        parse_response(UNKNOWN_ENCODING)
    assert str(caught.value) == "body is not XML (LookupError)"
    with pytest.raises(TransientError) as read_error:
        client_answering(200, UNKNOWN_ENCODING).execute([READ])
    assert read_error.value.message == "Intacct answered with an unusable body: body is not XML (LookupError)"
    assert intacct_target(UNKNOWN_ENCODING) == "ResponseFormatError/TransientError"


@pytest.mark.parametrize(
    "number", [b"1.5e9999999999999999999", b"1e-9999999999999999999", b"9" * 40 + b"e999999999999999999"]
)
def test_a_number_decimal_cannot_hold_is_a_malformed_payload(number: bytes) -> None:
    body = HUGE_EXPONENT.replace(b"1.5e9999999999999999999", number)
    with pytest.raises(MalformedPayload) as caught:
        verify(body, sign(body, SECRET), [SECRET])
    assert str(caught.value) == "body is not valid JSON: InvalidOperation"
    assert caught.value.status_code == 400


def test_a_blixo_answer_with_a_number_decimal_cannot_hold_is_a_protocol_error() -> None:
    """The same number in a Blixo API answer (the client parses money as Decimal too) raised
    InvalidOperation out of the client; it is the client's own ProtocolError."""
    body = b'{"data":{"id":"cus_1","balance":1.5e9999999999999999999}}'

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    client = BlixoClient(
        SecretStr("k"),
        f"http://127.0.0.1:{server.server_address[1]}/v1",
        backoff=Backoff.none(),
        sleep=lambda _s: None,
    )
    try:
        with pytest.raises(ProtocolError) as caught:
            client.request("GET", "customers/cus_1")
        assert caught.value.status_code == 200
        assert "response is not JSON" in str(caught.value)
    finally:
        client.close()
        server.shutdown()
        server.server_close()
