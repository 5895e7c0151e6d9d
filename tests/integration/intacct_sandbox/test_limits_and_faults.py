"""Concurrency cap, counters, fault injection, seeding and dump."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.intacct import COMPANY_ID

from .conftest import Gateway


def test_concurrency_cap_answers_429_gw_0010(gw: Gateway) -> None:
    body = gw.body(["<getAPISession/>"], auth=f"<sessionid>{gw.session_id()}</sessionid>")
    gw.admin("faults", {"latency_ms": 300})
    with ThreadPoolExecutor(4) as pool:
        responses = list(
            pool.map(lambda _: requests.post(gw.handle.gateway_url, data=body, timeout=10), range(4))
        )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 2
    assert codes.count(429) == 2
    limited = next(r for r in responses if r.status_code == 429)
    assert b"GW-0010" in limited.content
    assert gw.admin("counters", None)[COMPANY_ID]["rate_limited"] == 2


def test_counters_count_requests_and_transactions(gw: Gateway) -> None:
    gw.session_id()  # one request, a read call
    gw.customer("CNT1")
    gw.post(
        [
            "<create><CUSTOMER><CUSTOMERID>CNT2</CUSTOMERID><NAME>a</NAME></CUSTOMER>"
            "<CUSTOMER><CUSTOMERID>CNT3</CUSTOMERID><NAME>b</NAME></CUSTOMER></create>",
            "<query><object>CUSTOMER</object><select><field>RECORDNO</field></select></query>",
        ]
    )
    gw.post(["<create><CUSTOMER><CUSTOMERID>CNT1</CUSTOMERID><NAME>dup</NAME></CUSTOMER></create>"])
    counters = gw.admin("counters", None)[COMPANY_ID]
    assert counters["requests"] == 4
    # customer 1 + two customers 2 + query 1; getAPISession and the failed create count nothing.
    assert counters["transactions"] == 4


def test_fault_rates_are_deterministic_with_a_seed(gw: Gateway) -> None:
    body = gw.body(["<getAPISession/>"], auth=gw.login_xml())

    def run() -> list[int]:
        gw.admin("faults", {"rate_5xx": 0.5, "seed": 42})
        return [requests.post(gw.handle.gateway_url, data=body, timeout=5).status_code for _ in range(12)]

    first, second = run(), run()
    assert first == second
    assert set(first) - {200} <= {500, 502, 503}
    assert 200 in first
    assert len(set(first)) > 1


@pytest.mark.parametrize(
    ("setting", "status", "marker"),
    [
        ({"rate_429": 1}, 429, b"GW-0010"),
        ({"rate_524": 1}, 524, b""),
        ({"rate_html": 1}, 200, b"<html>"),
        ({"rate_html": 1, "html_status": 503}, 503, b"<html>"),
    ],
)
def test_each_fault_kind(gw: Gateway, setting: dict[str, object], status: int, marker: bytes) -> None:
    gw.admin("faults", {**setting, "seed": 1})
    resp = gw.raw(
        gw.body(
            ["<create><CUSTOMER><CUSTOMERID>F1</CUSTOMERID><NAME>x</NAME></CUSTOMER></create>"],
            auth=gw.login_xml(),
        )
    )
    assert resp.status_code == status
    assert marker in resp.content
    gw.admin("faults", {"clear": True})
    # None of these faults let the write happen.
    assert COMPANY_ID not in gw.admin("dump?object=CUSTOMER", None)


def test_lost_response_after_commit_close_and_524(gw: Gateway) -> None:
    auth = gw.login_xml()
    gw.admin("faults", {"rate_lost_response": 1, "seed": 3})
    with pytest.raises(requests.ConnectionError):
        gw.raw(
            gw.body(
                ["<create><CUSTOMER><CUSTOMERID>L1</CUSTOMERID><NAME>x</NAME></CUSTOMER></create>"], auth=auth
            )
        )
    gw.admin("faults", {"lost_response_mode": "524"})
    resp = gw.raw(
        gw.body(
            ["<create><CUSTOMER><CUSTOMERID>L2</CUSTOMERID><NAME>x</NAME></CUSTOMER></create>"], auth=auth
        )
    )
    assert resp.status_code == 524
    # Reads are never "lost": only requests that write.
    assert gw.raw(gw.body(["<getAPISession/>"], auth=auth)).status_code == 200
    gw.admin("faults", {"clear": True})
    ids = sorted(c["CUSTOMERID"] for c in gw.admin("dump?object=CUSTOMER", None)[COMPANY_ID]["CUSTOMER"])
    assert ids == ["L1", "L2"]
    assert gw.admin("counters", None)[COMPANY_ID]["lost_responses"] == 2


def test_one_shot_faults_hit_the_next_requests_and_are_counted_by_kind(gw: Gateway) -> None:
    auth = gw.login_xml()
    create = "<create><CUSTOMER><CUSTOMERID>{}</CUSTOMERID><NAME>x</NAME></CUSTOMER></create>"
    gw.admin("faults", {"force_429": 1, "force_5xx": 1, "force_lost_response": 1})
    first = gw.raw(gw.body([create.format("O1")], auth=auth))
    second = gw.raw(gw.body([create.format("O2")], auth=auth))
    assert (first.status_code, second.status_code) == (429, second.status_code)
    assert second.status_code in (500, 502, 503)
    # The lost response waits for a write: a read goes through untouched.
    assert gw.raw(gw.body(["<getAPISession/>"], auth=auth)).status_code == 200
    with pytest.raises(requests.ConnectionError):
        gw.raw(gw.body([create.format("O3")], auth=auth))
    assert gw.raw(gw.body([create.format("O4")], auth=auth)).status_code == 200
    counters = gw.admin("counters", None)[COMPANY_ID]
    assert {
        k: counters[k] for k in ("injected_429", "injected_5xx", "faults_injected", "lost_responses")
    } == {
        "injected_429": 1,
        "injected_5xx": 1,
        "faults_injected": 2,
        "lost_responses": 1,
    }
    ids = sorted(c["CUSTOMERID"] for c in gw.admin("dump?object=CUSTOMER", None)[COMPANY_ID]["CUSTOMER"])
    assert ids == ["O3", "O4"]  # the 429 and the 5xx let nothing run; the lost one committed
    assert gw.admin("faults", None)[COMPANY_ID]["force_lost_response"] == 0


def test_changing_a_rate_keeps_the_draws_going_and_a_new_seed_restarts_them(gw: Gateway) -> None:
    body = gw.body(["<getAPISession/>"], auth=gw.login_xml())

    def codes(n: int) -> list[int]:
        return [requests.post(gw.handle.gateway_url, data=body, timeout=5).status_code for _ in range(n)]

    gw.admin("faults", {"rate_5xx": 0.5, "seed": 7})
    whole = codes(16)
    gw.admin("faults", {"rate_5xx": 0.5, "seed": 7})
    head = codes(8)
    gw.admin("faults", {"latency_ms": 0})  # no seed: the sequence goes on where it was
    assert head + codes(8) == whole


def test_logins_and_refusals_of_expired_sessions_are_counted(gw: Gateway) -> None:
    sid = gw.session_id()
    logins = gw.admin("counters", None)[COMPANY_ID]["logins"]
    assert logins >= 1
    assert gw.admin("expire-sessions", {})["expired"] >= 1
    assert gw.admin("expire-sessions", {})["expired"] == 0  # only live sessions are ended
    refused = gw.call("<getAPISession/>", auth=f"<sessionid>{sid}</sessionid>")
    assert refused.auth_status == "failure"
    gw.post(["<getAPISession/>"], auth=gw.login_xml())  # what a client does next: log in again
    counters = gw.admin("counters", None)[COMPANY_ID]
    assert counters["expired_session_refusals"] == 1
    assert counters["logins"] == logins + 1


def test_latency_fault_delays(gw: Gateway) -> None:
    gw.admin("faults", {"latency_ms": 120, "jitter_ms": 10, "seed": 5})
    resp = gw.raw(gw.body(["<getAPISession/>"], auth=gw.login_xml()))
    assert resp.elapsed.total_seconds() >= 0.12


def test_seed_reset_and_dump(gw: Gateway) -> None:
    counts = gw.admin("seed", {"n": 30, "payments": 10})
    assert counts == {"customers": 30, "invoices": 30, "payments": 10}
    data = gw.call(
        "<query><object>ARINVOICE</object><select><field>STATE</field></select><filter><equalto>"
        "<field>STATE</field><value>Paid</value></equalto></filter></query>"
    ).data()
    assert data.get("totalcount") == "10"
    dump = gw.admin("dump?object=ARPYMT", None)
    assert len(dump[COMPANY_ID]["ARPYMT"]) == 10
    gw.admin("reset", {})
    assert gw.admin("dump?object=CUSTOMER", None) == {}
    assert len(gw.admin("dump?object=GLACCOUNT", None)[COMPANY_ID]["GLACCOUNT"]) >= 4


def test_admin_refuses_unknown_settings(gw: Gateway) -> None:
    resp = requests.post(f"{gw.handle.url}/_sandbox/faults", json={"rate_everything": 1}, timeout=5)
    assert resp.status_code == 400
