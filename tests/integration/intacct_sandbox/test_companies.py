"""`POST /_sandbox/companies`: another company with the default data, its own faults and counters."""

from __future__ import annotations

import requests

from sandbox.intacct import COMPANY_ID

from .conftest import Gateway


def test_a_new_company_has_the_defaults_and_its_own_faults_and_counters(gw: Gateway) -> None:
    assert gw.admin("companies", {"company": "CHAOS-1"}) == {"company": "CHAOS-1", "created": True}
    assert gw.admin("companies", {"company": "CHAOS-1"}) == {"company": "CHAOS-1", "created": False}
    assert gw.admin("companies", None) == {"companies": sorted([COMPANY_ID, "CHAOS-1"])}
    gw.admin("faults", {"company": "CHAOS-1", "rate_5xx": 1.0})

    faulted = gw.raw(gw.body(["<getAPISession/>"], auth=gw.login_xml(company="CHAOS-1")))
    assert faulted.status_code >= 500  # the new company's fault
    assert gw.call("<getAPISession/>").control_status == "success"  # SANDBOX has none

    gw.admin("faults", {"company": "CHAOS-1", "clear": True})
    login = gw.login_xml(company="CHAOS-1", entity="E100")
    sid = gw.post(["<getAPISession/>"], auth=login).data().findtext("api/sessionid", "")
    accounts = gw.post(
        ["<query><object>GLACCOUNT</object><select><field>ACCOUNTNO</field></select></query>"],
        auth=f"<sessionid>{sid}</sessionid>",
    )
    assert "4900" in [e.text for e in accounts.data().iter("ACCOUNTNO")]
    counters = gw.admin("counters", None)
    assert counters["CHAOS-1"]["faults_injected"] == 1
    assert counters[COMPANY_ID]["faults_injected"] == 0


def test_a_bad_company_name_or_setting_is_400_and_creates_nothing(gw: Gateway) -> None:
    url = f"{gw.handle.url}/_sandbox/companies"
    for body in ({}, {"company": ""}, {"company": "a b"}, {"company": "x" * 41}, {"company": 7}):
        reply = requests.post(url, json=body, timeout=10)
        assert reply.status_code == 400, body
        assert "company must be" in reply.json()["error"]
    reply = requests.post(url, json={"company": "OK", "seed": 1}, timeout=10)
    assert (reply.status_code, reply.json()) == (400, {"error": "unknown setting seed"})
    assert gw.admin("companies", None) == {"companies": [COMPANY_ID]}
