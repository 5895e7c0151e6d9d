"""Per-user object permissions and per-company module subscriptions (PL04000005), driven over
HTTP with the project's own client: a refused function fails alone, the login and the other
functions of the request are fine; clearing the state and resetting the sandbox restore access."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from bisync.intacct import BusinessError, Credentials, IntacctClient, OutcomeStatus, RetryPolicy
from bisync.intacct import functions as fn
from bisync.intacct.outcome import Outcome
from sandbox.intacct import COMPANY_ID, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD
from sandbox.intacct import permissions as perm
from sandbox.intacct.catalog import FIELDS
from sandbox.intacct.gateway import FUNCTIONS

from .conftest import Gateway, errors_of

DENIED = "PL04000005"


def make_client(gw: Gateway, user: str = USER_ID, password: str = USER_PASSWORD) -> IntacctClient:
    creds = Credentials(
        sender_id=SENDER_ID,
        sender_password=SecretStr(SENDER_PASSWORD),
        company_id=COMPANY_ID,
        user_id=user,
        user_password=SecretStr(password),
        endpoint_url=gw.handle.gateway_url,
    )
    return IntacctClient(creds, retry=RetryPolicy(attempts=2, sleep=lambda _s: None))


@pytest.fixture
def client(gw: Gateway) -> IntacctClient:
    return make_client(gw)


def set_permissions(gw: Gateway, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(f"{gw.handle.url}/_sandbox/permissions", json=body, timeout=10)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


def get_permissions(gw: Gateway, company: str | None = None) -> dict[str, Any]:
    query = f"?company={company}" if company else ""
    resp = requests.get(f"{gw.handle.url}/_sandbox/permissions{query}", timeout=10)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


def refusal(outcome: Outcome) -> str:
    """The refusal's text (description2, Support ID stripped) after checking it is PL04000005."""
    assert outcome.status is OutcomeStatus.FAILED, outcome
    assert isinstance(outcome.error, BusinessError)
    assert outcome.error.errorno == DENIED
    return outcome.error.description2 or ""


def so_input(customer: str, number: str) -> fn.SoTransactionInput:
    return fn.SoTransactionInput(
        transactiontype="Sales Invoice",
        datecreated=dt.date(2024, 8, 1),
        customerid=customer,
        documentno=number,
        lines=(fn.SoLineInput(itemid="WIDGET", quantity=Decimal(1), locationid="E100"),),
    )


EMPTY = {"company": COMPANY_ID, "user": USER_ID, "deny": [], "unsubscribed": []}


def test_a_denied_object_fails_alone_naming_the_operation_and_the_object(
    client: IntacctClient, gw: Gateway
) -> None:
    client.run(fn.create_customer(fn.CustomerInput(customer_id="P-1", name="Perm"), controlid="p-c1"))
    client.run(fn.create_sotransaction(so_input("P-1", "P-SO1"), controlid="p-so1"))
    assert set_permissions(gw, {"user": USER_ID, "deny": ["SODOCUMENT"]}) == {
        **EMPTY,
        "deny": ["SODOCUMENT"],
    }
    before = gw.admin("counters", None)[COMPANY_ID]["transactions"]
    outcomes = client.execute(
        [
            fn.read_by_query("SODOCUMENT", ["RECORDNO"]),
            fn.query("CUSTOMER", ["CUSTOMERID"]),
            fn.query("SODOCUMENT", ["RECORDNO"]),
            fn.read("SODOCUMENT", [1]),
            fn.read_by_name("SODOCUMENT", ["Sales Invoice-P-SO1"]),
        ]
    )
    # readByQuery names the object in lowercase, as Intacct's own refusal does; the others in
    # the catalogue's uppercase.
    assert refusal(outcomes[0]) == (
        "You do not have permission for API operation READ_BY_QUERY on objects of type sodocument"
    )
    assert [r["CUSTOMERID"] for r in outcomes[1].records] == ["P-1"]
    assert refusal(outcomes[2]) == (
        "You do not have permission for API operation QUERY on objects of type SODOCUMENT"
    )
    assert refusal(outcomes[3]).endswith("API operation READ on objects of type SODOCUMENT")
    assert refusal(outcomes[4]).endswith("API operation READ_BY_NAME on objects of type SODOCUMENT")
    assert outcomes[0].error is not None
    assert outcomes[0].error.correction == (
        "Check the permissions of the user's role for the Order Entry module"
    )
    # Only the customer query ran (one read call); the refused ones cost nothing.
    assert gw.admin("counters", None)[COMPANY_ID]["transactions"] == before + 1
    # The objects of the other modules, and SODOCUMENT's own lines, are still readable.
    assert [r["RECORDNO"] for r in client.query("SODOCUMENTENTRY", ["RECORDNO"])]


