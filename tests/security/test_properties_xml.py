"""Property-based tests of bisync.intacct.xml: any text XML 1.0 can carry survives build ->
parse exactly (element text, attribute values, a response's record values); any text holding a
character it cannot carry raises the module's own `XmlValueError`, naming the field and the
first such character, before anything is built; numbers keep their value as text."""

from __future__ import annotations

import re
from decimal import Decimal

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bisync.intacct.xml import (
    ControlBlock,
    FunctionCall,
    SessionAuth,
    XmlValueError,
    build_request,
    check_text,
    element_to_value,
    parse_response,
    to_text,
)
from tests.unit.intacct.fakes import response_xml, result_xml

PROPERTY = settings(max_examples=300, deadline=None)
_ILLEGAL = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Every XML 1.0 character, weighted towards the ones escaping gets wrong.
TRICKY = st.sampled_from(
    [
        "<",
        ">",
        "&",
        '"',
        "'",
        "]]>",
        "\r",
        "\r\n",
        "\n",
        "\t",
        "&amp;",
        "&#13;",
        "<![CDATA[",
        "\U0001d11e",
        "\U0001f600",
        "\ufffd",
        "\ud7ff",
        "\ue000",
        "\U0010ffff",
        " ",
    ]
)
LEGAL_CHAR = st.characters(codec="utf-8").filter(lambda c: _ILLEGAL.match(c) is None)
LEGAL_TEXT = st.lists(st.one_of(TRICKY, LEGAL_CHAR.map(str)), max_size=40).map("".join)
ILLEGAL_CHAR = st.one_of(
    st.sampled_from(["\x00", "\x0b", "\x0c", "\x1b", "\x08", "\ufffe", "\uffff", "\ud800", "\udfff"]),
    st.integers(0, 0x1F).filter(lambda n: n not in (9, 10, 13)).map(chr),
    st.integers(0xD800, 0xDFFF).map(chr),
)


def build(text: str, controlid: str = "c-1") -> bytes:
    call = FunctionCall("create", controlid, {"CUSTOMER": {"CUSTOMERID": "X", "NAME": text}})
    return build_request(ControlBlock("s", SecretStr("p"), "ctl"), SessionAuth(SecretStr("sid")), [call])


def sent_function(body: bytes) -> tuple[str, str]:
    """(the NAME value, the controlid attribute) as a parser reads our request."""
    root = SafeET.fromstring(body)
    function = root.find("operation/content/function")
    assert function is not None
    value = element_to_value(function)
    return value["create"]["CUSTOMER"]["NAME"], function.get("controlid", "")


def escape(text: str) -> str:
    """How a gateway writes a value back (carriage returns as references, as Intacct must for
    them to survive end-of-line handling)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def survives_parsing(text: str) -> bool:
    # The parser reads a whitespace-only value that holds a newline as empty (a pretty-printed
    # empty element); Intacct trims a value's ends anyway. See the test below.
    return not ("\n" in text and not text.strip())


@PROPERTY
@given(LEGAL_TEXT)
def test_legal_text_survives_build_then_parse(text: str) -> None:
    name, controlid = sent_function(build(text, controlid=text or "c"))
    assert controlid == (text or "c")  # attribute values: \t \n \r escaped, nothing normalised
    if survives_parsing(text):
        assert name == text
    else:
        assert name == ""


@PROPERTY
@given(LEGAL_TEXT)
def test_legal_text_in_a_response_parses_exactly(text: str) -> None:
    data = f'<data listtype="CUSTOMER" count="1"><CUSTOMER><NAME>{escape(text)}</NAME></CUSTOMER></data>'
    parsed = parse_response(response_xml([result_xml("query", "q", data=data)]))
    assert parsed.results[0].data is not None
    [record] = parsed.results[0].data.records
    assert record == {"NAME": text if survives_parsing(text) else ""}


def test_whitespace_with_a_newline_reads_as_empty() -> None:
    for text in ("\n", " \n ", "\r\n\t", "\n\n"):
        name, _ = sent_function(build(text))
        assert name == ""
    name, _ = sent_function(build(" \t "))  # no newline: a real value
    assert name == " \t "


@PROPERTY
@given(LEGAL_TEXT, ILLEGAL_CHAR, LEGAL_TEXT)
def test_a_character_xml_cannot_carry_raises_the_typed_error(before: str, bad: str, after: str) -> None:
    text = before + bad + after
    first = _ILLEGAL.search(text)
    assert first is not None
    with pytest.raises(XmlValueError) as caught:
        build(text)
    assert caught.value.field == "request.operation.content.function.create.CUSTOMER.NAME"
    assert str(caught.value) == (
        f"{caught.value.field} contains U+{ord(first.group()):04X} at position {first.start()}, "
        "a character XML 1.0 cannot carry; it is refused, not altered"
    )
    assert isinstance(caught.value, ValueError)
    # The same for a secret, and the message never carries the value.
    with pytest.raises(XmlValueError) as secret:
        to_text(SecretStr("s3cr3t" + text), "password")
    assert "s3cr3t" not in str(secret.value)
    assert secret.value.field == "password"


@PROPERTY
@given(LEGAL_TEXT)
def test_check_text_passes_legal_text_unchanged(text: str) -> None:
    assert check_text(text, "f") is text


@PROPERTY
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_a_decimal_keeps_its_value_as_text(value: Decimal) -> None:
    text = to_text(value)
    assert "E" not in text.upper()
    assert Decimal(text) == value
