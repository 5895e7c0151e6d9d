"""`blixo-intacct dlq` on the deployed local stack: dead letters put straight into the DLQs are
listed without being consumed, held while inside SQS's deduplication window, and replayed once
each, in order, to the queues the deployed Lambdas consume.

"Arrived once" is read from what the Lambdas record per delivery, so nothing races with them:
a pull job for a tenant whose pulls are off is one SKIPPED run (`RUN#`, a new one per
delivery); a push job whose event does not parse is one business sync error per object, whose
`attempts` counts deliveries."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bisync.settings import Flows
from bisync.sync.jobs import PullJob, PushJob
from blixo_cli.commands import dlq
from blixo_cli.target import Target, resolve
from tests.e2e.conftest import OnboardedTenant, Stack, eventually

pytestmark = pytest.mark.e2e

PULLS_OFF = Flows(pull_customers=False, pull_invoices=False, pull_credit_notes=False, pull_payments=False)


@pytest.fixture
def target(stack: Stack) -> Target:
    return resolve()


def cli(target: Target, *args: str) -> tuple[int, dict[str, Any]]:
    root = typer.Typer()
    root.add_typer(dlq.app, name="dlq")
    result = CliRunner().invoke(root, ["dlq", *args, "--json"], obj=target)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def put(stack: Stack, url: str, job: PushJob | PullJob) -> str:
    message = job.to_message()
    reply = stack.client("sqs").send_message(
        QueueUrl=url,
        MessageBody=message.body,
        MessageGroupId=message.group_id,
        MessageDeduplicationId=message.deduplication_id,
    )
    return str(reply["MessageId"])


@pytest.fixture
def leftovers(stack: Stack) -> Iterator[Callable[[str], None]]:
    """Removes a test's own messages from the DLQs afterwards, and makes others' visible again."""
    tenants: list[str] = []
    yield tenants.append
    sqs = stack.client("sqs")
    for url in (stack.doc["push_dlq_url"], stack.doc["pull_dlq_url"]):
        others: list[str] = []
        while batch := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=20, MessageSystemAttributeNames=["All"]
        ).get("Messages", []):
            for m in batch:
                group = m["Attributes"]["MessageGroupId"]
                if any(group == t or group.startswith(f"{t}:") for t in tenants):
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                else:
                    others.append(m["ReceiptHandle"])
        for handle in others:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)


def test_pull_dead_letters_are_listed_held_then_replayed_once_each_in_order(
    stack: Stack, target: Target, onboard: Callable[..., OnboardedTenant], leftovers: Callable[[str], None]
) -> None:
    tenant = onboard(flows=PULLS_OFF).tenant_id
    leftovers(tenant)
    hour = datetime(2026, 1, 5, 8, tzinfo=UTC)
    jobs = [
        PullJob(tenant_id=tenant, trigger="operator", scheduled_for=hour + timedelta(hours=n))
        for n in range(3)
    ]
    ids = [put(stack, stack.doc["pull_dlq_url"], job) for job in jobs]

    code, first = cli(target, "list", "--queue", "pull", "--tenant", tenant)
    _, second = cli(target, "list", "--queue", "pull", "--tenant", tenant)

    assert code == 0
    assert [x["message_id"] for x in first["letters"]] == ids  # one group (the tenant), in order
    assert [x["message_id"] for x in second["letters"]] == ids  # the first listing consumed none
    assert {x["deduplication_id"] for x in first["letters"]} == {
        j.to_message().deduplication_id for j in jobs
    }

    # Sent seconds ago: SQS would drop a copy with these deduplication ids, so nothing moves.
    code, held = cli(target, "replay", "--queue", "pull", "--tenant", tenant)

    assert code == 1
    assert [o["status"] for o in held["outcomes"]] == ["recent", "blocked", "blocked"]
    assert [
        x["message_id"] for x in cli(target, "list", "--queue", "pull", "--tenant", tenant)[1]["letters"]
    ] == ids

    code, moved = cli(target, "replay", "--queue", "pull", "--tenant", tenant, "--new-dedup-id")

    assert code == 0, moved
    assert [o["letter"]["message_id"] for o in moved["outcomes"]] == ids
    assert {o["status"] for o in moved["outcomes"]} == {"replayed"}
    assert all(o["deduplication_id"].startswith("replay-") for o in moved["outcomes"])
    runs = eventually(
        lambda: (r := stack.store().list_runs(tenant)) and len(r) >= 3 and r,
        timeout=40,
        what="the pull Lambda to run the three replayed jobs",
    )
    time.sleep(2)  # a duplicate delivery would be another run
    runs = sorted(stack.store().list_runs(tenant), key=lambda r: r.started_at)
    assert [r.trigger for r in runs] == [f"operator:{j.scheduled_for.isoformat()}" for j in jobs]
    assert cli(target, "list", "--queue", "pull", "--tenant", tenant)[1]["letters"] == []


def push_job(tenant: str, customer: str, event_type: str, object_id: str) -> PushJob:
    # Valid JSON but not a Blixo event: the push Lambda records one sync error per delivery.
    event = {"id": f"evt_{uuid.uuid4().hex[:10]}", "type": event_type, "data": {"object": {"id": object_id}}}
    return PushJob(
        tenant_id=tenant,
        event_id=str(event["id"]),
        event_type=event_type,
        customer_id=customer,
        received_at=datetime.now(UTC),
        event_json=json.dumps(event),
    )


def test_push_dead_letters_of_one_type_are_replayed_once_each(
    stack: Stack, target: Target, onboard: Callable[..., OnboardedTenant], leftovers: Callable[[str], None]
) -> None:
    tenant = onboard().tenant_id
    leftovers(tenant)
    dlq_url = stack.doc["push_dlq_url"]
    invoices = [
        push_job(tenant, "cus_1", "invoice.created", "inv_1"),
        push_job(tenant, "cus_1", "invoice.updated", "inv_2"),
        push_job(tenant, "cus_2", "invoice.created", "inv_3"),
    ]
    customer = push_job(tenant, "cus_3", "customer.updated", "cus_3")
    for job in [*invoices, customer]:
        put(stack, dlq_url, job)

    code, report = cli(target, "replay", "--tenant", tenant, "--type", "invoice", "--new-dedup-id")

    assert code == 0, report
    assert sorted(o["letter"]["event_id"] for o in report["outcomes"]) == sorted(j.event_id for j in invoices)
    assert {(o["letter"]["group_id"], o["status"]) for o in report["outcomes"]} == {
        (f"{tenant}:cus_1", "replayed"),
        (f"{tenant}:cus_2", "replayed"),
    }
    errors = stack.store().errors

    def recorded() -> list[Any] | None:
        found = [errors.get(tenant, "invoice", f"inv_{n}") for n in (1, 2, 3)]
        return found if all(found) else None

    eventually(recorded, timeout=40, what="the push Lambda to take the three replayed events")
    time.sleep(2)  # a duplicate delivery would count another attempt
    found = recorded()
    assert found is not None
    assert [e.attempts for e in found] == [1, 1, 1]
    assert found[0].first_seen <= found[1].first_seen  # cus_1's two events, in order
    # The customer event was not selected: it is still in the DLQ, and only it.
    _, left = cli(target, "list", "--tenant", tenant)
    assert [x["event_id"] for x in left["letters"]] == [customer.event_id]
