"""GET /tenants/{tenantId}/errors, and POST .../errors/{type}/{id}/retry and .../ignore."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from bisync.blixo import api as blixo_api
from bisync.blixo.errors import NotFoundError, ServerError
from bisync.store import ErrorLevel
from bisync.sync.jobs import PullJob, PushJob
from functions.api import app as api
from tests.unit.api.conftest import BLIXO_KEY, SECRET_PREFIX, TENANT, Call, World

ERRORS = f"/tenants/{TENANT}/errors"


def open_errors(world: World) -> None:
    errors = world.store.errors
    errors.record(
        TENANT,
        "invoice",
        "inv_1",
        direction="push",
        message="BL01001973 The period is closed",
        retry={"event_type": "invoice.created", "object_id": "inv_1", "customer_id": "cus_1"},
    )
    errors.record(
        TENANT,
        "payment",
        "3001",
        direction="pull",
        message="waiting: invoice 77 is not in Blixo yet",
        retry={"flow": "payments", "intacct_key": "3001"},
    )
    errors.record(
        TENANT,
        "customer",
        "cus_9",
        direction="push",
        message="customerNo changed; CUSTOMERID kept",
        level=ErrorLevel.WARNING,
    )


@dataclass
class FakeBlixo:
    """Reads of the tenant's Blixo account (the key it was made with is kept to check)."""

    records: dict[str, dict[str, Any]]
    fail: Exception | None = None
    key: str = ""
    closed: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def get_data(self, path: str) -> Any:
        self.reads.append(path)
        if self.fail is not None:
            raise self.fail
        if path not in self.records:
            raise NotFoundError(f"no {path}")
        return self.records[path]

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def blixo(monkeypatch: pytest.MonkeyPatch) -> FakeBlixo:
    fake = FakeBlixo(
        records={
            blixo_api.object_path(blixo_api.ResourceKind.INVOICE, "inv_1"): {
                "id": "inv_1",
                "customerId": "cus_1",
                "number": "INV-1",
                "updatedAt": "2026-12-01T09:00:00Z",
            }
        }
    )

    def client(secrets: Any, _config: Any, **options: Any) -> FakeBlixo:
        fake.key = secrets.blixo_api_key.get_secret_value()
        fake.options = options
        return fake

    monkeypatch.setattr(api, "blixo_client", client)
    return fake


