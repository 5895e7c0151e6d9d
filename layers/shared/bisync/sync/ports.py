"""The interfaces the sync logic needs from its edges (the store, the queues).

Adapters (bisync.store.SyncStore, bisync.aws.SqsQueue) satisfy them structurally; tests
hand in fakes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bisync.settings import TenantSettings
from bisync.store.models import RunOutcome, SyncRun
from bisync.sync.jobs import QueueMessage


class TenantLookup(Protocol):
    def get_tenant(self, tenant_id: str) -> TenantSettings: ...


class FlowRecorder(Protocol):
    def record_flow_activity(
        self,
        tenant_id: str,
        flow: str,
        *,
        started: datetime,
        finished: datetime,
        outcome: RunOutcome,
        processed: int,
    ) -> None: ...


class PushStore(TenantLookup, FlowRecorder, Protocol):
    """What the push needs from the store."""


class PullStore(TenantLookup, FlowRecorder, Protocol):
    """What the pull needs from the store."""

    def put_run(self, run: SyncRun) -> None: ...


class MessageSink(Protocol):
    def send(self, message: QueueMessage) -> str: ...
