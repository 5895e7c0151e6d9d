"""Retry and backfill through the real queues, writers and sandboxes: a retried error syncs
once its cause is fixed; a backfill brings history across once, and again writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bisync.blixo import api
from bisync.blixo.errors import NotFoundError
from bisync.intacct import functions as fn
from bisync.operate import errors as ops
from bisync.operate.backfill import backfill_jobs, raw_records
from bisync.sync.jobs import PullJob
from blixo_cli.queues import QueueSender
from tests.integration.foundation.conftest import sqs
from tests.integration.operator.conftest import Seeder, World
from tests.integration.push.conftest import TENANT


def fetch(world: World) -> ops.FetchBlixo:
    def get(object_type: str, object_id: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = world.blixo.get_data(
                api.object_path(api.ResourceKind(object_type), object_id)
            )
        except NotFoundError:
            return None
        return data

    return get


def snapshot(world: World) -> dict[str, list[dict[str, Any]]]:
    """Every record the push writes, with its WHENMODIFIED: equal snapshots, nothing written."""
    return {obj: world.dump(obj) for obj in ("CUSTOMER", "ARINVOICE", "ARADJUSTMENT", "ARPYMT")}


def retry_all(world: World) -> list[ops.RetryResult]:
    records = world.aws.store.errors.list(TENANT)
    return ops.retry(
        records,
        fetch_blixo=fetch(world),
        send_push=QueueSender(sqs(), world.aws.push_queue_url).send,
        send_pull=QueueSender(sqs(), world.aws.pull_queue_url).send,
    )


def test_a_push_error_retried_after_the_fix_syncs_once(world: World) -> None:
    store = world.aws.store
    broken = world.settings.model_copy(
        update={"accounts": world.settings.accounts.model_copy(update={"revenue_account": "4999"})}
    )
    store.put_tenant(broken)
    customer = world.customer("Retry Co")
    invoice = world.invoice(customer.id, "120.00", "30.50")
    assert world.pump() == []
    [error] = [e for e in store.errors.list(TENANT) if e.object_type == "invoice"]
    assert error.object_id == invoice.id
    assert world.mapping("invoice", invoice.id) is None

    store.put_tenant(world.settings)  # the operator fixes the account mapping
    results = retry_all(world)
    assert [r.queued for r in results if r.object_id == invoice.id] == [True]
    assert world.pump() == []

    linked = world.mapping("invoice", invoice.id)
    assert linked is not None
    assert Decimal(world.ar_invoice(linked.intacct_key)["TOTALDUE"]) == Decimal("150.50")
    assert store.errors.list(TENANT) == []
    world.assert_ledgers_agree()
    # Retrying again (a double click) writes nothing more.
    before = snapshot(world)
    store.errors.record(
        TENANT,
        "invoice",
        invoice.id,
        direction="push",
        message="stale",
        retry=error.retry,
        now=datetime.now(UTC),
    )
    retry_all(world)
    assert world.pump() == []
    assert snapshot(world) == before
    assert len(before["ARINVOICE"]) == 1


def test_a_record_gone_from_blixo_is_not_queued_and_says_so(world: World) -> None:
    world.aws.store.errors.record(
        TENANT, "invoice", "inv_gone", direction="push", message="x",
        retry={"event_type": "invoice.updated", "event_id": "evt_1", "object_id": "inv_gone"},
        now=datetime.now(UTC),
    )  # fmt: skip
    [result] = retry_all(world)
    assert not result.queued
    assert "no longer exists in Blixo" in result.detail


def test_backfill_sends_history_once_and_again_writes_nothing(world: World) -> None:
    # History made before the tenant subscribed: no webhook ever told the push about it.
    for hook in world.blixo.request("GET", "webhooks")["data"]:
        world.blixo.request("DELETE", f"webhooks/{hook['id']}")
    customer = world.customer("History Ltd")
    first = world.invoice(customer.id, "200.00")
    second = world.invoice(customer.id, "80.00")
    world.pay(customer.id, "150.00", {"type": "invoice", "invoiceId": first.id, "amount": "150.00"})
    assert world.pump() == []
    assert world.mapping("invoice", first.id) is None

    since = datetime(2026, 1, 1, tzinfo=UTC)
    sender = QueueSender(sqs(), world.aws.push_queue_url)
    jobs = list(backfill_jobs(TENANT, since, raw_records(world.blixo.request)))
    assert [j.event_type for j in jobs] == [
        "customer.updated",
        "invoice.updated",
        "invoice.updated",
        "payment.updated",
    ]
    for job in jobs:
        sender.send(job.to_message())
    assert world.pump() == []

    assert Decimal(world.ar_invoice(world.mapping("invoice", first.id).intacct_key)["TOTALDUE"]) == Decimal(
        "50.00"
    )
    assert Decimal(world.ar_invoice(world.mapping("invoice", second.id).intacct_key)["TOTALDUE"]) == Decimal(
        "80.00"
    )
    world.assert_ledgers_agree()
    before = snapshot(world)
    assert (len(before["ARINVOICE"]), len(before["ARPYMT"])) == (2, 1)
    # The same backfill later (past SQS's deduplication window) writes nothing new.
    for job in backfill_jobs(TENANT, since, raw_records(world.blixo.request)):
        sender.send(job.model_copy(update={"event_id": job.event_id + ":again"}).to_message())
    assert world.pump() == []
    assert snapshot(world) == before


def test_a_pull_error_retried_reads_only_that_record_again(world: World) -> None:
    seed = Seeder(world)
    store = world.aws.store
    seed.customer("NORTH", "Northwind")
    first = seed.order("NORTH", "SI-1", ("WIDGET", 2))
    seed.order("NORTH", "SI-2", ("WIDGET", 1))
    [doc] = world.intacct.execute([fn.read_by_name("SODOCUMENT", [first], ["RECORDNO"])])[0].records
    # SI-1's write failed in an earlier run (its sync error says so); SI-2 was never read.
    store.errors.record(
        TENANT, "invoice", str(doc["RECORDNO"]), direction="pull", message="Blixo refused it",
        retry={"intacct_key": str(doc["RECORDNO"]), "flow": "invoices"}, now=datetime.now(UTC),
    )  # fmt: skip

    [result] = retry_all(world)
    assert result.queued
    [message] = messages(world.aws.pull_queue_url)
    job = PullJob.model_validate_json(message["Body"])
    world.pull(trigger=job.trigger, resume=job.resume)

    invoices = world.blixo.invoices.list()
    assert [(i.invoice_no, i.total) for i in invoices] == [("SI-1", Decimal("50.00"))]
    assert store.errors.list(TENANT) == []
    # The operator's retry moved no cursor: the next scheduled pull still reads SI-2.
    assert store.get_cursor(TENANT, "pull:invoices").high_water is None
    world.pull()
    assert sorted(i.invoice_no or "" for i in world.blixo.invoices.list()) == ["SI-1", "SI-2"]


def messages(url: str) -> list[dict[str, Any]]:
    got = sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return list(got.get("Messages", []))
