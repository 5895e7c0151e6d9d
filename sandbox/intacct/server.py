"""HTTP front: the gateway endpoint, per-company limits, fault injection and admin endpoints."""

from __future__ import annotations

import json
import random
import re
import socket
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from sandbox.intacct import permissions as perm
from sandbox.intacct import reads
from sandbox.intacct.bulk import seed_records
from sandbox.intacct.gateway import Gateway, Outcome, http_error
from sandbox.intacct.seed import COMPANY_ID, USER_ID, load_defaults
from sandbox.intacct.store import Store
from sandbox.intacct.values import now_ts

GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
# Once a request has started, a client silent this long (a body shorter than its Content-Length,
# headers cut off) gets a 400 or a closed connection instead of holding a thread forever.
READ_TIMEOUT_SECONDS = 5.0
# Far above any real request (100 functions of invoices is ~100 KB); a bigger Content-Length is a
# 413 instead of an attempt to allocate it.
MAX_BODY_BYTES = 32 << 20
# ASCII digits only (str.isdigit() passes '²', which int() refuses).
_LENGTH_RE = re.compile(r"[0-9]{1,18}")

_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad gateway</title></head><body>"
    b"<h1>Bad gateway</h1><p>Cloudflare Ray ID: sandbox</p></body></html>"
)


