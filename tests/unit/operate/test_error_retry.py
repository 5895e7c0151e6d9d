"""Retry plans: push errors re-send the record as it is now (or the stored deletion), pull
errors become one keyed pull per tenant; hints say what to do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bisync.operate.errors import hint, retry
from bisync.store.models import ErrorLevel, SyncErrorRecord
from bisync.sync.jobs import PullJob, PushJob, QueueMessage

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def record(object_type: str, object_id: str, direction: str, **over: Any) -> SyncErrorRecord:
    values: dict[str, Any] = {
        "tenant_id": "acme",
        "object_type": object_type,
        "object_id": object_id,
        "direction": direction,
        "message": "refused",
        "first_seen": NOW,
        "last_seen": NOW,
    }
    values.update(over)
    return SyncErrorRecord(**values)


def test_push_and_pull_errors_go_to_their_own_queues() -> None:
    pushes: list[QueueMessage] = []
    pulls: list[QueueMessage] = []
    current = {"id": "inv_1", "customerId": "cus_9", "updatedAt": "2026-11-30T00:00:00Z", "status": "issued"}
    records = [
        record(
            "invoice",
            "inv_1",
            "push",
            retry={"event_type": "invoice.created", "event_id": "evt_1", "object_id": "inv_1"},
        ),
        record("payment", "77", "pull", retry={"intacct_key": "77", "flow": "payments"}),
        record("customer", "C-1", "pull", retry={"intacct_key": "C-1", "flow": "customers"}),
    ]

    results = retry(
        records,
        fetch_blixo=lambda t, i: current if (t, i) == ("invoice", "inv_1") else None,
        send_push=pushes.append,
        send_pull=pulls.append,
        now=NOW,
    )

    assert [r.queued for r in results] == [True, True, True]
    [push] = pushes
    job = PushJob.model_validate_json(push.body)
    assert job.event()["data"]["object"] == current  # as it is now, not as it was
    assert push.group_id == "acme:cus_9"
    [pull] = pulls
    assert PullJob.model_validate_json(pull.body).resume["keys"] == {"payments": ["77"], "customers": ["C-1"]}


def test_a_deleted_record_is_retried_with_its_stored_deletion_and_a_vanished_one_is_not() -> None:
    pushes: list[QueueMessage] = []
    deletion = '{"id":"evt_d","type":"invoice.deleted","createdAt":"2026-11-30T00:00:00Z","data":{"object":{"id":"inv_2"}}}'
    records = [
        record(
            "invoice",
            "inv_2",
            "push",
            retry={
                "event_type": "invoice.deleted",
                "event_id": "evt_d",
                "object_id": "inv_2",
                "customer_id": "cus_1",
                "event_json": deletion,
            },
        ),
        record(
            "invoice",
            "inv_3",
            "push",
            retry={"event_type": "invoice.updated", "event_id": "evt_u", "object_id": "inv_3"},
        ),
    ]

    results = retry(
        records, fetch_blixo=lambda _t, _i: None, send_push=pushes.append, send_pull=pushes.append, now=NOW
    )

    assert [r.queued for r in results] == [True, False]
    assert "no longer exists in Blixo" in results[1].detail
    [sent] = pushes
    job = PushJob.model_validate_json(sent.body)
    assert job.event_json == deletion
    assert job.event_type == "invoice.deleted"
    assert sent.group_id == "acme:cus_1"


def test_hints_name_the_way_out() -> None:
    assert "customers flow" in hint(
        record("invoice", "1", "pull", message="customer C1 of SO-1 is not in Blixo")
    )
    assert "account mappings" in hint(record("invoice", "1", "push", message="Invalid GL account 4999"))
    assert "retries it by itself" in hint(
        record("payment", "1", "pull", message="waiting: invoice 9 is not synced")
    )
    assert "ignore it with a reason" in hint(
        record("payment", "1", "push", message="odd", level=ErrorLevel.WARNING)
    )
    assert "then retry" in hint(record("payment", "1", "push", message="something else"))
    located = hint(
        record("invoice", "1", "push", message="Location is required on line 1 for a multi-entity company")
    )
    assert "--entity" in located
