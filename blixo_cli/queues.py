"""The stack's queues as the operator's commands use them: send a job, read depths."""

from __future__ import annotations

from typing import Any

from bisync.operate.status import QueueDepths
from bisync.queues import queue_depths
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
    return queue_depths(
        target.client("sqs"),
        push=target.push_queue_url,
        push_dlq=target.push_dlq_url,
        pull=target.pull_queue_url,
        pull_dlq=target.pull_dlq_url,
    )