@dataclass
class Faults:
    """Per-company fault injection; rates are probabilities in [0, 1] drawn from a seeded RNG."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_5xx: float = 0.0
    rate_524: float = 0.0
    rate_429: float = 0.0
    rate_html: float = 0.0
    html_status: int = 200
    rate_lost_response: float = 0.0
    lost_response_mode: str = "close"  # "close" (drop the connection) or "524"
    # One-shot faults, on top of the rates: the next N requests answer 429 / a 5xx, and the
    # next N committed writes lose their response. A short run can be sure to meet each kind.
    force_429: int = 0
    force_5xx: int = 0
    force_lost_response: int = 0
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("rng", None)
        return data


@dataclass
class Counters:
    requests: int = 0
    transactions: int = 0
    functions: int = 0
    rate_limited: int = 0
    faults_injected: int = 0  # every fault answered before anything ran: the four below
    injected_429: int = 0
    injected_5xx: int = 0
    injected_524: int = 0
    injected_html: int = 0
    lost_responses: int = 0
    logins: int = 0  # requests that logged in (each one opens a session)
    # Requests refused because their session had expired (they count nowhere else).
    expired_session_refusals: int = 0
    # The most requests this company ever had holding a concurrency slot at once (admitted only).
    in_flight_max: int = 0
    # The same high-water mark counting the arriving request even when it was refused with 429:
    # with limit 2, a third request arriving while two run makes it 3.
    in_flight_peak_attempted: int = 0


COMPANY_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


class Sandbox:
    """All state of one running sandbox: the store, the gateway, limits, faults and counters."""

    def __init__(self, db: str = ":memory:") -> None:
        self.store = Store(db)
        self.gateway = Gateway(self.store)
        self.lock = threading.Lock()
        self.faults: dict[str, Faults] = {}
        self.counters: dict[str, Counters] = {}
        self.in_flight: dict[str, int] = {}
        with self.store.lock:
            if not self.store.companies():
                load_defaults(self.store)

    def reset(self) -> None:
        with self.store.lock:
            self.store.wipe()
            load_defaults(self.store)
        reads.RESULTS.clear()
        with self.lock:
            self.faults.clear()
            self.counters.clear()

    def add_company(self, company: object) -> dict[str, Any]:
        """A second (third...) company with the default reference data, e.g. for a run whose
        faults and counters must not touch other tenants'. An existing company is kept as is."""
        if not isinstance(company, str) or not COMPANY_NAME.fullmatch(company):
            raise ValueError("company must be 1-40 letters, digits, '-' or '_'")
        with self.store.lock:
            created = self.store.settings(company) is None
            if created:
                load_defaults(self.store, company)
        return {"company": company, "created": created}

    def permissions(self, company: str = COMPANY_ID) -> dict[str, Any]:
        """The company's permission state: `{"company", "user", "deny", "unsubscribed"}`."""
        with self.store.lock:
            settings = self._settings(company)
        return {"company": company, **perm.state_of(settings, USER_ID)}

    def set_permissions(
        self,
        company: str = COMPANY_ID,
        *,
        user: str = USER_ID,
        deny: list[str] | None = None,
        unsubscribed: list[str] | None = None,
    ) -> dict[str, Any]:
        """Replace the company's permission state (no arguments: everything permitted again)."""
        return self.put_permissions(
            company, {"user": user, "deny": deny or [], "unsubscribed": unsubscribed or []}
        )

    def put_permissions(self, company: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Replace the company's permission state from an admin body; ValueError if it is bad."""
        with self.store.lock:
            settings = self._settings(company)
            state = perm.parse_state(payload, list(settings.get("users", {})), USER_ID)
            if state["deny"] or state["unsubscribed"]:
                settings["permissions"] = state
            else:
                settings.pop("permissions", None)  # the default: no trace in the settings
            self.store.put_settings(company, settings)
        return {"company": company, **perm.state_of(settings, USER_ID)}

    def _settings(self, company: str) -> dict[str, Any]:
        settings = self.store.settings(company)
        if settings is None:
            raise ValueError(f"unknown company {company}")
        return settings

    def counter(self, company: str) -> Counters:
        return self.counters.setdefault(company, Counters())

    def fault(self, company: str) -> Faults:
        return self.faults.setdefault(company, Faults())

    def limit(self, company: str) -> int:
        with self.store.lock:
            settings = self.store.settings(company) or {}
        return int(settings.get("concurrency_limit", 2))

    def acquire(self, company: str) -> bool:
        limit = self.limit(company)
        with self.lock:
            counter = self.counter(company)
            running = self.in_flight.get(company, 0)
            counter.in_flight_peak_attempted = max(counter.in_flight_peak_attempted, running + 1)
            if running >= limit:
                counter.rate_limited += 1
                return False
            self.in_flight[company] = running + 1
            counter.in_flight_max = max(counter.in_flight_max, running + 1)
            return True

    def release(self, company: str) -> None:
        with self.lock:
            self.in_flight[company] = max(0, self.in_flight.get(company, 0) - 1)


class _Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY each reply waits ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: tests and `make up` logs stay readable

    def handle_one_request(self) -> None:
        # An idle keep-alive connection may wait for its next request as long as the client
        # likes; once a request's first byte is in, every read of it is bounded by read_timeout
        # (the base class answers a timeout in the request line or headers by closing).
        self.connection.settimeout(None)
        try:
            started = self.rfile.peek(1)  # type: ignore[attr-defined]  # a BufferedReader
        except OSError:
            started = b""
        if not started:
            self.close_connection = True
            return
        self.connection.settimeout(self.server.read_timeout)
        super().handle_one_request()

    # -- plumbing ---------------------------------------------------------------------------------
    def _send(
        self, status: int, body: bytes, content_type: str = "text/xml; charset=UTF-8", *, close: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, indent=1).encode(), "application/json")

    def _refuse(self, status: int, text: str, description: str) -> None:
        # The connection is closed: what is left of the request cannot be told from the next one.
        out = http_error(status, "GW-0011", text, description)
        self._send(out.status, out.body, close=True)

    def _read_body(self, length: int) -> bytes:
        """Up to `length` bytes; fewer if the client stops sending (read timeout) or closes."""
        chunks: list[bytes] = []
        remaining = length
        try:
            while remaining > 0:
                chunk = self.rfile.read1(remaining)
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)

    def _body(self) -> bytes | None:
        """The request body, or None when the request was answered already (bad framing)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._refuse(411, "Invalid request: send the body with a Content-Length.", "Length required")
            return None
        length_text = (self.headers.get("Content-Length") or "0").strip()
        if not _LENGTH_RE.fullmatch(length_text):
            self._refuse(400, "Invalid request: invalid Content-Length.", "Bad request")
            return None
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            self._refuse(
                413, f"Invalid request: the request body is over {MAX_BODY_BYTES} bytes.", "Too large"
            )
            return None
        body = self._read_body(length)
        if len(body) < length:
            # The client sent less than its Content-Length and then nothing for read_timeout
            # seconds (or closed its side): what it sent cannot be a whole request.
            self._refuse(
                400,
                f"Invalid request: the request body is shorter than its Content-Length "
                f"({len(body)} of {length} bytes).",
                "Bad request",
            )
            return None
        return body

    # -- routes ----------------------------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == GATEWAY_PATH:
            out = http_error(405, "GW-0011", "Invalid request: use POST.", "Method not allowed")
            self._send(out.status, out.body)
            return
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        sb = self.server.sandbox
        if url.path == "/_sandbox/counters":
            with sb.lock:
                data = {c: asdict(v) for c, v in sb.counters.items() if c == query.get("company", c)}
            self._json(200, data)
        elif url.path == "/_sandbox/dump":
            with sb.store.lock:
                dump = sb.store.dump(query.get("company"), query.get("object"))
            self._json(200, dump)
        elif url.path == "/_sandbox/faults":
            with sb.lock:
                self._json(200, {c: f.public() for c, f in sb.faults.items()})
        elif url.path == "/_sandbox/permissions":
            try:
                self._json(200, sb.permissions(query.get("company", COMPANY_ID)))
            except ValueError as exc:
                self._json(400, {"error": str(exc)})
        elif url.path == "/_sandbox/companies":
            with sb.store.lock:
                self._json(200, {"companies": sb.store.companies()})
        elif url.path in ("/", "/_sandbox/health"):
            self._json(200, {"ok": True, "gateway": GATEWAY_PATH})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        url = urlparse(self.path)
        body = self._body()
        if body is None:
            return
        if url.path == GATEWAY_PATH:
            try:
                self._gateway(body)
            except Exception as exc:  # noqa: BLE001 - answer, never drop the connection
                traceback.print_exc(file=sys.stderr)
                out = http_error(
                    500, "GW-0500", f"Sandbox bug: {type(exc).__name__}: {exc}", "Internal error"
                )
                self._send(out.status, out.body, close=True)
            return
        try:
            payload = json.loads(body or b"{}")
        except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, 100k nested brackets
            self._json(400, {"error": "body must be JSON"})
            return
        if not isinstance(payload, dict):
            self._json(400, {"error": "body must be a JSON object"})
            return
        try:
            self._admin(url.path, payload)
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            self._json(400, {"error": str(exc)})

    def _admin(self, path: str, payload: dict[str, Any]) -> None:
        sb = self.server.sandbox
        named = payload.get("company")
        company = str(payload.pop("company", COMPANY_ID))
        if path == "/_sandbox/companies":
            if payload:
                raise ValueError(f"unknown setting {next(iter(payload))}")
            self._json(200, sb.add_company(named))
        elif path == "/_sandbox/faults":
            with sb.lock:
                current = sb.fault(company)
                if payload.pop("clear", False):
                    current = sb.faults[company] = Faults()
                for key, value in payload.items():
                    if key not in Faults.__dataclass_fields__ or key == "rng":
                        raise ValueError(f"unknown fault setting {key}")
                    setattr(current, key, value)
                if "seed" in payload or "clear" in payload:
                    # Only a new seed restarts the draws: changing a rate mid-run keeps them going.
                    current.rng = random.Random(current.seed)
                self._json(200, current.public())
        elif path == "/_sandbox/expire-sessions":
            with sb.store.lock:
                n = sb.store.expire_sessions(None if payload.get("all") else company, time.time())
            self._json(200, {"expired": n})
        elif path == "/_sandbox/reset":
            sb.reset()
            self._json(200, {"reset": True})
        elif path == "/_sandbox/config":
            with sb.store.lock:
                settings = sb.store.settings(company)
                if settings is None:
                    raise ValueError(f"unknown company {company}")
                for key, value in payload.items():
                    if key not in settings or key in ("users", "senders", "permissions"):
                        raise ValueError(f"unknown setting {key}")
                    settings[key] = value
                sb.store.put_settings(company, settings)
            shown = {k: v for k, v in settings.items() if k != "permissions"}  # see /_sandbox/permissions
            self._json(200, shown | {"users": sorted(settings["users"])})
        elif path == "/_sandbox/permissions":
            self._json(200, sb.put_permissions(company, payload))
        elif path == "/_sandbox/seed":
            with sb.store.lock:
                counts = seed_records(sb.store, company, payload)
            self._json(200, counts)
        else:
            self._json(404, {"error": "not found"})

    # -- the gateway -------------------------------------------------------------------------------
    def _gateway(self, body: bytes) -> None:
        sb = self.server.sandbox
        parsed = sb.gateway.parse(body)
        if isinstance(parsed, Outcome):
            self._send(parsed.status, parsed.body)
            return
        if parsed.company is None:
            # Whose request it is cannot be known (unknown company, bad session, no
            # authentication): it fails before any function runs, so it is answered without
            # touching any company's counters, concurrency slots or faults.
            endpoint = f"http://{self.headers.get('Host') or self.server.host_port}{GATEWAY_PATH}"
            out = sb.gateway.execute(parsed, endpoint)
            if parsed.stale_session_of is not None:
                with sb.lock:
                    sb.counter(parsed.stale_session_of).expired_session_refusals += 1
            self._send(out.status, out.body)
            return
        company = parsed.company
        with sb.lock:
            sb.counter(company).requests += 1
            faults = sb.fault(company)
            draws = [faults.rng.random() for _ in range(5)]
            jitter = faults.rng.random() * faults.jitter_ms
        if not sb.acquire(company):
            out = http_error(
                429,
                "GW-0010",
                "Rate limit exceeded: too many concurrent requests for this company "
                "(concurrent request in process). Retry later.",
                "Too many requests",
            )
            self._send(out.status, out.body)
            return
        reply: tuple[int, bytes, str] | None = None
        try:
            delay = (faults.latency_ms + jitter) / 1000.0
            if delay > 0:
                time.sleep(delay)
            reply = self._pre_fault(company, faults, draws)
            if reply is None:
                endpoint = f"http://{self.headers.get('Host') or self.server.host_port}{GATEWAY_PATH}"
                out = sb.gateway.execute(parsed, endpoint)
                with sb.lock:
                    counter = sb.counter(company)
                    counter.transactions += out.transactions
                    counter.functions += len(parsed.root.findall("operation/content/function"))
                    counter.logins += int(out.login)
                    by_rate = draws[4] < faults.rate_lost_response
                    lose = out.wrote and (by_rate or faults.force_lost_response > 0)
                    if lose and not by_rate:
                        faults.force_lost_response -= 1
                if not lose:
                    reply = (out.status, out.body, "text/xml; charset=UTF-8")
        finally:
            # The slot is freed before the reply leaves: a caller that has the reply may send its
            # next request at once, and that one must not find this one still counted.
            sb.release(company)
        if reply is None:
            self._lose_response(company, faults)
        else:
            self._send(*reply)

    def _pre_fault(self, company: str, faults: Faults, draws: list[float]) -> tuple[int, bytes, str] | None:
        """Faults that answer before anything runs (nothing is committed): the reply to send."""
        status: int | None = None
        body = b""
        kind = ""
        with self.server.sandbox.lock:
            forced = "429" if faults.force_429 > 0 else "5xx" if faults.force_5xx > 0 else ""
            if forced == "429":
                faults.force_429 -= 1
            elif forced == "5xx":
                faults.force_5xx -= 1
        if forced == "429" or (not forced and draws[0] < faults.rate_429):
            out = http_error(429, "GW-0010", "API rate limit exceeded", "Too many requests")
            status, body, kind = out.status, out.body, "429"
        elif forced == "5xx" or draws[1] < faults.rate_5xx:
            status, kind = (500, 502, 503)[int(draws[1] * 1000) % 3], "5xx"
        elif draws[2] < faults.rate_524:
            status, kind = 524, "524"
        elif draws[3] < faults.rate_html:
            status, body, kind = faults.html_status, _HTML_PAGE, "html"
        if status is None:
            return None
        with self.server.sandbox.lock:
            counter = self.server.sandbox.counter(company)
            counter.faults_injected += 1
            setattr(counter, f"injected_{kind}", getattr(counter, f"injected_{kind}") + 1)
        return status, body, "text/html" if body == _HTML_PAGE else "text/xml; charset=UTF-8"

    def _lose_response(self, company: str, faults: Faults) -> None:
        """The write is committed but the caller never learns it."""
        with self.server.sandbox.lock:
            self.server.sandbox.counter(company).lost_responses += 1
        if faults.lost_response_mode == "524":
            self._send(524, b"")
            return
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(2)
        except OSError:
            pass


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], sandbox: Sandbox, read_timeout: float = READ_TIMEOUT_SECONDS
    ) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox
        self.read_timeout = read_timeout
        self.host_port = f"{address[0]}:{self.server_address[1]}"


def started_at() -> str:
    return now_ts()
