"""Reading the four queues' depths (SQS GetQueueAttributes), for `status` in the command and
the Accounting Sync API alike."""

from __future__ import annotations

from typing import Any

from bisync.operate.status import QueueDepths

_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


def queue_depths(sqs: Any, *, push: str, push_dlq: str, pull: str, pull_dlq: str) -> QueueDepths:
    """Waiting and in-flight counts (a DLQ's in-flight messages are being read by an operator:
    they count as in the DLQ)."""

    def read(url: str) -> tuple[int, int]:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_ATTRIBUTES)["Attributes"]
        return int(attrs.get(_ATTRIBUTES[0], 0)), int(attrs.get(_ATTRIBUTES[1], 0))

    push_waiting, push_flight = read(push)
    pull_waiting, pull_flight = read(pull)
    push_dead = sum(read(push_dlq))
    pull_dead = sum(read(pull_dlq))
    return QueueDepths(
        push=push_waiting,
        push_in_flight=push_flight,
        push_dlq=push_dead,
        pull=pull_waiting,
        pull_in_flight=pull_flight,
        pull_dlq=pull_dead,
    )
