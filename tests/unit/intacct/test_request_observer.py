"""The client's request observer: one call per HTTP request, with timing and rate limits, and
nothing an observer does can change what the client does."""

from __future__ import annotations

import pytest

from bisync.intacct import functions as fn
from bisync.intacct.client import RequestStats
from bisync.intacct.errors import RateLimitError, TransientError
from tests.unit.intacct.fakes import (
    SENDER_PW,
    SESSION_ID,
    USER_PW,
    Call,
    FakeGateway,
    error_xml,
    make_client,
    response_xml,
    result_xml,
    success_for_all,
)


def read_fn() -> fn.Function:
    return fn.read("CUSTOMER", ["1"], controlid="read-1")


def test_every_request_is_observed_login_first() -> None:
    client = make_client(FakeGateway(success_for_all))
    seen: list[RequestStats] = []
    client.add_observer(seen.append)

    client.execute([read_fn()])
    client.execute([fn.delete("CUSTOMER", ["7"], controlid="del-7")])

    assert [(s.login, s.writes, s.http_status, s.rate_limited) for s in seen] == [
        (True, False, 200, False),
        (False, False, 200, False),
        (False, True, 200, False),
    ]
    assert all(s.seconds >= 0 for s in seen)


def test_http_429_is_observed_as_rate_limited_on_each_attempt() -> None:
    answers = [(429, b"GW-0010"), (429, b"GW-0010")]

    def handler(call: Call) -> tuple[int, bytes] | bytes:
        return answers.pop(0) if answers else success_for_all(call)

    client = make_client(FakeGateway(handler))
    seen: list[RequestStats] = []
    client.add_observer(seen.append)

    client.execute([read_fn()])

    content = [s for s in seen if not s.login]
    assert [(s.http_status, s.rate_limited) for s in content] == [(429, True), (429, True), (200, False)]


def test_a_function_refused_as_over_the_limit_counts_as_rate_limited() -> None:
    limited = result_xml(
        "read",
        "read-1",
        status="failure",
        errors=[error_xml("XL03000001", "There is a concurrent request in process.")],
    )
    client = make_client(FakeGateway(lambda _c: response_xml([limited])), attempts=1)
    seen: list[RequestStats] = []
    client.add_observer(seen.append)

    with pytest.raises(RateLimitError):
        client.execute([read_fn()])

    assert [(s.http_status, s.rate_limited) for s in seen if not s.login] == [(200, True)]


def test_a_server_error_is_observed_but_not_as_a_rate_limit() -> None:
    client = make_client(FakeGateway(lambda _c: (503, b"down")), attempts=2)
    seen: list[RequestStats] = []
    client.add_observer(seen.append)

    with pytest.raises(TransientError):
        client.execute([read_fn()])

    assert [(s.http_status, s.rate_limited) for s in seen if not s.login] == [(503, False), (503, False)]


def test_a_request_without_an_answer_has_no_status() -> None:
    def handler(_call: Call) -> tuple[int, bytes]:
        raise ConnectionError("connection refused")

    client = make_client(FakeGateway(handler), attempts=1)
    seen: list[RequestStats] = []
    client.add_observer(seen.append)

    with pytest.raises(TransientError):
        client.execute([read_fn()])

    assert [s.http_status for s in seen if not s.login] == [None]


def test_a_failing_observer_changes_nothing() -> None:
    client = make_client(FakeGateway(success_for_all))

    def broken(_stats: RequestStats) -> None:
        raise RuntimeError("metrics backend down")

    client.add_observer(broken)
    outcome = client.execute([read_fn()])[0]

    assert outcome.done


def test_stats_carry_no_secret() -> None:
    client = make_client(FakeGateway(success_for_all))
    seen: list[RequestStats] = []
    client.add_observer(seen.append)
    client.execute([read_fn()])

    text = repr(seen)
    for secret in (SENDER_PW, USER_PW, SESSION_ID):
        assert secret not in text
