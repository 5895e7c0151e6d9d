"""The Intacct client against a local gateway that misbehaves on purpose: redirects, foreign
session endpoints, bodies cut short, bad gzip, a gzip bomb, deep nesting, a slow drip.

Every case must end in one of the client's own typed errors, with nothing sent where it must
not go and no secret (passwords, session id) anywhere in the error or its traceback."""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from bisync.intacct import Credentials, IntacctClient, RetryPolicy, Timeouts
from bisync.intacct import functions as fn
from bisync.intacct.errors import (
    IntacctError,
    OutcomeUnknownError,
    TransientError,
    UnsafeEndpointError,
)
from bisync.intacct.limiter import CompanyLimiter

SENDER_PW = "hostile-sender-PW-1"
USER_PW = "hostile-user-PW-2"
SESSION_ID = "hostile-SESSION-ID-3"
SECRETS = (SENDER_PW, USER_PW, SESSION_ID)

Reply = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class FakeGateway:
    """A scripted gateway: getAPISession is answered by `login`, anything else by `content`."""

    login: Reply
    content: Reply
    bodies: list[bytes] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/ia/xml/xmlgw.phtml"


def session_xml(endpoint: str) -> bytes:
    return (
        "<?xml version='1.0' encoding='UTF-8'?><response><control><status>success</status></control>"
        "<operation><authentication><status>success</status>"
        "<sessiontimeout>2099-01-01T00:00:00+00:00</sessiontimeout></authentication>"
        "<result><status>success</status><function>getAPISession</function><controlid>x</controlid>"
        f"<data><api><sessionid>{SESSION_ID}</sessionid><endpoint>{endpoint}</endpoint></api></data>"
        "</result></operation></response>"
    ).encode()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    if "Content_Length" not in headers:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def serve(gateway: FakeGateway) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            gateway.bodies.append(body)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                (gateway.login if b"<getAPISession" in body else gateway.content)(self)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    gateway.server = server
    return server


@pytest.fixture
def gateways() -> Iterator[Callable[[Reply, Reply], FakeGateway]]:
    started: list[ThreadingHTTPServer] = []

    def make(login: Reply, content: Reply) -> FakeGateway:
        gateway = FakeGateway(login, content)
        started.append(serve(gateway))
        return gateway

    yield make
    for server in started:
        server.shutdown()
        server.server_close()


def own_session(gateway_ref: list[FakeGateway]) -> Reply:
    return lambda h: send(h, 200, session_xml(gateway_ref[0].url))


def client_for(url: str, **timeouts: float | int) -> IntacctClient:
    creds = Credentials(
        sender_id="hostile",
        sender_password=SecretStr(SENDER_PW),
        company_id="HOSTILE",
        user_id="u",
        user_password=SecretStr(USER_PW),
        endpoint_url=url,
    )
    return IntacctClient(
        creds,
        retry=RetryPolicy(attempts=1, sleep=lambda _s: None),
        limiter=CompanyLimiter(2),
        timeouts=Timeouts(**timeouts),  # type: ignore[arg-type]
    )


def assert_clean(exc: BaseException) -> None:
    """The error is ours, carries no original exception and shows no secret anywhere."""
    assert isinstance(exc, IntacctError), type(exc)
    assert exc.__cause__ is None
    assert exc.__context__ is None
    shown = "".join(traceback.format_exception(exc)) + repr(exc) + str(vars(exc))
    for secret in SECRETS:
        assert secret not in shown


def with_self(make: Callable[[Reply, Reply], FakeGateway], content: Reply) -> FakeGateway:
    ref: list[FakeGateway] = []
    gateway = make(own_session(ref), content)
    ref.append(gateway)
    return gateway


def redirect_to(status: int, url: str) -> Reply:
    return lambda h: send(h, status, b"", Location=url)


def answer(body: bytes) -> Reply:
    return lambda h: send(h, 200, body)


READ = fn.query("CUSTOMER", ["CUSTOMERID"])


def write() -> fn.Function:
    return fn.create_customer(fn.CustomerInput(customer_id="H-1", name="Hostile"), controlid="h-1")


def test_a_redirect_is_never_followed(gateways: Callable[[Reply, Reply], FakeGateway]) -> None:
    elsewhere = gateways(lambda h: send(h, 200, b""), lambda h: send(h, 200, b""))
    for status in (301, 302, 303, 307, 308):
        gateway = gateways(redirect_to(status, elsewhere.url), lambda h: None)
        with pytest.raises(UnsafeEndpointError, match="redirect") as caught:
            client_for(gateway.url).execute([READ])
        assert_clean(caught.value)
    assert elsewhere.bodies == []  # nothing, least of all the passwords, reached the other host


