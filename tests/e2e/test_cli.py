"""`blixo-intacct` as an operator runs it (the installed command, in a subprocess) against the
deployed local stack: connect a tenant, read its status, change settings, sync now, backfill."""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import pytest
import requests

from ops.local import keep_output
from tests.conftest import ROOT
from tests.e2e.conftest import Stack, entity_for_tests

pytestmark = pytest.mark.e2e

COMMAND = str(ROOT / ".venv" / "bin" / "blixo-intacct")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [COMMAND, *args], capture_output=True, text=True, timeout=300, check=False, env=env
    )
    keep_output("e2e-cli", result.stdout, result.stderr)  # for the log scan
    return result


def run_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


@pytest.fixture
def tenant(stack: Stack) -> Any:
    """A tenant connected through the command, with a Blixo sandbox account of its own."""
    tenant_id = f"cli-{uuid.uuid4().hex[:10]}"
    api_key = f"cli-key-{uuid.uuid4().hex}"
    admin = str(stack.doc["blixo"]["url"]).removesuffix("/v1") + "/_sandbox/accounts"
    requests.post(admin, json={"apiKey": api_key}, timeout=10).raise_for_status()
    connected = run(
        "tenant", "connect", tenant_id, "--blixo-api-key", api_key, "--name", "CLI Co",
        "--entity", str(entity_for_tests(stack)), "--json",
    )  # fmt: skip
    assert connected.returncode == 0, connected.stderr + connected.stdout
    yield {"id": tenant_id, "api_key": api_key, "connect": json.loads(connected.stdout)}
    stack.store().delete_tenant(tenant_id)
    stack.client("secretsmanager").delete_secret(
        SecretId=f"{stack.doc['tenant_secret_prefix']}{tenant_id}", ForceDeleteWithoutRecovery=True
    )


def test_connect_stores_the_tenant_and_subscribes_its_webhook(stack: Stack, tenant: dict[str, Any]) -> None:
    assert tenant["connect"]["saved"] is True
    assert tenant["connect"]["webhook"] == "created"
    hooks = requests.get(
        f"{stack.doc['blixo']['url']}/webhooks", auth=(tenant["api_key"], ""), timeout=10
    ).json()["data"]
    assert [h["url"] for h in hooks] == [stack.webhook_url(tenant["id"])]
    again = run_json("tenant", "connect", tenant["id"])
    assert again["webhook"] == "kept"
    wrong = run("tenant", "connect", tenant["id"], "--user-password", "not-it")
    assert wrong.returncode == 1
    assert "Intacct refused the sign-in" in wrong.stderr + wrong.stdout
    assert "not-it" not in wrong.stderr + wrong.stdout
    assert "Traceback" not in wrong.stderr


def test_status_settings_and_sync_now(stack: Stack, tenant: dict[str, Any]) -> None:
    report = run_json("status", tenant["id"])
    [mine] = report["tenants"]
    assert mine["tenant_id"] == tenant["id"]
    assert {"push", "push_dlq", "pull", "pull_dlq"} <= set(report["queues"])

    changed = run_json("tenant", "set", tenant["id"], "lookback_minutes=30", "flows.pull_payments=false")
    assert changed["lookback_minutes"] == 30
    assert run_json("tenant", "show", tenant["id"])["flows"]["pull_payments"] is False
    refused = run("tenant", "set", tenant["id"], "lookback_minutes=-3")
    assert refused.returncode == 1
    assert "lookback_minutes" in refused.stderr

    synced = run_json("sync", "now", tenant["id"], "--flow", "customers", "--wait", "--timeout", "180")
    assert synced["run"]["outcome"] == "succeeded"
    assert synced["failed"] == 0
    after = run_json("status", tenant["id"])["tenants"][0]
    flows = {f["flow"]: f for f in after["flows"]}
    assert flows["pull:customers"]["last_outcome"] == "succeeded"
    assert flows["pull:customers"]["last_success"] is not None
    # (The hourly schedule may have run for this tenant too, meanwhile: another test fires it.)
    runs = stack.store().list_runs(tenant["id"])
    assert any(r.trigger.startswith("operator:") and r.outcome.value == "succeeded" for r in runs)
    assert run_json("errors", "list", tenant["id"]) == []


def test_push_backfill_sends_blixo_history_and_waits_for_it(stack: Stack, tenant: dict[str, Any]) -> None:
    session = requests.Session()
    session.auth = (tenant["api_key"], "")
    base = stack.doc["blixo"]["url"]
    tag = uuid.uuid4().hex[:6].upper()
    customer = session.post(
        f"{base}/customers",
        json={"name": f"Backfill {tag}", "customerNo": f"BF-{tag}", "currency": "USD"},
        headers={"Idempotency-Key": f"bf-{tag}-c"},
        timeout=10,
    ).json()["data"]
    session.post(
        f"{base}/invoices",
        json={"customerId": customer["id"], "items": [{"name": "Setup", "quantity": 1, "unitPrice": 90}]},
        headers={"Idempotency-Key": f"bf-{tag}-i"},
        timeout=10,
    ).raise_for_status()

    result = run_json("sync", "push", tenant["id"], "--since", "2026-01-01", "--wait", "--timeout", "180")

    assert result["queued"] == {"customer": 1, "invoice": 1}
    assert result["open_errors"] == 0
    assert result["synced"] == 2
    store = stack.store()
    assert store.mappings.by_blixo(tenant["id"], "customer", customer["id"]) is not None
    # Both ledgers agree on this customer: 90.00 open on both sides. (Not the tenant's totals:
    # every e2e tenant shares entity E200, so it sees the others' Intacct records too.)
    result = run("reconcile", tenant["id"], "--json")
    reconciled = json.loads(result.stdout)
    [row] = [c for c in reconciled["customers"] if c["blixo_id"] == customer["id"]]
    assert row["difference"] == "0.00"
    assert row["blixo"]["invoices"] == row["intacct"]["invoices"] == "90.00"


def test_bad_input_is_a_message_and_exit_1(tenant: dict[str, Any]) -> None:
    for args, expected in (
        (["status", "no-such-tenant"], "unknown tenant no-such-tenant"),
        (["sync", "now", tenant["id"], "--since", "last week"], "--since must be a date"),
        (["sync", "push", tenant["id"], "--since", "2026-01-01", "--type", "order"], "unknown type order"),
        (["errors", "show", tenant["id"], "invoice"], "is not TYPE:ID"),
        (
            ["errors", "ignore", tenant["id"], "invoice:inv_x", "--reason", "n/a"],
            "no sync error invoice:inv_x",
        ),
    ):
        result = run(*args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