def test_the_raw_answer_is_a_function_failure_after_a_successful_login(gw: Gateway) -> None:
    set_permissions(gw, {"deny": ["GLACCOUNT"]})
    resp = gw.post(
        [
            "<query><object>GLACCOUNT</object><select><field>ACCOUNTNO</field></select></query>",
            "<readByQuery><object>ARTERM</object><fields>NAME</fields><query></query></readByQuery>",
        ]
    )
    assert (resp.control_status, resp.auth_status) == ("success", "success")
    assert resp.result(0).findtext("status") == "failure"
    [error] = resp.errors(0)
    assert error["errorno"] == DENIED
    assert error["description"] == ""
    assert error["description2"].startswith(
        "You do not have permission for API operation QUERY on objects of type GLACCOUNT [Support ID: "
    )
    assert error["correction"] == "Check the permissions of the user's role for the General Ledger module"
    assert len(resp.data(1).findall("arterm")) == 3


def test_writes_are_refused_by_operation_and_nothing_is_written(client: IntacctClient, gw: Gateway) -> None:
    key = client.run(
        fn.create_customer(fn.CustomerInput(customer_id="W-1", name="Writer"), controlid="w-c1")
    ).key
    assert key
    set_permissions(
        gw,
        {"deny": ["customer:create", "CUSTOMER:UPDATE", "CUSTOMER:DELETE", "ARINVOICE:CREATE", "SODOCUMENT"]},
    )
    invoice = fn.InvoiceInput(
        customerid="W-1",
        datecreated=dt.date(2024, 8, 1),
        termname="N30",
        invoiceno="W-INV-1",
        lines=(fn.InvoiceLineInput(glaccountno="4000", amount=Decimal(10), locationid="E100"),),
    )
    outcomes = client.execute(
        [
            fn.create_customer(fn.CustomerInput(customer_id="W-2", name="New"), controlid="w-c2"),
            fn.update_customer(fn.CustomerInput(customer_id="W-1", name="Renamed"), controlid="w-u1"),
            fn.delete("CUSTOMER", [key], controlid="w-d1"),
            fn.create_invoice(invoice, controlid="w-i1"),
            fn.create_sotransaction(so_input("W-1", "W-SO1"), controlid="w-so1"),
            fn.query("CUSTOMER", ["CUSTOMERID", "NAME"]),
        ]
    )
    expected = [
        ("CREATE", "CUSTOMER"),
        ("UPDATE", "CUSTOMER"),
        ("DELETE", "CUSTOMER"),
        ("CREATE", "ARINVOICE"),
        ("CREATE", "SODOCUMENT"),
    ]
    for outcome, (operation, obj) in zip(outcomes, expected, strict=False):
        assert refusal(outcome) == (
            f"You do not have permission for API operation {operation} on objects of type {obj}"
        )
    # The customer query is permitted (only CREATE/UPDATE/DELETE were denied) and shows nothing
    # changed.
    assert [(r["CUSTOMERID"], r["NAME"]) for r in outcomes[5].records] == [("W-1", "Writer")]
    dump = gw.admin("dump", None)[COMPANY_ID]
    assert "ARINVOICE" not in dump
    assert "SODOCUMENT" not in dump

    # A refused write is not remembered as done: once permitted, the same controlid runs.
    set_permissions(gw, {})
    again = client.execute(
        [fn.create_customer(fn.CustomerInput(customer_id="W-2", name="New"), controlid="w-c2")]
    )
    assert again[0].status is OutcomeStatus.SUCCESS


def test_read_more_is_refused_once_the_object_is_denied(client: IntacctClient, gw: Gateway) -> None:
    gw.admin("seed", {"customers": 5, "invoices": 0, "payments": 0})
    pages = client.read_by_query("CUSTOMER", ["CUSTOMERID"], pagesize=2)  # the first page is read now
    set_permissions(gw, {"deny": ["CUSTOMER:READ_MORE"]})
    with pytest.raises(BusinessError) as raised:
        list(pages)
    assert raised.value.errorno == DENIED
    assert raised.value.description2 == (
        "You do not have permission for API operation READ_MORE on objects of type customer"
    )


