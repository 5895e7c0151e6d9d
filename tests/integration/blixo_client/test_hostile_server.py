"""The Blixo client against a local server that answers badly: a body cut short, bad gzip and
a gzip bomb each end as the client's own typed error, with nothing of the request (its API
key) attached, and a bomb is never decoded whole."""

from __future__ import annotations

import gzip
import threading
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bisync.blixo.client import Backoff, BlixoClient
from bisync.blixo.errors import BlixoConnectionError, BlixoError, ProtocolError

KEY = "sk_live_hostile_server_key_9f8e7d"
Reply = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def serve() -> Iterator[Callable[[Reply], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(reply: Reply) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply(self)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def client(url: str, max_response_bytes: int = 16 * 1024 * 1024) -> BlixoClient:
    return BlixoClient(
        KEY,
        url,
        max_retries=1,
        backoff=Backoff.none(),
        sleep=lambda _s: None,
        max_response_bytes=max_response_bytes,
    )


def assert_clean(error: BaseException) -> None:
    assert error.__cause__ is None
    assert error.__context__ is None
    text = "".join(traceback.format_exception(error)) + repr(error) + repr(vars(error))
    assert KEY not in text


def cut_short(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    h.wfile.write(b"20\r\n" + b'{"data": {"id": "cus_1", "na')  # a chunk of 32 bytes, 26 sent
    h.wfile.flush()
    h.close_connection = True


def bad_gzip(h: BaseHTTPRequestHandler) -> None:
    body = b"\x1f\x8b\x08\x00" + b"not really gzip" * 10
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Encoding", "gzip")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


BOMB = gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB of spaces, ~64 kB


def bomb(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Encoding", "gzip")
    h.send_header("Content-Length", str(len(BOMB)))
    h.end_headers()
    h.wfile.write(BOMB)


@pytest.mark.parametrize("reply", [cut_short, bad_gzip], ids=["cut-short", "bad-gzip"])
def test_an_unreadable_body_is_a_typed_connection_error(serve: Callable[[Reply], str], reply: Reply) -> None:
    with client(serve(reply)) as blixo, pytest.raises(BlixoConnectionError) as caught:
        blixo.customers.get("cus_1")
    assert "no usable response from Blixo" in str(caught.value)
    assert_clean(caught.value)


def test_a_gzip_bomb_is_refused_at_the_cap_not_decoded_whole(serve: Callable[[Reply], str]) -> None:
    assert len(BOMB) < 1024 * 1024
    with client(serve(bomb), max_response_bytes=1024 * 1024) as blixo, pytest.raises(ProtocolError) as caught:
        blixo.customers.get("cus_1")
    assert caught.value.message == "response exceeds 1048576 bytes (decoded); refused"
    assert isinstance(caught.value, BlixoError)
    assert_clean(caught.value)
