"""Signed, retried, asynchronous webhook delivery to a real local HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from typing import Any

from sandbox.blixo import SandboxHandle
from tests.integration.blixo_sandbox.conftest import Api, Receiver

SECRET = "whsec_test_secret"


def _subscribe(api: Api, receiver: Receiver, events: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": receiver.url, "secret": SECRET}
    if events is not None:
        body["events"] = events
    return api.ok("POST", "/webhooks", body)


def _drain(api: Api) -> None:
    assert api.admin("POST", "webhooks/drain", {"timeoutSeconds": 10})["drained"] is True


def _verified(receiver: Receiver) -> list[dict[str, Any]]:
    """Accepted deliveries whose HMAC checks out, parsed (the receiver's side of the contract)."""
    out = []
    for hit in receiver.accepted():
        expected = hmac.new(SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(hit.headers["x-blixo-signature"], expected)
        out.append(json.loads(hit.body))
    return out


def test_events_are_signed_and_delivered(api: Api, receiver: Receiver) -> None:
    endpoint = _subscribe(api, receiver)
    assert endpoint["id"].startswith("we_")
    assert endpoint["events"] == ["*"]

    cust = api.customer(name="Hooked")
    _drain(api)

    [event] = _verified(receiver)
    assert event["id"].startswith("evt_")
    assert event["type"] == "customer.created"
    assert event["data"]["object"] == cust
    assert event["data"]["previous"] == {}
    assert event["createdAt"].endswith("Z")
    hit = receiver.hits[0]
    assert hit.path == "/hooks/blixo"
    assert hit.headers["content-type"] == "application/json"
    assert hit.headers["x-blixo-signature"] == hit.headers["x-blixo-signature"].lower()
    # A wrong secret would not verify: the signature really depends on it.
    assert hit.headers["x-blixo-signature"] != hmac.new(b"other", hit.body, hashlib.sha256).hexdigest()


def test_failed_deliveries_are_retried_with_the_same_body_and_logged(api: Api, receiver: Receiver) -> None:
    receiver.fail_first = 2
    endpoint = _subscribe(api, receiver)
    api.customer()
    _drain(api)

    assert [h.status for h in receiver.hits] == [500, 500, 200]
    assert len({h.body for h in receiver.hits}) == 1  # same bytes, same event id, every attempt
    assert len(_verified(receiver)) == 1
    log = api.admin("GET", "deliveries")
    attempts = log["data"]
    assert log["pending"] == 0
    assert [(a["attempt"], a["statusCode"], a["outcome"]) for a in attempts] == [
        (1, 500, "retrying"),
        (2, 500, "retrying"),
        (3, 200, "succeeded"),
    ]
    assert attempts[0]["error"] == "HTTP 500"
    assert attempts[2]["error"] is None
    assert {a["endpointId"] for a in attempts} == {endpoint["id"]}
    assert {a["eventId"] for a in attempts} == {json.loads(receiver.hits[0].body)["id"]}
    assert all(a["startedAt"] <= a["finishedAt"] for a in attempts)
    assert attempts[0]["nextAttemptAt"] is not None
    assert [h.headers["x-blixo-delivery-attempt"] for h in receiver.hits] == ["1", "2", "3"]


def test_delivery_gives_up_after_the_last_scheduled_attempt(api: Api, receiver: Receiver) -> None:
    receiver.fail_first = 100
    settings = api.admin("POST", "webhook-settings", {"maxAttempts": 3, "backoffSeconds": 0.01})
    assert settings["retryDelaysSeconds"] == [0.01, 0.01]
    _subscribe(api, receiver)
    api.customer()
    _drain(api)

    outcomes = [a["outcome"] for a in api.admin("GET", "deliveries")["data"]]
    assert outcomes == ["retrying", "retrying", "failed"]
    assert len(receiver.hits) == 3


def test_production_schedule_is_hourly_for_48_attempts(sandbox: SandboxHandle) -> None:
    from sandbox.blixo import start_server

    with start_server() as production:
        settings = production.app.webhook_settings.to_json()
    assert settings["maxAttempts"] == 48
    assert set(settings["retryDelaysSeconds"]) == {3600.0}
    assert settings["timeoutSeconds"] == 30.0


def test_redirects_are_failures_and_not_followed(api: Api, receiver: Receiver) -> None:
    receiver.redirect = True
    api.admin("POST", "webhook-settings", {"maxAttempts": 2, "backoffSeconds": 0.01})
    _subscribe(api, receiver)
    api.customer()
    _drain(api)

    assert [h.path for h in receiver.hits] == ["/hooks/blixo", "/hooks/blixo"]  # never /elsewhere
    attempts = api.admin("GET", "deliveries")["data"]
    assert [a["statusCode"] for a in attempts] == [302, 302]
    assert "redirects are not followed" in attempts[0]["error"]
    assert attempts[-1]["outcome"] == "failed"


def test_timeouts_and_connection_errors_are_retried(api: Api, receiver: Receiver) -> None:
    receiver.delay_first = 0.5
    api.admin("POST", "webhook-settings", {"timeoutSeconds": 0.1, "retryDelaysSeconds": [0.01]})
    _subscribe(api, receiver)
    started = time.perf_counter()
    api.customer()
    assert time.perf_counter() - started < 0.4  # delivery is asynchronous: the API did not wait
    _drain(api)
    attempts = api.admin("GET", "deliveries")["data"]
    assert "timeout" in attempts[0]["error"]
    assert attempts[0]["statusCode"] is None
    assert attempts[1]["outcome"] == "succeeded"

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    api.admin("POST", "reset")
    api.admin("POST", "webhook-settings", {"retryDelaysSeconds": [0.01]})
    api.ok("POST", "/webhooks", {"url": f"http://127.0.0.1:{dead_port}/x", "secret": SECRET})
    api.customer()
    _drain(api)
    attempts = api.admin("GET", "deliveries")["data"]
    assert [a["outcome"] for a in attempts] == ["retrying", "failed"]
    assert "connection error" in attempts[0]["error"]


def test_duplicate_delivery_switch_sends_each_event_twice(api: Api, receiver: Receiver) -> None:
    api.admin("POST", "webhook-settings", {"duplicateDelivery": True})
    _subscribe(api, receiver)
    api.customer()
    _drain(api)

    events = _verified(receiver)
    assert len(events) == 2
    assert events[0]["id"] == events[1]["id"]
    assert receiver.hits[0].body == receiver.hits[1].body
    assert sorted(a["copy"] for a in api.admin("GET", "deliveries")["data"]) == [1, 2]


def test_subscription_filters_event_types(api: Api, receiver: Receiver) -> None:
    _subscribe(api, receiver, ["invoice.*", "payment.created"])
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "10.00"))
    pay = api.payment(cust, "10.00", {"type": "invoice", "invoiceId": inv["id"], "amount": "10.00"})
    api.ok("POST", f"/payments/{pay['id']}/void")
    _drain(api)

    types = [e["type"] for e in _verified(receiver)]
    # no customer.*, no payment.updated; invoice.updated twice (paid, then restored)
    assert sorted(types) == ["invoice.created", "invoice.updated", "invoice.updated", "payment.created"]


