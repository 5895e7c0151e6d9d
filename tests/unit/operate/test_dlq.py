"""Dead-letter tooling on moto's SQS FIFO: reading consumes nothing, a replay moves each message
once, in order per group, with its group and deduplication ids, and an interruption loses none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bisync.operate import dlq
from bisync.operate.dlq import ReplayStatus, Selection
from bisync.sync.jobs import PullJob, PushJob

REGION = "us-east-1"
# A clock past every message's deduplication window, so replays keep the original ids.
LATER = lambda: datetime.now(UTC) + timedelta(minutes=10)  # noqa: E731


@dataclass(frozen=True)
class Queues:
    sqs: Any
    source: str
    dlq: str


@pytest.fixture
def queues() -> Iterator[Queues]:
    with mock_aws():
        yield make_queues()


def make_queues() -> Queues:
    """A push-like FIFO queue and its FIFO DLQ, as the template declares them."""
    sqs = boto3.client("sqs", region_name=REGION)
    dead = sqs.create_queue(QueueName="t-push-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(
        QueueName="t-push.fifo",
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "false",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    return Queues(sqs, source, dead)


def push_job(tenant: str, customer: str, n: int, event_type: str = "invoice.created") -> PushJob:
    return PushJob(
        tenant_id=tenant,
        event_id=f"evt_{tenant}_{customer}_{n}",
        event_type=event_type,
        customer_id=customer,
        received_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        event_json=json.dumps({"id": f"evt_{n}", "type": event_type}),
    )


def put(q: Queues, body: str, group: str, dedup: str) -> str:
    reply = q.sqs.send_message(
        QueueUrl=q.dlq, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=dedup
    )
    return str(reply["MessageId"])


def put_job(q: Queues, job: PushJob | PullJob) -> str:
    message = job.to_message()
    return put(q, message.body, message.group_id, message.deduplication_id)


def drain(sqs: Any, url: str) -> list[tuple[str, str, str]]:
    """Everything on a queue as (body, group id, deduplication id), in the order SQS hands it out."""
    out: list[tuple[str, str, str]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return out
        for m in batch:
            out.append(
                (m["Body"], m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"])
            )
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def per_group(items: list[tuple[str, str, str]]) -> dict[str, list[tuple[str, str]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for body, group, dedup in items:
        groups.setdefault(group, []).append((body, dedup))
    return groups


def depth(q: Queues, url: str) -> int:
    return dlq.queue_depth(q.sqs, url).total


def replay(q: Queues, client: Any = None, **options: Any) -> dlq.ReplayReport:
    options.setdefault("selection", Selection())
    options.setdefault("now", LATER)
    return dlq.replay(
        client or q.sqs, kind="push", source_url=q.source, dlq_url=q.dlq, wait_seconds=0, **options
    )


def three_groups(q: Queues) -> list[tuple[str, str, str]]:
    """Twelve jobs in three groups, sent interleaved; returns what was put, in order."""
    put_in: list[tuple[str, str, str]] = []
    for n in range(4):
        for customer in ("cus_a", "cus_b", "cus_c"):
            message = push_job("acme", customer, n).to_message()
            put(q, message.body, message.group_id, message.deduplication_id)
            put_in.append((message.body, message.group_id, message.deduplication_id))
    return put_in


def test_a_listing_consumes_nothing_and_shows_each_group_in_order(queues: Queues) -> None:
    put_in = three_groups(queues)

    first = dlq.peek(queues.sqs, kind="push", dlq_url=queues.dlq, wait_seconds=0)
    second = dlq.peek(queues.sqs, kind="push", dlq_url=queues.dlq, wait_seconds=0)

    assert [x.message_id for x in first.letters] == [x.message_id for x in second.letters]
    assert len(first.letters) == 10  # one receive's worth: the rest are behind in-flight groups
    assert first.depth is not None
    assert first.depth.visible == 12
    assert first.hidden == 2
    assert first.partial_groups == ["acme:cus_a", "acme:cus_b", "acme:cus_c"]
    order = {(x.group_id, x.body) for x in first.letters}
    assert order <= {(g, b) for b, g, _ in put_in}
    assert depth(queues, queues.dlq) == 12
    # Visible again at once, not after the listing's visibility timeout.
    assert len(drain(queues.sqs, queues.dlq)) == 12


def test_letters_carry_the_job_and_filters_pick_tenant_and_type(queues: Queues) -> None:
    put_job(queues, push_job("acme", "cus_1", 1, "invoice.created"))
    put_job(queues, push_job("acme", "cus_2", 1, "customer.updated"))
    put_job(queues, push_job("zeta", "cus_1", 1, "invoice.updated"))

    def types(**selection: Any) -> list[tuple[str | None, str | None]]:
        listing = dlq.peek(
            queues.sqs, kind="push", dlq_url=queues.dlq, selection=Selection(**selection), wait_seconds=0
        )
        return sorted((x.tenant_id, x.event_type) for x in listing.letters)

    assert types(tenant_id="acme") == [("acme", "customer.updated"), ("acme", "invoice.created")]
    assert types(type_name="invoice") == [("acme", "invoice.created"), ("zeta", "invoice.updated")]
    assert types(type_name="invoice.created") == [("acme", "invoice.created")]
    assert types(tenant_id="zeta", type_name="customer") == []
    letter = dlq.peek(
        queues.sqs, kind="push", dlq_url=queues.dlq, selection=Selection(tenant_id="zeta"), wait_seconds=0
    ).letters[0]
    assert (letter.group_id, letter.deduplication_id, letter.subject) == (
        "zeta:cus_1",
        "evt_zeta_cus_1_1",
        "cus_1",
    )
    assert letter.sent_at is not None
    assert abs(letter.sent_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_pull_letters_filter_by_trigger_and_flow(queues: Queues) -> None:
    hour = datetime(2026, 1, 5, 10, tzinfo=UTC)
    put_job(queues, PullJob(tenant_id="acme", scheduled_for=hour))
    put_job(
        queues,
        PullJob(tenant_id="beta", trigger="continuation", scheduled_for=hour, resume={"flows": ["payments"]}),
    )

    def tenants(type_name: str) -> list[str]:
        listing = dlq.peek(
            queues.sqs,
            kind="pull",
            dlq_url=queues.dlq,
            selection=Selection(type_name=type_name),
            wait_seconds=0,
        )
        return sorted(x.tenant_id or "" for x in listing.letters)

    assert tenants("pull") == ["acme", "beta"]
    assert tenants("schedule") == ["acme"]
    assert tenants("payments") == ["beta"]
    assert tenants("invoice") == []


def test_a_malformed_body_is_listed_with_its_problem_and_replayed_as_it_is(queues: Queues) -> None:
    put(queues, "not json at all", "acme:cus_1", "d-1")
    put(queues, json.dumps({"tenant_id": "acme"}), "acme:cus_2", "d-2")
    put_job(queues, push_job("acme", "cus_3", 1))

    listing = dlq.peek(
        queues.sqs,
        kind="push",
        dlq_url=queues.dlq,
        selection=Selection(type_name="malformed"),
        wait_seconds=0,
    )
    assert sorted(x.deduplication_id or "" for x in listing.letters) == ["d-1", "d-2"]
    assert all(
        x.problem and x.problem.startswith("not a push job") and x.tenant_id == "acme"
        for x in listing.letters
    )
    assert "not json" not in " ".join(x.problem or "" for x in listing.letters)  # the body is not echoed

    report = replay(queues, selection=Selection(type_name="malformed"))

    assert report.complete
    assert report.count(ReplayStatus.REPLAYED) == 2
    moved = drain(queues.sqs, queues.source)
    assert sorted(moved) == [
        ("not json at all", "acme:cus_1", "d-1"),
        (json.dumps({"tenant_id": "acme"}), "acme:cus_2", "d-2"),
    ]
    assert [
        x.event_type for x in dlq.peek(queues.sqs, kind="push", dlq_url=queues.dlq, wait_seconds=0).letters
    ] == ["invoice.created"]


def test_a_replay_moves_each_message_once_in_order_per_group_with_its_ids(queues: Queues) -> None:
    put_in = three_groups(queues)

    report = replay(queues, selection=Selection(tenant_id="acme"))

    assert report.complete
    assert report.count(ReplayStatus.REPLAYED) == 12
    assert depth(queues, queues.dlq) == 0
    moved = drain(queues.sqs, queues.source)
    assert per_group(moved) == per_group(put_in)  # same bodies and dedup ids, each group in order
    assert all(o.new_message_id and o.new_message_id != o.letter.message_id for o in report.outcomes)


def test_a_replay_walks_a_group_longer_than_one_receive(queues: Queues) -> None:
    put_in = [push_job("acme", "cus_1", n).to_message() for n in range(25)]
    for m in put_in:
        put(queues, m.body, m.group_id, m.deduplication_id)

    dry = replay(queues, dry_run=True)
    report = replay(queues)

    assert dry.count(ReplayStatus.WOULD_REPLAY) == 10
    assert dry.partial_groups == ["acme:cus_1"]
    assert report.count(ReplayStatus.REPLAYED) == 25
    assert [dedup for _, _, dedup in drain(queues.sqs, queues.source)] == [m.deduplication_id for m in put_in]


def test_a_dry_run_changes_nothing(queues: Queues) -> None:
    put_in = three_groups(queues)

    report = replay(queues, dry_run=True)

    assert report.dry_run
    assert report.complete
    assert report.count(ReplayStatus.WOULD_REPLAY) == 10
    assert {o.deduplication_id for o in report.outcomes} <= {d for _, _, d in put_in}
    assert depth(queues, queues.source) == 0
    assert depth(queues, queues.dlq) == 12
    assert len(drain(queues.sqs, queues.dlq)) == 12  # and all of them visible


def test_a_message_inside_the_deduplication_window_is_held_unless_a_new_id_is_asked_for(
    queues: Queues,
) -> None:
    first = push_job("acme", "cus_1", 1).to_message()
    put(queues, first.body, first.group_id, first.deduplication_id)
    put_job(queues, push_job("acme", "cus_1", 2))

    held = replay(queues, now=lambda: datetime.now(UTC))

    assert [o.status for o in held.outcomes] == [ReplayStatus.RECENT, ReplayStatus.BLOCKED]
    assert "SQS would drop a copy" in held.outcomes[0].reason
    assert not held.complete
    assert depth(queues, queues.source) == 0
    assert depth(queues, queues.dlq) == 2

    moved = replay(queues, now=lambda: datetime.now(UTC), new_dedup_id=True)

    assert moved.complete
    assert moved.count(ReplayStatus.REPLAYED) == 2
    out = drain(queues.sqs, queues.source)
    assert [body for body, _, _ in out] == [first.body, push_job("acme", "cus_1", 2).to_message().body]
    assert out[0][1] == "acme:cus_1"
    assert out[0][2] == dlq.replayed_deduplication_id(
        first.deduplication_id, moved.outcomes[0].letter.message_id
    )


def test_an_unselected_message_stops_its_group_so_order_holds(queues: Queues) -> None:
    put_job(queues, push_job("acme", "cus_1", 1, "customer.updated"))
    put_job(queues, push_job("acme", "cus_1", 2, "invoice.created"))
    put_job(queues, push_job("acme", "cus_2", 1, "invoice.created"))

    report = replay(queues, selection=Selection(type_name="invoice"))

    statuses = {(o.letter.group_id, o.status) for o in report.outcomes}
    assert statuses == {("acme:cus_1", ReplayStatus.BLOCKED), ("acme:cus_2", ReplayStatus.REPLAYED)}
    assert [g for _, g, _ in drain(queues.sqs, queues.source)] == ["acme:cus_2"]
    left = [
        x.event_type for x in dlq.peek(queues.sqs, kind="push", dlq_url=queues.dlq, wait_seconds=0).letters
    ]
    assert left == ["customer.updated", "invoice.created"]


class Flaky:
    """The SQS client, failing one call: the `fail_at`-th send or delete (1-based)."""

    def __init__(self, sqs: Any, *, call: str, fail_at: int, error: BaseException) -> None:
        self._sqs, self._call, self._fail_at, self._error, self.calls = sqs, call, fail_at, error, 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._sqs, name)
        if name != self._call:
            return real

        def call(**kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self._fail_at:
                raise self._error
            return real(**kwargs)

        return call


def throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, operation)


def test_a_failed_send_stops_the_replay_and_a_second_one_finishes_without_duplicates(queues: Queues) -> None:
    put_in = three_groups(queues)
    flaky = Flaky(queues.sqs, call="send_message", fail_at=3, error=throttled("SendMessage"))

    first = replay(queues, client=flaky)

    assert first.stopped
    assert "ThrottlingException" in first.stopped
    assert not first.complete
    assert [o.status for o in first.outcomes] == [ReplayStatus.REPLAYED] * 2 + [ReplayStatus.FAILED]
    assert depth(queues, queues.dlq) == 10

    second = replay(queues)

    assert second.complete
    assert second.count(ReplayStatus.REPLAYED) == 10
    assert per_group(drain(queues.sqs, queues.source)) == per_group(put_in)


def test_a_crash_between_send_and_delete_loses_none_and_the_next_replay_duplicates_none(
    queues: Queues,
) -> None:
    put_in = three_groups(queues)
    crashing = Flaky(queues.sqs, call="delete_message", fail_at=4, error=KeyboardInterrupt())

    with pytest.raises(KeyboardInterrupt):
        replay(queues, client=crashing)

    # The fourth is in both queues; everything not deleted is visible in the DLQ again at once.
    assert depth(queues, queues.dlq) == 9
    assert dlq.queue_depth(queues.sqs, queues.dlq).visible == 9

    second = replay(queues)

    assert second.complete
    assert second.count(ReplayStatus.REPLAYED) == 9
    # SQS dropped the fourth's second copy: same deduplication id, within 5 minutes.
    assert per_group(drain(queues.sqs, queues.source)) == per_group(put_in)


def test_a_failed_delete_is_reported_and_the_message_stays_in_the_dlq(queues: Queues) -> None:
    put_job(queues, push_job("acme", "cus_1", 1))
    put_job(queues, push_job("acme", "cus_1", 2))
    flaky = Flaky(queues.sqs, call="delete_message", fail_at=1, error=throttled("DeleteMessage"))

    first = replay(queues, client=flaky)

    assert [o.status for o in first.outcomes] == [ReplayStatus.NOT_DELETED]
    assert first.stopped
    assert "deleting" in first.stopped
    assert depth(queues, queues.dlq) == 2
    assert depth(queues, queues.source) == 1

    assert replay(queues).complete
    assert len(drain(queues.sqs, queues.source)) == 2


def test_a_send_answered_with_the_original_message_id_counts_as_dropped(queues: Queues) -> None:
    """ministack (and SQS) answer a deduplicated send with the kept message's id."""
    put_job(queues, push_job("acme", "cus_1", 1))
    put_job(queues, push_job("acme", "cus_1", 2))

    class Deduplicating(Flaky):
        def send_message(self, **kwargs: Any) -> dict[str, str]:
            return {"MessageId": original}

    original = dlq.peek(queues.sqs, kind="push", dlq_url=queues.dlq, wait_seconds=0).letters[0].message_id
    report = replay(queues, client=Deduplicating(queues.sqs, call="", fail_at=0, error=RuntimeError()))

    assert [o.status for o in report.outcomes] == [ReplayStatus.DUPLICATE, ReplayStatus.BLOCKED]
    assert depth(queues, queues.dlq) == 2


