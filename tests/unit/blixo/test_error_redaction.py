"""Error details a Blixo server sends back never carry the API key into our exceptions."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import responses
from pydantic import SecretStr

from bisync.blixo.client import Backoff, BlixoClient
from bisync.blixo.errors import BlixoError
from bisync.redaction import REDACTED, redact

BASE = "https://blixo.test/v1/"
KEY = "blixo-sandbox-key-Zq81Lw"


@pytest.fixture
def client() -> Iterator[BlixoClient]:
    with BlixoClient(SecretStr(KEY), BASE, max_retries=0, backoff=Backoff.none(), sleep=lambda _s: None) as c:
        yield c


ECHOES = [
    f"Invalid API key {KEY}",
    f"Invalid API key {KEY[:8]}...",  # part of the key
    f"key ending in ...{KEY[-7:]} is revoked",
    f"Authorization: Basic {base64.b64encode(f'{KEY}:'.encode()).decode()} refused",
    "Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature is not valid",
    "api_key=sk_live_51Habc123DEF456ghi789 unknown",
]


@pytest.mark.parametrize("text", ECHOES)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
@pytest.mark.parametrize("as_json", [True, False])
def test_a_server_echo_of_the_key_is_redacted(
    client: BlixoClient, text: str, status: int, as_json: bool
) -> None:
    with responses.RequestsMock() as rsps:
        if as_json:
            rsps.get(BASE + "customers/c1", json={"message": text, "param": text}, status=status)
        else:
            rsps.get(BASE + "customers/c1", body=text, status=status)
        with pytest.raises(BlixoError) as caught:
            client.customers.get("c1")
    shown = f"{caught.value} {caught.value!r} {caught.value.message} {caught.value.param}"
    assert REDACTED in shown
    for fragment in (KEY, KEY[:8], KEY[-7:], "eyJhbGciOiJIUzI1NiJ9", "sk_live_51Habc123DEF456ghi789"):
        assert fragment not in shown
    assert base64.b64encode(f"{KEY}:".encode()).decode() not in shown


def test_plain_messages_are_kept() -> None:
    message = "customerNo must be unique (param: customerNo)"
    assert redact(message, [KEY]) == message
    assert redact("Invoice INV-1001 is already paid", [KEY]) == "Invoice INV-1001 is already paid"


def test_short_secrets_are_still_found_whole() -> None:
    assert redact("the key abc12 is wrong", ["abc12"]) == f"the key {REDACTED} is wrong"