def test_payment_emits_its_event_and_the_invoice_update(api: Api, receiver: Receiver) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    _subscribe(api, receiver)
    pay = api.payment(cust, "40.00", {"type": "invoice", "invoiceId": inv["id"], "amount": "40.00"})
    _drain(api)

    events = sorted(_verified(receiver), key=lambda e: e["type"])
    assert [e["type"] for e in events] == ["invoice.updated", "payment.created"]
    invoice_event = events[0]
    assert invoice_event["data"]["object"]["balance"] == 60.0
    assert invoice_event["data"]["previous"] == {"amountPaid": 0.0, "balance": 100.0, "status": "issued"}
    assert events[1]["data"]["object"]["id"] == pay["id"]

    # The event log keeps the order: the payment first, then what it changed.
    logged = api.admin("GET", "events")["data"]
    assert [e["type"] for e in logged[-2:]] == ["payment.created", "invoice.updated"]


def test_void_is_an_updated_event_with_previous(api: Api, receiver: Receiver) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    pay = api.payment(cust, "100.00", {"type": "invoice", "invoiceId": inv["id"], "amount": "100.00"})
    _subscribe(api, receiver)
    api.ok("POST", f"/payments/{pay['id']}/void")
    api.ok("POST", f"/invoices/{inv['id']}/void")
    _drain(api)

    events = _verified(receiver)
    payment_voided = next(e for e in events if e["type"] == "payment.updated")
    assert payment_voided["data"]["object"]["status"] == "voided"
    assert payment_voided["data"]["previous"] == {"status": "succeeded"}
    invoice_updates = {e["data"]["object"]["status"]: e for e in events if e["type"] == "invoice.updated"}
    assert sorted(invoice_updates) == ["issued", "voided"]  # delivered concurrently: order is free
    restored = invoice_updates["issued"]["data"]["previous"]
    assert restored == {"amountPaid": 100.0, "balance": 0.0, "status": "paid"}
    assert invoice_updates["voided"]["data"]["previous"] == {"status": "issued", "balance": 100.0}