def test_the_open_errors_are_listed_newest_first_with_hints(call: Call, world: World) -> None:
    open_errors(world)

    reply = call("GET", ERRORS)

    assert reply.status == 200, reply.raw
    errors = reply.body["errors"]
    assert [(e["object_type"], e["object_id"]) for e in errors] == [
        ("customer", "cus_9"),
        ("payment", "3001"),
        ("invoice", "inv_1"),
    ]
    assert all(e["hint"] for e in errors)
    # What a retry re-sends stays inside.
    assert "retry" not in errors[0]
    assert "customer_id" not in reply.raw


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"direction": "pull"}, [("payment", "3001")]),
        ({"object_type": "invoice"}, [("invoice", "inv_1")]),
        ({"level": "warning"}, [("customer", "cus_9")]),
        ({"contains": "PERIOD"}, [("invoice", "inv_1")]),
        ({"direction": "push", "level": "error"}, [("invoice", "inv_1")]),
    ],
)
def test_the_list_filters_by_query(
    call: Call, world: World, query: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    open_errors(world)
    reply = call("GET", ERRORS, query=query)
    assert reply.status == 200, reply.raw
    assert [(e["object_type"], e["object_id"]) for e in reply.body["errors"]] == expected


@pytest.mark.parametrize(
    "query", [{"direction": "sideways"}, {"level": "fatal"}, {"include_ignored": "maybe"}]
)
def test_an_invalid_filter_is_422(call: Call, world: World, query: dict[str, str]) -> None:
    reply = call("GET", ERRORS, query=query)
    assert reply.status == 422
    assert ["query", next(iter(query))] in [e["loc"] for e in reply.body["errors"]]


def test_the_errors_of_an_unknown_tenant_are_404(call: Call) -> None:
    assert call("GET", "/tenants/nobody/errors").status == 404


def test_a_pull_error_retry_queues_a_pull_reading_that_record(call: Call, world: World) -> None:
    open_errors(world)

    reply = call("POST", f"{ERRORS}/payment/3001/retry")

    assert reply.status == 202, reply.raw
    assert reply.body == {
        "object_type": "payment",
        "object_id": "3001",
        "direction": "pull",
        "queued": True,
        "detail": "queued: the next pull run re-reads it from Intacct",
    }
    (job,) = [PullJob.model_validate(b) for b in world.bodies("pull")]
    assert job.tenant_id == TENANT
    assert job.resume["keys"] == {"payments": ["3001"]}
    assert world.messages("push") == []


def test_a_push_error_retry_sends_the_blixo_record_as_it_is_now(
    call: Call, world: World, blixo: FakeBlixo
) -> None:
    open_errors(world)

    reply = call("POST", f"{ERRORS}/invoice/inv_1/retry")

    assert reply.status == 202, reply.raw
    assert reply.body["queued"] is True
    assert blixo.key == BLIXO_KEY  # the tenant's own key, from its secret
    assert blixo.options["max_retries"] <= 1  # one read, well inside API Gateway's 29 s
    assert blixo.closed
    (message,) = world.messages("push")
    job = PushJob.model_validate_json(message["Body"])
    assert job.tenant_id == TENANT
    assert job.customer_id == "cus_1"
    assert json.loads(job.event_json)["data"]["object"]["number"] == "INV-1"
    assert message["Attributes"]["MessageGroupId"] == f"{TENANT}:cus_1"
    assert BLIXO_KEY not in reply.raw


def test_a_push_error_whose_record_is_gone_is_409_and_queues_nothing(
    call: Call, world: World, blixo: FakeBlixo
) -> None:
    open_errors(world)
    blixo.records.clear()

    reply = call("POST", f"{ERRORS}/invoice/inv_1/retry")

    assert reply.status == 409
    assert "no longer exists in Blixo" in reply.body["message"]
    assert world.messages("push") == []


def test_a_push_retry_when_blixo_fails_is_502(call: Call, world: World, blixo: FakeBlixo) -> None:
    open_errors(world)
    blixo.fail = ServerError("Blixo is down")

    reply = call("POST", f"{ERRORS}/invoice/inv_1/retry")

    assert reply.status == 502
    assert blixo.closed
    assert world.messages("push") == []


def test_a_push_retry_without_the_tenant_secret_is_503(call: Call, world: World) -> None:
    open_errors(world)
    world.secrets.delete_secret(SecretId=SECRET_PREFIX + TENANT, ForceDeleteWithoutRecovery=True)

    reply = call("POST", f"{ERRORS}/invoice/inv_1/retry")

    assert reply.status == 503
    assert SECRET_PREFIX not in reply.raw
    assert world.messages("push") == []


def test_a_retry_of_no_such_error_is_404(call: Call, world: World) -> None:
    open_errors(world)
    assert call("POST", f"{ERRORS}/invoice/inv_404/retry").status == 404
    assert call("POST", "/tenants/nobody/errors/invoice/inv_1/retry").status == 404
    assert world.messages("pull") == world.messages("push") == []


def test_ignore_closes_the_error_with_its_reason(call: Call, world: World) -> None:
    open_errors(world)

    reply = call("POST", f"{ERRORS}/customer/cus_9/ignore", body={"reason": "  renumbered on purpose "})

    assert reply.status == 200, reply.raw
    assert reply.body["ignored"] is True
    assert reply.body["ignored_reason"] == "renumbered on purpose"
    listed = call("GET", ERRORS).body["errors"]
    assert ("customer", "cus_9") not in [(e["object_type"], e["object_id"]) for e in listed]
    with_ignored = call("GET", ERRORS, query={"include_ignored": "true"}).body["errors"]
    assert ("customer", "cus_9") in [(e["object_type"], e["object_id"]) for e in with_ignored]


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": 42}, None])
def test_ignore_without_a_reason_is_422_and_changes_nothing(
    call: Call, world: World, body: dict[str, object] | None
) -> None:
    open_errors(world)

    reply = call("POST", f"{ERRORS}/customer/cus_9/ignore", body=body)

    assert reply.status == 422, reply.raw
    record = world.store.errors.get(TENANT, "customer", "cus_9")
    assert record is not None
    assert not record.ignored


def test_ignore_of_no_such_error_is_404(call: Call, world: World) -> None:
    reply = call("POST", f"{ERRORS}/invoice/inv_404/ignore", body={"reason": "gone"})
    assert reply.status == 404
    assert world.store.errors.get(TENANT, "invoice", "inv_404") is None


def test_an_unknown_query_parameter_is_422_not_ignored(call: Call, world: World) -> None:
    open_errors(world)

    reply = call("GET", ERRORS, query={"directon": "pull"})

    assert reply.status == 422
    assert reply.body["errors"] == [
        {"loc": ["query", "directon"], "msg": "not a parameter of this route", "type": "extra_forbidden"}
    ]
    assert call("GET", f"/tenants/{TENANT}/settings", query={"verbose": "1"}).status == 422
