"""GET /tenants/{tenantId}/status and POST /tenants/{tenantId}/sync ("Sync now")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest

from bisync.accounting_api.bodies import PullFlow
from bisync.operate.jobs import PULL_FLOW_NAMES
from bisync.settings import Flows
from bisync.store import RunOutcome, SyncRun
from bisync.sync.jobs import PullJob, QueueMessage
from tests.unit.api.conftest import TENANT, Call, World

STATUS = f"/tenants/{TENANT}/status"
SYNC = f"/tenants/{TENANT}/sync"


def send(world: World, queue: str, message: QueueMessage) -> None:
    world.sqs.send_message(
        QueueUrl=world.queues[queue],
        MessageBody=message.body,
        MessageGroupId=message.group_id,
        MessageDeduplicationId=message.deduplication_id,
    )


def test_the_status_has_every_flow_the_last_pull_errors_and_the_queues(call: Call, world: World) -> None:
    started = datetime.now(UTC) - timedelta(minutes=5)
    world.store.put_run(
        SyncRun(
            tenant_id=TENANT,
            run_id="run-1",
            kind="pull",
            started_at=started,
            finished_at=started + timedelta(seconds=40),
            outcome=RunOutcome.SUCCEEDED,
            counts={"invoices.created": 3},
            trigger="schedule:2026-12-01T10:00:00+00:00",
        )
    )
    world.store.record_flow_activity(
        TENANT,
        "pull:invoices",
        started=started,
        finished=started + timedelta(seconds=40),
        outcome=RunOutcome.SUCCEEDED,
        processed=3,
    )
    world.store.errors.record(TENANT, "invoice", "inv_1", direction="push", message="period closed")
    for n in range(2):
        send(
            world,
            "pull-dlq",
            PullJob(tenant_id=TENANT, scheduled_for=started + timedelta(hours=n)).to_message(),
        )

    reply = call("GET", STATUS)

    assert reply.status == 200, reply.raw
    (tenant,) = reply.body["tenants"]
    assert tenant["tenant_id"] == TENANT
    flows = {f["flow"]: f for f in tenant["flows"]}
    assert set(flows) == {f"pull:{n}" for n in PULL_FLOW_NAMES} | {
        "push:customers",
        "push:invoices",
        "push:credit_notes",
        "push:payments",
        "push:convenience_fees",
    }
    assert flows["pull:invoices"]["records_last_run"] == 3
    assert flows["pull:invoices"]["last_outcome"] == "succeeded"
    assert flows["push:invoices"]["open_errors"] == 1
    assert tenant["open_errors"] == 1
    assert tenant["last_pull"]["run_id"] == "run-1"
    assert tenant["next_pull"] is not None
    assert reply.body["queues"] == {
        "push": 0,
        "push_in_flight": 0,
        "push_dlq": 0,
        "pull": 0,
        "pull_in_flight": 0,
        "pull_dlq": 2,
    }


def test_the_status_of_an_unknown_tenant_is_404(call: Call) -> None:
    assert call("GET", "/tenants/nobody/status").status == 404


def test_sync_now_queues_an_operator_pull_for_the_tenant(call: Call, world: World) -> None:
    reply = call("POST", SYNC, body={})

    assert reply.status == 202, reply.raw
    (message,) = world.messages("pull")
    job = PullJob.model_validate_json(message["Body"])
    assert job.tenant_id == TENANT
    assert job.trigger == "operator"
    assert message["Attributes"]["MessageGroupId"] == TENANT
    assert reply.body["queued"] is True
    assert reply.body["trigger"] == f"operator:{job.scheduled_for.isoformat()}"
    assert reply.body["flows"] == []


def test_sync_now_without_a_body_is_the_same(call: Call, world: World) -> None:
    assert call("POST", SYNC).status == 202
    assert len(world.messages("pull")) == 1


def test_sync_now_of_some_flows_since_a_day_is_a_backfill_of_those(call: Call, world: World) -> None:
    reply = call("POST", SYNC, body={"flows": ["payments", "customers"], "since": "2026-01-01"})

    assert reply.status == 202, reply.raw
    (job,) = [PullJob.model_validate(b) for b in world.bodies("pull")]
    assert job.resume["flows"] == ["payments", "customers"]
    assert job.resume["since"].startswith("2026-01-01T00:00:00")
    assert reply.body["since"] == "2026-01-01"


def test_two_syncs_now_are_two_runs(call: Call, world: World) -> None:
    call("POST", SYNC, body={})
    call("POST", SYNC, body={})
    assert len(world.messages("pull")) == 2


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"flows": ["everything"]}, ["body", "flows", 0]),
        ({"since": "last tuesday"}, ["body", "since"]),
        ({"flows": "customers"}, ["body", "flows"]),
        ({"surprise": 1}, ["body", "surprise"]),
    ],
)
def test_an_invalid_sync_request_is_422_and_queues_nothing(
    call: Call, world: World, body: dict[str, object], loc: list[object]
) -> None:
    reply = call("POST", SYNC, body=body)

    assert reply.status == 422, reply.raw
    assert loc in [e["loc"] for e in reply.body["errors"]]
    assert world.messages("pull") == []


def test_sync_now_with_every_pull_off_is_409(call: Call, world: World) -> None:
    settings = world.store.get_tenant(TENANT)
    world.store.put_tenant(
        settings.model_copy(
            update={
                "flows": Flows(
                    pull_customers=False, pull_invoices=False, pull_credit_notes=False, pull_payments=False
                )
            }
        )
    )

    reply = call("POST", SYNC, body={})

    assert reply.status == 409
    assert "pull" in reply.body["message"]
    assert world.messages("pull") == []


def test_sync_now_of_an_unknown_tenant_is_404(call: Call, world: World) -> None:
    assert call("POST", "/tenants/nobody/sync", body={}).status == 404
    assert world.messages("pull") == []


def test_the_flows_the_api_names_are_the_pulls(call: Call) -> None:
    assert get_args(PullFlow) == PULL_FLOW_NAMES