def test_updates_and_deletes_emit_events(api: Api, receiver: Receiver) -> None:
    _subscribe(api, receiver, ["customer.updated", "customer.deleted"])
    cust = api.customer(name="Before")
    api.ok("PATCH", f"/customers/{cust['id']}", {"name": "After"})
    api.ok("PATCH", f"/customers/{cust['id']}", {"name": "After"})  # no change, no event
    api.ok("DELETE", f"/customers/{cust['id']}")
    _drain(api)

    events = sorted(_verified(receiver), key=lambda e: e["type"], reverse=True)
    assert [e["type"] for e in events] == ["customer.updated", "customer.deleted"]
    assert events[0]["data"]["previous"] == {"name": "Before"}
    assert events[1]["data"]["object"]["name"] == "After"


def test_webhook_endpoint_management(api: Api, receiver: Receiver) -> None:
    bad_url = api.post("/webhooks", {"url": "ftp://x", "events": ["*"]})
    assert (bad_url.status_code, bad_url.json()["param"]) == (400, "url")
    bad_type = api.post("/webhooks", {"url": receiver.url, "events": ["invoice.paid"]})
    assert (bad_type.status_code, bad_type.json()["param"]) == (400, "events")

    generated = api.ok("POST", "/webhooks", {"url": receiver.url})
    assert generated["secret"].startswith("whsec_")
    listed = api.get("/webhooks").json()
    assert [w["id"] for w in listed["data"]] == [generated["id"]]
    assert api.ok("DELETE", f"/webhooks/{generated['id']}") == {"id": generated["id"], "deleted": True}
    assert api.get(f"/webhooks/{generated['id']}").status_code == 404

    api.customer()  # no endpoint left: nothing is sent
    _drain(api)
    assert receiver.hits == []


def test_webhook_endpoints_list_pages_like_every_list(api: Api, receiver: Receiver) -> None:
    ids = [api.ok("POST", "/webhooks", {"url": f"{receiver.url}/{i}"})["id"] for i in range(3)]

    first = api.get("/webhooks", params={"perPage": 2}).json()
    second = api.get("/webhooks", params={"page": 2, "perPage": 2}).json()
    assert (first["page"], first["perPage"], first["total"]) == (1, 2, 3)
    assert (second["page"], second["perPage"], second["total"]) == (2, 2, 3)
    assert [w["id"] for w in first["data"] + second["data"]] == ids
    default = api.get("/webhooks").json()
    assert (default["perPage"], len(default["data"])) == (100, 3)
    for params, param in (
        ({"perPage": 101}, "perPage"),
        ({"page": 0}, "page"),
        ({"per_page": 2}, "per_page"),
    ):
        resp = api.get("/webhooks", params=params)
        assert (resp.status_code, resp.json()["param"]) == (400, param)


def test_credit_note_events(api: Api, receiver: Receiver) -> None:
    cust = api.customer()["id"]
    inv = api.invoice(cust, (1, "100.00"))
    _subscribe(api, receiver, ["credit_note.*", "invoice.updated"])
    cn = api.ok(
        "POST",
        "/credit-notes",
        {"customerId": cust, "invoiceId": inv["id"], "items": [{"name": "Refund", "unitPrice": "25.00"}]},
    )
    api.ok("POST", f"/credit-notes/{cn['id']}/void")
    _drain(api)

    logged = [(e["type"], e["data"]["object"]["id"]) for e in api.admin("GET", "events")["data"]]
    assert logged[-4:] == [
        ("credit_note.created", cn["id"]),
        ("invoice.updated", inv["id"]),
        ("credit_note.updated", cn["id"]),
        ("invoice.updated", inv["id"]),
    ]
    received = {(e["type"], e["data"]["object"]["status"]): e for e in _verified(receiver)}
    assert set(received) == {
        ("credit_note.created", "applied"),
        ("invoice.updated", "partially_paid"),
        ("credit_note.updated", "voided"),
        ("invoice.updated", "issued"),
    }
    assert received[("credit_note.updated", "voided")]["data"]["previous"] == {"status": "applied"}
    restored = received[("invoice.updated", "issued")]["data"]["previous"]
    assert restored == {"amountCredited": 25.0, "balance": 75.0, "status": "partially_paid"}
