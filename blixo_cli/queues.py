"""The stack's queues as the operator's commands use them: send a job, read depths."""

from __future__ import annotations

from typing import Any

from bisync.operate.status import QueueDepths
from bisync.sync.jobs import QueueMessage
from blixo_cli.target import Target


class QueueSender:
    """SendMessage on a FIFO queue (the same call the functions make)."""

    def __init__(self, sqs: Any, url: str) -> None:
        self._sqs = sqs
        self._url = url

    def send(self, message: QueueMessage) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=message.body,
            MessageGroupId=message.group_id,
            MessageDeduplicationId=message.deduplication_id,
        )


def depths(target: Target) -> QueueDepths:
    sqs = target.client("sqs")

    def read(url: str) -> tuple[int, int]:
        attrs = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs.get("ApproximateNumberOfMessages", 0)), int(
            attrs.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    push, push_flight = read(target.push_queue_url)
    pull, pull_flight = read(target.pull_queue_url)
    push_dlq, push_dlq_flight = read(target.push_dlq_url)
    pull_dlq, pull_dlq_flight = read(target.pull_dlq_url)
    return QueueDepths(
        push=push,
        push_in_flight=push_flight,
        push_dlq=push_dlq + push_dlq_flight,
        pull=pull,
        pull_in_flight=pull_flight,
        pull_dlq=pull_dlq + pull_dlq_flight,
    )