def test_the_legacy_payment_object_follows_its_base_object(client: IntacctClient, gw: Gateway) -> None:
    set_permissions(gw, {"deny": ["ARPYMT"]})
    [rbq, read] = client.execute([fn.read_by_query("ARPAYMENT", ["RECORDNO"]), fn.read("ARPAYMENT", [1])])
    assert refusal(rbq).endswith("READ_BY_QUERY on objects of type arpayment")
    assert refusal(read).endswith("READ on objects of type ARPAYMENT")


def test_with_transaction_true_the_refusal_rolls_the_request_back(client: IntacctClient, gw: Gateway) -> None:
    set_permissions(gw, {"deny": ["SODOCUMENT:CREATE"]})
    outcomes = client.execute(
        [
            fn.create_customer(fn.CustomerInput(customer_id="T-1", name="Tx"), controlid="t-c1"),
            fn.create_sotransaction(so_input("T-1", "T-SO1"), controlid="t-so1"),
        ],
        transaction=True,
    )
    assert [o.status for o in outcomes] == [OutcomeStatus.ABORTED, OutcomeStatus.FAILED]
    assert outcomes[1].error is not None
    assert DENIED in [e.errorno for e in outcomes[1].error.errors]
    assert "CUSTOMER" not in gw.admin("dump", None).get(COMPANY_ID, {})


def test_an_unsubscribed_module_refuses_every_user_and_a_denial_only_its_user(gw: Gateway) -> None:
    # A second web-services user of the company (the sandbox ships one; add one in the store).
    store = gw.handle.sandbox.store
    with store.lock:
        settings = store.settings(COMPANY_ID)
        assert settings is not None
        settings["users"]["clerk"] = "clerk-password"
        store.put_settings(COMPANY_ID, settings)
    blixo, clerk = make_client(gw), make_client(gw, "clerk", "clerk-password")

    set_permissions(gw, {"user": "clerk", "deny": ["CUSTOMER"]})
    assert blixo.execute([fn.query("CUSTOMER", ["RECORDNO"])])[0].done
    assert refusal(clerk.execute([fn.query("CUSTOMER", ["RECORDNO"])])[0]).endswith(
        "QUERY on objects of type CUSTOMER"
    )

    assert set_permissions(gw, {"unsubscribed": ["order entry", "Cash Management"]}) == {
        **EMPTY,
        "unsubscribed": ["Cash Management", "Order Entry"],
    }
    for user_client in (blixo, clerk):
        outcomes = user_client.execute(
            [
                fn.query("SODOCUMENT", ["RECORDNO"]),
                fn.read_by_query("SODOCUMENTPARAMS", ["DOCID"]),
                fn.query("CHECKINGACCOUNT", ["BANKACCOUNTID"]),
                fn.query("CUSTOMER", ["RECORDNO"]),  # clerk's denial was replaced
                fn.query("GLACCOUNT", ["ACCOUNTNO"]),
            ]
        )
        assert refusal(outcomes[0]) == "Order Entry module is not subscribed"
        assert refusal(outcomes[1]) == "Order Entry module is not subscribed"
        assert refusal(outcomes[2]) == "Cash Management module is not subscribed"
        assert outcomes[0].error is not None
        assert outcomes[0].error.correction == (
            "Subscribe the company to Order Entry (Company > Admin > Subscriptions) to use SODOCUMENT"
        )
        assert outcomes[3].done
        assert outcomes[4].done
    so = blixo.execute([fn.create_sotransaction(so_input("NOBODY", "U-SO1"), controlid="u-so1")])[0]
    assert refusal(so) == "Order Entry module is not subscribed"  # before the unknown customer


def test_clearing_and_reset_restore_everything(client: IntacctClient, gw: Gateway) -> None:
    denied = {"company": COMPANY_ID, "user": USER_ID, "deny": ["GLACCOUNT"], "unsubscribed": ["Order Entry"]}
    assert (
        set_permissions(gw, {"company": COMPANY_ID, "deny": ["GLACCOUNT"], "unsubscribed": ["Order Entry"]})
        == denied
    )
    assert get_permissions(gw) == denied
    assert get_permissions(gw, COMPANY_ID) == denied
    reads = [fn.query("GLACCOUNT", ["ACCOUNTNO"]), fn.query("SODOCUMENTPARAMS", ["DOCID"])]
    assert [o.done for o in client.execute(reads)] == [False, False]

    # Replace semantics: a body without `unsubscribed` subscribes the module again.
    assert set_permissions(gw, {"deny": ["GLACCOUNT"]}) == {**EMPTY, "deny": ["GLACCOUNT"]}
    assert [o.done for o in client.execute(reads)] == [False, True]
    assert set_permissions(gw, {"deny": [], "unsubscribed": []}) == EMPTY
    assert get_permissions(gw) == EMPTY
    assert [o.done for o in client.execute(reads)] == [True, True]

    set_permissions(gw, {"deny": ["GLACCOUNT"], "unsubscribed": ["Order Entry"]})
    gw.admin("reset", {})
    assert get_permissions(gw) == EMPTY
    assert [o.done for o in client.execute(reads)] == [True, True]


