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


def test_same_key_same_method_and_path_replays_even_with_a_different_body(api: Api) -> None:
    first = api.post("/customers", {"name": "A"}, headers={"Idempotency-Key": "reused-key-1"})
    # A retry whose body was rebuilt differently is still the first operation: its response comes
    # back and nothing more is written.
    other_body = api.post("/customers", {"name": "B"}, headers={"Idempotency-Key": "reused-key-1"})
    assert (first.status_code, other_body.status_code) == (201, 201)
    assert other_body.content == first.content
    assert other_body.headers["Idempotent-Replayed"] == "true"
    assert [c["name"] for c in api.get("/customers").json()["data"]] == ["A"]

    cust = first.json()["data"]["id"]
    p1 = api.patch(f"/customers/{cust}", {"phone": "111"}, headers={"Idempotency-Key": "patch-key-1"})
    p2 = api.patch(f"/customers/{cust}", {"phone": "222"}, headers={"Idempotency-Key": "patch-key-1"})
    assert p2.content == p1.content
    assert p2.headers["Idempotent-Replayed"] == "true"
    assert api.ok("GET", f"/customers/{cust}")["phone"] == "111"


def test_same_key_on_a_different_method_or_path_is_422(api: Api) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust)["id"]
    api.patch(f"/invoices/{inv}", {"purchaseOrder": "PO-1"}, headers={"Idempotency-Key": "reused-key-2"})
    other_method = api.post(f"/invoices/{inv}/void", headers={"Idempotency-Key": "reused-key-2"})
    other_path = api.post(
        "/invoices",
        {"customerId": cust, "items": [{"name": "x", "unitPrice": 1}]},
        headers={"Idempotency-Key": "reused-key-2"},
    )
    for resp in (other_method, other_path):
        assert resp.status_code == 422, resp.text
        assert resp.json()["param"] == "Idempotency-Key"
        assert f"PATCH /v1/invoices/{inv}" in resp.json()["message"]
    assert api.ok("GET", f"/invoices/{inv}")["status"] == "issued"  # not voided
    assert api.get("/invoices").json()["total"] == 1


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


def _race(sandbox: SandboxHandle, path: str, body: dict[str, object], key: str) -> list[requests.Response]:
    """Two sessions (a retrying worker elsewhere) send the same keyed request at the same time."""
    barrier = threading.Barrier(2)
    results: list[requests.Response] = []
    lock = threading.Lock()

    def send() -> None:
        barrier.wait()
        resp = requests.post(
            f"{sandbox.url}{path}", json=body, headers={"Idempotency-Key": key}, auth=(KEY, ""), timeout=10
        )
        with lock:
            results.append(resp)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_same_key_while_the_first_request_runs_waits_and_replays(api: Api, sandbox: SandboxHandle) -> None:
    api.admin("POST", "faults", {"latencyMs": 200, "methods": ["POST"]})
    results = _race(sandbox, "/customers", {"name": "Slow"}, "in-flight-key-1")

    assert sorted(r.status_code for r in results) == [201, 201]
    replayed = [r for r in results if r.headers.get("Idempotent-Replayed") == "true"]
    first = [r for r in results if "Idempotent-Replayed" not in r.headers]
    assert (len(first), len(replayed)) == (1, 1)
    assert replayed[0].content == first[0].content
    api.admin("POST", "faults", {})
    assert api.get("/customers").json()["total"] == 1


def test_still_in_flight_after_the_wait_is_409(api: Api, sandbox: SandboxHandle) -> None:
    assert api.admin("POST", "settings", {"idempotencyWaitSeconds": 0.05})["idempotencyWaitSeconds"] == 0.05
    api.admin("POST", "faults", {"latencyMs": 250, "methods": ["POST"]})
    started = time.perf_counter()
    results = _race(sandbox, "/customers", {"name": "Slow"}, "in-flight-key-2")

    assert sorted(r.status_code for r in results) == [201, 409]
    refused = next(r for r in results if r.status_code == 409)
    assert refused.json()["param"] == "Idempotency-Key"
    assert "in progress" in refused.json()["message"]
    assert time.perf_counter() - started < 2  # the 409 did not wait for the default 30 s
    api.admin("POST", "faults", {})
    assert api.get("/customers").json()["total"] == 1
    # Reset restores the default wait.
    api.admin("POST", "reset")
    assert api.admin("GET", "settings")["idempotencyWaitSeconds"] == 30


def test_a_waiting_request_runs_itself_when_the_first_fails(api: Api, sandbox: SandboxHandle) -> None:
    # The first to get the key sleeps, then fails before writing; errors are not stored, so the
    # waiting request runs instead of replaying an error.
    api.admin("POST", "faults", {"latencyMs": 150, "failNext": 1, "errorStatus": 503, "methods": ["POST"]})
    results = _race(sandbox, "/customers", {"name": "Retry"}, "in-flight-key-3")

    assert sorted(r.status_code for r in results) == [201, 503]
    ok = next(r for r in results if r.status_code == 201)
    assert "Idempotent-Replayed" not in ok.headers
    api.admin("POST", "faults", {})
    assert api.get("/customers").json()["total"] == 1


def test_a_waiting_request_replays_a_write_whose_answer_was_lost(api: Api, sandbox: SandboxHandle) -> None:
    api.admin("POST", "faults", {"latencyMs": 150, "errorAfterWriteNext": 1, "methods": ["POST"]})
    results = _race(sandbox, "/customers", {"name": "Lost"}, "in-flight-key-4")

    assert sorted(r.status_code for r in results) == [201, 500]
    ok = next(r for r in results if r.status_code == 201)
    assert ok.headers["Idempotent-Replayed"] == "true"
    api.admin("POST", "faults", {})
    assert api.get("/customers").json()["total"] == 1
