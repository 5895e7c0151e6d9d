"""XML values against the Intacct sandbox: a character XML 1.0 cannot carry is refused with an
error naming the field (nothing altered, nothing sent), and carriage returns survive."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bisync.intacct import Credentials, IntacctClient, OutcomeStatus, RetryPolicy
from bisync.intacct import functions as fn
from bisync.intacct.errors import BusinessError, InvalidValueError
from bisync.intacct.limiter import CompanyLimiter
from bisync.intacct.xml import XmlValueError, build_request, check_text
from sandbox.intacct import (
    COMPANY_ID,
    SENDER_ID,
    SENDER_PASSWORD,
    USER_ID,
    USER_PASSWORD,
    SandboxHandle,
    start_server,
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    handle = start_server(port=0)
    yield handle
    handle.stop()


@pytest.fixture
def client(sandbox: SandboxHandle) -> IntacctClient:
    sandbox.sandbox.reset()
    creds = Credentials(
        sender_id=SENDER_ID,
        sender_password=SecretStr(SENDER_PASSWORD),
        company_id=COMPANY_ID,
        user_id=USER_ID,
        user_password=SecretStr(USER_PASSWORD),
        endpoint_url=sandbox.gateway_url,
    )
    return IntacctClient(
        creds, retry=RetryPolicy(attempts=2, sleep=lambda _s: None), limiter=CompanyLimiter(2)
    )


def names(client: IntacctClient) -> dict[str, str]:
    return {r["CUSTOMERID"]: r["NAME"] for r in client.query("CUSTOMER", ["CUSTOMERID", "NAME"])}


FORBIDDEN = ["\x00", "\x0b", "\x1b", "\x08", "\ufffe", "\uffff", "\ud800", "\udfff"]


@pytest.mark.parametrize("char", FORBIDDEN)
def test_a_value_xml_cannot_carry_is_refused_naming_the_field(client: IntacctClient, char: str) -> None:
    bad = fn.create_customer(fn.CustomerInput(customer_id=f"DUP{char}", name="Dup"), controlid="bad-1")
    good = fn.create_customer(fn.CustomerInput(customer_id="DUP", name="Dup"), controlid="good-1")
    bad_outcome, good_outcome = client.execute([bad, good])
    assert bad_outcome.status is OutcomeStatus.FAILED
    assert isinstance(bad_outcome.error, InvalidValueError)
    assert isinstance(bad_outcome.error, BusinessError)  # a sync makes it that object's error
    assert bad_outcome.error.field == "CUSTOMER.CUSTOMERID"
    assert f"U+{ord(char):04X}" in str(bad_outcome.error)
    assert good_outcome.done  # the rest of the batch still went
    # "DUP\x00" did not become a second "DUP": exactly one customer, the clean one.
    assert names(client) == {"DUP": "Dup"}


def test_a_refused_value_in_a_transaction_sends_nothing(client: IntacctClient) -> None:
    bad = fn.create_customer(fn.CustomerInput(customer_id="T-1", name="Bell\x07"), controlid="t-bad")
    good = fn.create_customer(fn.CustomerInput(customer_id="T-2", name="Fine"), controlid="t-good")
    with pytest.raises(InvalidValueError, match=r"CUSTOMER\.NAME"):
        client.execute([bad, good], transaction=True)
    assert names(client) == {}


def test_the_error_never_echoes_the_value() -> None:
    with pytest.raises(XmlValueError) as caught:
        check_text("my-secret-value\x00", "password")
    assert "my-secret-value" not in str(caught.value)
    assert "password" in str(caught.value)


def test_allowed_edge_characters_pass() -> None:
    for text in ["\t\n\r", "\ud7ff\ue000\ufffd", "\U00010000\U0010ffff", "emoji \U0001f600"]:
        assert check_text(text) == text


@pytest.mark.parametrize(
    "name",
    ["Line 1\rLine 2", "Windows\r\nline", "mid\rdle", "a\r\r\n\nb", "<&>]]>\"' \r &#13; \U0001f600"],
)
# (Intacct trims a value's outer whitespace, so the carriage returns sit inside the text.)
def test_carriage_returns_and_specials_round_trip(client: IntacctClient, name: str) -> None:
    outcome = client.run(fn.create_customer(fn.CustomerInput(customer_id="CR-1", name=name), controlid="cr"))
    assert outcome.done
    assert names(client) == {"CR-1": name}


def test_the_request_encodes_cr_as_a_character_reference() -> None:
    from bisync.intacct.xml import ControlBlock, FunctionCall, SessionAuth

    body = build_request(
        ControlBlock("s", SecretStr("p"), "c"),
        SessionAuth(SecretStr("x")),
        [FunctionCall("create", "f", {"CUSTOMER": {"NAME": "a\rb"}})],
    )
    assert b"\r" not in body
    assert b"a&#13;b" in body
