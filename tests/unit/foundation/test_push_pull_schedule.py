"""run_pull and enqueue_pull_jobs over fake stores and queues (the push: tests/unit/sync)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from bisync.store import RunOutcome, TenantNotFoundError
from bisync.sync.jobs import PullJob, PushJob
from bisync.sync.pull import run_pull
from bisync.sync.schedule import enqueue_pull_jobs
from tests.unit.foundation.fakes import (
    T0,
    Clock,
    FakeQueue,
    FakeStore,
    event_payload,
    pulls_off,
    pushes_off,
    tenant,
)


def push_job(event_type: str = "invoice.created", tenant_id: str = "acme") -> PushJob:
    return PushJob(
        tenant_id=tenant_id,
        event_id="evt_1",
        event_type=event_type,
        customer_id="cus_1",
        received_at=T0,
        event_json=json.dumps(event_payload(event_type)),
    )


# --------------------------------------------------------------------------- pull
# (runs that read and write: tests/integration/pull)
@pytest.mark.parametrize("settings", [tenant("nopull", flows=pulls_off()), tenant("nopull", enabled=False)])
def test_a_pull_for_a_tenant_whose_pulls_are_off_is_recorded_as_skipped(settings: Any) -> None:
    store = FakeStore().add(settings)
    run = run_pull(PullJob(tenant_id="nopull", scheduled_for=T0), cast(Any, store), now=Clock())

    assert run.outcome is RunOutcome.SKIPPED
    assert store.runs == [run]
    # The flow's status is not moved: nothing was pulled.
    assert store.activity == []


def test_pull_for_an_unknown_tenant_raises_and_records_nothing() -> None:
    store = FakeStore()
    with pytest.raises(TenantNotFoundError):
        run_pull(PullJob(tenant_id="ghost", scheduled_for=T0), cast(Any, store), now=Clock())
    assert store.runs == []
    assert store.activity == []


# --------------------------------------------------------------------------- schedule
TENANTS: list[Any] = [
    tenant("acme"),
    tenant("beta", flows=pushes_off()),
    tenant("nopull", flows=pulls_off()),
    tenant("gone", enabled=False),
]


def test_schedule_queues_one_job_per_tenant_with_pulls_on() -> None:
    queue = FakeQueue()
    queued = enqueue_pull_jobs(TENANTS, "2026-11-26T15:00:07Z", queue)
    assert queued == ["acme", "beta"]
    assert [(m.group_id, m.deduplication_id) for m in queue.sent] == [
        ("acme", "pull:acme:schedule:20261126T150000"),
        ("beta", "pull:beta:schedule:20261126T150000"),
    ]
    job = PullJob.model_validate_json(queue.sent[0].body)
    assert job.scheduled_for == datetime(2026, 11, 26, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "fired_at",
    ["2026-11-26T15:00:00Z", "2026-11-26T15:00:00+00:00", datetime(2026, 11, 26, 15, tzinfo=UTC)],
)
def test_schedule_accepts_the_event_time_as_string_or_datetime(fired_at: str | datetime) -> None:
    queue = FakeQueue()
    enqueue_pull_jobs([tenant("acme")], fired_at, queue)
    assert queue.sent[0].deduplication_id == "pull:acme:schedule:20261126T150000"


def test_two_firings_in_one_hour_send_identical_dedup_ids() -> None:
    first, second = FakeQueue(), FakeQueue()
    enqueue_pull_jobs(TENANTS, "2026-11-26T15:00:02Z", first)
    enqueue_pull_jobs(TENANTS, "2026-11-26T15:01:40Z", second)
    assert [m.deduplication_id for m in first.sent] == [m.deduplication_id for m in second.sent]
    assert len(first.sent) == 2


def test_schedule_with_no_tenant_to_pull_sends_nothing() -> None:
    queue = FakeQueue()
    assert enqueue_pull_jobs(TENANTS[2:], "2026-11-26T15:00:00Z", queue) == []
    assert queue.sent == []


def test_a_queue_failure_fails_the_schedule() -> None:
    with pytest.raises(ConnectionError):
        enqueue_pull_jobs(TENANTS, "2026-11-26T15:00:00Z", FakeQueue(fail_with=ConnectionError("down")))
