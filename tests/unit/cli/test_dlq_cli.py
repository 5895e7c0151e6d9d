"""`blixo-intacct dlq`: the commands on moto queues, through typer's runner with a hand-made Target."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bisync.operate import dlq as ops
from blixo_cli.commands import dlq
from blixo_cli.target import Target
from tests.unit.operate.test_dlq import LATER, Queues, drain, make_queues, push_job, put, put_job

REGION = "us-east-1"


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Target, Queues]]:
    # An endpoint or profile from the shell would send boto3 past moto, to a real stack.
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(dlq, "RECEIVE_WAIT_SECONDS", 0)
    from moto import mock_aws

    with mock_aws():
        push = make_queues()
        pull_dlq = push.sqs.create_queue(QueueName="t-pull-dlq.fifo", Attributes={"FifoQueue": "true"})[
            "QueueUrl"
        ]
        pull = push.sqs.create_queue(QueueName="t-pull.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        target = Target(
            region=REGION,
            sync_table="unused",
            push_queue_url=push.source,
            push_dlq_url=push.dlq,
            pull_queue_url=pull,
            pull_dlq_url=pull_dlq,
            tenant_secret_prefix="blixo-intacct/dev/tenants/",
        )
        yield target, push


@pytest.fixture
def old_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock 10 minutes on: every message is past SQS's deduplication window."""
    monkeypatch.setattr(ops, "_utcnow", LATER)


def run(target: Target, *args: str) -> Any:
    # Mounted as `blixo-intacct` mounts it, so the group's name and help work as they will there.
    root = typer.Typer()
    root.add_typer(dlq.app, name="dlq")
    # A wide terminal, so table cells are not folded across lines.
    return CliRunner().invoke(root, ["dlq", *args], obj=target, env={"COLUMNS": "200"})


def test_list_prints_the_letters_as_json_and_consumes_none(stack: tuple[Target, Queues]) -> None:
    target, q = stack
    ids = [put_job(q, push_job("acme", "cus_1", n)) for n in range(3)]
    put(q, "garbage", "zeta:cus_9", "g-1")

    result = run(target, "list", "--tenant", "acme", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [x["message_id"] for x in data["letters"]] == ids
    assert data["letters"][0]["object_type"] == "invoice"
    assert data["letters"][0]["group_id"] == "acme:cus_1"
    assert "body" not in data["letters"][0]
    assert data["seen"] == 4
    assert len(drain(q.sqs, q.dlq)) == 4


def test_list_as_a_table_names_malformed_bodies(stack: tuple[Target, Queues]) -> None:
    target, q = stack
    message_id = put(q, "[bold]garbage", "zeta:cus_9", "g-1")
    put_job(q, push_job("acme", "cus_1", 1))

    result = run(target, "list")

    assert result.exit_code == 0, result.output
    assert "push DLQ: 2 message(s)" in result.stdout
    assert message_id in result.stdout
    assert "malformed" in result.stdout
    assert "invoice.created evt_acme_cus_1_1" in result.stdout


def test_show_prints_one_letter_with_its_body(stack: tuple[Target, Queues]) -> None:
    target, q = stack
    message_id = put_job(q, push_job("acme", "cus_1", 7, "payment.created"))

    as_json = run(target, "show", message_id, "--json")
    as_text = run(target, "show", message_id)

    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["event_type"] == "payment.created"
    assert json.loads(data["body"])["event_id"] == "evt_acme_cus_1_7"
    assert as_text.exit_code == 0, as_text.output
    assert '"type": "payment.created"' in as_text.stdout  # the event inside the job, as JSON


def test_show_of_an_unknown_message_is_a_clean_error(stack: tuple[Target, Queues]) -> None:
    target, _ = stack

    result = run(target, "show", "no-such-id", "--queue", "pull")

    assert result.exit_code == 1
    assert "no message no-such-id in the pull DLQ" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "say what to replay"),
        (["some-id", "--all"], "not both"),
        (["--all", "--queue", "both"], "Invalid value"),
    ],
)
def test_replay_refuses_an_unclear_selection(
    stack: tuple[Target, Queues], args: list[str], message: str
) -> None:
    target, q = stack
    put_job(q, push_job("acme", "cus_1", 1))

    result = run(target, "replay", *args)

    assert result.exit_code != 0
    assert message in result.output
    assert len(drain(q.sqs, q.dlq)) == 1


