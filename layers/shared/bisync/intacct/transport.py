"""HTTP transport: a pooled requests.Session by default, any callable in tests.

A transport takes (url, body, timeouts) and returns an HttpResponse. It never follows a
redirect, never holds more than `Timeouts.max_response_bytes` of decoded body, and gives up
at an overall deadline. Every failure leaves it as a `TransportFailure` that says whether the
request can have reached Intacct and carries nothing of the request (the body holds the
sender password and the session id).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import requests
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from bisync.endpoints import INTACCT_GATEWAY_URL

DEFAULT_ENDPOINT = INTACCT_GATEWAY_URL

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    # Longest wait for any one read (headers included).
    read: float = 300.0
    # The whole request, connect to last byte. The gateway allows 15 minutes for a
    # synchronous request; a Lambda passes less (what its own timeout leaves).
    total: float = 900.0
    # Decoded body cap: a gzip bomb or a runaway answer stops here, well under the 512 MB
    # the functions have (the largest real page, 2000 rows, is a few MB).
    max_response_bytes: int = 32 * 1024 * 1024

    def __post_init__(self) -> None:
        if min(self.connect, self.read, self.total) <= 0 or self.max_response_bytes <= 0:
            raise ValueError("timeouts and the response cap must be positive")


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


Transport = Callable[[str, bytes, Timeouts], HttpResponse]


class FailureStage(StrEnum):
    NOT_SENT = "not_sent"  # nothing reached the server (connect failed)
    IN_FLIGHT = "in_flight"  # sent, the answer was lost or refused: it may have run


class TransportFailure(Exception):
    """A request that got no usable answer. The message is ours; no request is attached."""

    def __init__(self, message: str, stage: FailureStage) -> None:
        super().__init__(message)
        self.message = message
        self.stage = stage


# ---------------------------------------------------------------- the overall deadline
# A per-read timeout does not bound a server that drips a byte at a time (headers included).
# Each request gets a watch: the connection that carries it reports its socket, and a timer
# shuts that socket down at the deadline, which ends whatever read is waiting.
_current = threading.local()


class _Watch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.expired = False

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                _shut(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            _shut(self._sock)


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


class _WatchedMixin:
    sock: socket.socket | None

    def request(self, *args: object, **kwargs: object) -> None:
        watch: _Watch | None = getattr(_current, "watch", None)
        if watch is not None and self.sock is not None:
            watch.attach(self.sock)  # a pooled connection, reused
        super().request(*args, **kwargs)  # type: ignore[misc]
        if watch is not None:
            watch.attach(self.sock)  # connected now, if it was new


class _WatchedHTTPConnection(_WatchedMixin, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedMixin, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def pooled_session(pool_size: int = 10) -> requests.Session:
    session = requests.Session()
    adapter = _WatchedAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class RequestsTransport:
    """POST the XML with a (pooled) requests.Session; retries are the client's job."""

    def __init__(self, session: requests.Session | None = None, clock: Callable[[], float] = time.monotonic):
        self.session = session or pooled_session()
        self._clock = clock

    def __call__(self, url: str, body: bytes, timeouts: Timeouts) -> HttpResponse:
        failure: TransportFailure | None = None
        watch = _Watch()
        timer = threading.Timer(timeouts.total, watch.expire)
        timer.daemon = True
        _current.watch = watch
        timer.start()
        try:
            return self._post(url, body, timeouts)
        except Exception as exc:
            failure = _deadline_passed(timeouts) if watch.expired else failure_of(exc)
            if failure is None:
                raise
        finally:
            timer.cancel()
            _current.watch = None
        # Raised outside the except block, so neither __cause__ nor __context__ holds the
        # original exception (whose .request.body carries the passwords).
        raise failure

    def _post(self, url: str, body: bytes, timeouts: Timeouts) -> HttpResponse:
        started = self._clock()
        read_timeout = min(timeouts.read, timeouts.total)
        resp = self.session.post(
            url,
            data=body,
            headers={
                "Content-Type": "application/xml; charset=utf-8",
                "Accept": "application/xml",
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=(min(timeouts.connect, timeouts.total), read_timeout),
            allow_redirects=False,
            stream=True,
        )
        try:
            if 300 <= resp.status_code < 400:
                # Never followed: a redirect would re-send the credentials, maybe elsewhere.
                return HttpResponse(resp.status_code, b"", {})
            declared = resp.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > timeouts.max_response_bytes:
                raise _too_large(timeouts)
            chunks: list[bytes] = []
            size = 0
            raw = resp.raw
            while True:
                if self._clock() - started > timeouts.total:
                    raise _deadline_passed(timeouts)
                # read1: at most one socket read, decoded in bounded steps (urllib3 caps how
                # much one compressed chunk may inflate), so both checks run often.
                chunk = raw.read1(_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > timeouts.max_response_bytes:
                    raise _too_large(timeouts)
                chunks.append(chunk)
            return HttpResponse(resp.status_code, b"".join(chunks), dict(resp.headers))
        finally:
            resp.close()

    def __repr__(self) -> str:
        return "RequestsTransport()"


def failure_of(exc: BaseException) -> TransportFailure | None:
    """The TransportFailure an exception of a transport stands for (None: not a transport
    failure, a bug to let through). Only the type name is kept, never the exception."""
    if isinstance(exc, TransportFailure):
        return exc
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TransportFailure("could not connect to Intacct (timeout)", FailureStage.NOT_SENT)
    if isinstance(exc, requests.exceptions.Timeout | TimeoutError | urllib3.exceptions.TimeoutError):
        return TransportFailure("no response from Intacct (timeout)", FailureStage.IN_FLIGHT)
    if isinstance(exc, requests.exceptions.ConnectionError):
        stage = _stage_of_connection_error(exc)
        return TransportFailure(f"connection to Intacct failed ({type(exc).__name__})", stage)
    if isinstance(exc, ConnectionRefusedError):
        return TransportFailure("connection to Intacct refused", FailureStage.NOT_SENT)
    if isinstance(exc, ConnectionError):
        return TransportFailure(
            f"connection to Intacct failed ({type(exc).__name__})", FailureStage.IN_FLIGHT
        )
    if isinstance(
        exc,
        requests.exceptions.RequestException
        | urllib3.exceptions.HTTPError
        | http.client.HTTPException
        | OSError
        | UnicodeError,
    ):
        # ChunkedEncodingError (a body cut short), ContentDecodingError (bad gzip),
        # TooManyRedirects, InvalidURL, a socket error mid-read...
        return TransportFailure(
            f"Intacct's answer could not be read ({type(exc).__name__})", FailureStage.IN_FLIGHT
        )
    return None


def _deadline_passed(timeouts: Timeouts) -> TransportFailure:
    return TransportFailure(
        f"Intacct's answer took longer than the {timeouts.total:g} s deadline", FailureStage.IN_FLIGHT
    )


def _too_large(timeouts: Timeouts) -> TransportFailure:
    return TransportFailure(
        f"Intacct's answer exceeds {timeouts.max_response_bytes} bytes (decoded); refused",
        FailureStage.IN_FLIGHT,
    )


def _stage_of_connection_error(exc: requests.exceptions.ConnectionError) -> FailureStage:
    # A refused or unresolvable connection never carried the request; a reset may have.
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    if isinstance(inner, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError):
        return FailureStage.NOT_SENT
    if isinstance(inner, ConnectionRefusedError):
        return FailureStage.NOT_SENT
    return FailureStage.IN_FLIGHT


def as_transport(value: Transport | requests.Session | None) -> Transport:
    if value is None:
        return RequestsTransport()
    if isinstance(value, requests.Session):
        return RequestsTransport(value)
    return value
