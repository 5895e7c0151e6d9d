"""Queue messages: FIFO group ids give the ordering, deduplication ids drop the duplicates."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bisync.sync.jobs import PullJob, PushJob, plan_pull_jobs, sqs_safe_id
from tests.unit.foundation.fakes import T0, event_payload, pulls_off, pushes_off, tenant

# What SQS accepts for MessageGroupId / MessageDeduplicationId: 1-128 printable ASCII, no space.
SQS_ID = re.compile(r"[!-~]{1,128}")


def push_job(**over: Any) -> PushJob:
    fields: dict[str, Any] = {
        "tenant_id": "acme",
        "event_id": "evt_1",
        "event_type": "invoice.created",
        "customer_id": "cus_1",
        "received_at": T0,
        "event_json": json.dumps(event_payload()),
    }
    fields.update(over)
    return PushJob(**fields)


# --------------------------------------------------------------------------- sqs_safe_id
@pytest.mark.parametrize(
    "raw", ["acme:cus_1", "evt_01JDEMO", "a", "x" * 128, "!~{}[]#$%&'()*+,-./:;<=>?@^_`|"]
)
def test_ids_sqs_accepts_are_kept_verbatim(raw: str) -> None:
    assert sqs_safe_id(raw) == raw


@pytest.mark.parametrize(
    "raw",
    ["x" * 129, "acme:cus 1", "evt\t1", "acme:clienté", "acme:客户", "", "line\nbreak", "del\x7f"],
)
def test_ids_sqs_would_reject_become_a_valid_stable_digest(raw: str) -> None:
    safe = sqs_safe_id(raw)
    assert SQS_ID.fullmatch(safe), safe
    assert safe != raw
    assert sqs_safe_id(raw) == safe  # stable: a redelivery gets the same id


def test_digests_of_different_ids_stay_distinct() -> None:
    raws = [
        "x" * 129,
        "x" * 130,
        "y" + "x" * 128,
        "acme:cus 1",
        "acme:cus 2",
        "acme:clienté",
        "acme:cliente ",
    ]
    assert len({sqs_safe_id(r) for r in raws}) == len(raws)


# --------------------------------------------------------------------------- push jobs
def test_push_message_groups_by_tenant_and_customer_and_dedupes_on_event_id() -> None:
    job = push_job()
    message = job.to_message()
    assert message.group_id == "acme:cus_1"
    assert message.deduplication_id == "evt_1"
    assert PushJob.model_validate_json(message.body) == job


def test_push_messages_of_two_customers_are_in_different_groups() -> None:
    a = push_job(customer_id="cus_1").to_message()
    b = push_job(customer_id="cus_2", event_id="evt_2").to_message()
    other_tenant = push_job(tenant_id="beta").to_message()
    assert len({a.group_id, b.group_id, other_tenant.group_id}) == 3


def test_a_redelivered_event_has_the_same_dedup_id_and_a_new_event_another() -> None:
    first = push_job(received_at=T0).to_message()
    retry = push_job(received_at=T0 + timedelta(minutes=3)).to_message()
    other = push_job(event_id="evt_2").to_message()
    assert retry.deduplication_id == first.deduplication_id
    assert other.deduplication_id != first.deduplication_id


@pytest.mark.parametrize(
    ("event_id", "customer_id"),
    [("e" * 200, "cus_1"), ("evt 1", "cus_1"), ("evt_1", "client é"), ("evt_1", "c" * 130)],
)
def test_push_ids_sqs_would_reject_are_made_safe(event_id: str, customer_id: str) -> None:
    message = push_job(event_id=event_id, customer_id=customer_id).to_message()
    assert SQS_ID.fullmatch(message.group_id)
    assert SQS_ID.fullmatch(message.deduplication_id)


# --------------------------------------------------------------------------- pull jobs
def test_pull_message_groups_by_tenant_and_dedupes_on_tenant_trigger_and_hour() -> None:
    job = PullJob(tenant_id="acme", scheduled_for=datetime(2026, 11, 26, 15, tzinfo=UTC))
    message = job.to_message()
    assert message.group_id == "acme"
    assert message.deduplication_id == "pull:acme:schedule:20261126T150000"
    assert PullJob.model_validate_json(message.body) == job


def test_pull_dedup_id_is_in_utc_whatever_the_zone_given() -> None:
    cet = timezone(timedelta(hours=1))
    local = PullJob(tenant_id="acme", scheduled_for=datetime(2026, 11, 26, 16, tzinfo=cet))
    utc = PullJob(tenant_id="acme", scheduled_for=datetime(2026, 11, 26, 15, tzinfo=UTC))
    assert local.to_message().deduplication_id == utc.to_message().deduplication_id


def test_pull_dedup_ids_differ_by_tenant_trigger_hour_and_resume_point() -> None:
    hour = datetime(2026, 11, 26, 15, tzinfo=UTC)
    ids = {
        PullJob(tenant_id="acme", scheduled_for=hour).to_message().deduplication_id,
        PullJob(tenant_id="beta", scheduled_for=hour).to_message().deduplication_id,
        PullJob(tenant_id="acme", trigger="operator", scheduled_for=hour).to_message().deduplication_id,
        PullJob(tenant_id="acme", scheduled_for=hour + timedelta(hours=1)).to_message().deduplication_id,
        PullJob(tenant_id="acme", trigger="continuation", scheduled_for=hour, resume={"flow": "invoices"})
        .to_message()
        .deduplication_id,
        PullJob(tenant_id="acme", trigger="continuation", scheduled_for=hour, resume={"flow": "payments"})
        .to_message()
        .deduplication_id,
    }
    assert len(ids) == 6


def test_a_continuation_dedup_id_does_not_depend_on_key_order() -> None:
    hour = datetime(2026, 11, 26, 15, tzinfo=UTC)
    a = PullJob(tenant_id="acme", trigger="continuation", scheduled_for=hour, resume={"f": "x", "p": 2})
    b = PullJob(tenant_id="acme", trigger="continuation", scheduled_for=hour, resume={"p": 2, "f": "x"})
    assert a.to_message().deduplication_id == b.to_message().deduplication_id
    assert SQS_ID.fullmatch(a.to_message().deduplication_id)


def test_a_64_character_tenant_still_gives_valid_pull_ids() -> None:
    job = PullJob(tenant_id="t" * 64, trigger="continuation", scheduled_for=T0, resume={"page": 9})
    message = job.to_message()
    assert SQS_ID.fullmatch(message.group_id)
    assert SQS_ID.fullmatch(message.deduplication_id)


# --------------------------------------------------------------------------- planning
def test_plan_skips_disabled_tenants_and_tenants_with_pulls_off() -> None:
    tenants = [
        tenant("acme"),
        tenant("off", enabled=False),
        tenant("nopull", flows=pulls_off()),
        tenant("pushless", flows=pushes_off()),  # pulls still on
    ]
    jobs = plan_pull_jobs(tenants, T0)
    assert [j.tenant_id for j in jobs] == ["acme", "pushless"]
    assert all(j.trigger == "schedule" for j in jobs)


def test_plan_truncates_to_the_utc_hour() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    fired = datetime(2026, 11, 26, 20, 45, 12, 999, tzinfo=india)  # 15:15:12 UTC
    [job] = plan_pull_jobs([tenant()], fired)
    assert job.scheduled_for == datetime(2026, 11, 26, 15, tzinfo=UTC)


def test_two_firings_within_one_hour_give_the_same_dedup_id_and_the_next_hour_another() -> None:
    def dedup(fired: datetime) -> str:
        [job] = plan_pull_jobs([tenant()], fired)
        return job.to_message().deduplication_id

    early = dedup(datetime(2026, 11, 26, 15, 0, 1, tzinfo=UTC))
    late = dedup(datetime(2026, 11, 26, 15, 59, 59, 999999, tzinfo=UTC))
    next_hour = dedup(datetime(2026, 11, 26, 16, 0, 0, tzinfo=UTC))
    assert early == late
    assert next_hour != early
