"""Idempotency-Key replay, the per-key concurrency cap, injected faults."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from sandbox.blixo import SandboxHandle
from tests.integration.blixo_sandbox.conftest import KEY, Api


def test_same_key_replays_the_first_response_without_creating_twice(api: Api) -> None:
    body = {"name": "Once Ltd"}
    first = api.post("/customers", body, headers={"Idempotency-Key": "create-once-1"})
    second = api.post("/customers", body, headers={"Idempotency-Key": "create-once-1"})

    assert first.status_code == second.status_code == 201
    assert second.content == first.content  # byte for byte
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.get("/customers").json()["total"] == 1
    # A different key is a different request.
    third = api.post("/customers", body, headers={"Idempotency-Key": "create-once-2"})
    assert third.json()["data"]["id"] != first.json()["data"]["id"]
    assert api.get("/customers").json()["total"] == 2


def test_patch_and_void_replay(api: Api) -> None:
    cust = api.customer()
    inv = api.invoice(cust["id"])
    headers = {"Idempotency-Key": "void-inv-000001"}
    first = api.post(f"/invoices/{inv['id']}/void", headers=headers)
    again = api.post(f"/invoices/{inv['id']}/void", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    # Without the key the second void is refused: it already happened.
    assert api.post(f"/invoices/{inv['id']}/void").status_code == 400

    patch = {"name": "Renamed"}
    p1 = api.patch(f"/customers/{cust['id']}", patch, headers={"Idempotency-Key": "rename-000001"})
    api.patch(f"/customers/{cust['id']}", {"name": "Someone else"})
    p2 = api.patch(f"/customers/{cust['id']}", patch, headers={"Idempotency-Key": "rename-000001"})
    assert p2.content == p1.content  # the replay is the stored response, not a second write
    assert api.ok("GET", f"/customers/{cust['id']}")["name"] == "Someone else"


def test_same_key_with_a_different_request_is_422(api: Api) -> None:
    api.post("/customers", {"name": "A"}, headers={"Idempotency-Key": "reused-key-1"})
    other_body = api.post("/customers", {"name": "B"}, headers={"Idempotency-Key": "reused-key-1"})
    other_path = api.post("/invoices", {"name": "A"}, headers={"Idempotency-Key": "reused-key-1"})
    for resp in (other_body, other_path):
        assert resp.status_code == 422
        assert resp.json()["param"] == "Idempotency-Key"
    assert api.get("/customers").json()["total"] == 1


@pytest.mark.parametrize("key", ["short", "k" * 65])
def test_key_length_is_checked(api: Api, key: str) -> None:
    resp = api.post("/customers", {"name": "A"}, headers={"Idempotency-Key": key})
    assert resp.status_code == 400
    assert resp.json()["param"] == "Idempotency-Key"
    assert api.get("/customers").json()["total"] == 0


def test_errors_are_not_stored_so_a_fixed_retry_can_succeed(api: Api) -> None:
    bad = api.post("/customers", {"name": ""}, headers={"Idempotency-Key": "retry-after-400"})
    assert bad.status_code == 400
    again = api.post("/customers", {"name": ""}, headers={"Idempotency-Key": "retry-after-400"})
    assert again.status_code == 400
    assert "Idempotent-Replayed" not in again.headers


def test_keys_expire_after_24_hours(api: Api) -> None:
    body = {"name": "Daily"}
    first = api.post("/customers", body, headers={"Idempotency-Key": "daily-key-1"}).json()["data"]
    api.admin("POST", "clock", {"advanceSeconds": 23 * 3600})
    within = api.post("/customers", body, headers={"Idempotency-Key": "daily-key-1"}).json()["data"]
    api.admin("POST", "clock", {"advanceSeconds": 2 * 3600})
    after = api.post("/customers", body, headers={"Idempotency-Key": "daily-key-1"}).json()["data"]
    assert within["id"] == first["id"]
    assert after["id"] != first["id"]


def test_error_after_write_then_retry_with_the_key_creates_once(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    api.admin("POST", "faults", {"errorAfterWriteNext": 1, "pathPrefix": "/v1/payments"})
    body = {
        "customerId": cust,
        "amount": "40.00",
        "appliedTo": [{"type": "invoice", "invoiceId": inv["id"], "amount": "40.00"}],
    }
    headers = {"Idempotency-Key": "pay-inv-1-v1"}

    failed = api.post("/payments", body, headers=headers)
    assert failed.status_code == 500
    assert failed.headers["X-Sandbox-Fault"] == "error-after-write"
    retried = api.post("/payments", body, headers=headers)
    assert retried.status_code == 201
    assert retried.headers["Idempotent-Replayed"] == "true"

    assert api.get("/payments").json()["total"] == 1
    assert api.ok("GET", f"/invoices/{inv['id']}")["amountPaid"] == 40.0  # applied once


def test_error_before_the_write_writes_nothing(api: Api) -> None:
    api.admin("POST", "faults", {"failNext": 1, "errorStatus": 503})
    resp = api.post("/customers", {"name": "A"}, headers={"Idempotency-Key": "before-write-1"})
    assert resp.status_code == 503
    assert api.get("/customers").json()["total"] == 0
    ok = api.post("/customers", {"name": "A"}, headers={"Idempotency-Key": "before-write-1"})
    assert ok.status_code == 201
    assert "Idempotent-Replayed" not in ok.headers


def test_concurrency_cap_answers_429_with_retry_after(api: Api, sandbox: SandboxHandle) -> None:
    api.admin("POST", "accounts", {"apiKey": "other-tenant-key"})
    api.admin("POST", "settings", {"concurrencyLimit": 2, "retryAfterSeconds": 3})
    api.admin("POST", "faults", {"latencyMs": 400})
    keys = [KEY] * 6 + ["other-tenant-key"]
    barrier = threading.Barrier(len(keys))
    results: list[tuple[str, requests.Response]] = []
    lock = threading.Lock()

    def call(key: str) -> None:
        barrier.wait()
        resp = requests.get(f"{sandbox.url}/customers", auth=(key, ""), timeout=10)
        with lock:
            results.append((key, resp))

    threads = [threading.Thread(target=call, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    codes = sorted(r.status_code for k, r in results if k == KEY)
    assert codes == [200, 200, 429, 429, 429, 429]
    refused = next(r for _, r in results if r.status_code == 429)
    assert refused.headers["Retry-After"] == "3"
    assert "limit 2" in refused.json()["message"]
    # The cap is per key: the other tenant's request was not held back.
    assert [r.status_code for k, r in results if k != KEY] == [200]
    # Once the burst is over the key is free again.
    api.admin("POST", "faults", {})
    assert api.get("/customers").status_code == 200


def test_injected_rate_limit_and_latency(api: Api) -> None:
    api.admin("POST", "faults", {"rateLimitNext": 2, "retryAfterSeconds": 0})
    first, second, third = (api.get("/customers") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "0"

    api.admin("POST", "faults", {"latencyMs": 120, "methods": ["GET"]})
    started = time.perf_counter()
    api.get("/customers")
    assert time.perf_counter() - started >= 0.12
    started = time.perf_counter()
    api.post("/customers", {"name": "fast"})
    assert time.perf_counter() - started < 0.12  # POST is not slowed by a GET-only fault


def test_seeded_fault_rates_are_reproducible(api: Api) -> None:
    def run() -> list[int]:
        api.admin("POST", "faults", {"errorRate": 0.5, "seed": 7})
        return [api.get("/customers").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert 500 in first
    assert 200 in first
    assert api.admin("GET", "faults")["injected"]["error"] == first.count(500)


def test_same_key_while_the_first_request_runs_is_409(api: Api, sandbox: SandboxHandle) -> None:
    api.admin("POST", "faults", {"latencyMs": 300, "methods": ["POST"]})
    headers = {"Idempotency-Key": "in-flight-key-1"}
    first: list[requests.Response] = []
    thread = threading.Thread(
        target=lambda: first.append(api.post("/customers", {"name": "Slow"}, headers=headers))
    )
    thread.start()
    time.sleep(0.05)
    # A second session, as a retrying worker elsewhere would be.
    second = requests.post(
        f"{sandbox.url}/customers", json={"name": "Slow"}, headers=headers, auth=(KEY, ""), timeout=5
    )
    thread.join()
    assert second.status_code == 409
    assert second.json()["param"] == "Idempotency-Key"
    assert first[0].status_code == 201
    assert api.get("/customers").json()["total"] == 1