@pytest.mark.usefixtures("old_enough")
def test_replay_all_moves_every_letter_with_its_ids(stack: tuple[Target, Queues]) -> None:
    target, q = stack
    sent = [push_job("acme", c, n).to_message() for n in range(2) for c in ("cus_1", "cus_2")]
    for m in sent:
        put(q, m.body, m.group_id, m.deduplication_id)

    result = run(target, "replay", "--all")

    assert result.exit_code == 0, result.output
    assert "replayed 4 of 4" in result.stdout
    moved = drain(q.sqs, q.source)
    assert sorted(moved) == sorted((m.body, m.group_id, m.deduplication_id) for m in sent)
    assert drain(q.sqs, q.dlq) == []


@pytest.mark.usefixtures("old_enough")
def test_a_dry_run_moves_nothing(stack: tuple[Target, Queues]) -> None:
    target, q = stack
    put_job(q, push_job("acme", "cus_1", 1))

    result = run(target, "replay", "--tenant", "acme", "--dry-run", "--json")

    assert result.exit_code == 0, result.output
    assert [o["status"] for o in json.loads(result.stdout)["outcomes"]] == ["would_replay"]
    assert drain(q.sqs, q.source) == []
    assert len(drain(q.sqs, q.dlq)) == 1


def test_recent_letters_are_held_with_a_way_out(stack: tuple[Target, Queues]) -> None:
    target, q = stack
    put_job(q, push_job("acme", "cus_1", 1))

    held = run(target, "replay", "--all", "--json")

    assert held.exit_code == 1
    assert json.loads(held.stdout)["outcomes"][0]["status"] == "recent"
    assert "--new-dedup-id" in held.stderr
    assert drain(q.sqs, q.source) == []

    moved = run(target, "replay", "--all", "--new-dedup-id", "--json")

    assert moved.exit_code == 0, moved.output
    outcome = json.loads(moved.stdout)["outcomes"][0]
    assert outcome["status"] == "replayed"
    assert [d for _, _, d in drain(q.sqs, q.source)] == [outcome["deduplication_id"]]


@pytest.mark.usefixtures("old_enough")
def test_the_pull_queue_is_chosen_with_queue_pull(stack: tuple[Target, Queues]) -> None:
    target, q = stack
    from datetime import UTC, datetime

    from bisync.sync.jobs import PullJob

    job = PullJob(tenant_id="acme", trigger="operator", scheduled_for=datetime(2026, 1, 5, 10, tzinfo=UTC))
    message = job.to_message()
    q.sqs.send_message(
        QueueUrl=target.pull_dlq_url,
        MessageBody=message.body,
        MessageGroupId=message.group_id,
        MessageDeduplicationId=message.deduplication_id,
    )

    push_side = run(target, "replay", "--tenant", "acme", "--json")
    pull_side = run(target, "replay", "--queue", "pull", "--type", "operator", "--json")

    assert push_side.exit_code == 0, push_side.output
    assert json.loads(push_side.stdout)["outcomes"] == []
    assert pull_side.exit_code == 0, pull_side.output
    assert drain(q.sqs, target.pull_queue_url) == [(message.body, "acme", message.deduplication_id)]


def test_an_aws_failure_is_one_line_naming_the_queue(stack: tuple[Target, Queues]) -> None:
    target, _ = stack
    missing = target.push_dlq_url.replace("t-push-dlq", "gone-dlq")
    broken = Target(**{**target.__dict__, "push_dlq_url": missing})

    result = run(broken, "list")

    assert result.exit_code == 1
    assert f"push DLQ {missing}" in result.output
    assert "NonExistentQueue" in result.output
    assert "Traceback" not in result.output


def test_an_interrupted_replay_says_what_moved_and_that_nothing_was_lost(
    stack: tuple[Target, Queues], monkeypatch: pytest.MonkeyPatch
) -> None:
    target, q = stack
    put_job(q, push_job("acme", "cus_1", 1))
    real = ops.replay

    def interrupted(*args: Any, on_outcome: Any, **kwargs: Any) -> ops.ReplayReport:
        def then_stop(outcome: ops.ReplayOutcome) -> None:
            on_outcome(outcome)
            raise KeyboardInterrupt

        return real(*args, on_outcome=then_stop, **kwargs)

    monkeypatch.setattr(ops, "replay", interrupted)
    monkeypatch.setattr(ops, "_utcnow", LATER)

    result = run(target, "replay", "--all")

    assert result.exit_code == 1
    assert "interrupted after 1 replayed: nothing was lost" in result.output
    assert "Traceback" not in result.output
    assert len(drain(q.sqs, q.source)) == 1