def test_a_replay_by_message_id_reports_ids_it_did_not_reach(queues: Queues) -> None:
    wanted = put_job(queues, push_job("acme", "cus_1", 1))
    put_job(queues, push_job("acme", "cus_2", 1))

    report = replay(queues, selection=Selection(message_ids=frozenset({wanted, "no-such-id"})))

    assert [o.letter.message_id for o in report.outcomes] == [wanted]
    assert report.missing_ids == ["no-such-id"]
    assert not report.complete
    assert [g for _, g, _ in drain(queues.sqs, queues.source)] == ["acme:cus_1"]
    assert depth(queues, queues.dlq) == 1


def test_a_job_goes_back_with_its_own_deduplication_id_where_the_dlq_replaced_it(queues: Queues) -> None:
    """AWS gives a message moved to a FIFO DLQ its message id as deduplication id."""
    job = push_job("acme", "cus_1", 1).to_message()
    put(queues, job.body, job.group_id, "0b7c5b2e-6a55-4c2e-9a43-5f1b8e7d9c10")

    report = replay(queues)

    assert report.outcomes[0].deduplication_id == job.deduplication_id == "evt_acme_cus_1_1"
    assert "the DLQ had 0b7c5b2e" in report.outcomes[0].reason
    assert drain(queues.sqs, queues.source) == [(job.body, job.group_id, job.deduplication_id)]


def test_message_attributes_go_back_with_the_message(queues: Queues) -> None:
    job = push_job("acme", "cus_1", 1).to_message()
    queues.sqs.send_message(
        QueueUrl=queues.dlq,
        MessageBody=job.body,
        MessageGroupId=job.group_id,
        MessageDeduplicationId=job.deduplication_id,
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "webhook"}},
    )

    assert replay(queues).complete

    got = queues.sqs.receive_message(QueueUrl=queues.source, MessageAttributeNames=["All"])["Messages"][0]
    assert got["MessageAttributes"]["origin"]["StringValue"] == "webhook"
