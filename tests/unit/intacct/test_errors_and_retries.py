"""Each error class from a real-shaped response, and retries only where they are allowed."""

from __future__ import annotations

import logging

import pytest
import requests

from bisync.intacct import functions as fn
from bisync.intacct.errors import (
    AuthenticationError,
    BusinessError,
    OutcomeUnknownError,
    RateLimitError,
    TransientError,
)
from bisync.intacct.outcome import OutcomeStatus
from bisync.intacct.transport import HttpResponse
from tests.unit.intacct.fakes import (
    SENDER_PW,
    SESSION_ID,
    USER_PW,
    Call,
    FakeGateway,
    control_failure_xml,
    error_xml,
    make_client,
    response_xml,
    result_xml,
    success_for_all,
)

CLOUDFLARE_HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>cf</body></html>"


def read_fn() -> fn.Function:
    return fn.read("CUSTOMER", ["1"], controlid="read-1")


def write_fn() -> fn.Function:
    return fn.delete("CUSTOMER", ["7"], controlid="del-7")


def fixed(status: int, body: bytes):
    def handler(call: Call) -> tuple[int, bytes]:
        return status, body

    return handler


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            200,
            control_failure_xml(
                [error_xml("XL03000006", "Sign-in information is incorrect", "", "Check the sender")]
            ),
            AuthenticationError,
        ),
        (
            401,
            b"<response><errormessage>XMLGW_JPP0002 Sign-in failed</errormessage></response>",
            AuthenticationError,
        ),
        (429, b"GW-0010 Too many requests", RateLimitError),
        (502, CLOUDFLARE_HTML, TransientError),
        (503, b"", TransientError),
        (200, CLOUDFLARE_HTML, TransientError),
        (200, b"not xml at all", TransientError),
        (524, CLOUDFLARE_HTML, OutcomeUnknownError),
        (
            200,
            control_failure_xml([error_xml("XL03000003", "XML Parse error", "Malformed XML")]),
            BusinessError,
        ),
    ],
)
def test_request_level_errors_are_typed(status: int, body: bytes, expected: type[Exception]) -> None:
    gw = FakeGateway(fixed(status, body))
    client = make_client(gw, attempts=1)
    with pytest.raises(expected) as info:
        client.execute([read_fn()])
    if status >= 400:
        assert info.value.http_status == status  # type: ignore[attr-defined]


def test_rate_limit_texts_at_result_level() -> None:
    for text in ("There is a concurrent request in process.", "API rate limit exceeded for this company"):
        body = response_xml(
            [result_xml("read", "read-1", status="failure", errors=[error_xml("XL03000010", text)])]
        )
        gw = FakeGateway(fixed(200, body))
        with pytest.raises(RateLimitError):
            make_client(gw, attempts=1).execute([read_fn()])


def test_business_error_details_without_support_id() -> None:
    errors = [
        error_xml(
            "BL01001973",
            "Another record with the value C-1 already exists.",
            "Could not create Customer record! [Support ID: 9Xp2c@EZYPsQ~Yq~xX5Hl7ydgAAAAAc]",
            "Use a unique customer ID.",
        )
    ]
    gw = FakeGateway(
        lambda call: response_xml([result_xml("create", "c-1", status="failure", errors=errors)])
    )
    client = make_client(gw)
    [outcome] = client.execute([fn.create("CUSTOMER", {"CUSTOMERID": "C-1"}, controlid="c-1")])
    assert outcome.status is OutcomeStatus.FAILED
    assert not outcome.done
    err = outcome.error
    assert isinstance(err, BusinessError)
    assert err.errorno == "BL01001973"
    assert err.description == "Another record with the value C-1 already exists."
    assert err.description2 == "Could not create Customer record!"
    assert err.correction == "Use a unique customer ID."
    assert len(gw.content_calls) == 1  # business errors are never retried
    with pytest.raises(BusinessError):
        outcome.raise_for_error()


def test_dl_and_pl_are_business_errors() -> None:
    for errno in ("DL02000001", "PL04000055"):
        body = response_xml([], auth_status="failure", auth_errors=[error_xml(errno, "refused")])
        gw = FakeGateway(fixed(200, body))
        client = make_client(gw)
        with pytest.raises(BusinessError) as info:
            client.execute([read_fn()])
        assert info.value.errorno == errno


def test_transient_errors_are_retried_with_backoff_then_succeed() -> None:
    answers = [(503, b""), (502, CLOUDFLARE_HTML), (200, b"")]

    def handler(call: Call) -> tuple[int, bytes]:
        if answers:
            return answers.pop(0)
        return 200, response_xml([result_xml("read", "read-1")])

    gw = FakeGateway(handler)
    client = make_client(gw)
    [outcome] = client.execute([read_fn()])
    assert outcome.done
    assert len(gw.content_calls) == 4
    sleeps = client.sleeps  # type: ignore[attr-defined]
    assert len(sleeps) == 3
    # full jitter under an exponential ceiling: 0.5, 1, 2
    assert all(0 <= s <= c for s, c in zip(sleeps, (0.5, 1.0, 2.0), strict=True))


def test_retries_stop_after_the_allowed_attempts() -> None:
    gw = FakeGateway(fixed(503, b""))
    client = make_client(gw, attempts=3)
    with pytest.raises(TransientError):
        client.execute([read_fn()])
    assert len(gw.content_calls) == 3


