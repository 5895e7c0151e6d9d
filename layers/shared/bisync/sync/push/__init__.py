"""Push: queued Blixo events -> Intacct, one writer per object (customers, invoices, credit
notes, payments with their convenience fees), run in batches by `process_push_batch`."""

from bisync.sync.push.batch import (
    PUSH_FLOW,
    BatchReport,
    MessageOutcome,
    PushMessage,
    PushSession,
    process_push_batch,
)
from bisync.sync.push.context import PushContext, PushResult, PushStatus

__all__ = [
    "PUSH_FLOW",
    "BatchReport",
    "MessageOutcome",
    "PushContext",
    "PushMessage",
    "PushResult",
    "PushSession",
    "PushStatus",
    "process_push_batch",
]
