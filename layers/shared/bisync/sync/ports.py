"""The interfaces the sync logic needs from its edges (the store, the queues).

Adapters (bisync.store.SyncStore, bisync.aws.SqsQueue) satisfy them structurally; tests
hand in fakes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bisync.settings import TenantSettings
from bisync.store.models import ErrorLevel, RunOutcome, SyncErrorRecord, SyncRun
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


class ErrorLog(Protocol):
    """The sync errors of objects (bisync.store.errors.ErrorStore)."""

    def record(
        self,
        tenant_id: str,
        object_type: str,
        object_id: str,
        *,
        direction: str,
        message: str,
        level: ErrorLevel = ErrorLevel.ERROR,
        intacct_errorno: str | None = None,
        retry: dict[str, str] | None = None,
        now: datetime | None = None,
    ) -> SyncErrorRecord: ...

    def clear(self, tenant_id: str, object_type: str, object_id: str) -> bool: ...

    def list(self, tenant_id: str, *, include_ignored: bool = False) -> list[SyncErrorRecord]: ...


class DeliveryLog(Protocol):
    """Event ids already queued (bisync.store.deliveries.DeliveryStore): the replay guard."""

    def seen(self, tenant_id: str, event_id: str) -> bool: ...

    def remember(self, tenant_id: str, event_id: str, now: datetime) -> None: ...


class MessageSink(Protocol):
    def send(self, message: QueueMessage) -> str: ...
