"""The push benchmark, through the deployed local stack (`make up`).

A tenant of its own (an Intacct company and a Blixo account, connected with `tenant connect`)
gets its Blixo objects seeded silently; the benchmark then posts their signed webhooks to the
stack's API Gateway itself, at a steady rate under the API's throttle, and times each event
from its POST to its mapping (written right after its Intacct record). Run twice: with the
push queue's batch size (10: the writers of one batch share Intacct requests) and with
batching off (batch size 1)."""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import requests

from bench.pull import ENTITY
from bisync.blixo.api import SIGNATURE_HEADER
from bisync.blixo.webhooks import sign
from blixo_cli.onboard import ConnectRequest, connect_tenant
from blixo_cli.target import STACK_JSON, Target, from_stack_file
from ops.local import LocalStack, Sandboxes

RATE_PER_S = 40.0  # under the webhook API's 50 requests/s throttle


def _esm(target: Target, function: str) -> dict[str, Any]:
    mappings = target.client("lambda").list_event_source_mappings(FunctionName=function)[
        "EventSourceMappings"
    ]
    return dict(mappings[0])


def set_batch_size(target: Target, function: str, size: int) -> int:
    """The push event source mapping's batch size; returns the one it had."""
    esm = _esm(target, function)
    target.client("lambda").update_event_source_mapping(UUID=esm["UUID"], BatchSize=size)
    return int(esm.get("BatchSize", 10))


def _events(dump: dict[str, Any]) -> list[tuple[str, str, bytes]]:
    """(kind, object id, body): each customer's event, then its invoices' events."""
    out: list[tuple[str, str, bytes]] = []
    invoices: dict[str, list[dict[str, Any]]] = {}
    for inv in dump["invoices"]:
        invoices.setdefault(inv["customerId"], []).append(inv)
    for customer in dump["customers"]:
        for kind, obj in [
            ("customer", customer),
            *(("invoice", i) for i in invoices.get(customer["id"], [])),
        ]:
            body = {
                "id": f"evt_{uuid.uuid4().hex[:24]}",
                "type": f"{kind}.created",
                "createdAt": datetime.now(UTC).isoformat(),
                "data": {"object": obj},
            }
            out.append((kind, obj["id"], json.dumps(body).encode()))
    return out


def run(events: int, batch_size: int) -> dict[str, Any]:
    stack = LocalStack.load()
    target = from_stack_file(STACK_JSON)
    admin = Sandboxes.of(stack.doc)
    store = target.store()
    tag = uuid.uuid4().hex[:8]
    company, api_key, tenant = f"BENCHP-{tag.upper()}", f"bench-push-{uuid.uuid4().hex}", f"bench-push-{tag}"
    admin.intacct("companies", {"company": company})
    admin.blixo("accounts", {"apiKey": api_key})
    connected = connect_tenant(
        target, ConnectRequest(tenant_id=tenant, company_id=company, entity_id=ENTITY, blixo_api_key=api_key)
    )
    if not connected.saved or connected.webhook_secret is None:
        raise RuntimeError("the benchmark tenant could not be connected")
    # The seeded invoices' terms ("NET 30") are Intacct's N30, as an operator would map them.
    settings = store.get_tenant(tenant)
    store.put_tenant(settings.model_copy(update={"terms": {"NET 30": "N30"}}))
    customers = max(1, events // 5)
    admin.blixo(
        "seed",
        {
            "customers": customers,
            "invoices": events - customers,
            "payments": 0,
            "apiKey": api_key,
            "emitEvents": False,
        },
    )
    dump = admin.blixo("dump", apiKey=api_key)
    work = _events(dump)
    secret = connected.webhook_secret.get_secret_value()
    url = str(stack.doc["webhook_url"]).replace("{tenantId}", tenant)
    push_fn = stack.doc["functions"]["push"]
    previous = set_batch_size(target, push_fn, batch_size)
    sent: dict[str, float] = {}
    lock = threading.Lock()
    http = requests.Session()

    def post(item: tuple[str, str, bytes]) -> None:
        _kind, object_id, body = item
        for _attempt in range(20):
            at = time.time()
            reply = http.post(url, data=body, headers={SIGNATURE_HEADER: sign(body, secret)}, timeout=30)
            if reply.status_code == 202:
                with lock:
                    sent.setdefault(object_id, at)
                return
            time.sleep(1.0)  # throttled (429) or not ready: Blixo retries the same way
        raise RuntimeError(f"the webhook for {object_id} was refused: {reply.status_code}")

    before = admin.intacct_counters(company)
    started = time.time()
    try:
        with ThreadPoolExecutor(8) as pool:
            futures = []
            for n, item in enumerate(work):
                delay = started + n / RATE_PER_S - time.time()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(post, item))
            for f in futures:
                f.result()
        done: dict[str, float] = {}
        failed: set[str] = set()
        deadline = time.time() + 1800
        while len(done) + len(failed) < len(work) and time.time() < deadline:
            for kind in ("customer", "invoice"):
                for m in store.mappings.all(tenant, kind):
                    if m.updated_at is not None:
                        done.setdefault(m.blixo_id, m.updated_at.timestamp())
            failed = {e.object_id for e in store.errors.list(tenant)} - set(done)
            time.sleep(1.0)
        if failed or len(done) < len(work):
            errors = [f"{e.object_type} {e.object_id}: {e.message}" for e in store.errors.list(tenant)][:5]
            raise RuntimeError(f"{len(work) - len(done)} of {len(work)} events did not sync: {errors}")
    finally:
        set_batch_size(target, push_fn, previous)
        store.delete_tenant(tenant)
    after = admin.intacct_counters(company)
    latencies = sorted(done[i] - sent[i] for i in sent if i in done)
    finished = max(done.values()) if done else time.time()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    requests_used = after.get("requests", 0) - before.get("requests", 0)
    return {
        "batch_size": batch_size,
        "events": len(work),
        "synced": len(done),
        "rate_sent_per_s": RATE_PER_S,
        "wall_s": round(finished - started, 2),
        "events_per_s": round(len(done) / (finished - started), 2),
        "p50_s": round(quantiles[49], 3),
        "p95_s": round(quantiles[94], 3),
        "p99_s": round(quantiles[98], 3),
        "intacct_requests": requests_used,
        "intacct_transactions": after.get("transactions", 0) - before.get("transactions", 0),
        "intacct_requests_per_event": round(requests_used / len(work), 3),
    }
