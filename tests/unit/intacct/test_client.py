"""Sessions, batches, idempotent writes, transactions, secrets and the concurrency limit."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from bisync.intacct import functions as fn
from bisync.intacct.errors import AuthenticationError, BusinessError
from bisync.intacct.limiter import CompanyLimiter
from bisync.intacct.outcome import OutcomeStatus
from tests.unit.intacct.fakes import (
    LOGIN_URL,
    SENDER_PW,
    SESSION_ID,
    SESSION_URL,
    USER_PW,
    Call,
    FakeGateway,
    error_xml,
    make_client,
    records_xml,
    response_xml,
    result_xml,
    success_for_all,
)

REPLAY = "A successful transaction has already been recorded with the control id {}."
ROLLBACK = error_xml(
    "XL03000009", "The entire transaction in this operation has been rolled back due to an error."
)


def invoice(no: str) -> fn.InvoiceInput:
    return fn.InvoiceInput(
        customerid="C-1",
        datecreated=date(2024, 7, 1),
        datedue=date(2024, 7, 31),
        invoiceno=no,
        lines=(fn.InvoiceLineInput(glaccountno="4000", amount=Decimal("10.005")),),
    )


def test_login_then_session_and_endpoint_are_reused() -> None:
    gw = FakeGateway(success_for_all)
    client = make_client(gw)
    for i in range(3):
        client.execute([fn.read("CUSTOMER", ["1"], controlid=f"r{i}")])
    login, *content = gw.calls
    assert login.url == LOGIN_URL
    assert login.login is not None
    assert login.login.findtext("userid") == "sync"
    assert login.login.findtext("password") == USER_PW
    assert gw.logins == 1
    assert [c.url for c in content] == [SESSION_URL] * 3
    assert {c.sessionid for c in content} == {SESSION_ID}


def test_entity_login_sends_locationid() -> None:
    gw = FakeGateway(success_for_all)
    make_client(gw, entity="E100").execute([fn.read("CUSTOMER", ["1"], controlid="r")])
    login = gw.calls[0].login
    assert login is not None
    assert [el.tag for el in login] == ["userid", "companyid", "password", "locationid"]
    assert login.findtext("locationid") == "E100"


def test_session_renewed_before_its_timeout() -> None:
    now = [datetime(2030, 1, 1, 11, 0, tzinfo=UTC)]  # the fake's sessions time out at 12:00
    gw = FakeGateway(success_for_all)
    client = make_client(gw, clock=lambda: now[0])
    client.execute([fn.read("CUSTOMER", ["1"], controlid="a")])
    now[0] += timedelta(minutes=50)  # 10 minutes left: still fine
    client.execute([fn.read("CUSTOMER", ["1"], controlid="b")])
    assert gw.logins == 1
    now[0] += timedelta(minutes=9)  # inside the renewal margin
    client.execute([fn.read("CUSTOMER", ["1"], controlid="c")])
    assert gw.logins == 2


def test_bad_login_is_an_authentication_error() -> None:
    gw = FakeGateway(success_for_all)

    def refuse(url, body, timeouts):
        from bisync.intacct.transport import HttpResponse

        return HttpResponse(
            200,
            response_xml(
                [],
                auth_status="failure",
                auth_errors=[error_xml("XL03000006", "Sign-in information is incorrect")],
            ),
        )

    client = make_client(gw)
    client._transport = refuse
    with pytest.raises(AuthenticationError) as info:
        client.execute([fn.read("CUSTOMER", ["1"], controlid="r")])
    text = f"{info.value} {info.value!r}"
    assert USER_PW not in text
    assert SENDER_PW not in text


def test_control_block_in_schema_order_and_uniqueid_for_writes() -> None:
    gw = FakeGateway(success_for_all)
    client = make_client(gw)
    client.execute([fn.read("CUSTOMER", ["1"], controlid="r")])
    client.execute([fn.delete("CUSTOMER", ["1"], controlid="d")])
    read_call, write_call = gw.content_calls
    control = read_call.root.find("control")
    assert control is not None
    assert [el.tag for el in control] == [
        "senderid",
        "password",
        "controlid",
        "uniqueid",
        "dtdversion",
        "includewhitespace",
    ]
    assert read_call.control("uniqueid") == "false"
    assert write_call.control("uniqueid") == "true"
    assert read_call.transaction == "false"


def test_several_functions_one_outcome_each_in_order() -> None:
    def handler(call: Call) -> bytes:
        results = []
        # answered out of order on purpose: outcomes follow the request order
        for name, cid, _ in reversed(call.functions):
            if cid == "bad":
                results.append(
                    result_xml(name, cid, status="failure", errors=[error_xml("BL01001973", "nope")])
                )
            elif name == "create_invoice":
                results.append(result_xml(name, cid, key="9001"))
            else:
                data = records_xml("customer", [{"RECORDNO": "55", "CUSTOMERID": "C-9"}], listtype="objects")
                results.append(result_xml(name, cid, data=data))
        return response_xml(results)

    gw = FakeGateway(handler)
    client = make_client(gw)
    batch = [
        fn.create_customer(fn.CustomerInput(customer_id="C-9", name="N"), controlid="cust"),
        fn.create_invoice(invoice("INV-1"), controlid="bad"),
        fn.create_invoice(invoice("INV-2"), controlid="inv2"),
    ]
    outcomes = client.execute(batch)
    assert [o.function.controlid for o in outcomes] == ["cust", "bad", "inv2"]
    assert [o.status for o in outcomes] == [
        OutcomeStatus.SUCCESS,
        OutcomeStatus.FAILED,
        OutcomeStatus.SUCCESS,
    ]
    assert outcomes[0].key == "55"
    assert outcomes[2].key == "9001"
    assert isinstance(outcomes[1].error, BusinessError)
    assert len(gw.content_calls) == 1


class Ledger:
    """A fake company that commits create_invoice, honours uniqueid and can lose replies."""

    def __init__(self, lose_first_reply: bool) -> None:
        self.lose = lose_first_reply
        self.invoices: dict[str, dict[str, str]] = {}  # controlid -> record
        self.next_key = 700

    def __call__(self, call: Call) -> bytes:
        results = []
        for name, cid, body in call.functions:
            if name == "create_invoice":
                if call.control("uniqueid") == "true" and cid in self.invoices:
                    results.append(
                        result_xml(
                            name, cid, status="failure", errors=[error_xml("XL03000001", REPLAY.format(cid))]
                        )
                    )
                    continue
                self.next_key += 1
                self.invoices[cid] = {
                    "RECORDNO": str(self.next_key),
                    "RECORDID": body.findtext("invoiceno") or "",
                    "CUSTOMERID": body.findtext("customerid") or "",
                }
                results.append(result_xml(name, cid, key=str(self.next_key)))
            elif name == "query":
                # Every equalto of the filter (alone, or under <and>) must hold.
                wanted = {
                    el.findtext("field") or "": el.findtext("value") or "" for el in body.iter("equalto")
                }
                assert wanted, "a lookup names what it looks for"
                rows = [r for r in self.invoices.values() if all(r.get(k) == v for k, v in wanted.items())]
                data = records_xml("ARINVOICE", [{"RECORDNO": r["RECORDNO"]} for r in rows])
                results.append(result_xml(name, cid, data=data))
        if self.lose:
            self.lose = False
            raise requests.exceptions.ReadTimeout("reply lost after commit")
        return response_xml(results)


def test_lost_reply_after_commit_then_retry_is_already_done_with_key() -> None:
    ledger = Ledger(lose_first_reply=True)
    gw = FakeGateway(ledger)
    client = make_client(gw)
    [outcome] = client.execute([fn.create_invoice(invoice("INV-77"), controlid="t1:inv:create:v1")])
    assert outcome.status is OutcomeStatus.ALREADY_DONE
    assert outcome.done
    assert outcome.key == "701"
    assert len(ledger.invoices) == 1  # exactly one record despite two sends
    sent = [c for c in gw.content_calls if c.functions[0][0] == "create_invoice"]
    assert [c.functions[0][1] for c in sent] == ["t1:inv:create:v1"] * 2


def test_already_done_without_lookup_has_no_key() -> None:
    gw = FakeGateway(
        lambda call: response_xml(
            [
                result_xml(
                    "delete", "d", status="failure", errors=[error_xml("XL03000001", REPLAY.format("d"))]
                )
            ]
        )
    )
    [outcome] = make_client(gw).execute([fn.delete("CUSTOMER", ["5"], controlid="d")])
    assert outcome.status is OutcomeStatus.ALREADY_DONE
    assert outcome.key is None


def test_transaction_rollback_reports_nothing_done() -> None:
    def handler(call: Call) -> bytes:
        assert call.transaction == "true"
        (n1, c1, _), (n2, c2, _), (n3, c3, _) = call.functions
        return response_xml(
            [
                result_xml(n1, c1, status="aborted", errors=[ROLLBACK]),
                result_xml(
                    n2,
                    c2,
                    status="failure",
                    errors=[error_xml("BL01001973", "Invalid GL account 9999"), ROLLBACK],
                ),
                result_xml(n3, c3, status="aborted", errors=[ROLLBACK]),
            ]
        )

    gw = FakeGateway(handler)
    outcomes = make_client(gw).execute(
        [
            fn.create_invoice(invoice("A"), controlid="a"),
            fn.create_invoice(invoice("B"), controlid="b"),
            fn.create_invoice(invoice("C"), controlid="c"),
        ],
        transaction=True,
    )
    assert [o.done for o in outcomes] == [False, False, False]
    assert [o.status for o in outcomes] == [
        OutcomeStatus.ABORTED,
        OutcomeStatus.FAILED,
        OutcomeStatus.ABORTED,
    ]
    assert outcomes[1].error is not None
    assert outcomes[1].error.errorno == "BL01001973"
    assert outcomes[0].error is not None
    assert outcomes[0].error.errorno == "XL03000009"
    assert len(gw.content_calls) == 1  # a business failure is not retried


def test_replayed_transaction_is_all_already_done() -> None:
    def handler(call: Call) -> bytes:
        (n1, c1, _), (n2, c2, _) = call.functions
        return response_xml(
            [
                result_xml(n1, c1, status="failure", errors=[error_xml("XL03000001", REPLAY.format(c1))]),
                result_xml(n2, c2, status="aborted", errors=[ROLLBACK]),
            ]
        )

    outcomes = make_client(FakeGateway(handler)).execute(
        [fn.delete_aradjustment("1", controlid="x"), fn.delete_aradjustment("2", controlid="y")],
        transaction=True,
    )
    assert [o.status for o in outcomes] == [OutcomeStatus.ALREADY_DONE, OutcomeStatus.ALREADY_DONE]


def test_duplicate_controlids_in_one_request_are_refused() -> None:
    client = make_client(FakeGateway(success_for_all))
    with pytest.raises(ValueError, match="unique"):
        client.execute(
            [fn.delete("CUSTOMER", ["1"], controlid="x"), fn.delete("CUSTOMER", ["2"], controlid="x")]
        )


def test_writes_need_a_controlid() -> None:
    with pytest.raises(ValueError, match="controlid"):
        fn.delete("CUSTOMER", ["1"], controlid="")


def test_secrets_never_in_reprs() -> None:
    gw = FakeGateway(success_for_all)
    client = make_client(gw)
    client.execute([fn.read("CUSTOMER", ["1"], controlid="r")])
    session = client._sessions.current()
    texts = [repr(client), repr(client.credentials), str(client.credentials), repr(session)]
    for secret in (SENDER_PW, USER_PW, SESSION_ID):
        assert all(secret not in t for t in texts)


def test_limiter_keeps_at_most_two_requests_in_flight() -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def slow(call: Call) -> bytes:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return success_for_all(call)

    gw = FakeGateway(slow)
    limiter = CompanyLimiter(2)
    client = make_client(gw, limiter=limiter)
    client.execute([fn.read("CUSTOMER", ["0"], controlid="warm")])  # log in first
    threads = [
        threading.Thread(target=client.execute, args=([fn.read("CUSTOMER", ["1"], controlid=f"r{i}")],))
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["peak"] == 2
    assert len(gw.content_calls) == 7
