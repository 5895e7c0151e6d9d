"""The Blixo sandbox in-process on an ephemeral port, driven with plain `requests` over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from sandbox.blixo import SandboxHandle, start_server

KEY = "test-key-blixo"


class Api:
    """Thin helper: authenticated calls against the sandbox's /v1 and /_sandbox."""

    def __init__(self, handle: SandboxHandle) -> None:
        self.handle = handle
        self.session = requests.Session()
        self.session.auth = (handle.api_key, "")

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.handle.url + path, json=body, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        resp = self.call(method, path, body, **kwargs)
        assert resp.status_code in (200, 201), (resp.status_code, resp.text)
        data: dict[str, Any] = resp.json()["data"]
        return data

    def admin(self, method: str, name: str, body: Any = None) -> Any:
        resp = requests.request(method, f"{self.handle.admin_url}/{name}", json=body, timeout=30)
        assert resp.status_code == 200, (resp.status_code, resp.text)
        return resp.json()

    # builders
    def customer(self, **fields: Any) -> dict[str, Any]:
        return self.ok("POST", "/customers", {"name": "Acme Corp", **fields})

    def invoice(self, customer_id: str, *lines: tuple[Any, Any], **fields: Any) -> dict[str, Any]:
        items = [
            {"name": f"Line {i}", "quantity": q, "unitPrice": p}
            for i, (q, p) in enumerate(lines or [(1, "100.00")])
        ]
        return self.ok("POST", "/invoices", {"customerId": customer_id, "items": items, **fields})

    def payment(
        self, customer_id: str, amount: Any, *applied: dict[str, Any], **fields: Any
    ) -> dict[str, Any]:
        body = {"customerId": customer_id, "amount": amount, "appliedTo": list(applied), **fields}
        return self.ok("POST", "/payments", body)


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def money_json(resp: requests.Response) -> Any:
    """Parse keeping exact decimals (what a careful client does)."""
    return resp.json(parse_float=Decimal)


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    handle = start_server(port=0, api_key=KEY, webhook_retry_delays=[0.01, 0.02, 0.04])
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def api(sandbox: SandboxHandle) -> Api:
    return Api(sandbox)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """A real webhook endpoint: answers `fail_first` requests with `fail_status`, then 200."""

    url: str = ""
    fail_first: int = 0
    fail_status: int = 500
    redirect: bool = False
    delay_first: float = 0.0  # seconds the first request waits before answering
    hits: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[Received]:
        with self.lock:
            return [h for h in self.hits if h.status == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                n = len(state.hits)
                delay = state.delay_first if n == 0 else 0.0
                status = 302 if state.redirect else state.fail_status if n < state.fail_first else 200
                headers = {k.lower(): v for k, v in self.headers.items()}
                state.hits.append(Received(self.path, headers, body, status))
            time.sleep(delay)
            self.send_response(status)
            if state.redirect:
                self.send_header("Location", state.url + "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/blixo"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
