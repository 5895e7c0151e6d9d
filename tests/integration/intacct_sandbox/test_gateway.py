"""Protocol level: control/authentication/result statuses, sessions, entities, transport errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from defusedxml.ElementTree import fromstring

from sandbox.intacct import COMPANY_ID, GATEWAY_PATH, SENDER_ID, USER_ID, start_server

from .conftest import Gateway, Response, errors_of


def test_get_api_session_returns_own_endpoint_and_a_working_session(gw: Gateway) -> None:
    resp = gw.call("<getAPISession/>", auth=gw.login_xml())
    assert resp.control_status == "success"
    assert resp.auth_status == "success"
    api = resp.data().find("api")
    assert api is not None
    assert api.findtext("endpoint") == gw.handle.gateway_url
    sid = api.findtext("sessionid", "")
    assert len(sid) > 20
    auth = resp.root.find("operation/authentication")
    assert auth is not None
    assert auth.findtext("userid") == USER_ID
    assert auth.findtext("companyid") == COMPANY_ID
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", auth.findtext("sessiontimeout", ""))
    # The session id authenticates later requests.
    again = gw.call("<getAPISession/>", auth=f"<sessionid>{sid}</sessionid>")
    assert again.data().findtext("api/sessionid") == sid


def test_entity_login_by_locationid_and_by_company_pipe_entity(gw: Gateway) -> None:
    by_loc = gw.call("<getAPISession/>", auth=gw.login_xml(entity="E100"))
    assert by_loc.data().findtext("api/locationid") == "E100"
    by_pipe = gw.call("<getAPISession/>", auth=gw.login_xml(company=f"{COMPANY_ID}|E200"))
    assert by_pipe.data().findtext("api/locationid") == "E200"
    assert by_pipe.root.findtext("operation/authentication/locationid") == "E200"
    bad = gw.call("<getAPISession/>", auth=gw.login_xml(entity="E999"))
    assert bad.auth_status == "failure"
    assert errors_of(bad.root.find("operation"))[0]["errorno"] == "XL03000006"  # type: ignore[arg-type]


def test_unknown_sender_is_a_control_level_failure(gw: Gateway) -> None:
    resp = Response(
        gw.raw(gw.body(["<getAPISession/>"], auth=gw.login_xml(), sender="nobody", sender_password="nope"))
    )
    assert resp.status_code == 200
    assert resp.control_status == "failure"
    assert resp.root.find("operation") is None
    # control-level errormessage is a sibling of <control>
    assert [c.tag for c in resp.root] == ["control", "errormessage"]
    err = errors_of(resp.root)[0]
    assert err["errorno"] == "XL03000006"
    assert err["description2"].startswith("Incorrect Intacct XML Partner ID or password.")
    assert "[Support ID: " in err["description2"]


_GOOD_CONTROL = (
    "<senderid>blixo-sandbox</senderid><password>sandbox-sender</password><controlid>c-1</controlid>"
    "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion>"
)


@pytest.mark.parametrize(
    ("control", "culprit"),
    [
        (
            _GOOD_CONTROL.replace(
                "<senderid>blixo-sandbox</senderid><password>sandbox-sender</password>",
                "<password>sandbox-sender</password><senderid>blixo-sandbox</senderid>",
            ),
            "'password'",
        ),
        (
            _GOOD_CONTROL.replace(
                "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion>",
                "<dtdversion>3.0</dtdversion><uniqueid>false</uniqueid>",
            ),
            "'dtdversion'",
        ),
        (_GOOD_CONTROL + "<includewhitespace>false</includewhitespace><debug>false</debug>", "'debug'"),
        (_GOOD_CONTROL + "<includewhitespace>false</includewhitespace><policyid>p</policyid>", "'policyid'"),
        (_GOOD_CONTROL.replace("<uniqueid>false</uniqueid>", ""), "'dtdversion'"),
        (_GOOD_CONTROL.replace("<dtdversion>3.0</dtdversion>", ""), "'control'"),
        (_GOOD_CONTROL + "<colour>red</colour>", "'colour'"),
    ],
)
def test_control_block_is_schema_checked_in_order(gw: Gateway, control: str, culprit: str) -> None:
    body = gw.body(["<getAPISession/>"], auth=gw.login_xml())
    start, end = body.index("<control>") + len("<control>"), body.index("</control>")
    resp = Response(gw.raw(body[:start] + control + body[end:]))
    assert resp.status_code == 200
    assert resp.control_status == "failure"
    assert [c.tag for c in resp.root] == ["control", "errormessage"]
    err = errors_of(resp.root)[0]
    assert err["errorno"] == "XL03000003"
    assert culprit in err["description2"]


def test_control_block_with_every_optional_element_in_order_is_accepted(gw: Gateway) -> None:
    body = gw.body(["<getAPISession/>"], auth=gw.login_xml())
    start, end = body.index("<control>") + len("<control>"), body.index("</control>")
    full = (
        _GOOD_CONTROL
        + "<policyid>p</policyid><debug>false</debug><includewhitespace>false</includewhitespace>"
    )
    resp = Response(gw.raw(body[:start] + full + body[end:]))
    assert resp.control_status == "success"
    assert resp.ok().find("data/api/sessionid") is not None


# Verbatim what the official Intacct SDKs' tests mock for "sign-in incorrect".
SIGN_IN_INCORRECT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<response><control><status>failure</status></control>'
    b"<errormessage><error><errorno>XMLGW_JPP0002</errorno><description>Sign-in information is "
    b"incorrect. Please check your request.</description></error></errormessage></response>"
)


@pytest.mark.parametrize("auth", ["login", "session"])
def test_wrong_sender_password_is_http_401_xmlgw_jpp0002(gw: Gateway, auth: str) -> None:
    auth_xml = gw.login_xml() if auth == "login" else f"<sessionid>{gw.session_id()}</sessionid>"
    http = gw.raw(gw.body(["<getAPISession/>"], auth=auth_xml, sender_password="wrong-sender-pw"))
    assert http.status_code == 401
    assert http.headers["Content-Type"].startswith("text/xml")
    assert http.content == SIGN_IN_INCORRECT
    # The shape, element by element: control holds only a status; no operation, no Support ID.
    root = fromstring(http.content)
    assert [c.tag for c in root] == ["control", "errormessage"]
    assert [(c.tag, c.text) for c in root.find("control")] == [("status", "failure")]
    assert errors_of(root) == [
        {
            "errorno": "XMLGW_JPP0002",
            "description": "Sign-in information is incorrect. Please check your request.",
        }
    ]
    assert b"wrong-sender-pw" not in http.content


def test_sender_not_authorised_for_the_company_is_an_authentication_failure(gw: Gateway) -> None:
    sid = gw.session_id()
    store = gw.handle.sandbox.store
    with store.lock:
        settings = store.settings(COMPANY_ID)
        assert settings is not None
        store.put_settings(COMPANY_ID, settings | {"senders": []})
    # Intacct's developer FAQ: control success, authentication failure, "Invalid Web Services
    # Authorization" — for a login and for an existing session alike.
    for auth in (gw.login_xml(), f"<sessionid>{sid}</sessionid>"):
        resp = gw.call("<getAPISession/>", auth=auth)
        assert resp.status_code == 200
        assert resp.control_status == "success"
        assert resp.auth_status == "failure"
        assert resp.results == []
        op = resp.root.find("operation")
        assert op is not None
        assert [c.tag for c in op] == ["authentication", "errormessage"]
        err = errors_of(op)[0]
        assert err["errorno"] == "XL03000006"
        assert err["description"] == "Invalid Web Services Authorization"
        assert err["description2"].startswith(
            f"The sender ID '{SENDER_ID}' is not authorized to make Web Services requests to "
            f"company ID '{COMPANY_ID}'."
        )


def test_bad_password_is_an_authentication_failure_with_no_result(gw: Gateway) -> None:
    resp = gw.call("<getAPISession/>", auth=gw.login_xml(password="wrong"))
    assert resp.control_status == "success"
    assert resp.auth_status == "failure"
    assert resp.results == []
    op = resp.root.find("operation")
    assert op is not None
    assert [c.tag for c in op] == ["authentication", "errormessage"]
    assert errors_of(op)[0]["errorno"] == "XL03000006"


def test_expired_sessions_fail_authentication(gw: Gateway) -> None:
    sid = gw.session_id()
    assert gw.call("<getAPISession/>").auth_status == "success"
    assert gw.admin("expire-sessions", {})["expired"] >= 1
    resp = gw.call("<getAPISession/>", auth=f"<sessionid>{sid}</sessionid>")
    assert resp.auth_status == "failure"
    assert errors_of(resp.root.find("operation"))[0]["errorno"] == "XL03000006"  # type: ignore[arg-type]


def test_session_lifetime_setting_expires_sessions(gw: Gateway) -> None:
    gw.admin("config", {"session_timeout_s": -1})
    sid = gw.call("<getAPISession/>", auth=gw.login_xml()).data().findtext("api/sessionid")
    resp = gw.call("<getAPISession/>", auth=f"<sessionid>{sid}</sessionid>")
    assert resp.auth_status == "failure"


def test_get_is_refused_and_garbage_is_answered_in_gateway_shapes(gw: Gateway) -> None:
    assert requests.get(gw.handle.gateway_url, timeout=5).status_code == 405
    empty = gw.raw(b"")
    assert empty.status_code == 400
    assert b"GW-0011" in empty.content
    broken = Response(gw.raw(b"<request><control>"))
    assert broken.control_status == "failure"
    assert errors_of(broken.root)[0]["errorno"] == "XL03000003"


def test_any_content_type_is_accepted(gw: Gateway) -> None:
    body = gw.body(["<getAPISession/>"], auth=gw.login_xml())
    resp = requests.post(gw.handle.gateway_url, data=body, headers={"Content-Type": "text/plain"}, timeout=5)
    assert Response(resp).data().findtext("api/endpoint", "").endswith(GATEWAY_PATH)


def test_several_functions_fail_independently_without_transaction(gw: Gateway) -> None:
    resp = gw.post(
        [
            "<create><CUSTOMER><CUSTOMERID>C1</CUSTOMERID><NAME>One</NAME></CUSTOMER></create>",
            "<create><CUSTOMER><CUSTOMERID>C1</CUSTOMERID><NAME>Dup</NAME></CUSTOMER></create>",
            "<create><CUSTOMER><CUSTOMERID>C2</CUSTOMERID><NAME>Two</NAME></CUSTOMER></create>",
        ]
    )
    assert [r.findtext("status") for r in resp.results] == ["success", "failure", "success"]
    assert [r.findtext("function") for r in resp.results] == ["create"] * 3
    dump = gw.admin("dump?object=CUSTOMER", None)
    assert sorted(c["CUSTOMERID"] for c in dump[COMPANY_ID]["CUSTOMER"]) == ["C1", "C2"]


def test_transaction_true_rolls_back_everything_with_failure_and_aborted(gw: Gateway) -> None:
    resp = gw.post(
        [
            "<create><CUSTOMER><CUSTOMERID>T1</CUSTOMERID><NAME>One</NAME></CUSTOMER></create>",
            gw.invoice_xml("NOPE"),
            "<create><CUSTOMER><CUSTOMERID>T2</CUSTOMERID><NAME>Two</NAME></CUSTOMER></create>",
        ],
        transaction=True,
    )
    assert [r.findtext("status") for r in resp.results] == ["aborted", "failure", "aborted"]
    culprit = resp.errors(1)
    assert culprit[0]["errorno"] == "BL01001973"
    assert culprit[-1]["errorno"] == "XL03000009"
    assert resp.errors(0)[0]["errorno"] == "XL03000009"
    assert resp.result(0).find("data") is None
    assert COMPANY_ID not in gw.admin("dump?object=CUSTOMER", None)


def test_uniqueid_refuses_a_replayed_controlid_and_keeps_one_record(gw: Gateway) -> None:
    fn = "<create><CUSTOMER><CUSTOMERID>U1</CUSTOMERID><NAME>Once</NAME></CUSTOMER></create>"
    first = gw.post([fn], uniqueid=True, controlids=["cust-U1-v1"])
    assert first.result().findtext("status") == "success"
    replay = gw.post([fn], uniqueid=True, controlids=["cust-U1-v1"])
    assert replay.result().findtext("status") == "failure"
    assert (
        "A successful transaction has already been recorded with the control id cust-U1-v1"
        in replay.errors()[0]["description2"]
    )
    # Failures are not remembered: a failed controlid may be retried.
    bad = gw.post([gw.invoice_xml("NOPE")], uniqueid=True, controlids=["inv-1"])
    assert bad.result().findtext("status") == "failure"
    gw.customer("NOPE")
    assert gw.post([gw.invoice_xml("NOPE")], uniqueid=True, controlids=["inv-1"]).key()
    # Without uniqueid the same controlid runs again.
    again = gw.post(
        ["<create><CUSTOMER><CUSTOMERID>U2</CUSTOMERID><NAME>x</NAME></CUSTOMER></create>"],
        controlids=["cust-U1-v1"],
    )
    assert again.result().findtext("status") == "success"


def test_cli_starts_the_server_and_prints_credentials(tmp_path: object) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.intacct", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())["intacct"]
        assert info["company_id"] == "SANDBOX"
        assert info["sender_id"] == "blixo-sandbox"
        assert info["url"].endswith(GATEWAY_PATH)
        assert requests.get(info["url"].replace(GATEWAY_PATH, "/_sandbox/health"), timeout=5).json()["ok"]
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_state_in_a_sqlite_file_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "intacct.sqlite")
    first = start_server(port=0, db=db)
    try:
        Gateway(first).customer("KEEP-1", "Persisted")
    finally:
        first.stop()
        first.sandbox.store.db.close()
    second = start_server(port=0, db=db)
    try:
        dump = Gateway(second).admin(f"dump?company={COMPANY_ID}&object=CUSTOMER", None)
        assert [c["CUSTOMERID"] for c in dump[COMPANY_ID]["CUSTOMER"]] == ["KEEP-1"]
        # Defaults are loaded once, not duplicated on reopening.
        terms = Gateway(second).admin(f"dump?company={COMPANY_ID}&object=ARTERM", None)
        assert sorted(t["NAME"] for t in terms[COMPANY_ID]["ARTERM"]) == ["DUE", "N15", "N30"]
    finally:
        second.stop()


def test_support_ids_are_valid_percent_encoding(gw: Gateway) -> None:
    from urllib.parse import unquote

    from sandbox.intacct.values import support_id

    encoded = re.compile(r"^(?:[A-Za-z0-9]|%[0-9A-F]{2})+$")
    ids = [support_id() for _ in range(2000)]
    assert all(encoded.match(i) for i in ids), [i for i in ids if not encoded.match(i)][:3]
    assert all(unquote(i)[10] == "~" for i in ids)
    assert any("%2F" in i or "%2B" in i for i in ids)  # the encoded characters do occur
    resp = gw.call("<readMore><resultId>nope</resultId></readMore>")
    found = re.search(r"\[Support ID: ([^\]]+)\]$", resp.errors()[0]["description2"])
    assert found is not None
    assert encoded.match(found.group(1))


def test_requests_of_no_known_company_leave_the_counters_alone(gw: Gateway) -> None:
    unknown_sender_bad_session = gw.body(
        ["<getAPISession/>"],
        auth="<sessionid>no-such-session</sessionid>",
        sender="nobody",
        sender_password="x",
    )
    unknown_company = gw.body(["<getAPISession/>"], auth=gw.login_xml(company="NOPE"))
    for body in (unknown_sender_bad_session, unknown_company):
        resp = Response(gw.raw(body))
        assert "failure" in (resp.control_status, resp.auth_status)
    counters = gw.admin("counters", None)
    assert set(counters) <= {COMPANY_ID}, counters
    assert "?" not in counters
    gw.call("<getAPISession/>", auth=gw.login_xml())
    assert gw.admin("counters", None)[COMPANY_ID]["requests"] == 1
