"""Request building (escaping, order) and safe response parsing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import xmltodict
from pydantic import SecretStr

from bisync.intacct import functions as fn
from bisync.intacct.models import ArPayment, Customer, SoDocument
from bisync.intacct.xml import (
    ControlBlock,
    ResponseFormatError,
    SessionAuth,
    build_request,
    parse_response,
)
from tests.unit.intacct.fakes import Call, FakeGateway, make_client, records_xml, response_xml, result_xml

NASTY = "Zoë & Æsir <b>\"quoted\" 'single'</b> ]]> 日本 €5 &amp; tab\tend"


def _get(d: Any, path: str) -> Any:
    for part in path.split("/"):
        d = d[part]
    return d


CUSTOMER_TEXT_FIELDS = [
    "CUSTOMERID",
    "NAME",
    "STATUS",
    "DISPLAYCONTACT/PRINTAS",
    "DISPLAYCONTACT/COMPANYNAME",
    "DISPLAYCONTACT/EMAIL1",
    "DISPLAYCONTACT/PHONE1",
    "DISPLAYCONTACT/MAILADDRESS/ADDRESS1",
    "DISPLAYCONTACT/MAILADDRESS/ADDRESS2",
    "DISPLAYCONTACT/MAILADDRESS/CITY",
    "DISPLAYCONTACT/MAILADDRESS/STATE",
    "DISPLAYCONTACT/MAILADDRESS/ZIP",
    "DISPLAYCONTACT/MAILADDRESS/COUNTRY",
    "TERMNAME",
    "CURRENCY",
    "PARENTID",
]


def nasty_customer() -> fn.CustomerInput:
    return fn.CustomerInput(
        customer_id=NASTY + "id",
        name=NASTY + "name",
        status=NASTY + "status",
        email=NASTY + "email",
        phone=NASTY + "phone",
        company_name=NASTY + "company",
        print_as=NASTY + "printas",
        address=fn.Address(
            address1=NASTY + "a1",
            address2=NASTY + "a2",
            city=NASTY + "city",
            state=NASTY + "state",
            zip=NASTY + "zip",
            country=NASTY + "country",
        ),
        term_name=NASTY + "term",
        currency=NASTY + "cur",
        parent_id=NASTY + "parent",
    )


def test_special_characters_round_trip_build_then_parse() -> None:
    """The fake reads the request with a real XML parser and echoes the customer back as
    `read` would; every text field must come back exactly."""

    def echo(call: Call) -> bytes:
        (name, cid, body) = call.functions[0]
        sent = xmltodict.parse(ET_tostring(body))["create"]["CUSTOMER"]
        sent["RECORDNO"] = "1"
        return response_xml([result_xml(name, cid, data=records_xml("CUSTOMER", [sent]))])

    gw = FakeGateway(echo)
    customer = nasty_customer()
    [outcome] = make_client(gw).execute([fn.create_customer(customer, controlid=NASTY)])
    # the controlid attribute is escaped too
    assert gw.content_calls[0].functions[0][1] == NASTY
    parsed = Customer.model_validate(outcome.records[0])
    dumped = parsed.model_dump(by_alias=True)
    expected = customer.to_values()
    for path in CUSTOMER_TEXT_FIELDS:
        assert _get(dumped, path) == _get(expected, path), path
        assert NASTY in _get(dumped, path)


def ET_tostring(el: Any) -> bytes:
    from xml.etree import ElementTree as ET

    out: bytes = ET.tostring(el, encoding="utf-8")
    return out


def test_legacy_text_fields_escaped_in_the_request() -> None:
    inv = fn.InvoiceInput(
        customerid=NASTY,
        datecreated=date(2024, 7, 1),
        termname=NASTY,
        invoiceno=NASTY,
        ponumber=NASTY,
        description=NASTY,
        externalid=NASTY,
        lines=(fn.InvoiceLineInput(glaccountno=NASTY, amount=Decimal(1), memo=NASTY, locationid=NASTY),),
    )
    body = build_request(
        ControlBlock("s", SecretStr(NASTY), "c"),
        SessionAuth(SecretStr("x")),
        [fn.create_invoice(inv, controlid="i").call()],
    )
    doc = xmltodict.parse(body)
    ci = doc["request"]["operation"]["content"]["function"]["create_invoice"]
    for key in ("customerid", "termname", "invoiceno", "ponumber", "description", "externalid"):
        assert ci[key] == NASTY
    line = ci["invoiceitems"]["lineitem"]
    assert line["glaccountno"] == line["memo"] == line["locationid"] == NASTY
    assert doc["request"]["control"]["password"] == NASTY


def test_entities_and_dtds_are_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<response><control><status>&lol2;</status></control></response>"
    )
    with pytest.raises(ResponseFormatError):
        parse_response(bomb)
    external = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><response>&x;</response>'
    )
    with pytest.raises(ResponseFormatError):
        parse_response(external)


@pytest.mark.parametrize("body", [b"", b"<html><body>502</body></html>", b"<response><control>", b"{}"])
def test_non_gateway_bodies_are_format_errors(body: bytes) -> None:
    with pytest.raises(ResponseFormatError):
        parse_response(body)


def test_single_record_is_a_list_and_both_casings_parse_alike() -> None:
    one = {
        "RECORDNO": "3",
        "CUSTOMERID": "C-3",
        "CREDITS": "",
        "INVOICES": {"RECORD": "9", "APPLIEDAMOUNT": "5"},
    }
    lower = parse_response(
        response_xml([result_xml("readByQuery", "a", data=records_xml("arpayment", [one]))])
    )
    upper = parse_response(response_xml([result_xml("read", "a", data=records_xml("ARPYMT", [one]))]))
    for parsed in (lower, upper):
        data = parsed.results[0].data
        assert data is not None
        assert len(data.records) == 1
        pay = ArPayment.model_validate(data.records[0])
        assert pay.recordno == "3"
        assert pay.credits == []
        assert [(i.record, i.appliedamount) for i in pay.invoices] == [("9", Decimal(5))]
    assert lower.results[0].data
    assert lower.results[0].data.element_names == ("arpayment",)


def test_owned_entries_in_either_casing_and_single_child() -> None:
    for wrapper in ("sodocumententry", "SODOCUMENTENTRY"):
        rec = {
            "RECORDNO": "1",
            "SODOCUMENTENTRIES": {wrapper: {"ITEMID": "X", "QUANTITY": "2.5", "LINE_NO": "0"}},
        }
        doc = SoDocument.model_validate(rec)
        assert [(e.itemid, e.quantity, e.line_no) for e in doc.entries] == [("X", Decimal("2.5"), 0)]
    assert SoDocument.model_validate({"RECORDNO": "1", "SODOCUMENTENTRIES": ""}).entries == []


def test_dates_and_timestamps_in_intacct_formats() -> None:
    c = Customer.model_validate(
        {"WHENMODIFIED": "07/01/2024 09:12:44", "WHENCREATED": "", "TOTALDUE": "12.30"}
    )
    assert c.whenmodified is not None
    assert c.whenmodified.isoformat() == "2024-07-01T09:12:44"
    assert c.whencreated is None
    assert c.totaldue == Decimal("12.30")
    doc = SoDocument.model_validate({"WHENCREATED": "07/02/2024", "WHENDUE": "2024-08-01"})
    assert doc.whencreated == date(2024, 7, 2)
    assert doc.whendue == date(2024, 8, 1)
    with pytest.raises(ValueError, match="not an Intacct date"):
        SoDocument.model_validate({"WHENCREATED": "2024/31/31"})


def test_control_and_auth_and_result_levels_are_parsed() -> None:
    parsed = parse_response(
        response_xml(
            [
                result_xml(
                    "read", "r1", status="failure", errors=["<error><errorno>DL02000001</errorno></error>"]
                )
            ],
            auth_status="success",
        )
    )
    assert parsed.control_status == "success"
    assert parsed.auth_status == "success"
    assert parsed.session_timeout is not None
    assert parsed.session_timeout.year == 2030
    assert parsed.results[0].status == "failure"
    assert parsed.results[0].errors[0].errorno == "DL02000001"
