"""A genuine webhook replayed hours later, past SQS's five-minute deduplication window.

Blixo signs no timestamp, so a replay verifies again. Two guards stand behind each other:
the intake remembers every event id it queued and answers a replay 200 without queueing it;
and should the same job reach the queue again all the same (an operator's DLQ replay, or past
the intake's 30-day window), the push writes nothing twice: each mapping holds the hash of its
object's last synced form, so an unchanged object is done without a request to Intacct. Real
signed deliveries from the Blixo sandbox, the webhook and push Lambdas in process on moto, the
Intacct sandbox behind them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bisync.sync.jobs import PushJob
from tests.integration.foundation.test_handlers import webhook_event
from tests.integration.push import conftest as push
from tests.integration.push.conftest import HOOK_SECRET, TENANT, World
from tests.security import webhook_support as support
from tests.security.webhook_support import LambdaContext, SqsClock, load_handler, sqs

# The fixtures, bound here for pytest to find: the push path's world (both sandboxes in
# process, moto behind the Lambdas) and the suite's SQS clock.
_fast_moto_transactions = support._fast_moto_transactions
aws, aws_env, table, sqs_clock = support.aws, support.aws_env, support.table, support.sqs_clock
intacct_sandbox, blixo_sandbox, world = push.intacct_sandbox, push.blixo_sandbox, push.world


def peek(world: World) -> list[tuple[dict[str, str], PushJob]]:
    """The push queue's messages, left where they are."""
    reply = sqs().receive_message(
        QueueUrl=world.aws.push_queue_url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["All"],
        VisibilityTimeout=0,
    )
    return [(m["Attributes"], PushJob.model_validate_json(m["Body"])) for m in reply.get("Messages", [])]


def push_metrics(out: str) -> dict[str, float]:
    """The push Lambda's metrics in ``out``, summed over its invocations (one EMF document each)."""
    documents = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    pushes = [doc for doc in documents if "PushJobsProcessed" in doc]
    assert pushes, out
    totals: dict[str, float] = {}
    for document in pushes:
        for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value: Any = document[metric["Name"]]
            total = sum(value) if isinstance(value, list) else value
            totals[metric["Name"]] = totals.get(metric["Name"], 0.0) + float(total)
    return totals


def test_a_replay_hours_later_writes_nothing_twice_in_intacct(
    world: World, sqs_clock: SqsClock, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = world.customer("Replay Co", customerNo="RPL-1")
    invoice = world.invoice(customer.id, "42.00")
    world.blixo_admin("POST", "/_sandbox/webhooks/drain", {"timeoutSeconds": 20})
    # The texts Blixo signed, byte for byte (the intake queues the verified body as sent).
    delivered = [job for _, job in peek(world)]
    assert {job.event_type for job in delivered} >= {"customer.created", "invoice.created"}
    assert world.pump() == []
    first = {
        "customer": world.mapping("customer", customer.id),
        "invoice": world.mapping("invoice", invoice.id),
    }
    assert all(link is not None for link in first.values())
    before = world.counters()
    capsys.readouterr()

    sqs_clock.advance(3 * 3600)
    webhook = load_handler("webhook")
    for job in delivered:
        event = webhook_event(tenant_id=TENANT, body=job.event_json, secret=HOOK_SECRET)
        response = webhook.lambda_handler(event, LambdaContext())
        assert response["statusCode"] == 200
        assert json.loads(response["body"])["status"] == "replayed"
    assert peek(world) == []  # the intake's guard: none queued again
    # The same jobs sent to the queue all the same (as a DLQ replay with a new dedup id does).
    for job in delivered:
        message = job.to_message()
        sqs().send_message(
            QueueUrl=world.aws.push_queue_url,
            MessageBody=message.body,
            MessageGroupId=message.group_id,
            MessageDeduplicationId=f"{message.deduplication_id}-again",
        )
    replayed = peek(world)
    assert [j.event_json for _a, j in replayed] == [job.event_json for job in delivered]
    capsys.readouterr()

    assert world.pump() == []
    metrics = push_metrics(capsys.readouterr().out)
    assert metrics["PushJobsProcessed"] == len(delivered)
    assert metrics["PushEventsDone"] == len(delivered)
    assert metrics["PushEventsFailed"] == 0
    assert metrics["PushIntacctRequests"] == 0
    after = world.counters()
    # Not a request to Intacct, so not a write: the mapping's hash said "already synced".
    assert (after["requests"], after["transactions"]) == (before["requests"], before["transactions"])
    assert [c["CUSTOMERID"] for c in world.dump("CUSTOMER")].count("RPL-1") == 1
    assert len([r for r in world.dump("ARINVOICE") if r["CUSTOMERID"] == "RPL-1"]) == 1
    assert world.mapping("customer", customer.id) == first["customer"]
    assert world.mapping("invoice", invoice.id) == first["invoice"]
    assert peek(world) == []  # every replay done, none left failing
    world.assert_ledgers_agree()
