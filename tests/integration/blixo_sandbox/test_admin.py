"""Admin endpoints (reset, seed, dump, clock) and starting the sandbox as a process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from sandbox.blixo import DEFAULT_API_KEY, start_server
from tests.conftest import ROOT
from tests.integration.blixo_sandbox.conftest import Api, Receiver


def test_reset_clears_data_webhooks_faults_and_settings(api: Api, receiver: Receiver) -> None:
    api.customer()
    api.ok("POST", "/webhooks", {"url": receiver.url})
    api.admin("POST", "faults", {"latencyMs": 5})
    api.admin("POST", "settings", {"concurrencyLimit": 3})
    api.admin("POST", "webhook-settings", {"duplicateDelivery": True})

    assert api.admin("POST", "reset") == {"reset": True}

    dump = api.admin("GET", "dump")
    assert (dump["customers"], dump["webhooks"], dump["events"]) == ([], [], 0)
    assert api.admin("GET", "faults")["latencyMs"] == 0
    assert api.admin("GET", "settings")["concurrencyLimit"] == 20
    assert api.admin("GET", "webhook-settings")["duplicateDelivery"] is False
    assert api.admin("GET", "webhook-settings")["retryDelaysSeconds"] == [0.01, 0.02, 0.04]  # as started
    assert api.customer()["customerNo"] == "CUST-00001"  # numbering restarts too


def _now(api: Api) -> datetime:
    return datetime.fromisoformat(api.admin("GET", "clock")["now"])


def _ahead_of_real_time(api: Api) -> float:
    return (_now(api) - datetime.now(UTC)).total_seconds()


def test_reset_brings_the_clock_back_to_real_time_and_it_advances(api: Api) -> None:
    api.admin("POST", "clock", {"advanceSeconds": 3600})
    api.customer()  # stamped an hour ahead
    assert 3590 < _ahead_of_real_time(api) < 3610

    api.admin("POST", "reset")
    assert abs(_ahead_of_real_time(api)) < 5
    assert api.admin("GET", "clock")["offsetSeconds"] == 0
    # It runs with real time, not a microsecond per reading.
    before = _now(api)
    time.sleep(0.05)
    assert (_now(api) - before).total_seconds() >= 0.045


def test_the_clock_never_goes_back_over_existing_data_but_keeps_running(api: Api) -> None:
    api.admin("POST", "clock", {"advanceSeconds": 3600})
    first = api.customer()
    api.admin("POST", "clock", {"offsetSeconds": 0})  # back an hour while data exists

    # Raised to the last timestamp issued, so updatedAfter stays unambiguous ...
    second = api.customer()
    assert second["updatedAt"] > first["updatedAt"]
    assert api.admin("GET", "clock")["offsetSeconds"] > 3590
    # ... and from there it advances with real time.
    before = _now(api)
    time.sleep(0.05)
    assert (_now(api) - before).total_seconds() >= 0.045


def test_seed_creates_consistent_data_quickly(api: Api) -> None:
    result = api.admin("POST", "seed", {"customers": 20, "invoices": 200, "payments": 150, "seed": 3})
    assert (result["customers"], result["invoices"], result["payments"]) == (20, 200, 150)

    dump = api.admin("GET", "dump")
    assert len(dump["customers"]) == 20
    assert len(dump["invoices"]) == 200
    assert len(dump["payments"]) == 150
    by_id = {i["id"]: i for i in dump["invoices"]}
    for pay in dump["payments"]:
        [applied] = pay["appliedTo"]
        inv = by_id[applied["invoiceId"]]
        assert inv["amountPaid"] == applied["amount"]
        assert round(inv["total"] - inv["amountPaid"], 2) == inv["balance"]
        assert inv["status"] in ("paid", "partially_paid")
    assert sum(1 for i in dump["invoices"] if i["status"] == "issued") == 50
    # Seeding is quiet unless asked: no events for the benchmark data.
    assert dump["events"] == 0
    page = api.get("/invoices", params={"perPage": 100, "page": 2}).json()
    assert (len(page["data"]), page["total"]) == (100, 200)


def test_seed_validation(api: Api) -> None:
    resp = requests.post(f"{api.handle.admin_url}/seed", json={"payments": 5}, timeout=5)
    assert resp.status_code == 400
    assert resp.json()["param"] == "payments"


def test_unknown_admin_endpoint_is_404(api: Api) -> None:
    assert requests.get(f"{api.handle.admin_url}/nope", timeout=5).status_code == 404
    assert requests.get(f"{api.handle.admin_url}/reset", timeout=5).status_code == 405


def test_file_database_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "blixo.sqlite3")
    with start_server(db=db) as first:
        created = requests.post(
            f"{first.url}/customers", json={"name": "Durable"}, auth=(DEFAULT_API_KEY, ""), timeout=5
        ).json()["data"]
    with start_server(db=db) as second:
        got = requests.get(f"{second.url}/customers/{created['id']}", auth=(DEFAULT_API_KEY, ""), timeout=5)
    assert got.status_code == 200
    assert got.json()["data"] == created


def test_runs_as_a_process_with_default_key() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.blixo", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        started = json.loads(proc.stdout.readline())
        url = started["blixo"]["url"]
        assert url.endswith("/v1")
        assert requests.get(f"{url}/customers", auth=(DEFAULT_API_KEY, ""), timeout=5).status_code == 200
        assert requests.get(f"{url}/customers", auth=("other", ""), timeout=5).status_code == 401
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