def test_the_in_process_handle_sets_and_reads_the_same_state(client: IntacctClient, gw: Gateway) -> None:
    sandbox = gw.handle.sandbox
    state = sandbox.set_permissions(deny=["TERM:READ_BY_QUERY"], unsubscribed=["General Ledger"])
    assert state == {**EMPTY, "deny": ["ARTERM:READ_BY_QUERY"], "unsubscribed": ["General Ledger"]}
    assert get_permissions(gw) == state == sandbox.permissions()
    outcomes = client.execute(
        [
            fn.read_by_query("TERM", ["NAME"]),
            fn.query("ARTERM", ["NAME"]),
            fn.query("GLACCOUNT", ["ACCOUNTNO"]),
        ]
    )
    assert refusal(outcomes[0]).endswith("READ_BY_QUERY on objects of type arterm")
    assert outcomes[1].done
    assert refusal(outcomes[2]) == "General Ledger module is not subscribed"
    assert sandbox.set_permissions() == EMPTY
    assert client.execute([fn.query("GLACCOUNT", ["ACCOUNTNO"])])[0].done


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"deny": ["NOPE"]}, "unknown object 'NOPE'"),
        ({"deny": ["CUSTOMER:SMASH"]}, "unknown operation 'SMASH'"),
        ({"deny": "CUSTOMER"}, "deny must be a list of strings"),
        ({"unsubscribed": ["Payroll"]}, "unknown module 'Payroll'"),
        ({"unsubscribed": ["company"]}, "Company cannot be unsubscribed"),
        ({"user": "nobody", "deny": ["CUSTOMER"]}, "unknown user 'nobody'"),
        ({"allow": ["CUSTOMER"]}, "unknown permission setting allow"),
        ({"company": "NOCO"}, "unknown company NOCO"),
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(gw: Gateway, body: dict[str, Any], message: str) -> None:
    set_permissions(gw, {"deny": ["GLACCOUNT"]})
    resp = requests.post(f"{gw.handle.url}/_sandbox/permissions", json=body, timeout=10)
    assert resp.status_code == 400
    assert message in resp.json()["error"]
    assert get_permissions(gw)["deny"] == ["GLACCOUNT"]


def test_unknown_company_on_get_and_config_cannot_touch_permissions(gw: Gateway) -> None:
    resp = requests.get(f"{gw.handle.url}/_sandbox/permissions?company=NOCO", timeout=10)
    assert resp.status_code == 400
    assert resp.json() == {"error": "unknown company NOCO"}
    set_permissions(gw, {"deny": ["GLACCOUNT"]})
    config = requests.post(f"{gw.handle.url}/_sandbox/config", json={"permissions": {}}, timeout=10)
    assert config.status_code == 400
    assert "permissions" not in gw.admin("config", {"result_ttl_s": 900.0})
    assert get_permissions(gw)["deny"] == ["GLACCOUNT"]


def test_every_function_and_every_object_is_covered() -> None:
    # A new gateway function or catalogue object must say which permission it needs.
    assert set(FUNCTIONS) == perm.CHECKED_FUNCTIONS
    assert set(perm.OBJECT_MODULES) == set(FIELDS)
    assert set(perm.OBJECT_MODULES.values()) <= set(perm.MODULES)


def test_raw_errors_of_a_refused_create_keep_the_record_shape(gw: Gateway) -> None:
    set_permissions(gw, {"deny": ["ARPYMT:CREATE"]})
    resp = gw.call(
        "<create><ARPYMT><CUSTOMERID>X</CUSTOMERID></ARPYMT></create>",
    )
    assert [e["errorno"] for e in errors_of(resp.result())] == [DENIED]
    assert resp.result().find("data") is None