def test_a_session_endpoint_on_another_host_receives_nothing(
    gateways: Callable[[Reply, Reply], FakeGateway],
) -> None:
    foreign = gateways(lambda h: send(h, 200, b""), lambda h: send(h, 200, b""))
    foreign_port = foreign.url.split(":")[2].split("/")[0]
    for endpoint in (
        foreign.url.replace("127.0.0.1", "localhost"),  # another host name
        f"http://127.0.0.1:{foreign_port}/ia/xml/xmlgw.phtml",  # same host, another port
        "ftp://127.0.0.1/x",
        "http://user:pw@127.0.0.1/x",
        "http://[::1",
    ):
        gateway = gateways(answer(session_xml(endpoint)), lambda h: None)
        with pytest.raises(UnsafeEndpointError) as caught:
            client_for(gateway.url).execute([READ])
        assert (
            "nothing is sent" in str(caught.value)
            or "not a valid URL" in str(caught.value)
            or ("scheme" in str(caught.value))
        )
        assert_clean(caught.value)
        assert len(gateway.bodies) == 1  # only the login went out, to the configured gateway
    assert foreign.bodies == []


def test_https_is_required_when_the_configured_gateway_is_https() -> None:
    from bisync.intacct.session import checked_endpoint

    creds = Credentials(
        sender_id="s",
        sender_password=SecretStr("x"),
        company_id="C",
        user_id="u",
        user_password=SecretStr("y"),
        endpoint_url="https://api.intacct.com/ia/xml/xmlgw.phtml",
        allowed_hosts=("api-eu.intacct.com",),
    )
    assert checked_endpoint("https://api.intacct.com/ia/xml/xmlgw.phtml", creds).startswith("https://")
    assert checked_endpoint("https://API-EU.intacct.com/ia/xml/xmlgw.phtml", creds)
    with pytest.raises(UnsafeEndpointError, match="scheme"):
        checked_endpoint("http://api.intacct.com/ia/xml/xmlgw.phtml", creds)
    with pytest.raises(UnsafeEndpointError, match="host"):
        checked_endpoint("https://api.intacct.com.evil.test/ia/xml/xmlgw.phtml", creds)
    # The configured host and port exactly, with userinfo: refused for the userinfo alone.
    for userinfo in ("user:pw@", "user@", ":@", "api.intacct.com@"):
        with pytest.raises(UnsafeEndpointError, match="host"):
            checked_endpoint(f"https://{userinfo}api.intacct.com:443/ia/xml/xmlgw.phtml", creds)
    assert checked_endpoint("https://api.intacct.com:443/ia/xml/xmlgw.phtml", creds)


def cut_short(h: BaseHTTPRequestHandler) -> None:
    send(h, 200, b"<response><control><status>succ", Content_Length="5000")
    h.close_connection = True


def bad_gzip(h: BaseHTTPRequestHandler) -> None:
    send(h, 200, b"\x1f\x8b\x08\x00not really gzip at all", Content_Encoding="gzip")


def bad_deflate(h: BaseHTTPRequestHandler) -> None:
    send(h, 200, b"\x78\x9c garbage", Content_Encoding="deflate")


