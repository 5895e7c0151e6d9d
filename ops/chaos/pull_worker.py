"""One pull run of the deployed pull function's code, in a process of its own, so the chaos run
can kill it (SIGKILL) between two checkpoints: a real crash, with no hook in the code.

A killed Lambda's queue message only comes back after the queue's visibility timeout (six
times the function's timeout); running the handler here leaves no message behind, and what
the crash leaves (a checkpoint, an unfinished run, maybe a held concurrency lease) is exactly
what a crashed Lambda leaves.

    python -m ops.chaos.pull_worker '<PullJob JSON>'   (environment: the function's own)
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def main(argv: list[str]) -> int:
    from functions.pull import app  # after the environment is in place

    body = argv[1]
    record: dict[str, Any] = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "chaos",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "chaos"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
    }
    app.record_handler(SQSRecord(record))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
