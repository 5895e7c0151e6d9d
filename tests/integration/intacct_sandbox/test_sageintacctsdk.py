"""An independent client, PyPI `sageintacctsdk`, unchanged except for its (private) URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sageintacctsdk import SageIntacctSDK
from sageintacctsdk.apis.api_base import ApiBase
from sageintacctsdk.exceptions import InvalidTokenError, SageIntacctSDKError, WrongParamsError

from sandbox.intacct import COMPANY_ID, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD

from .conftest import Gateway

SdkFactory = Callable[..., Any]


@pytest.fixture
def sdk(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> SdkFactory:
    original = ApiBase.__init__

    def init(self: ApiBase, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        # The SDK has no URL option; the protocol doc's documented hook.
        self._ApiBase__api_url = gw.handle.gateway_url

    monkeypatch.setattr(ApiBase, "__init__", init)

    def make(**overrides: Any) -> Any:
        args = {
            "sender_id": SENDER_ID,
            "sender_password": SENDER_PASSWORD,
            "user_id": USER_ID,
            "company_id": COMPANY_ID,
            "user_password": USER_PASSWORD,
            **overrides,
        }
        return SageIntacctSDK(**args)

    return make


def test_session_and_reference_data(sdk: SdkFactory) -> None:
    client = sdk()
    assert client.customers._ApiBase__session_id
    accounts = client.accounts.get_all()
    assert {"1200", "4000", "1500", "4900"} <= {a["ACCOUNTNO"] for a in accounts}
    entities = client.location_entities.get_all()
    assert sorted(e["LOCATIONID"] for e in entities) == ["E100", "E200"]


def test_create_customers_count_and_page_through_all(sdk: SdkFactory, gw: Gateway) -> None:
    client = sdk()
    created = client.customers.post({"CUSTOMERID": "SDK-1", "NAME": "From the SDK"})
    assert created["status"] == "success"
    assert created["data"]["customer"]["CUSTOMERID"] == "SDK-1"
    gw.admin("seed", {"customers": 2100, "invoices": 0, "payments": 0})
    assert client.customers.count() == 2101  # default filter STATUS = active
    everyone = client.customers.get_all()  # query pages of 2000 by offset
    assert len(everyone) == 2101
    assert len({c["RECORDNO"] for c in everyone}) == 2101
    assert set(everyone[0]) >= {"RECORDNO", "CUSTOMERID", "NAME", "TOTALDUE", "WHENCREATED"}
    found = client.customers.get(field="CUSTOMERID", value="SDK-1")  # readByQuery
    assert found["@listtype"] == "customer"
    assert found["customer"]["NAME"] == "From the SDK"


def test_duplicate_customer_is_reported_by_the_sdk(sdk: SdkFactory) -> None:
    client = sdk()
    client.customers.post({"CUSTOMERID": "SDK-D", "NAME": "Once"})
    with pytest.raises(WrongParamsError) as info:
        client.customers.post({"CUSTOMERID": "SDK-D", "NAME": "Twice"})
    errors = info.value.response["error"]
    assert errors[0]["errorno"] == "BL01001973"
    assert "Support ID: " in errors[0]["description2"]


def test_ar_invoice_and_payment_through_the_sdk(sdk: SdkFactory, gw: Gateway) -> None:
    client = sdk()
    client.customers.post({"CUSTOMERID": "SDK-AR", "NAME": "Receivable"})
    inv = client.ar_invoices.post(
        {
            "customerid": "SDK-AR",
            "datecreated": {"year": "2024", "month": "08", "day": "01"},
            "termname": "N30",
            "invoiceno": "SDK-INV-1",
            "invoiceitems": {
                "lineitem": [
                    {"glaccountno": "4000", "amount": "250.00", "memo": "Work", "locationid": "E100"}
                ]
            },
        }
    )
    key = inv["key"]
    assert key.isdigit()
    pay = client.ar_payments.post(
        {
            "FINANCIALENTITY": "BOA-CHK",
            "PAYMENTMETHOD": "Printed Check",
            "CUSTOMERID": "SDK-AR",
            "RECEIPTDATE": "08/05/2024",
            "DOCNUMBER": "CHK-100",
            "ARPYMTDETAILS": {"ARPYMTDETAIL": {"RECORDKEY": key, "TRX_PAYMENTAMOUNT": "250.00"}},
        }
    )
    assert pay["status"] == "success"
    invoices = client.ar_invoices.get_all()
    assert [(i["RECORDNO"], i["STATE"], i["TOTALDUE"]) for i in invoices] == [(key, "Paid", "0")]
    assert client.ar_payments.count(field="CUSTOMERID", value="SDK-AR") == 1
    payments = client.ar_payments.get_all()
    assert payments[0]["TOTALENTERED"] == "250"


def test_show_private_reaches_entity_records(sdk: SdkFactory, gw: Gateway) -> None:
    sid = gw.session_id(entity="E200")
    gw.call(
        "<create><CUSTOMER><CUSTOMERID>PRIV</CUSTOMERID><NAME>Entity only</NAME></CUSTOMER></create>",
        auth=f"<sessionid>{sid}</sessionid>",
    )
    assert sdk().customers.get_all() == []
    assert [c["CUSTOMERID"] for c in sdk(show_private=True).customers.get_all()] == ["PRIV"]


def test_bad_password_is_invalid_token(sdk: SdkFactory) -> None:
    with pytest.raises(InvalidTokenError):
        sdk(user_password="wrong")


def test_rate_limit_is_reported(sdk: SdkFactory, gw: Gateway) -> None:
    client = sdk()
    gw.admin("faults", {"rate_429": 1, "seed": 9})
    with pytest.raises(SageIntacctSDKError) as info:
        client.customers.count()
    assert "GW-0010" in str(info.value)


def test_wrong_sender_password_is_invalid_token_from_the_401(sdk: SdkFactory) -> None:
    # The SDK maps HTTP 401 to InvalidTokenError and hands over the <errormessage> it parsed.
    with pytest.raises(InvalidTokenError) as info:
        sdk(sender_password="wrong-sender-pw")
    assert info.value.response == {
        "error": {
            "errorno": "XMLGW_JPP0002",
            "description": "Sign-in information is incorrect. Please check your request.",
        }
    }


def test_unknown_sender_is_wrong_params_from_the_control_failure(sdk: SdkFactory) -> None:
    with pytest.raises(WrongParamsError) as info:
        sdk(sender_id="nobody")
    assert info.value.response["error"][0]["errorno"] == "XL03000006"