def bad_chunked(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    h.wfile.write(b"zz\r\n<response>\r\n")
    h.close_connection = True


@pytest.mark.parametrize("reply", [cut_short, bad_gzip, bad_deflate, bad_chunked])
def test_a_broken_body_is_a_typed_error_transient_for_reads_unknown_for_writes(
    gateways: Callable[[Reply, Reply], FakeGateway], reply: Reply
) -> None:
    gateway = with_self(gateways, reply)
    client = client_for(gateway.url)
    with pytest.raises(TransientError) as read_error:
        client.execute([READ])
    assert not isinstance(read_error.value, OutcomeUnknownError)
    assert_clean(read_error.value)
    with pytest.raises(OutcomeUnknownError) as write_error:
        client.execute([write()])
    assert_clean(write_error.value)


def test_a_gzip_bomb_stops_at_the_response_cap(gateways: Callable[[Reply, Reply], FakeGateway]) -> None:
    # 200 MB of zeros inflate from about 200 kB; the client must stop at its 4 MB cap.
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(packer.compress(b"\0" * (1 << 20)) for _ in range(200)) + packer.flush()
    gateway = with_self(gateways, lambda h: send(h, 200, bomb, Content_Encoding="gzip"))
    with pytest.raises(TransientError, match="exceeds 4194304 bytes") as caught:
        client_for(gateway.url, max_response_bytes=4 << 20).execute([READ])
    assert_clean(caught.value)


def test_a_declared_oversize_body_is_refused_before_reading(
    gateways: Callable[[Reply, Reply], FakeGateway],
) -> None:
    gateway = with_self(gateways, lambda h: send(h, 200, b"x" * 2048))
    with pytest.raises(OutcomeUnknownError, match="exceeds 1024 bytes"):
        client_for(gateway.url, max_response_bytes=1024).execute([write()])


def test_a_plain_body_under_the_cap_still_parses_gzipped(
    gateways: Callable[[Reply, Reply], FakeGateway],
) -> None:
    answer = (
        "<response><control><status>success</status></control><operation>"
        "<authentication><status>success</status></authentication><result><status>success</status>"
        f"<function>query</function><controlid>{READ.controlid}</controlid>"
        '<data listtype="CUSTOMER" count="1" totalcount="1" numremaining="0">'
        "<CUSTOMER><RECORDNO>7</RECORDNO><CUSTOMERID>OK-1</CUSTOMERID></CUSTOMER></data></result>"
        "</operation></response>"
    ).encode()
    gateway = with_self(gateways, lambda h: send(h, 200, gzip.compress(answer), Content_Encoding="gzip"))
    [outcome] = client_for(gateway.url).execute([READ])
    assert outcome.records == ({"RECORDNO": "7", "CUSTOMERID": "OK-1"},)


def test_deep_nesting_is_a_response_format_error(gateways: Callable[[Reply, Reply], FakeGateway]) -> None:
    depth = 100_000
    deep = (
        "<response><control><status>success</status></control><operation>"
        "<authentication><status>success</status></authentication><result><status>success</status>"
        f"<function>query</function><controlid>{READ.controlid}</controlid><data>"
        + "<a>" * depth
        + "</a>" * depth
        + "</data></result></operation></response>"
    ).encode()
    gateway = with_self(gateways, lambda h: send(h, 200, deep))
    with pytest.raises(TransientError, match=r"not XML|nested deeper") as caught:
        client_for(gateway.url).execute([READ])
    assert_clean(caught.value)
    gateway_w = with_self(gateways, lambda h: send(h, 200, deep))
    with pytest.raises(OutcomeUnknownError):
        client_for(gateway_w.url).execute([write()])


def test_headers_dripped_a_byte_at_a_time_hit_the_overall_deadline(
    gateways: Callable[[Reply, Reply], FakeGateway],
) -> None:
    stop = threading.Event()

    def drip_headers(h: BaseHTTPRequestHandler) -> None:
        # The status line, then one header line that never ends: every read is quick.
        h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        h.wfile.flush()
        while not stop.is_set():
            h.wfile.write(b"a")
            h.wfile.flush()
            time.sleep(0.05)

    gateway = with_self(gateways, drip_headers)
    started = time.monotonic()
    try:
        with pytest.raises(TransientError, match="deadline") as caught:
            client_for(gateway.url, read=5, total=0.6).execute([READ])
    finally:
        stop.set()
    assert time.monotonic() - started < 3  # the deadline, not the 5 s read timeout nor forever
    assert_clean(caught.value)


def test_a_body_of_tiny_elements_under_the_byte_cap_is_refused_while_parsing(
    gateways: Callable[[Reply, Reply], FakeGateway],
) -> None:
    body = (
        "<response><control><status>success</status></control><operation>"
        "<authentication><status>success</status></authentication><result><status>success</status>"
        f"<function>query</function><controlid>{READ.controlid}</controlid><data>"
        + "<a/>" * 2_000_000
        + "</data></result></operation></response>"
    ).encode()
    gateway = with_self(gateways, lambda h: send(h, 200, body))
    with pytest.raises(TransientError, match="more than 500000 elements") as caught:
        client_for(gateway.url).execute([READ])
    assert_clean(caught.value)


def test_a_slow_drip_hits_the_overall_deadline(gateways: Callable[[Reply, Reply], FakeGateway]) -> None:
    stop = threading.Event()

    def drip(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        while not stop.is_set():  # one byte every 50 ms: each read is quick, the whole never ends
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.05)

    gateway = with_self(gateways, drip)
    started = time.monotonic()
    try:
        with pytest.raises(TransientError, match="deadline") as caught:
            client_for(gateway.url, read=5, total=0.6).execute([READ])
    finally:
        stop.set()
    assert time.monotonic() - started < 4  # the deadline, not the 5 s read timeout nor forever
    assert_clean(caught.value)