def test_rate_limit_honours_retry_after() -> None:
    answers = [(429, b"GW-0010")]

    def handler(call: Call) -> tuple[int, bytes]:
        return answers.pop(0) if answers else (200, response_xml([result_xml("read", "read-1")]))

    gw = FakeGateway(handler)
    client = make_client(gw)
    original = gw.__call__

    def with_header(url, body, timeouts):
        resp = original(url, body, timeouts)
        if resp.status == 429:
            return type(resp)(429, resp.body, {"Retry-After": "7"})
        return resp

    client._transport = with_header
    assert client.execute([read_fn()])[0].done
    assert client.sleeps == [7.0]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("exc", "is_write", "expected"),
    [
        (requests.exceptions.ReadTimeout(), True, OutcomeUnknownError),
        (requests.exceptions.ReadTimeout(), False, TransientError),
        (requests.exceptions.ConnectionError("reset"), True, OutcomeUnknownError),
        (requests.exceptions.ConnectionError("reset"), False, TransientError),
        (requests.exceptions.ConnectTimeout(), True, TransientError),  # never reached Intacct
    ],
)
def test_lost_responses(exc: Exception, is_write: bool, expected: type[Exception]) -> None:
    def handler(call: Call) -> bytes:
        raise exc

    gw = FakeGateway(handler)
    client = make_client(gw, attempts=2)
    with pytest.raises(expected) as info:
        client.execute([write_fn() if is_write else read_fn()])
    assert info.value.__cause__ is None  # request exceptions (with the body) are not chained
    assert len(gw.content_calls) == 2  # retried


def test_auth_failure_of_a_session_renews_it_once(caplog: pytest.LogCaptureFixture) -> None:
    state = {"n": 0}

    def handler(call: Call) -> bytes:
        state["n"] += 1
        if state["n"] == 1:
            return response_xml(
                [], auth_status="failure", auth_errors=[error_xml("XL03000006", "Invalid session")]
            )
        return response_xml([result_xml("read", "read-1")])

    gw = FakeGateway(handler)
    client = make_client(gw)
    with caplog.at_level(logging.INFO, logger="bisync.intacct.client"):
        assert client.execute([read_fn()])[0].done
    assert gw.logins == 2
    first, second = gw.content_calls
    assert first.sessionid != second.sessionid
    # An operator can see the renewal, and the line carries no session id.
    renewals = [r for r in caplog.records if r.getMessage() == "intacct session refused; logging in again"]
    assert len(renewals) == 1
    assert first.sessionid
    assert first.sessionid not in caplog.text


def test_persistent_auth_failure_is_raised_not_looped() -> None:
    gw = FakeGateway(
        lambda call: response_xml([], auth_status="failure", auth_errors=[error_xml("XL03000006", "bad")])
    )
    client = make_client(gw)
    with pytest.raises(AuthenticationError):
        client.execute([read_fn()])
    assert gw.logins == 2
    assert len(gw.content_calls) == 2


# What real Intacct answers a wrong sender password with (mocked verbatim by the official
# PHP/.NET/Python/Node SDK tests): HTTP 401 and a bare control-level errormessage.
SIGN_IN_INCORRECT_401 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<response><control><status>failure</status></control>'
    b"<errormessage><error><errorno>XMLGW_JPP0002</errorno><description>Sign-in information is "
    b"incorrect. Please check your request.</description></error></errormessage></response>"
)


def _assert_no_secrets(err: BaseException) -> None:
    text = " ".join([str(err), repr(err), *map(str, err.args), getattr(err, "message", "")])
    for secret in (SENDER_PW, USER_PW, SESSION_ID):
        assert secret not in text


def test_401_sign_in_incorrect_at_login_is_authentication_error_not_retried() -> None:
    calls: list[bytes] = []

    def refuse(url: str, body: bytes, timeouts: object) -> HttpResponse:
        calls.append(body)
        return HttpResponse(401, SIGN_IN_INCORRECT_401, {"Content-Type": "text/xml"})

    client = make_client(FakeGateway(success_for_all), attempts=5)
    client._transport = refuse
    with pytest.raises(AuthenticationError) as info:
        client.execute([read_fn()])
    err = info.value
    assert err.http_status == 401
    assert err.errorno == "XMLGW_JPP0002"
    assert err.description == "Sign-in information is incorrect. Please check your request."
    assert not err.retryable
    assert "XMLGW_JPP0002" in str(err)
    assert len(calls) == 1  # the getAPISession login only: no retry, no second login
    assert client.sleeps == []  # type: ignore[attr-defined]
    assert SENDER_PW.encode() in calls[0]  # the request did carry it...
    _assert_no_secrets(err)  # ...the exception does not


def test_401_sign_in_incorrect_on_a_session_relogs_in_once_then_raises() -> None:
    gw = FakeGateway(success_for_all)
    client = make_client(gw, attempts=5)
    client.execute([read_fn()])  # a live session
    gw.handler = fixed(401, SIGN_IN_INCORRECT_401)
    with pytest.raises(AuthenticationError) as info:
        client.execute([read_fn()])
    assert info.value.errorno == "XMLGW_JPP0002"
    assert gw.logins == 2  # one renewal of the session, no loop
    assert len(gw.content_calls) == 3  # the first success, then the 401 before and after it
    assert client.sleeps == []  # type: ignore[attr-defined]
    _assert_no_secrets(info.value)
